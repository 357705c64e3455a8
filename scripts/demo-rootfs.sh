#!/usr/bin/env bash
# "Dropped into an image", without Docker: the static binary copied into a minimal Debian root
# filesystem with python3 (debootstrap, cached by scripts/make-test-rootfs.sh), where it runs as PID 1
# of a fresh PID namespace and works one experiment from a local queue that the host submitted to.
# The experiment reports who its parent is and which system it runs on; then the host reads the record.
# Usage (root; from the repo root, after `make static`): scripts/demo-rootfs.sh   (STUDIO=path for another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
STUDIO=$(realpath "${STUDIO:-dist/studio}")
[ -x "$STUDIO" ] || { echo "demo-rootfs.sh: no $STUDIO; run make static first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo-rootfs.sh: needs root (PID namespaces, mounts, chroot)" >&2; exit 1; }
rootfs=$(scripts/make-test-rootfs.sh)

work=$(mktemp -d /tmp/studio-demo-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/workspace" "$work/home"
cat > "$work/workspace/where.py" <<'PY'
import os, platform, sys
release = dict(line.rstrip().split("=", 1) for line in open("/etc/os-release") if "=" in line)
print("experiment pid", os.getpid(), "parent pid", os.getppid(), "- parent is", open("/proc/1/cmdline").read().split("\0")[:3])
print("running on", release["PRETTY_NAME"].strip('"'), "with Python", platform.python_version(), "args", sys.argv[1:])
PY
echo "== binary: $STUDIO ($(stat -c %s "$STUDIO") bytes; $(file -b "$STUDIO" | cut -d, -f1-4))"
echo "== root filesystem: $rootfs (debootstrap minbase + python3)"
echo "== on the host: studio run --queue local where.py 'hello rootfs'"
key=$(cd "$work/workspace" && STUDIOML_HOME=$work/home "$STUDIO" run --queue local where.py "hello rootfs")
echo "submitted $key"

echo "== in the root filesystem, as PID 1: /studio remote-worker --queue local --single-run"
# An overlay keeps the cached root filesystem untouched; the mounts vanish with the namespace.
status=0
unshare --pid --fork --mount --kill-child sh -c '
    set -e
    mkdir -p "$1/upper" "$1/work" "$1/merged"
    mount -t overlay overlay -o "lowerdir=$2,upperdir=$1/upper,workdir=$1/work" "$1/merged"
    cp "$3" "$1/merged/studio"
    mount -t proc proc "$1/merged/proc"
    mkdir -p "$1/merged/srv/studio"
    mount --bind "$1/home" "$1/merged/srv/studio"
    exec env -i STUDIOML_HOME=/srv/studio PATH=/usr/local/bin:/usr/bin:/bin \
        "$(command -v chroot)" "$1/merged" /studio remote-worker --queue local --single-run --pip never
' sh "$work" "$rootfs" "$STUDIO" || status=$?
echo "== worker exit status: $status"
echo "== on the host: studio status $key"
STUDIOML_HOME=$work/home "$STUDIO" status "$key"
