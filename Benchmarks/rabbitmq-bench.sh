#!/usr/bin/env bash
# Our `studio run` + `remote-worker` against StudioML 0.0.49's `studio-run` + `studio-remote-worker` (pika) on
# the same private rabbitmq-server (loopback), records and artifacts on one moto S3, the same trivial
# experiment. Two figures, medians and ratios:
#   latency: a worker already waiting on its rmq_ queue; each side's own submitter submits one experiment;
#            "exit→start" is from the submitter's exit (its publish is its last step) to the experiment's
#            first line, "submit→start" from the submitter's start (packing and uploading included).
#            N rounds, interleaved.
#   drain:   M messages submitted up front (by our submitter for both, so both workers get the same
#            messages), then one worker drains them: messages per second from the worker's start to the
#            last experiment's start.
# Usage: Benchmarks/rabbitmq-bench.sh    (N=10, M=20; STUDIO=path overrides our binary; STUDIOML_VENV=dir)
# Needs: rabbitmq-server (apt-get install rabbitmq-server; run as root), python3 with moto[server].
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10}
M=${M:-20}
if [ -n "${STUDIO:-}" ]; then which="STUDIO=$STUDIO"
elif [ -x dist/studio ]; then STUDIO=dist/studio; which="release (dist/studio)"
else STUDIO=.build/debug/studio; which="DEBUG build (.build/debug/studio; slower than a release build)"
fi
STUDIO=$(realpath "$STUDIO")
VENV=${STUDIOML_VENV:-$PWD/.build/studioml-venv}
[ -x /usr/sbin/rabbitmq-server ] || { echo "needs rabbitmq-server: apt-get install -y rabbitmq-server" >&2; exit 1; }
python3 -c 'import moto.server' 2>/dev/null || { echo "needs moto: pip install 'moto[server]'" >&2; exit 1; }
scripts/studioml-venv.sh "$VENV"
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 900); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

work=$(mktemp -d /tmp/rabbitmq-bench.XXXXXX)
chmod 755 "$work" # the broker runs as the rabbitmq user
port=$(freeport); amqp=$(freeport); dist=$(freeport)
node=studiobench$amqp@localhost
mkdir -p "$work/rmq/mnesia" "$work/rmq/log"
printf 'listeners.tcp.default = 127.0.0.1:%s\n' "$amqp" > "$work/rmq/rabbitmq.conf"
echo '[].' > "$work/rmq/enabled_plugins"
chown -R rabbitmq:rabbitmq "$work/rmq"
rmqenv=(RABBITMQ_MNESIA_BASE="$work/rmq/mnesia" RABBITMQ_LOG_BASE="$work/rmq/log" RABBITMQ_CONFIG_FILE="$work/rmq/rabbitmq.conf"
        RABBITMQ_FEATURE_FLAGS_FILE="$work/rmq/feature_flags" RABBITMQ_ENABLED_PLUGINS_FILE="$work/rmq/enabled_plugins"
        RABBITMQ_NODENAME="$node" RABBITMQ_NODE_PORT="$amqp" RABBITMQ_DIST_PORT="$dist" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1)
(cd "$work/rmq" && exec env "${rmqenv[@]}" /usr/sbin/rabbitmq-server >"$work/rmq/server.out" 2>&1) &
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
workers=()
cleanup() {
    for pid in "${workers[@]}"; do kill "$pid" 2>/dev/null || true; done
    kill $moto 2>/dev/null || true
    env "${rmqenv[@]}" rabbitmqctl -n "$node" stop >/dev/null 2>&1 || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
waitport "$port" && waitport "$amqp" || { echo "moto or rabbitmq-server did not start" >&2; tail "$work/rmq/server.out" >&2; exit 1; }

for name in $(env | awk -F= '/^(AWS_|STUDIOML_|PIP_|AMQP_)/ {print $1}'); do unset "$name"; done
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
    PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 PIP_TIMEOUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
export PATH="$VENV/bin:$PATH"
cat > "$work/config.yaml" <<YAML
database: {type: s3, endpoint: "http://127.0.0.1:$port", bucket: studioml-meta, authentication: none,
           credentials: {aws: {access_key: testing, secret_access_key: testing}}}
storage: {type: s3, endpoint: "http://127.0.0.1:$port", bucket: studioml-artifacts,
          credentials: {aws: {access_key: testing, secret_access_key: testing}}}
cloud: {queue: {rmq: "amqp://guest:guest@127.0.0.1:$amqp/%2F"}}
saveMetricsFrequency: 1m
saveWorkspaceFrequency: 1m
verbose: info
resources_needed: {cpus: 1, ram: 1g, hdd: 1g, gpus: 0}
sleep_time: 1
YAML
mkdir -p "$work/ws"
# The experiment appends "<its argument> <start time>" to the file named by its first argument.
printf 'import sys, time\nopen(sys.argv[1], "a").write("%%s %%.6f\\n" %% (sys.argv[2], time.time()))\n' > "$work/ws/stamp.py"
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
submit() { # side queue stampfile tag
    submit_once "$@" || { echo "$1's submitter failed; its stderr:" >&2; tail -n 20 "$work/submit.err" >&2; exit 1; }
}
submit_once() {
    if [ "$1" = ours ]; then
        (cd "$work/ws" && STUDIOML_HOME=$work/sub-home "$STUDIO" run --config "$work/config.yaml" --queue "$2" stamp.py "$3" "$4" >/dev/null 2>>"$work/submit.err")
    else
        (cd "$work/ws" && HOME=$work/py-sub STUDIOML_HOME=$work/py-sub/.studioml "$VENV/bin/studio-run" --config "$work/config.yaml" \
            --queue "$2" --force-git stamp.py "$3" "$4" >/dev/null 2>>"$work/submit.err")
    fi
}
start_worker() { # side queue idle-timeout
    mkdir -p "$work/home-$1"
    if [ "$1" = ours ]; then
        (cd "$work/home-$1" && STUDIOML_HOME=$work/home-$1 exec "$STUDIO" remote-worker --config "$work/config.yaml" --queue "$2" --timeout "$3" \
            >"$work/worker-$1.log" 2>&1) &
    else
        (cd "$work/home-$1" && HOME=$work/home-$1 STUDIOML_HOME=$work/home-$1/.studioml exec "$VENV/bin/studio-remote-worker" \
            --config "$work/config.yaml" --queue "$2" --timeout "$3" >"$work/worker-$1.log" 2>&1) &
    fi
    workers+=($!)
}
wait_line() { # side file tag; 1 when it did not start within 30 s
    for _ in $(seq 600); do grep -q "^$3 " "$2" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

echo "== latency: one experiment at a time to a waiting worker, N=$N each, interleaved"
echo "ours: $which; StudioML: studioml==0.0.49 in $VENV"
start_worker ours rmq_bench_ours 3600
start_worker studioml rmq_bench_py 3600
stalls=0
for i in $(seq "$N"); do
    stalled=no
    for side in ours studioml; do
        queue=rmq_bench_ours; [ $side = studioml ] && queue=rmq_bench_py
        a=$(now); submit $side $queue "$work/stamps-$side" "lat$i"; b=$(now)
        if ! wait_line $side "$work/stamps-$side" "lat$i"; then
            # StudioML's worker (prefetch 0, pika's async consumer) sometimes stops taking messages: counted, its
            # worker restarted (the message it held comes back to the new one), and the round not timed.
            [ $side = studioml ] || { echo "ours: experiment lat$i did not start; log:" >&2; tail -n 30 "$work/worker-ours.log" >&2; exit 1; }
            stalls=$((stalls + 1))
            kill "${workers[1]}" 2>/dev/null || true; wait "${workers[1]}" 2>/dev/null || true
            start_worker studioml rmq_bench_py 3600; workers=("${workers[0]}" "${workers[-1]}")
            wait_line $side "$work/stamps-$side" "lat$i" || { echo "StudioML's restarted worker did not run lat$i either" >&2; exit 1; }
            printf '  round %2d: StudioML worker stalled (restarted; round not timed)\n' "$i"
            stalled=yes
            continue
        fi
        started=$(awk -v t="lat$i" '$1 == t {print $2}' "$work/stamps-$side")
        echo "$(echo "$started - $b" | bc -l) $(echo "$started - $a" | bc -l) $(echo "$b - $a" | bc -l)" >> "$work/lat-$side"
    done
    [ "$stalled" = yes ] && continue
    printf '  round %2d: ours exit→start %6.3f s   StudioML exit→start %6.3f s\n' "$i" \
        "$(tail -n 1 "$work/lat-ours" | cut -d' ' -f1)" "$(tail -n 1 "$work/lat-studioml" | cut -d' ' -f1)"
done
for pid in "${workers[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
workers=()
col() { cut -d' ' -f"$2" "$work/lat-$1" | median; }
o1=$(col ours 1); p1=$(col studioml 1); o2=$(col ours 2); p2=$(col studioml 2); o3=$(col ours 3); p3=$(col studioml 3)
echo "StudioML worker stalls (restarted, rounds not timed): $stalls"
printf 'median exit→start    ours %7.3f s   StudioML %7.3f s   ratio %5.1fx\n' "$o1" "$p1" "$(echo "$p1 / $o1" | bc -l)"
printf 'median submit→start  ours %7.3f s   StudioML %7.3f s   ratio %5.1fx\n' "$o2" "$p2" "$(echo "$p2 / $o2" | bc -l)"
printf 'median submit time   ours %7.3f s   StudioML %7.3f s   ratio %5.1fx\n' "$o3" "$p3" "$(echo "$p3 / $o3" | bc -l)"

echo "== drain: $M messages submitted up front (by our studio run), one worker each"
for i in $(seq "$M"); do submit ours rmq_drain_ours "$work/drain-ours" "d$i"; submit ours rmq_drain_py "$work/drain-studioml" "d$i"; done
rate() { # side queue; msg/s over what it ran before the M, or before it stopped taking messages (M x 10 s allowed)
    local a last done_count
    a=$(now)
    start_worker "$1" "$2" 3600
    for _ in $(seq $((M * 200))); do [ "$( (cat "$work/drain-$1" 2>/dev/null || true) | wc -l)" -ge "$M" ] && break; sleep 0.05; done
    kill "${workers[-1]}" 2>/dev/null || true
    done_count=$( (cat "$work/drain-$1" 2>/dev/null || true) | wc -l)
    if [ "$done_count" -lt "$M" ]; then
        echo "$1's worker stalled after $done_count of $M; its log, idle lines left out:" >&2
        grep -v " idle " "$work/worker-$1.log" | tail -20 >&2
        [ "$done_count" -gt 0 ] || { echo "0 (stalled at once)"; return; }
    fi
    last=$(cut -d' ' -f2 "$work/drain-$1" | sort -g | tail -1)
    rate=$(printf '%.2f' "$(echo "$done_count / ($last - $a)" | bc -l)")
    if [ "$done_count" -lt "$M" ]; then echo "$rate (over the $done_count it ran before it stalled)"; else echo "$rate"; fi
}
ro=$(rate ours rmq_drain_ours); rp=$(rate studioml rmq_drain_py)
echo "drain                ours $ro msg/s   StudioML $rp msg/s   ratio $(printf '%.1f' "$(echo "${ro%% *} / ${rp%% *}" | bc -l 2>/dev/null || echo 0)")x"
