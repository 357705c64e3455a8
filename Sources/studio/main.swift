import StudioCLI

await StudioCommand.main(arguments: CommandLine.arguments)
