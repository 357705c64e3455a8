// libFuzzer target: a StudioML queue message, an experiment record and a config, as JSON, with every
// accessor the worker calls on them (durations, sizes, counts, times, artifact locations), and change-mark names.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    if let message = try? StudioMessage(parsing: bytes) {
        FuzzWalk.visit(message.experiment)
        if let config = try? message.config { FuzzWalk.visit(config) }
        _ = message.jsonData()
    }
    if let record = try? Experiment(parsing: bytes) { FuzzWalk.visit(record) }
    if let value = try? JSONValue(parsing: bytes), let config = try? StudioConfig(json: value) { FuzzWalk.visit(config) }
    // The same text as one scalar: durations and sizes are written by people.
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? StudioDuration(parsing: text)
    _ = try? ByteSize.parse(text)
    _ = try? ArtifactLocation(parsing: text)
    // Object names from a store's listing: change marks (experiments.changes/<ms>-<key>).
    if let mark = ChangeMark(objectKey: ChangeMark.prefix + text) { _ = mark.objectKey }
    _ = ChangeMark(objectKey: text)
    return 0
}
