#!/bin/sh
# Regenerates scripts/startup-order.txt, the link order of the functions `studio init` runs, in the
# order they first run. The static link (scripts/build-static.sh) puts them together at the front of
# the code, so a start touches a few pages instead of ~30 more scattered over 19 MB of code.
# Symbols that a later change renames are skipped by the linker, so a stale list only costs speed;
# rerun this after changing the init path. Needs valgrind.
set -eu
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "startup-order: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
KEEP_SYMBOLS=1 scripts/build-static.sh "$work/studio" >&2
n=0
# The start-up paths: a plain run, one with logging, and one that forwards a signal to a group.
for command in "init /bin/true" "init --log-format json --verbose -- /bin/sh -c exit" \
               "init -g -- /bin/sh -c 'kill -TERM \$\$'"; do
    n=$((n + 1))
    eval valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/run$n.%p" "$work/studio" "$command" >/dev/null 2>&1 || true
done
# callgrind names each function once as "fn=(id) name" (later mentions are "fn=(id)"); keep first-run
# order, and leave out the nameless (0x...).
for profile in "$work"/run*; do
    sed -n -E 's/^c?fn=\([0-9]+\) (.*)$/\1/p' "$profile"
done | grep -v "^0x" | awk '!seen[$0]++' >scripts/startup-order.txt
echo "scripts/startup-order.txt: $(wc -l <scripts/startup-order.txt) functions" >&2
