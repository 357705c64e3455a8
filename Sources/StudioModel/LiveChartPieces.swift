/// The chart artifacts' live pieces (ours, not StudioML's): while an experiment runs, its worker uploads what
/// the files of `tb` (TensorBoard event files) and `_metrics` (resource samples) gained since its last look,
/// every couple of seconds, so a chart on another machine follows the experiment without waiting for the next
/// checkpoint tar (`saveWorkspaceFrequency`, a minute by default). StudioML's tars are written as before.
///
/// - `experiments/<key>/<tag>.live/<attempt>/<file>/<offset>`: the bytes of `file` (its path inside the
///   artifact's directory, or the file's own name when the artifact is one file) from `offset` (16 zero-padded
///   digits) on. A file's pieces are contiguous: each starts where the one before it ended.
/// - `experiments/<key>/<tag>.live.json`: `{"attempt": "<id>", "files": {"<file>": <bytes uploaded>}}`,
///   rewritten after the pieces it counts. A reader gets this one object per look and fetches only the pieces
///   past what it holds: no listing, however many pieces a long run leaves.
///
/// `attempt` names one run of the experiment (the worker's start, in milliseconds): a rerun after a
/// redelivery writes its own pieces, never mixed with the last attempt's.
public enum LiveChartPieces {
    /// The artifacts that feed the charts.
    public static let tags = ["tb", "_metrics"]
    /// The most files followed per artifact, and the most bytes of one file (its first records: as a reader
    /// caps what it parses).
    public static let maxFiles = 256
    public static let maxFileBytes = 64 << 20

    /// Whether a file of artifact `tag` feeds the charts: every file of `_metrics`, only the TensorBoard
    /// event files of `tb` (a `tb` directory may also hold checkpoints or projector data: never uploaded live).
    public static func isChartFile(tag: String, file: String) -> Bool {
        tag != "tb" || file.split(separator: "/").last?.contains("tfevents") == true
    }

    public static func manifestKey(_ key: String, tag: String) -> String { "experiments/\(key)/\(tag).live.json" }

    public static func pieceKey(_ key: String, tag: String, attempt: String, file: String, offset: Int) -> String {
        let digits = String(offset)
        return "experiments/\(key)/\(tag).live/\(attempt)/\(file)/" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// What one attempt has uploaded so far.
    public struct Manifest: Sendable, Equatable {
        public var attempt: String
        /// File → bytes uploaded (contiguous from 0).
        public var files: [String: Int]

        public init(attempt: String, files: [String: Int] = [:]) {
            self.attempt = attempt
            self.files = files
        }

        /// Parses a manifest; nil when it is not one (then the reader falls back to the checkpoint tar).
        public init?(parsing bytes: [UInt8]) {
            guard let value = try? JSONValue(parsing: bytes), let attempt = value["attempt"]?.stringValue,
                  Self.isSafe(attempt), let files = value["files"]?.objectValue else { return nil }
            var sizes: [String: Int] = [:]
            for (file, size) in files {
                guard Self.isSafe(file), let size = size.int64Value, size >= 0, size <= Int64(maxFileBytes) else { return nil }
                sizes[file] = Int(size)
            }
            guard sizes.count <= maxFiles else { return nil }
            self.attempt = attempt
            self.files = sizes
        }

        public var encoded: [UInt8] {
            let files = JSONObject(self.files.keys.sorted().map { ($0, JSONValue.int(Int64(self.files[$0]!))) })
            let object: JSONObject = ["attempt": .string(attempt), "files": .object(files)]
            return Array(JSONValue.object(object).serialized(.compact).utf8)
        }

        /// A name that can be a piece of a key: not empty, no empty, `.` or `..` component, no control
        /// characters (a manifest comes from storage: it must not make a reader fetch outside the experiment).
        public static func isSafe(_ name: String) -> Bool {
            guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return false }
            return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
        }
    }
}
