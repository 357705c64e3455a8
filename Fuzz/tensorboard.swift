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
    return 0
}
