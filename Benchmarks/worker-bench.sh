#!/usr/bin/env bash
# Worker benchmarks for the local (one machine) path, each printed against a peer run in the
# same invocation:
#   1. overhead per trivial experiment: a worker draining N trivial experiments (receive → run →
#      record → acknowledge) against running the same script N times directly;
#   2. the worker's peak RSS while it does so (/usr/bin/time -v);
#   3. `studio run --queue` of a small workspace (submit and return) against `python3 -c pass`;
#   4. output passed through: an experiment writing 1 GiB to stdout under the worker against the
#      same writer piped into `cat`.
# Usage: Benchmarks/worker-bench.sh [path/to/studio]   (default dist/studio; build it with `make static`)
set -euo pipefail
STUDIO=$(realpath "${1:-dist/studio}")
N=${N:-40}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
# Experiments and the peer both run the real interpreter, not a version manager's shim (pyenv's
# adds ~40 forks and 100+ ms to every start, which would drown what is measured here).
PATH="$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH"
export PATH
work=$(mktemp -d /tmp/studio-worker-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export STUDIOML_HOME=$work/home
mkdir -p "$work/ws" "$work/big"
printf 'pass\n' > "$work/ws/trivial.py"
# The writer times itself: a pipe holds 64 KiB, so its writes finish only as fast as the reader
# (the worker, or cat) takes the bytes. It records the seconds in the file named by FLOOD_TIMES.
cat > "$work/big/flood.py" <<'PY'
import os, time
chunk = b"x" * (1 << 20)
start = time.perf_counter()
for _ in range(1024):
    view = memoryview(chunk)
    while view:
        view = view[os.write(1, view):]
elapsed = time.perf_counter() - start
with open(os.environ["FLOOD_TIMES"], "a") as f:
    f.write(f"{elapsed}\n")
PY

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== 1+2. trivial experiments: worker vs direct (N=$N)"
cd "$work/ws"
for i in $(seq "$N"); do "$STUDIO" run --queue local trivial.py >/dev/null; done
t0=$(now)
/usr/bin/time -v -o "$work/time.txt" "$STUDIO" remote-worker --queue local --timeout 0 --pip never >/dev/null 2>"$work/worker.log"
t1=$(now)
for i in $(seq "$N"); do python3 trivial.py; done
t2=$(now)
worker_ms=$(echo "($t1 - $t0) * 1000 / $N" | bc -l)
direct_ms=$(echo "($t2 - $t1) * 1000 / $N" | bc -l)
rss_kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$work/time.txt")
done_count=$(grep -c '"*acknowledged' "$work/worker.log" || true)
printf 'worker per experiment:   %7.1f ms (%s acknowledged)\n' "$worker_ms" "$done_count"
printf 'script run directly:     %7.1f ms\n' "$direct_ms"
printf 'worker overhead:         %7.1f ms per experiment (goal <= 50 ms)\n' "$(echo "$worker_ms - $direct_ms" | bc -l)"
printf 'worker peak RSS:         %7.1f MiB (goal <= 20 MiB)\n' "$(echo "$rss_kb / 1024" | bc -l)"

echo "== 3. submit a small workspace: studio run --queue vs python3 -c pass (median of 15)"
for i in $(seq 15); do
    a=$(now); "$STUDIO" run --queue local-submit trivial.py >/dev/null; b=$(now)
    python3 -c pass; c=$(now)
    echo "$(echo "($b - $a) * 1000" | bc -l) $(echo "($c - $b) * 1000" | bc -l)"
done > "$work/submit.txt"
submit_ms=$(cut -d' ' -f1 "$work/submit.txt" | median)
python_ms=$(cut -d' ' -f2 "$work/submit.txt" | median)
printf 'studio run --queue:      %7.1f ms (goal <= 200 ms)\n' "$submit_ms"
printf 'python3 -c pass:         %7.1f ms (ratio %.2fx)\n' "$python_ms" "$(echo "$submit_ms / $python_ms" | bc -l)"

echo "== 4. output throughput: 1 GiB through the worker vs a plain pipe (median of 3)"
cd "$work/big"
for i in 1 2 3; do
    "$STUDIO" run --queue local-flood flood.py >/dev/null
    FLOOD_TIMES=$work/worker-times "$STUDIO" remote-worker --queue local-flood --single-run --pip never >/dev/null 2>&1
    rm -rf "$STUDIOML_HOME/experiments" "$STUDIOML_HOME/store/experiments"
    # The peer also keeps a copy in a file, as the worker does with the output artifact.
    FLOOD_TIMES=$work/pipe-times python3 flood.py | tee "$work/pipe-copy" >/dev/null
    rm -f "$work/pipe-copy"
done
worker_s=$(median < "$work/worker-times")
pipe_s=$(median < "$work/pipe-times")
printf 'through the worker:      %7.2f s  (%.0f MiB/s, to its stdout and the output file)\n' "$worker_s" "$(echo "1024 / $worker_s" | bc -l)"
printf 'through tee to a file:   %7.2f s  (%.0f MiB/s)\n' "$pipe_s" "$(echo "1024 / $pipe_s" | bc -l)"
printf 'throughput ratio:        %7.2fx of a plain pipe (goal >= 0.9x)\n' "$(echo "$pipe_s / $worker_s" | bc -l)"
