#!/bin/sh
# Throughput and worker RSS of one `studio remote-worker` running 64 small experiments from the local
# queue with --parallel 1, 2, 4 and 8. Each experiment sleeps 0.5 s (standing in for work that waits
# on I/O or a GPU) and prints a line. Submission is not timed: all are queued with `studio run` first,
# then one worker drains them; the time runs until every record says finished. RSS is the worker's
# own (its experiments are processes of their own): its peak (VmHWM) and what it keeps once idle
# after the last experiment (VmRSS, 1 s after). Budgets (docs/benchmarks.md): idle <= 12 MiB, peak
# <= 20 MiB. Usage: Benchmarks/parallel-bench.sh [path/to/studio] [count]
set -eu
STUDIO=${1:-dist/studio}
COUNT=${2:-64}
[ -x "$STUDIO" ] || { echo "parallel-bench: $STUDIO is not an executable; run make static or pass its path" >&2; exit 2; }
STUDIO=$(readlink -f "$STUDIO")
exec python3 - "$STUDIO" "$COUNT" <<'PY'
import os, subprocess, sys, tempfile, time, shutil

studio, count = sys.argv[1], int(sys.argv[2])
IDLE_BUDGET, PEAK_BUDGET = 12 * 1024, 20 * 1024  # KiB

def run(parallel):
    root = tempfile.mkdtemp(prefix="parallel-bench-")
    env = dict(os.environ, STUDIOML_HOME=root + "/home", AWS_EC2_METADATA_DISABLED="true", GCE_METADATA_HOST="127.0.0.1:9")
    work = root + "/workspace"
    os.makedirs(work)
    open(work + "/job.py", "w").write("import time\ntime.sleep(0.5)\nprint('done')\n")
    for _ in range(count):
        subprocess.run([studio, "run", "--queue", "local", "--cpus", "0", "--ram", "0", "--hdd", "0", "job.py"],
                       cwd=work, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = root + "/home/store/experiments/"
    def finished():
        return sum(1 for name in os.listdir(records) if name.endswith("%obj")
                   and '"status": "finished"' in open(records + name).read().replace('":"', '": "'))
    start = time.perf_counter()
    worker = subprocess.Popen([studio, "remote-worker", "--queue", "local", "--timeout", "5", "--pip", "never",
                               "--parallel", str(parallel)], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def field(name):
        try:
            return next(int(l.split()[1]) for l in open(f"/proc/{worker.pid}/status") if l.startswith(name + ":"))
        except (OSError, StopIteration):
            return 0
    elapsed, idle, peak = None, 0, 0
    while worker.poll() is None:
        peak = max(peak, field("VmHWM"))
        if elapsed is None and finished() == count:
            elapsed = time.perf_counter() - start
            time.sleep(1)
            idle = field("VmRSS")
            peak = max(peak, field("VmHWM"))
        time.sleep(0.05)
    done = finished()
    shutil.rmtree(root, ignore_errors=True)
    ok = worker.returncode == 0 and done == count and elapsed is not None
    if not ok:
        print(f"parallel-bench: --parallel {parallel}: worker exit {worker.returncode}, {done}/{count} finished", file=sys.stderr)
    return ok, parallel, count / (elapsed or float("inf")), elapsed or 0, idle, peak

results = [run(p) for p in (1, 2, 4, 8)]
base = results[0][2] or 1
print(f"{'--parallel':>10} {'experiments/s':>14} {'seconds':>8} {'x of 1':>7} {'idle RSS':>10} {'peak RSS':>10}")
for ok, parallel, rate, elapsed, idle, peak in results:
    print(f"{parallel:>10} {rate:>14.2f} {elapsed:>8.1f} {rate / base:>7.2f} {idle / 1024:>6.1f} MiB {peak / 1024:>6.1f} MiB")
bad = [r[1] for r in results if not r[0] or r[4] > IDLE_BUDGET or r[5] > PEAK_BUDGET]
print("verdict: " + (f"FAIL at --parallel {bad}" if bad else "ok (idle RSS <= 12 MiB and peak <= 20 MiB at every --parallel)"))
sys.exit(1 if bad else 0)
PY
