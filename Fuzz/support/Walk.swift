/// Reads everything a parsed value offers, as the worker would, so that traps in accessors show up too.
enum FuzzWalk {
    static func visit(_ value: JSONValue) {
        _ = value.int64Value
        _ = value.doubleValue
        _ = value.scalarText
        switch value {
        case .array(let items): items.forEach(visit)
        case .object(let object): for (_, member) in object { visit(member) }
        default: break
        }
    }

    static func visit(_ experiment: Experiment) {
        _ = experiment.key
        _ = experiment.args
        _ = experiment.filename
        _ = experiment.pythonenv
        _ = experiment.pythonver
        _ = experiment.status
        _ = experiment.timeAdded
        _ = experiment.timeStarted
        _ = experiment.timeLastCheckpoint
        _ = experiment.timeFinished
        _ = experiment.maxDurationText
        _ = try? experiment.maxDuration?.description
        visit(experiment.resourcesNeeded)
        for (_, artifact) in experiment.orderedArtifacts {
            _ = artifact.description
            _ = try? artifact.location()?.qualifiedName
        }
        _ = experiment.jsonData()
    }

    static func visit(_ resources: ResourcesNeeded) {
        _ = try? resources.cpus
        _ = try? resources.gpus
        _ = try? resources.gpuCount
        _ = try? resources.ramBytes
        _ = try? resources.hddBytes
        _ = try? resources.gpuMemBytes
    }

    static func visit(_ config: StudioConfig) {
        _ = config.database
        _ = config.storage
        _ = config.env
        _ = try? config.experimentLifetime
        _ = try? config.saveWorkspaceFrequency.duration
        _ = try? config.saveMetricsFrequency.duration
        _ = try? config.sleepTime
        _ = try? config.workerTimeout
        visit(config.resourcesNeeded)
        _ = config.queueCredentials
        _ = config.verbosityLevel
    }
}
