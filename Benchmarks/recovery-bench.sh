#!/usr/bin/env bash
# Recovery: 3 workers drain 12 experiments of 3-8 s from the local queue while, for a minute, one
# worker's whole process tree (worker and experiment) is SIGKILLed every ~4 s and restarted, as a
# crashing pod would be. It prints: experiments lost (must be 0), records not `finished`, runs
# beyond one per experiment (a killed run starts again; a finished run killed before its outcome
# was recorded would too), and how long after the last kill the queue was drained (goal: 60 s,
# with the default 30 s lease).
# Usage: Benchmarks/recovery-bench.sh [path/to/studio]   (default dist/studio; `make static` first)
set -euo pipefail
STUDIO=$(realpath "${1:-dist/studio}")
EXPERIMENTS=${EXPERIMENTS:-12}
KILL_FOR=${KILL_FOR:-60}
PATH="$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH"
work=$(mktemp -d /tmp/studio-recovery.XXXXXX)
export STUDIOML_HOME=$work/home RUNS=$work/runs
mkdir -p "$work/ws" "$work/logs"
trap 'set +e; touch "$work/stop"; for p in "$work"/pids/*; do [ -f "$p" ] && pkill -KILL -s "$(cat "$p")"; done; wait 2>/dev/null; rm -rf "$work"' EXIT
cat > "$work/ws/job.py" <<'PY'
import os, random, sys, time
with open(os.environ["RUNS"], "a") as f:
    f.write(os.environ["STUDIOML_EXPERIMENT"] + "\n")
time.sleep(random.uniform(3, 8))
print("done")
PY
cd "$work/ws"
keys=()
for _ in $(seq "$EXPERIMENTS"); do keys+=("$("$STUDIO" run --queue local job.py)"); done
: > "$RUNS"
mkdir -p "$work/pids"
# Each worker slot restarts its worker whenever it ends, in a session of its own (so a kill takes
# the whole tree), until the queue is drained and the slot is told to stop.
slot() {
    local n=$1 round=0
    while [ ! -f "$work/stop" ]; do
        round=$((round + 1))
        setsid "$STUDIO" remote-worker --queue local --timeout -1 --pip never --verbose debug \
            >/dev/null 2>"$work/logs/worker-$n-$round.log" &
        echo $! > "$work/pids/$n"
        wait $! || true
    done
}
# (The shell's "Killed" notices for the slots' workers are the point of the exercise: not shown.)
for n in 1 2 3; do slot "$n" 2>/dev/null & done
count_final() {
    local done=0 key
    for key in "${keys[@]}"; do
        grep -q '"status": *"finished"' "$STUDIOML_HOME/store/experiments/$key%obj" 2>/dev/null && done=$((done + 1))
    done
    echo "$done"
}
start=$(date +%s)
kills=0
while [ $(($(date +%s) - start)) -lt "$KILL_FOR" ]; do
    sleep 4
    n=$((RANDOM % 3 + 1))
    # The worker leads its session; the experiment has a process group of its own inside it.
    if [ -f "$work/pids/$n" ] && pkill -KILL -s "$(cat "$work/pids/$n")"; then kills=$((kills + 1)); fi
done
last_kill=$(date +%s.%N)
while [ "$(count_final)" -lt "$EXPERIMENTS" ]; do
    sleep 0.5
    if [ "$(echo "$(date +%s.%N) - $last_kill > 300" | bc)" = 1 ]; then echo "not drained 300 s after the last kill"; break; fi
done
drained=$(date +%s.%N)
touch "$work/stop"
for p in "$work"/pids/*; do kill -TERM "$(cat "$p")" 2>/dev/null || true; done
wait 2>/dev/null || true
finished=$(count_final)
runs=$(wc -l < "$RUNS")
left=$(find "$STUDIOML_HOME/queue/local" -name '*.json' | wc -l)
printf 'kills: %d in %d s; experiments: %d; finished: %d; lost: %d; messages left: %d\n' \
    "$kills" "$KILL_FOR" "$EXPERIMENTS" "$finished" $((EXPERIMENTS - finished)) "$left"
printf 'runs: %d (%d re-runs of killed experiments)\n' "$runs" $((runs - EXPERIMENTS))
printf 'drained %.1f s after the last kill (goal: within 60 s)\n' "$(echo "$drained - $last_kill" | bc -l)"
# The re-run window: from an experiment's exit to its outcome being recorded (debug lines).
grep -ho 'after_exit_ms=[0-9]*' "$work"/logs/*.log | cut -d= -f2 | sort -n > "$work/window" || true
if [ -s "$work/window" ]; then
    printf 're-run window (experiment exit to outcome recorded): median %s ms, max %s ms over %d experiments\n' \
        "$(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' "$work/window")" "$(tail -1 "$work/window")" "$(wc -l < "$work/window")"
fi
# The verdict, as the exit status: nothing lost, nothing left, drained in time.
[ "$finished" -eq "$EXPERIMENTS" ] && [ "$left" -eq 0 ] && [ "$(echo "$drained - $last_kill <= 60" | bc)" = 1 ]
