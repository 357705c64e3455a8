#!/usr/bin/env bash
# Our worker against the real StudioML 0.0.49 Python worker, per experiment, on one moto (SQS + S3 on
# loopback) and the same trivial experiment: N times each (interleaved), submit one experiment, then
# time `remote-worker --queue sqs_… --single-run` until it exits. Prints the median wall time and the
# median peak RSS of each worker, and the ratios (goal in issue #5: >= 20x less wall, >= 6x less memory).
#
# Peak RSS is /usr/bin/time -v's "Maximum resident set size": the kernel's wait4() reports the largest
# ru_maxrss among the process and all the descendants it reaped (RUSAGE_BOTH), so it is the maximum over
# the worker's whole process tree: for StudioML that includes its `pip freeze` and the experiment's python3,
# for ours the experiment's python3. Each run has a fresh STUDIOML_HOME (no warm blob cache for either).
#
# Usage: Benchmarks/studioml-worker-bench.sh        (N=10; STUDIO=path overrides our binary;
#        SUBMIT=studioml submits with StudioML's own studio-run instead of ours, which is slower and makes
#        StudioML's worker also pip-install its submitter's pip/setuptools pins; STUDIOML_VENV=dir)
# Needs: python3 with moto[server] (pip install 'moto[server]'), /usr/bin/time, and PyPI once for the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10}
SUBMIT=${SUBMIT:-ours}
if [ -n "${STUDIO:-}" ]; then which="STUDIO=$STUDIO"
elif [ -x dist/studio ]; then STUDIO=dist/studio; which="release (dist/studio)"
elif [ -x .build/release/studio ]; then STUDIO=.build/release/studio; which="release (.build/release/studio)"
else STUDIO=.build/debug/studio; which="DEBUG build (.build/debug/studio; slower than a release build)"
fi
STUDIO=$(realpath "$STUDIO")
VENV=${STUDIOML_VENV:-$PWD/.build/studioml-venv}
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
python3 -c 'import moto.server' 2>/dev/null || { echo "needs moto: pip install 'moto[server]'" >&2; exit 1; }
scripts/studioml-venv.sh "$VENV"

work=$(mktemp -d /tmp/studioml-worker-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; wait $moto 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done

# Both workers and submitters see only moto (botocore reads AWS_DEFAULT_REGION; ours AWS_REGION) and a
# pip that cannot reach the network; the venv first on PATH, so every experiment runs the same python3.
for name in $(env | awk -F= '/^(AWS_|STUDIOML_|PIP_)/ {print $1}'); do unset "$name"; done
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
    PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 PIP_TIMEOUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
export PATH="$VENV/bin:$PATH"
cat > "$work/config.yaml" <<EOF
database: {type: s3, endpoint: "http://127.0.0.1:$port", bucket: studioml-meta, authentication: none,
           credentials: {aws: {access_key: testing, secret_access_key: testing}}}
storage: {type: s3, endpoint: "http://127.0.0.1:$port", bucket: studioml-artifacts,
          credentials: {aws: {access_key: testing, secret_access_key: testing}}}
cloud: {queue: {sqs: {credentials: {aws: {access_key: testing, secret_access_key: testing, region: us-east-1}}}}}
saveMetricsFrequency: 1m
saveWorkspaceFrequency: 1m
verbose: info
resources_needed: {cpus: 1, ram: 1g, hdd: 1g, gpus: 0}
sleep_time: 1
EOF
mkdir -p "$work/ws"
printf 'print("trivial experiment done")\n' > "$work/ws/trivial.py"

submit() { # queue home
    if [ "$SUBMIT" = studioml ]; then
        (cd "$work/ws" && HOME=$2 STUDIOML_HOME=$2/.studioml "$VENV/bin/studio-run" --config "$work/config.yaml" --queue "$1" --force-git trivial.py >/dev/null 2>&1)
    else
        (cd "$work/ws" && STUDIOML_HOME=$2 "$STUDIO" run --config "$work/config.yaml" --queue "$1" trivial.py >/dev/null)
    fi
}
measure() { # label home command… ; appends "wall_s rss_kib" to $work/<label>
    local label=$1 home=$2; shift 2
    mkdir -p "$home"
    local a b
    a=$(date +%s.%N)
    (cd "$home" && HOME=$home STUDIOML_HOME=$home/.studioml /usr/bin/time -v -o "$home/time.txt" "$@" >"$home/out.log" 2>"$home/err.log") ||
        { echo "$label run failed:" >&2; tail -n 20 "$home/err.log" >&2; exit 1; }
    b=$(date +%s.%N)
    grep -q "trivial experiment done" "$home/out.log" || { echo "$label did not run the experiment:" >&2; tail -n 20 "$home/err.log" >&2; exit 1; }
    echo "$(echo "$b - $a" | bc -l) $(awk -F': ' '/Maximum resident/ {print $2}' "$home/time.txt")" >> "$work/$label"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== one trivial experiment per --single-run worker, N=$N each, interleaved; submitter: $SUBMIT"
echo "ours: $which"
echo "StudioML: studioml==0.0.49 in $VENV ($("$VENV/bin/python" --version))"
for i in $(seq "$N"); do
    submit sqs_bench_ours "$work/sub-ours-$i"
    measure ours "$work/ours-$i" "$STUDIO" remote-worker --queue sqs_bench_ours --single-run --timeout 30
    submit sqs_bench_py "$work/sub-py-$i"
    measure studioml "$work/py-$i" "$VENV/bin/studio-remote-worker" --queue sqs_bench_py --single-run --timeout 30
    printf '  run %2d: ours %6.3f s %7.1f MiB   StudioML %6.3f s %7.1f MiB\n' "$i" \
        $(tail -n 1 "$work/ours" | awk '{print $1, $2/1024}') $(tail -n 1 "$work/studioml" | awk '{print $1, $2/1024}')
done
ours_s=$(cut -d' ' -f1 "$work/ours" | median); py_s=$(cut -d' ' -f1 "$work/studioml" | median)
ours_kb=$(cut -d' ' -f2 "$work/ours" | median); py_kb=$(cut -d' ' -f2 "$work/studioml" | median)
printf 'ours      median wall %7.3f s   median peak RSS %7.1f MiB\n' "$ours_s" "$(echo "$ours_kb / 1024" | bc -l)"
printf 'StudioML  median wall %7.3f s   median peak RSS %7.1f MiB\n' "$py_s" "$(echo "$py_kb / 1024" | bc -l)"
printf 'ratio     wall %.1fx less (goal >= 20x)   memory %.1fx less (goal >= 6x)\n' \
    "$(echo "$py_s / $ours_s" | bc -l)" "$(echo "$py_kb / $ours_kb" | bc -l)"
