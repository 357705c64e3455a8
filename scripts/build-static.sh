#!/bin/sh
# Builds the fully static, stripped `studio` executable into dist/studio (or $1). `make static` and
# docker/Dockerfile both run this, so the flags live in one place:
#   --static-swift-stdlib -static-executable   the Swift runtime and glibc linked in: no loader, no .so
#   -Osize, C at -Os                           smaller, and fewer pages touched at start-up; the hot
#                                              paths are system calls and BoringSSL's assembly
#   lld without unwind tables                  5 MB less; no-unwind-tables.ld says why this is safe
#   --no-rosegment                             read-only data and code in one segment: one mapping
#                                              fewer to set up on every exec
#   --symbol-ordering-file                     the functions `studio init` runs, placed together (from
#                                              scripts/startup-order.sh): ~35 page faults fewer per start
# KEEP_SYMBOLS=1 keeps the symbol table (for profilers; scripts/startup-order.sh uses it), and
# LINK_MAP=path writes lld's map of input sections there.
set -eu
cd "$(dirname "$0")/.."
out=${1:-dist/studio}
strip_link="-Xlinker -s" strip_file="strip"
if [ "${KEEP_SYMBOLS:-}" = 1 ]; then strip_link="" strip_file="strip --strip-debug"; fi
order=""
map=""
if [ -n "${LINK_MAP:-}" ]; then map="-Xlinker -Map=$LINK_MAP"; fi
if [ -f scripts/startup-order.txt ]; then
    order="-Xlinker --symbol-ordering-file=scripts/startup-order.txt -Xlinker --no-warn-symbol-ordering"
fi
# shellcheck disable=SC2086 # $order, $strip_link and $map are zero or more words
swift build -c release --product studio --static-swift-stdlib \
    -Xswiftc -static-executable -Xswiftc -Osize -Xcc -Os -Xswiftc -use-ld=lld \
    -Xlinker --no-eh-frame-hdr -Xlinker -T -Xlinker scripts/no-unwind-tables.ld -Xlinker --no-rosegment \
    $order $strip_link $map
bin=$(swift build -c release --show-bin-path)/studio
mkdir -p "$(dirname "$out")"
# A new file renamed into place: a running $out is not disturbed (no "text file busy").
cp "$bin" "$out.new"
$strip_file "$out.new"
mv -f "$out.new" "$out"
# A static executable has no program interpreter; fail here rather than in a user's image.
if readelf -lW "$out" | grep -q INTERP; then echo "build-static: $out is dynamically linked" >&2; exit 1; fi
echo "$out: $(wc -c <"$out") bytes"
