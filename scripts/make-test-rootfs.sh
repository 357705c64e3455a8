#!/usr/bin/env bash
# Builds (once) a minimal Debian root filesystem with python3, for the tests that drop the static
# binary into an "image" and run it there as PID 1. The mirror is the one this machine's apt uses.
#   scripts/make-test-rootfs.sh [DIR]     (default /var/cache/studio/rootfs-debian-python)
set -euo pipefail
dir=${1:-/var/cache/studio/rootfs-debian-python}
if [ -x "$dir/usr/bin/python3" ] && [ -f "$dir/.studio-rootfs-complete" ]; then
    echo "$dir"
    exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
# The first deb URI and suite apt is configured with (deb822 .sources files or a sources.list).
mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')
suite=$(grep -hE '^Suites:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')
if [ -z "$mirror" ]; then
    read -r _ mirror suite _ < <(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
fi
[ -n "$mirror" ] && [ -n "$suite" ] || { echo "no Debian mirror found in /etc/apt: cannot build $dir" >&2; exit 1; }
rm -rf "$dir.partial"
mkdir -p "$(dirname "$dir")"
debootstrap --variant=minbase --include=python3 "$suite" "$dir.partial" "$mirror" >&2
touch "$dir.partial/.studio-rootfs-complete"
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "$dir"
