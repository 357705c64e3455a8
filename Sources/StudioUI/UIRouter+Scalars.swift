import StudioModel

extension UIRouter {
    static let defaultMaxPoints = 1_000
    static let maxMaxPoints = 20_000

    /// `GET /api/experiments/<key>/scalars`: the tags with their count, min, max and last value;
    /// with `tag=T`, that tag's points `[step, wall_time, value]`, thinned to `max_points` (min/max kept).
    func scalarRoute(_ key: String, _ parameters: [String: String]) async throws -> UIResponse {
        guard let data = try await database.get("experiments/" + key) else { throw UIError(.notFound, "no experiment \(key) in the database") }
        guard let record = try? Experiment(parsing: data) else { throw UIError(.unprocessableEntity, "the record of \(key) is malformed") }
        var maxPoints = Self.defaultMaxPoints
        if let text = parameters["max_points"], !text.isEmpty {
            guard let value = Int(text), value >= 4 else { throw UIError(.badRequest, "max_points must be an integer ≥ 4, not '\(text)'") }
            maxPoints = min(value, Self.maxMaxPoints)
        }
        let found = try await scalars.scalars(key, record: record)
        var answer: JSONObject = [
            "key": .string(key),
            "malformed": .array(found.malformed.map { .string($0) }),
            "incomplete": .array(found.incomplete.map { .string($0) }),
        ]
        if let tag = parameters["tag"] {
            let points = found.series[tag] ?? []
            answer["tag"] = .string(tag)
            answer["count"] = .int(Int64(points.count))
            answer["points"] = .array(Downsampling.minMax(points, maxPoints: maxPoints).map {
                .array([.int($0.step), .double($0.wallTime), Self.number($0.value)])
            })
        } else {
            answer["tags"] = .array(found.series.keys.sorted().map { tag in Self.summary(tag, found.series[tag] ?? []) })
        }
        return .json(.object(answer))
    }

    /// A tag's count, min, max and last value.
    static func summary(_ tag: String, _ points: [ScalarPoint]) -> JSONValue {
        let finite = points.map(\.value).filter(\.isFinite)
        return .object([
            "tag": .string(tag), "count": .int(Int64(points.count)),
            "min": finite.min().map { number($0) } ?? .null, "max": finite.max().map { number($0) } ?? .null,
            "last": points.last.map { number($0.value) } ?? .null,
        ])
    }

    /// JSON has no NaN or infinity: those are sent as null.
    static func number(_ value: Double) -> JSONValue { value.isFinite ? .double(value) : .null }
}
