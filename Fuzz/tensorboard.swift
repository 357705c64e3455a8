// libFuzzer target: the TensorBoard event-file reader (TFRecord framing, Event/Summary/TensorProto protobufs).
// The CRCs would stop almost every mutation at the framing, so each input is read twice: as a file, and as
// one record's data framed with correct CRCs, which reaches the protobuf decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var scalars = TensorBoardScalars()
    scalars.read(bytes, name: "file")
    scalars.read(TensorBoardFuzzing.framed(bytes), name: "framed")
    for points in scalars.series.values { _ = Downsampling.minMax(points, maxPoints: 7) }
    // Read as the live charts do, in two parts (what a first read left is read again with the rest): the
    // same points as one read, unless the file is malformed.
    var whole = TensorBoardScalars()
    whole.read(bytes, name: "file")
    var parts = TensorBoardScalars()
    var pending = Array(bytes[..<(bytes.count / 2)])
    pending.removeFirst(parts.read(pending, name: "file"))
    pending += bytes[(bytes.count / 2)...]
    parts.read(pending, name: "file")
    if whole.malformed.isEmpty && parts.malformed.isEmpty {
        precondition(whole.series.mapValues(\.count) == parts.series.mapValues(\.count), "reading in two parts changed the points")
    }
    var samples = TensorBoardScalars()
    let (consumed, _) = ResourceSamples.read(bytes, into: &samples, wholeLinesOnly: true)
    precondition(consumed <= bytes.count && (consumed == 0 || bytes[consumed - 1] == 10), "samples read past a line")
    return 0
}
