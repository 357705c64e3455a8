// libFuzzer target: a StudioML queue message, an experiment record and a config, as JSON, with every
// accessor the worker calls on them (durations, sizes, counts, times, artifact locations), change-mark names, and
// the live chart pieces' manifest (its names must never lead a reader outside the experiment).
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
    if let manifest = LiveChartPieces.Manifest(parsing: Array(bytes)) {
        precondition(LiveChartPieces.Manifest(parsing: manifest.encoded) == manifest, "a manifest does not survive its own encoding")
        for file in manifest.files.keys {
            let key = LiveChartPieces.pieceKey("k", tag: "tb", attempt: manifest.attempt, file: file, offset: 0)
            precondition(!key.split(separator: "/").contains { $0 == ".." || $0 == "." }, "a manifest leads outside the experiment: \(key)")
        }
    }
    return 0
}
