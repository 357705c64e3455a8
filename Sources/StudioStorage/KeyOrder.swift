import Glibc

extension String {
    /// Whether this key sorts before `other` in the order object stores list keys: byte by byte in UTF-8
    /// (S3, GCS), with a shorter key before any longer key it begins. Compared with `memcmp`: sorting a
    /// listing of 10,000 keys through the generic UTF-8 view took most of a refresh.
    public func precedesInKeyOrder(_ other: String) -> Bool {
        var left = self, right = other
        return left.withUTF8 { a in
            right.withUTF8 { b in
                let common = Swift.min(a.count, b.count)
                let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
                return order != 0 ? order < 0 : a.count < b.count
            }
        }
    }
}
