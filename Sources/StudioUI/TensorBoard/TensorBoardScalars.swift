/// One scalar of a TensorBoard tag.
struct ScalarPoint: Sendable, Equatable {
    var step: Int64
    var wallTime: Double
    var value: Double
}

/// The scalars of TensorBoard event files (`events.out.tfevents.*`): `Event.summary.value[]` entries with a
/// `simple_value` or a scalar numeric `tensor`. Other summaries (histograms, images, text) are skipped.
/// Reading never traps: a bad record stops that file and is reported in `malformed`.
struct TensorBoardScalars: Sendable {
    /// Tag → points in file order.
    var series: [String: [ScalarPoint]] = [:]
    /// Why a file could not be read to its end (one line per file), if any.
    var malformed: [String] = []
    /// Files whose last record was still being written.
    var incomplete: [String] = []
    /// Tag → the plugin its first `metadata` named: later values of the tag carry no metadata.
    private var plugins: [String: String] = [:]
    /// At most this many points in all, so a huge file cannot exhaust memory.
    static let maxPoints = 4_000_000

    init() {}

    /// Reads one event file's bytes; `name` labels it in `malformed`; the tags of a `run` (a subdirectory)
    /// are prefixed with it. Returns how many bytes the complete records took: the rest is a record still
    /// being written, to be read again with what follows it (all of them when the file is malformed).
    @discardableResult
    mutating func read(_ bytes: [UInt8], name: String, run: String? = nil) -> Int {
        currentRun = run.map { $0 + "/" } ?? ""
        var records = TFRecordReader(bytes)
        do {
            loop: while true {
                switch try records.next() {
                case .record(let data): try readEvent(data)
                case .incomplete: incomplete.append(name); break loop
                case .end: break loop
                }
            }
        } catch {
            malformed.append("\(name): \(error.description)")
            return bytes.count
        }
        return records.offset
    }

    /// Adds `other`'s points after this one's (up to `maxPoints` in all), and its reports.
    mutating func merge(_ other: TensorBoardScalars) {
        for (tag, points) in other.series.sorted(by: { $0.key < $1.key }) {
            let room = Self.maxPoints - pointCount
            guard room > 0 else { break }
            series[tag, default: []].append(contentsOf: points.prefix(room))
            pointCount += min(room, points.count)
        }
        malformed += other.malformed
        incomplete += other.incomplete
    }

    private(set) var pointCount = 0
    private var currentRun = ""

    /// Adds one point to `tag`, unless `maxPoints` are held already.
    mutating func append(_ tag: String, _ point: ScalarPoint) {
        guard pointCount < Self.maxPoints else { return }
        series[tag, default: []].append(point)
        pointCount += 1
    }

    private mutating func readEvent(_ data: ArraySlice<UInt8>) throws(ProtobufError) {
        var reader = ProtobufReader(data)
        var wallTime = 0.0, step: Int64 = 0
        var summaries: [ArraySlice<UInt8>] = []
        while let (number, field) = try reader.next() {
            switch (number, field) {
            case (1, .fixed64(let bits)): wallTime = Double(bitPattern: bits)
            case (2, .varint(let value)): step = Int64(bitPattern: value)
            case (5, .bytes(let summary)): summaries.append(summary)
            default: continue
            }
        }
        for summary in summaries {
            var values = ProtobufReader(summary)
            while let (number, field) = try values.next() {
                guard number == 1, case .bytes(let value) = field else { continue }
                if let (tag, scalar) = try readValue(value) {
                    append(currentRun + tag, ScalarPoint(step: step, wallTime: wallTime, value: scalar))
                }
            }
        }
    }

    /// `Summary.Value`: tag 1, simple_value 2, tensor 8, metadata 9.
    private mutating func readValue(_ data: ArraySlice<UInt8>) throws(ProtobufError) -> (String, Double)? {
        var reader = ProtobufReader(data)
        var tag = "", simple: Float?, tensor: ArraySlice<UInt8>?, plugin: String?
        while let (number, field) = try reader.next() {
            switch (number, field) {
            case (1, .bytes(let text)): tag = String(decoding: text, as: UTF8.self)
            case (2, .fixed32(let bits)): simple = Float(bitPattern: bits)
            case (8, .bytes(let bytes)): tensor = bytes
            case (9, .bytes(let metadata)): plugin = try Self.pluginName(metadata)
            default: continue
            }
        }
        if let plugin, plugins[tag] == nil { plugins[tag] = plugin }
        if let simple { return (tag, Double(simple)) }
        guard let tensor, (plugins[tag] ?? "scalars") == "scalars" else { return nil }
        return try ScalarTensor.value(tensor).map { (tag, $0) }
    }

    /// `SummaryMetadata.plugin_data(1).plugin_name(1)`.
    private static func pluginName(_ data: ArraySlice<UInt8>) throws(ProtobufError) -> String? {
        var reader = ProtobufReader(data)
        while let (number, field) = try reader.next() {
            guard number == 1, case .bytes(let pluginData) = field else { continue }
            var inner = ProtobufReader(pluginData)
            while let (innerNumber, innerField) = try inner.next() {
                if innerNumber == 1, case .bytes(let name) = innerField { return String(decoding: name, as: UTF8.self) }
            }
        }
        return nil
    }
}
