/// Thins a series for a chart on the server: the points split into `maxPoints / 2` runs of consecutive
/// points and each run keeps its lowest and highest point (in their order), so spikes and the shape of
/// the curve survive; the first and last points are always kept.
enum Downsampling {
    static func minMax(_ points: [ScalarPoint], maxPoints: Int) -> [ScalarPoint] {
        let budget = max(maxPoints, 4)
        guard points.count > budget else { return points }
        let buckets = (budget - 2) / 2
        var kept: [ScalarPoint] = [points[0]]
        kept.reserveCapacity(budget)
        let inner = points.count - 2
        for bucket in 0..<buckets {
            let lower = 1 + bucket * inner / buckets
            let upper = 1 + (bucket + 1) * inner / buckets
            guard lower < upper else { continue }
            var low = lower, high = lower
            for index in lower..<upper {
                if points[index].value < points[low].value { low = index }
                if points[index].value > points[high].value { high = index }
            }
            if low == high { kept.append(points[low]) } else { kept.append(points[min(low, high)]); kept.append(points[max(low, high)]) }
        }
        kept.append(points[points.count - 1])
        return kept
    }
}
