import Foundation
import XCTest

/// Event files written by the `tensorboard` package from PyPI (its EventFileWriter and protos), so the
/// reader is tested against the real format, not our idea of it.
enum TensorBoardWriter {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Python that writes, into argv[1], one event file with five steps of: `loss` (simple_value), `acc`
    /// (a double tensor in double_val), `half` (float16 in half_val), `count` (int64 in int64_val), `packed`
    /// (float32 in tensor_content), `v2` (a float tensor with the scalars plugin's metadata on the first value
    /// only, as tf.summary.scalar writes it), and a histogram, a text summary and a scalar of another plugin
    /// (`custom`), which are not chart scalars.
    static let script = #"""
    import sys, numpy as np
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2, tensor_shape_pb2
    from tensorboard.util import tensor_util
    from tensorboard.plugins.scalar import metadata as scalar_metadata
    from tensorboard.plugins.text import metadata as text_metadata
    w = EventFileWriter(sys.argv[1])
    for step in range(5):
        v = [summary_pb2.Summary.Value(tag="loss", simple_value=1.0 / (step + 1))]
        v.append(summary_pb2.Summary.Value(tag="acc", tensor=tensor_util.make_tensor_proto(np.float64(step * 0.5))))
        v.append(summary_pb2.Summary.Value(tag="half", tensor=tensor_util.make_tensor_proto(np.float16(step + 0.5))))
        v.append(summary_pb2.Summary.Value(tag="count", tensor=tensor_util.make_tensor_proto(np.int64(step * 10))))
        packed = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                        tensor_content=np.float32(step * 2.0).tobytes())
        v.append(summary_pb2.Summary.Value(tag="packed", tensor=packed))
        v.append(summary_pb2.Summary.Value(tag="hist", tensor=tensor_util.make_tensor_proto(np.array([1.0, 2.0]))))
        first = step == 0
        v.append(summary_pb2.Summary.Value(tag="v2", tensor=tensor_util.make_tensor_proto(np.float32(step * 3.0)),
                 metadata=scalar_metadata.create_summary_metadata("v2", "") if first else None))
        v.append(summary_pb2.Summary.Value(tag="notes", tensor=tensor_util.make_tensor_proto("step %d" % step),
                 metadata=text_metadata.create_summary_metadata("notes", "") if first else None))
        other = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="custom"))
        v.append(summary_pb2.Summary.Value(tag="custom", tensor=tensor_util.make_tensor_proto(np.float32(step)),
                 metadata=other if first else None))
        w.add_event(event_pb2.Event(wall_time=1000.0 + step, step=step, summary=summary_pb2.Summary(value=v)))
    w.close()
    """#

    /// Writes the event file into `directory` (created); returns its path.
    static func write(into directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, directory]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if message.contains("No module named 'tensorboard'") || message.contains("No module named 'numpy'") {
            throw XCTSkip("the tensorboard package is missing: pip install tensorboard")
        }
        guard process.terminationStatus == 0 else { throw Failure(description: "python3 could not write an event file: \(message)") }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains("tfevents") }
        return directory + "/" + (try XCTUnwrap(files.first))
    }
}
