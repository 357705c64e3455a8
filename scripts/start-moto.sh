#!/usr/bin/env bash
# Starts moto's S3 + SQS stand-in on loopback for trying studio against "AWS" locally.
# Usage: scripts/start-moto.sh [PORT]   (default 5000); stop it with Ctrl-C.
# Needs: pip install 'moto[server]'
set -euo pipefail
port="${1:-5000}"
if ! python3 -c 'import moto.server' 2>/dev/null; then
    echo "start-moto.sh: moto is not installed; run: pip install 'moto[server]'" >&2
    exit 1
fi
echo "moto on http://127.0.0.1:$port — export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1" >&2
exec python3 -m moto.server -H 127.0.0.1 -p "$port"
