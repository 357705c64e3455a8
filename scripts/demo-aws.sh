#!/usr/bin/env bash
# The AWS path end to end on this machine: moto (S3 + SQS) on a free loopback port, a config pointing at
# it, `studio run --queue sqs_demo examples/hello/train.py`, one `studio remote-worker --single-run` under
# /usr/bin/time -v (wall time and peak RSS), then the final record: `studio status KEY` and the raw JSON
# from S3. moto is stopped on exit.
# Usage (from the repo root, after `swift build`): scripts/demo-aws.sh    (STUDIO=path picks another binary)
# Needs: python3 with moto[server] (pip install 'moto[server]'), /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
STUDIO=$(realpath "${STUDIO:-.build/debug/studio}")
[ -x "$STUDIO" ] || { echo "demo-aws.sh: no $STUDIO; run swift build first" >&2; exit 1; }
python3 -c 'import moto.server, boto3' 2>/dev/null || { echo "demo-aws.sh: needs moto: pip install 'moto[server]'" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "demo-aws.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d /tmp/studio-demo-aws.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; wait $moto 2>/dev/null; rm -rf "$work"; echo "== moto stopped"' EXIT
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
echo "== moto (S3 + SQS) on http://127.0.0.1:$port; binary $STUDIO"

for name in $(env | awk -F= '/^(AWS_|STUDIOML_)/ {print $1}'); do unset "$name"; done
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true STUDIOML_HOME=$work/home
cat > "$work/config.yaml" <<EOF
database:
    type: s3
    endpoint: http://127.0.0.1:$port
    bucket: studioml-meta
    credentials:
        aws: {access_key: testing, secret_access_key: testing}
storage:
    type: s3
    endpoint: http://127.0.0.1:$port
    bucket: studioml-artifacts
    credentials:
        aws: {access_key: testing, secret_access_key: testing}
EOF
echo "== config $work/config.yaml:"; cat "$work/config.yaml"

# The workspace is the submitter's working directory, so submit from the example's own directory.
echo "== studio run --queue sqs_demo examples/hello/train.py"
key=$(cd examples/hello && "$STUDIO" run --config "$work/config.yaml" --queue sqs_demo train.py)
echo "key: $key"

echo "== studio remote-worker --queue sqs_demo --single-run (under /usr/bin/time -v)"
/usr/bin/time -v -o "$work/time.txt" "$STUDIO" remote-worker --queue sqs_demo --single-run --timeout 30
grep -E 'Elapsed \(wall clock\)|Maximum resident set size' "$work/time.txt" | sed 's/^[[:space:]]*/worker /'
awk -F': ' '/Maximum resident/ {printf "worker peak RSS: %.1f MiB\n", $2/1024}' "$work/time.txt"

echo "== studio status $key"
"$STUDIO" status --config "$work/config.yaml" "$key"

echo "== raw record s3://studioml-meta/experiments/$key"
python3 - "$port" "$key" <<'PY'
import boto3, json, sys
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:" + sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
body = s3.get_object(Bucket="studioml-meta", Key="experiments/" + sys.argv[2])["Body"].read()
print(json.dumps(json.loads(body), indent=2))
print("== artifacts on S3:")
for o in s3.list_objects_v2(Bucket="studioml-artifacts").get("Contents", []):
    print(f"  s3://studioml-artifacts/{o['Key']}  {o['Size']} bytes")
PY
