#!/bin/sh
# Builds the libFuzzer targets in Fuzz/ into .build-fuzz/ and runs each for N seconds (default 60):
#   scripts/fuzz.sh [seconds-per-target] [target…]      targets: tar gzip-tar json yaml ini message xml resources amqp tensorboard
# Each target is compiled with `swiftc -sanitize=fuzzer,address` from the parser sources it needs (not
# through SwiftPM, whose other targets drag in swift-crypto and AsyncHTTPClient). Fuzz/corpus/<target>/
# holds the committed seeds; new corpus entries go to a scratch copy under .build-fuzz/corpus/, never
# into the repository. Crash inputs are written to .build-fuzz/crashes/<target>/. Exits 1 if any crashed.
# Extra libFuzzer flags go in FUZZ_FLAGS.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-tar gzip-tar json yaml ini message xml resources amqp tensorboard}
root=$(pwd)
out=$root/.build-fuzz
export PATH="${SWIFT_BIN:-/opt/swift/usr/bin}:$PATH"
# The Swift backtracer, run inside an ASan process after a trap, reports its own use-after-free: libFuzzer reports instead.
export SWIFT_BACKTRACE=enable=no
mkdir -p "$out/modules" "$out/CZlib"

flags="-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -use-ld=lld"
model="$root/Sources/StudioModel/*.swift $root/Sources/StudioModel/YAML/*.swift"
tar_sources="$root/Sources/StudioStorage/Tar/ArchiveInput.swift $root/Sources/StudioStorage/Tar/Gzip.swift
    $root/Sources/StudioStorage/Tar/TarReader.swift $root/Sources/StudioStorage/Tar/TarHeader.swift
    $root/Sources/StudioStorage/Tar/PaxRecords.swift $root/Sources/StudioStorage/Tar/TarEntry.swift
    $root/Sources/StudioStorage/Tar/TarError.swift $root/Sources/StudioStorage/Tar/Extraction.swift $root/Sources/StudioStorage/Tar/ExtractableLink.swift
    $root/Sources/StudioStorage/Tar/FileTree.swift $root/Sources/StudioStorage/Posix.swift
    $root/Sources/StudioStorage/ObjectStore.swift $root/Fuzz/support/TarHarness.swift"
# The AMQP 0-9-1 codec (no swift-nio): frames, methods, field tables, content headers, URLs.
amqp_codec="$root/Sources/AMQP091/AMQPWire.swift $root/Sources/AMQP091/AMQPTable.swift $root/Sources/AMQP091/AMQPMethod.swift
    $root/Sources/AMQP091/AMQPMethodCoding.swift $root/Sources/AMQP091/AMQPFrame.swift $root/Sources/AMQP091/AMQPProperties.swift
    $root/Sources/AMQP091/AMQPContentAssembler.swift $root/Sources/AMQP091/AMQPURL.swift $root/Sources/AMQP091/AMQPError.swift"

# The tar code imports the CZlib C target: a module map for its header, and its shim compiled with clang.
czlib() {
    if [ ! -f "$out/CZlib/shim.o" ] || [ "$root/Sources/CZlib/shim.c" -nt "$out/CZlib/shim.o" ]; then
        printf 'module CZlib {\n    header "%s"\n    link "z"\n    export *\n}\n' \
            "$root/Sources/CZlib/include/CZlib.h" > "$out/CZlib/module.modulemap"
        clang -O1 -g -fsanitize=address -c "$root/Sources/CZlib/shim.c" -I "$root/Sources/CZlib/include" -o "$out/CZlib/shim.o"
    fi
}

# StudioModel as a module of its own, for sources that `import StudioModel` (the SQS error reader).
studio_model() {
    swiftc $flags -module-name StudioModel -emit-module -emit-module-path "$out/modules/StudioModel.swiftmodule" \
        -emit-library -static -o "$out/modules/libStudioModel.a" $model
}

# The one XML reader as a module named StudioCredentials (the reply readers import it from there).
xml_text() {
    swiftc $flags -module-name StudioCredentials -emit-module -emit-module-path "$out/modules/StudioCredentials.swiftmodule" \
        -emit-library -static -o "$out/modules/libStudioCredentials.a" "$root/Sources/StudioCredentials/XMLText.swift"
}

build() {
    name=$1
    binary="$out/fuzz-$name"
    # shellcheck disable=SC2086 # the source lists are several words
    case $name in
        tar|gzip-tar)
            czlib
            swiftc $flags -module-name Fuzzed -I "$out/CZlib" -o "$binary" "Fuzz/$name.swift" $tar_sources "$out/CZlib/shim.o" -lz ;;
        json|yaml|message)
            swiftc $flags -module-name Fuzzed -o "$binary" "Fuzz/$name.swift" Fuzz/support/Walk.swift $model ;;
        ini)
            swiftc $flags -module-name Fuzzed -o "$binary" Fuzz/ini.swift Fuzz/support/INIShim.swift \
                Sources/StudioCredentials/INIFile.swift Sources/StudioCredentials/Encoding+Trimming.swift \
                Sources/StudioCredentials/CredentialsError.swift ;;
        xml)
            studio_model
            xml_text
            swiftc $flags -module-name Fuzzed -I "$out/modules" -o "$binary" Fuzz/xml.swift \
                Sources/StudioStorage/S3ServiceError.swift Sources/StudioQueues/SQSServiceError.swift \
                "$out/modules/libStudioModel.a" "$out/modules/libStudioCredentials.a" ;;
        resources)
            swiftc $flags -module-name Fuzzed -o "$binary" Fuzz/resources.swift Sources/StudioWorker/GPUList.swift \
                Sources/StudioWorker/CgroupLimits.swift Sources/StudioWorker/ProcFiles.swift ;;
        amqp)
            swiftc $flags -module-name Fuzzed -o "$binary" Fuzz/amqp.swift $amqp_codec ;;
        tensorboard)
            swiftc $flags -module-name Fuzzed -o "$binary" Fuzz/tensorboard.swift Fuzz/support/TensorBoardFuzzing.swift \
                Sources/StudioUI/TensorBoard/*.swift Sources/StudioUI/ResourceSamples.swift ;;
        *) echo "unknown fuzz target '$name'" >&2; exit 2 ;;
    esac
}

failed=0
for name in $targets; do
    echo "== $name: building"
    build "$name"
    corpus="$out/corpus/$name"
    crashes="$out/crashes/$name"
    rm -rf "$corpus"
    mkdir -p "$corpus" "$crashes"
    cp Fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
    dict=""
    [ -f "Fuzz/$name.dict" ] && dict="-dict=Fuzz/$name.dict"
    log="$out/$name.log"
    start=$(date +%s)
    # -max_len 65536: the seed tars are a few KiB; rss_limit keeps a runaway allocation a reported crash.
    # shellcheck disable=SC2086
    if "$out/fuzz-$name" "$corpus" $dict -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=20 -artifact_prefix="$crashes/" -print_final_stats=1 ${FUZZ_FLAGS:-} > "$log" 2>&1; then
        result=clean
    else
        result="CRASH: $(ls -t "$crashes" | head -1) (see $log)"
        failed=1
    fi
    ran=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "== $name: ${ran}s, ${execs:-?} executions, $result"
    if [ "$result" != clean ]; then grep -m1 -A12 -E "^==[0-9]+==ERROR|Fatal error|deadly signal" "$log" || tail -20 "$log"; fi
done
exit $failed
