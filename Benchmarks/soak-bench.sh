#!/usr/bin/env bash
# Soak: one worker drains N (default 2000) trivial experiments from the local queue, listening
# between batches. It prints the worker's RSS, threads and descriptors, and the disk its own
# directories use (experiments/, artifact_mappings/, blobcache/, rejected/), after the first 100
# and after all N: both must stay flat (RSS within 1 MiB; disk back to its baseline plus the
# bounded caches). The store (records and artifacts, which grow by design) is shown apart.
# Usage: Benchmarks/soak-bench.sh [path/to/studio]   (default dist/studio; `make static` first)
set -euo pipefail
STUDIO=$(realpath "${1:-dist/studio}")
N=${N:-2000}
PATH="$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH"
work=$(mktemp -d /tmp/studio-soak.XXXXXX)
export STUDIOML_HOME=$work/home
worker=""
trap 'set +e; [ -n "$worker" ] && kill "$worker" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/ws"
printf 'pass\n' > "$work/ws/trivial.py"
cd "$work/ws"

submit() { for _ in $(seq "$1"); do "$STUDIO" run --queue local trivial.py >/dev/null; done; }
# Waits until `want` experiments are acknowledged: the queue is empty and nothing is leased.
drained() {
    local want=$1
    while [ "$(grep -c 'studio: acknowledged' "$work/worker.log" || true)" -lt "$want" ]; do sleep 0.5; done
}
sizes() {
    local own=0 dir
    for dir in experiments artifact_mappings blobcache rejected; do
        [ -d "$STUDIOML_HOME/$dir" ] && own=$((own + $(du -sk "$STUDIOML_HOME/$dir" | cut -f1)))
    done
    local rss anon file threads fds store
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$worker/status")
    anon=$(awk '/^RssAnon/ {print $2}' "/proc/$worker/status")
    file=$(awk '/^RssFile/ {print $2}' "/proc/$worker/status")
    threads=$(awk '/^Threads/ {print $2}' "/proc/$worker/status")
    fds=$(ls "/proc/$worker/fd" | wc -l)
    store=$(du -sk "$STUDIOML_HOME/store" | cut -f1)
    printf '%-12s RSS %6d KiB (anon %6d, file %6d)  threads %3d  fds %3d  worker dirs %6d KiB  store %7d KiB\n' \
        "$1" "$rss" "$anon" "$file" "$threads" "$fds" "$own" "$store"
    echo "$rss $own" > "$work/last"
}

submit 100
"$STUDIO" remote-worker --queue local --timeout -1 --pip never 2>"$work/worker.log" >/dev/null &
worker=$!
drained 100
sizes "after 100:"
read -r rss100 own100 < "$work/last"
t0=$(date +%s.%N)
half=$((N / 2))
submit $((half - 100))
drained "$half"
sizes "after $half:"
read -r rssHalf ownHalf < "$work/last"
submit $((N - half))
drained "$N"
t1=$(date +%s.%N)
sizes "after $N:"
read -r rssN ownN < "$work/last"
printf 'RSS growth %d KiB over %d experiments (%.1f bytes each; goal: within 1 MiB); worker dirs %+d KiB\n' \
    $((rssN - rss100)) $((N - 100)) "$(echo "($rssN - $rss100) * 1024 / ($N - 100)" | bc -l)" $((ownN - own100))
printf 'second half alone: RSS %+d KiB over %d experiments\n' $((rssN - rssHalf)) $((N - half))
printf 'submitted and drained %d experiments in %.0f s\n' $((N - 100)) "$(echo "$t1 - $t0" | bc -l)"
