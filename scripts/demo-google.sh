#!/usr/bin/env bash
# The Google Cloud path end to end on this machine, with no cloud account: a Pub/Sub fake
# (scripts/fake-pubsub.py) and a Cloud Storage emulator (scripts/gcs-emulator.py, needs
# `pip install gcp-storage-emulator`) on free loopback ports, `studio run` of examples/hello/train.py,
# one `studio remote-worker --single-run`, then the experiment's record. Run it from the repository
# root after `swift build` (or set STUDIO=/path/to/studio). Everything it starts is stopped on exit.
set -euo pipefail

STUDIO=${STUDIO:-.build/debug/studio}
QUEUE=${QUEUE:-demo-jobs}
BUCKET=${BUCKET:-studio-demo}
[[ -x $STUDIO ]] || { echo "demo-google.sh: no studio binary at $STUDIO; run swift build first (or set STUDIO=)" >&2; exit 2; }
[[ -f examples/hello/train.py ]] || { echo "demo-google.sh: run me from the repository root" >&2; exit 2; }
STUDIO=$(cd "$(dirname "$STUDIO")" && pwd)/$(basename "$STUDIO")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/studio-demo-google.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts `python3 scripts/<script> --port-file FILE [args]` in the background (in this shell, so that
# the trap knows its pid) and sets PORT to the port it chose.
start_helper() {
    local script=$1 name=$2; shift 2
    python3 "scripts/$script" --port-file "$WORK/$name.port" "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 200); do
        [[ -s $WORK/$name.port ]] && { PORT=$(cat "$WORK/$name.port"); return; }
        kill -0 "${PIDS[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "demo-google.sh: $script did not start:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

# Waits until `curl URL` answers 200.
wait_http() {
    for _ in $(seq 1 300); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return
        sleep 0.1
    done
    echo "demo-google.sh: $1 did not answer" >&2
    exit 1
}

start_helper fake-pubsub.py pubsub; PUBSUB_PORT=$PORT
start_helper gcs-emulator.py gcs; GCS_PORT=$PORT
wait_http "http://127.0.0.1:$GCS_PORT/storage/v1/b"
echo "== Pub/Sub fake on 127.0.0.1:$PUBSUB_PORT, Cloud Storage emulator on 127.0.0.1:$GCS_PORT"

export STUDIOML_HOME=$WORK/home
mkdir -p "$STUDIOML_HOME"
cat >"$STUDIOML_HOME/config.yaml" <<EOF
database:
  type: gcs
  bucket: $BUCKET
storage:
  type: gcs
  bucket: $BUCKET
EOF
# The emulators need no credentials; the project only names the Pub/Sub topic and the bucket's owner.
export PUBSUB_EMULATOR_HOST=127.0.0.1:$PUBSUB_PORT
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$GCS_PORT
export GOOGLE_CLOUD_PROJECT=studio-emulator
# Never reach for a metadata server or a package index from a demo.
export GCE_METADATA_HOST=127.0.0.1:9 AWS_EC2_METADATA_DISABLED=true PIP_INDEX_URL=http://127.0.0.1:9/simple
unset GOOGLE_APPLICATION_CREDENTIALS

echo "== config ($STUDIOML_HOME/config.yaml)"
cat "$STUDIOML_HOME/config.yaml"

echo "== studio run --queue $QUEUE examples/hello/train.py 3"
KEY=$(cd examples/hello && "$STUDIO" run --queue "$QUEUE" train.py 3)
echo "submitted $KEY"

echo "== studio remote-worker --queue $QUEUE --single-run"
"$STUDIO" remote-worker --queue "$QUEUE" --single-run --timeout 30 --pip never

echo "== studio status $KEY"
"$STUDIO" status "$KEY"

echo "== the raw record: gs://$BUCKET/experiments/$KEY"
curl -s "http://127.0.0.1:$GCS_PORT/storage/v1/b/$BUCKET/o/experiments%2F$KEY?alt=media" | python3 -m json.tool

echo "== objects in gs://$BUCKET"
curl -s "http://127.0.0.1:$GCS_PORT/storage/v1/b/$BUCKET/o" | python3 -c 'import json, sys; [print(" ", o["name"], o["size"]) for o in json.load(sys.stdin).get("items", [])]'
