import StudioModel
import StudioStorage

/// Where the catalog stands in the store's change marks (`ChangeMark`): the listing position to start after,
/// and the marks at or after it already taken, so each mark is taken once.
///
/// Writers' clocks disagree, so the position trails the newest mark taken by `skew`: a mark written a little
/// "in the past" by a slow clock is still listed. A mark from a clock further behind is missed here and found
/// by the catalog's next full listing. A mark from a clock ahead of ours moves the position no further than
/// our own clock, so it cannot hide the marks of writers with correct clocks.
struct ChangeMarkCursor: Sendable {
    /// How far behind ours a writer's clock may be, in milliseconds.
    let skew: Int64

    /// The listing's `startAfter`.
    private(set) var position: String
    private var taken: Set<String> = []

    /// A cursor that takes every mark written from `milliseconds - skew` on.
    init(from milliseconds: Int64, skew: Int64) {
        self.skew = skew
        position = ChangeMark.position(milliseconds - skew)
    }

    /// The experiments named by marks in `listing` that were not taken before; moves the position on.
    mutating func take(_ listing: [ListedObject], now: Int64) -> Set<String> {
        var changed: Set<String> = []
        var newest: Int64?
        for object in listing {
            guard let mark = ChangeMark(objectKey: object.key) else { continue }
            newest = max(newest ?? mark.milliseconds, mark.milliseconds)
            if taken.insert(object.key).inserted { changed.insert(mark.experiment) }
        }
        if let newest {
            let next = ChangeMark.position(min(newest, now) - skew)
            if position.precedesInKeyOrder(next) {
                position = next
                taken = taken.filter { position.precedesInKeyOrder($0) }
            }
        }
        return changed
    }
}
