#!/bin/sh
# Reads the XCTest log of `make test` on stdin and fails when any test was skipped, except the
# opt-in benchmark harnesses (they are run by hand, with their inputs). Under CI a skip means a
# tool the test needs is missing, and a green CI must mean that every test ran: .ci/run installs
# everything they need, so a skip there is a failure to fix, not a test to forget.
set -eu
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cat > "$log"
skipped=$(grep -E "^Test Case '.*' skipped" "$log" | grep -v -E "'TarBenchmarkTests\." || true)
if [ -n "$skipped" ]; then
    echo "no-skips: these tests were skipped; under CI every test must run (the reason is on the line before each):" >&2
    printf '%s\n' "$skipped" >&2
    grep -E ": Test skipped - " "$log" | grep -v TarBenchmarkTests | sed 's/^/  /' >&2
    exit 1
fi
# Silent on success, so that the test runner's own summary stays the last thing CI prints.
