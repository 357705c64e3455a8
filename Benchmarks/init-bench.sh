#!/bin/sh
# Compares `studio init` with tini, tini-static and catatonit: startup overhead of `X /bin/true`
# (as PID 1 of a fresh PID namespace, and as a plain process), idle RSS of the init while its child
# sleeps, and the binary size. Usage: Benchmarks/init-bench.sh [path/to/studio] [runs]
# BASELINE=path/to/other/studio adds that binary's `init` as one more row, interleaved with the rest,
# to compare two builds side by side.
# Budgets: overhead <= 1.0x tini's as PID 1, idle RSS <= 2 MiB, binary <= 30 MB. Needs root (unshare).
set -eu

STUDIO=${1:-.build/release/studio}
RUNS=${2:-200}
[ -x "$STUDIO" ] || { echo "init-bench: $STUDIO is not an executable; build it or pass its path" >&2; exit 2; }
STUDIO=$(readlink -f "$STUDIO")

missing=""
command -v tini >/dev/null 2>&1 || missing="$missing tini"
command -v catatonit >/dev/null 2>&1 || [ -x /usr/libexec/podman/catatonit ] || missing="$missing catatonit"
if [ -n "$missing" ]; then
    echo "init-bench: installing$missing" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >/dev/null 2>&1 || {
        apt-get update >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >/dev/null
    }
fi
CATATONIT=$(command -v catatonit 2>/dev/null || echo /usr/libexec/podman/catatonit)
PYTHON=$(command -v /usr/bin/python3 || command -v python3)

BASELINE=${BASELINE:+$(readlink -f "$BASELINE")}
exec "$PYTHON" - "$STUDIO" "$RUNS" "$CATATONIT" "${BASELINE:-}" <<'PY'
import os, statistics, sys, time

studio, runs, catatonit, baseline = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
inits = {"studio init": [studio, "init"], "tini": ["/usr/bin/tini", "--"], "catatonit": [catatonit, "--"]}
if baseline:
    inits["baseline init"] = [baseline, "init"]
if os.path.exists("/usr/bin/tini-static"):
    inits["tini-static"] = ["/usr/bin/tini-static", "--"]
UNSHARE = ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"]
devnull = os.open(os.devnull, os.O_RDWR)
actions = os.posix_spawn_file_actions() if hasattr(os, "posix_spawn_file_actions") else None

def timed(argv):
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    if status != 0:
        sys.exit(f"init-bench: {' '.join(argv)} failed with wait status {status}")
    return elapsed

def medians(variants):
    samples = {name: [] for name in variants}
    for _ in range(runs):  # interleaved run by run, so machine noise hits every variant alike
        for name, argv in variants.items():
            samples[name].append(timed(argv))
    return {name: statistics.median(values) for name, values in samples.items()}

def idle_rss(prefix):
    pid = os.posix_spawn(UNSHARE[0], UNSHARE + prefix + ["/bin/sleep", "30"], os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    def children(parent):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = open(f"/proc/{entry}/stat").read()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2:].split()[1]) == parent:
                    found.append(int(entry))
        return found
    deadline = time.time() + 5
    init = sleeper = None
    while time.time() < deadline and sleeper is None:
        inits_found = children(pid)
        if inits_found:
            init = inits_found[0]
            kids = children(init)
            sleeper = kids[0] if kids else None
        time.sleep(0.01)
    time.sleep(0.2)
    fields = {}
    for line in open(f"/proc/{init}/status"):
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return fields.get("VmRSS", "?"), fields.get("VmHWM", "?")

print(f"runs: {runs} interleaved; medians in ms; studio binary: {studio}")
print()
pid1 = medians({"/bin/true": UNSHARE + ["/bin/true"], **{name: UNSHARE + argv + ["/bin/true"] for name, argv in inits.items()}})
plain = medians({"/bin/true": ["/bin/true"], **{name: argv + ["/bin/true"] for name, argv in inits.items()}})
tini_pid1 = pid1["tini"] - pid1["/bin/true"]
tini_plain = plain["tini"] - plain["/bin/true"]
print(f"{'init':<14}{'PID 1 ms':>10}{'overhead':>10}{'vs tini':>9}{'plain ms':>10}{'overhead':>10}{'vs tini':>9}{'VmRSS':>12}{'VmHWM':>12}{'size':>14}")
print(f"{'/bin/true':<14}{pid1['/bin/true']:>10.2f}{'':>10}{'':>9}{plain['/bin/true']:>10.2f}")
for name, argv in inits.items():
    over_pid1 = pid1[name] - pid1["/bin/true"]
    over_plain = plain[name] - plain["/bin/true"]
    rss, hwm = idle_rss(argv)
    size = os.path.getsize(argv[0])
    print(f"{name:<14}{pid1[name]:>10.2f}{over_pid1:>+10.2f}{over_pid1 / tini_pid1:>8.2f}x"
          f"{plain[name]:>10.2f}{over_plain:>+10.2f}{over_plain / tini_plain:>8.2f}x{rss:>12}{hwm:>12}{size:>14,}")
print()
print("budgets for studio init: overhead <= 1.0x tini's as PID 1, VmRSS <= 2 MiB, binary <= 30 MB")
PY
