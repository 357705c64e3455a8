#!/bin/sh
# Fails when the resolved packages (Package.resolved, written by the last build) differ from
# scripts/pinned-packages.txt: Package.swift pins the direct dependencies `exact:`, and this pins
# what they bring in, so that no silent update changes what the static binary links. To move a
# pin on purpose: change Package.swift, build, then `scripts/check-pins.sh --update`.
set -eu
cd "$(dirname "$0")/.."
[ -f Package.resolved ] || swift package resolve >/dev/null
resolved=$(python3 -c '
import json
pins = json.load(open("Package.resolved"))["pins"]
for pin in sorted(pins, key=lambda p: p["identity"]):
    print(pin["identity"], pin["state"].get("version") or pin["state"].get("revision"))
')
if [ "${1:-}" = --update ]; then
    printf '%s\n' "$resolved" > scripts/pinned-packages.txt
    exit 0
fi
if ! printf '%s\n' "$resolved" | diff -u scripts/pinned-packages.txt - ; then
    echo "check-pins: the resolved packages differ from scripts/pinned-packages.txt (above); pin them in Package.swift or run scripts/check-pins.sh --update on purpose" >&2
    exit 1
fi
echo "check-pins: $(wc -l < scripts/pinned-packages.txt) packages as pinned"
