#!/bin/sh
# Throughput and worker RSS of one `studio remote-worker` running 64 small experiments from the local
# queue with --parallel 1, 2, 4 and 8. Each experiment sleeps 0.5 s (standing in for work that waits
# on I/O or a GPU) and prints a line. Submission is not timed: all 64 are queued with `studio run`
# first, then the worker drains them (`--timeout 0`). Peak RSS is the worker's own VmHWM (its
# experiments are processes of their own). Usage: Benchmarks/parallel-bench.sh [path/to/studio] [count]
# Budget: the worker's peak RSS <= 12 MiB at every --parallel.
set -eu
STUDIO=${1:-dist/studio}
COUNT=${2:-64}
[ -x "$STUDIO" ] || { echo "parallel-bench: $STUDIO is not an executable; run make static or pass its path" >&2; exit 2; }
STUDIO=$(readlink -f "$STUDIO")
exec python3 - "$STUDIO" "$COUNT" <<'PY'
import os, subprocess, sys, tempfile, time, shutil

studio, count = sys.argv[1], int(sys.argv[2])
budget_kib = 12 * 1024
results, failed = [], False
for parallel in (1, 2, 4, 8):
    root = tempfile.mkdtemp(prefix="parallel-bench-")
    env = dict(os.environ, STUDIOML_HOME=root + "/home", AWS_EC2_METADATA_DISABLED="true", GCE_METADATA_HOST="127.0.0.1:9")
    work = root + "/workspace"
    os.makedirs(work)
    open(work + "/job.py", "w").write("import time\ntime.sleep(0.5)\nprint('done')\n")
    for _ in range(count):
        subprocess.run([studio, "run", "--queue", "local", "--cpus", "0", "--ram", "0", "--hdd", "0", "job.py"],
                       cwd=work, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.perf_counter()
    worker = subprocess.Popen([studio, "remote-worker", "--queue", "local", "--timeout", "0", "--pip", "never",
                               "--parallel", str(parallel), "--no-preemption-watch"], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while worker.poll() is None:
        try:
            for line in open(f"/proc/{worker.pid}/status"):
                if line.startswith("VmHWM:"): peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    finished = sum(1 for name in os.listdir(root + "/home/store/experiments") if name.endswith("%obj")
                   and '"status": "finished"' in open(root + "/home/store/experiments/" + name).read().replace('":"', '": "'))
    shutil.rmtree(root, ignore_errors=True)
    if worker.returncode != 0 or finished != count:
        print(f"parallel-bench: --parallel {parallel}: worker exit {worker.returncode}, {finished}/{count} finished", file=sys.stderr)
        failed = True
    results.append((parallel, count / elapsed, elapsed, peak))
base = results[0][1]
print(f"{'--parallel':>10} {'experiments/s':>14} {'seconds':>8} {'x of 1':>7} {'worker peak RSS':>16}")
for parallel, rate, elapsed, peak in results:
    print(f"{parallel:>10} {rate:>14.2f} {elapsed:>8.1f} {rate / base:>7.2f} {peak / 1024:>13.1f} MiB")
over = [r for r in results if r[3] > budget_kib]
print("verdict: " + ("FAIL (RSS over 12 MiB at --parallel " + ", ".join(str(r[0]) for r in over) + ")" if over or failed else "ok (worker RSS <= 12 MiB at every --parallel)"))
sys.exit(1 if over or failed else 0)
PY
