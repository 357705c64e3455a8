#!/bin/sh
# Builds the fully static, stripped `studio` executable into dist/studio (or $1). `make static` and
# docker/Dockerfile both run this, so the flags live in one place:
#   --static-swift-stdlib -static-executable   the Swift runtime and glibc linked in: no loader, no .so
#   -Osize, C at -Os                           smaller, and fewer pages touched at start-up; the hot
#                                              paths are system calls and BoringSSL's assembly
#   lld, no unwind tables (no-unwind-tables.ld) 5 MB less; see that file for why this is safe
#   --no-rosegment                             read-only data and code in one segment: one mapping
#                                              fewer to set up on every exec
set -eu
cd "$(dirname "$0")/.."
out=${1:-dist/studio}
swift build -c release --product studio --static-swift-stdlib \
    -Xswiftc -static-executable -Xswiftc -Osize -Xcc -Os -Xswiftc -use-ld=lld \
    -Xlinker --no-eh-frame-hdr -Xlinker -T -Xlinker scripts/no-unwind-tables.ld -Xlinker --no-rosegment \
    -Xlinker -s
bin=$(swift build -c release --show-bin-path)/studio
mkdir -p "$(dirname "$out")"
# A new file renamed into place: a running $out is not disturbed (no "text file busy").
cp "$bin" "$out.new"
strip "$out.new"
mv -f "$out.new" "$out"
# A static executable has no program interpreter; fail here rather than in a user's image.
if readelf -lW "$out" | grep -q INTERP; then echo "build-static: $out is dynamically linked" >&2; exit 1; fi
echo "$out: $(wc -c <"$out") bytes"
