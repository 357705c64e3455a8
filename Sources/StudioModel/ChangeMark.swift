import Glibc

/// A change mark: an empty object `experiments.changes/<time>-<key>` that our writers put beside every write
/// or delete of the record `experiments/<key>`. Its name sorts by the time it was written (milliseconds since
/// 1970, zero-padded to 15 digits), so a reader that remembers where it stopped lists only the marks written
/// since (S3's `start-after`, GCS's `startOffset`) and re-reads only those records: following a store of
/// any size costs one short listing per refresh instead of a listing of every record.
///
/// Marks are a hint, not part of StudioML's format: StudioML's tools never list `experiments.changes/`
/// (the prefix is not under `experiments/`), and a reader still lists every record now and then to see
/// writers that leave no marks. Marks are empty and are pruned by the web UI after an hour.
public struct ChangeMark: Sendable, Equatable {
    public static let prefix = "experiments.changes/"
    private static let digits = 15

    /// When it was written, in milliseconds since 1970, by the writer's clock.
    public var milliseconds: Int64
    /// The experiment whose record changed.
    public var experiment: String

    public init(experiment: String, milliseconds: Int64) {
        self.experiment = experiment
        self.milliseconds = milliseconds
    }

    /// A mark for `experiment` written now.
    public static func now(_ experiment: String) -> ChangeMark {
        ChangeMark(experiment: experiment, milliseconds: wallClockMilliseconds())
    }

    /// The wall clock, in milliseconds since 1970.
    public static func wallClockMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// The mark's object key.
    public var objectKey: String { Self.position(milliseconds) + "-" + experiment }

    /// A key that sorts before every mark written at or after `milliseconds` and after every one written
    /// before it: where a listing of what was written since then starts (`startAfter`).
    public static func position(_ milliseconds: Int64) -> String {
        let text = String(max(0, milliseconds))
        return prefix + String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The mark an object key names; nil for anything else under the prefix.
    public init?(objectKey: String) {
        guard objectKey.hasPrefix(Self.prefix) else { return nil }
        let name = objectKey.utf8.dropFirst(Self.prefix.utf8.count)
        guard name.count > Self.digits + 1 else { return nil }
        let time = name.prefix(Self.digits)
        guard time.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              name.dropFirst(Self.digits).first == UInt8(ascii: "-"),
              let milliseconds = Int64(String(decoding: time, as: UTF8.self)) else { return nil }
        let experiment = String(decoding: name.dropFirst(Self.digits + 1), as: UTF8.self)
        guard !experiment.contains("/") else { return nil }
        self.init(experiment: experiment, milliseconds: milliseconds)
    }
}
