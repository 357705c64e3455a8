// Hands argv to the Swift runtime before main, from the arguments glibc passes to every
// constructor (static executables included).
//
// The runtime otherwise finds argv with a constructor of its own (CommandLine.cpp's ArgvGrabber)
// that reads and sscanf()s /proc/self/maps to locate the stack: about 60,000 instructions and a
// /proc read on every start, 40% of all `studio init` does. The static link drops that constructor
// (scripts/no-unwind-tables.ld); this one makes it unnecessary. It uses the override the runtime
// keeps for hosts that start Swift code themselves, which `CommandLine.arguments` checks first.

// Exported by the Swift runtime (stdlib/public/CommandLineSupport/CommandLine.cpp), Swift calling convention.
extern void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) __attribute__((swiftcall));

__attribute__((constructor))
static void studio_hand_arguments_to_swift(int argc, char **argv, char **envp) {
    (void)envp;
    if (argv != 0 && argc >= 0) _swift_stdlib_overrideUnsafeArgvArgc(argv, argc);
}
