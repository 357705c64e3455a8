#!/usr/bin/env bash
# Runs tini's own inner test suite (test/run_inner_tests.py) with `studio init` in tini's place.
#
# Usage: scripts/tini-tests.sh SOURCE [STUDIO]
#   SOURCE  debian          Debian's tini source package, fetched with apt-get source (the machine's
#                           own Debian mirrors as deb-src, in a private apt state: nothing system-wide
#                           changes). This is what CI uses: tini 0.19.0, whose test/ is upstream's.
#           a directory     a tini source tree (it has test/run_inner_tests.py)
#           a git directory a clone or bare mirror of tini (HEAD's test/ is used)
#           a tarball       e.g. tini_0.19.0.orig.tar.gz
#   STUDIO  the binary under test (default: .build/debug/studio)
# Needs: cc, python3 with venv, libcap headers (libcap-dev: python-prctl builds against them), PyPI
# the first time (psutil, bitmap and python-prctl, the suite's imports, go into a venv at
# $TINI_TESTS_VENV, default .build/tini-tests-venv).
#
# The suite runs unmodified but for one check, where studio init differs from tini on purpose: run
# without -s and not as PID 1, tini warns "zombie reaping won't work" and the test expects the
# zombies to stay (exit 1); studio init becomes a subreaper by itself, so that check is inverted here
# (no warning, exit 0: every zombie reaped). docs/init.md lists the differences.
set -euo pipefail
usage="usage: scripts/tini-tests.sh debian|TINI_SOURCE [STUDIO]"
# Arguments are relative to the caller's directory; the defaults to the repository's.
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
repository=$(cd "$(dirname "$0")/.." && pwd)
source_arg="${1:?$usage}"
[ "$source_arg" = debian ] || source_arg=$(absolute "$source_arg")
studio=$(absolute "${2:-$repository/.build/debug/studio}")
[ -x "$studio" ] || { echo "tini-tests: no executable at $studio (swift build first)" >&2; exit 2; }
venv=$(absolute "${TINI_TESTS_VENV:-$repository/.build/tini-tests-venv}")

work=$(mktemp -d "${TMPDIR:-/tmp}/tini-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/build"

# Debian's tini source package, through apt with a private list directory and cache.
fetch_debian_source() {
    local apt="$work/apt"
    mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache"
    # The enabled Debian sources of this machine, turned into deb-src entries.
    for file in /etc/apt/sources.list.d/*.sources; do
        if [ -f "$file" ] && grep -q debian-archive-keyring "$file"; then
            sed 's/^Types: deb$/Types: deb-src/' "$file" > "$apt/sources.list.d/$(basename "$file")"
        fi
    done
    if [ -f /etc/apt/sources.list ]; then
        sed -n 's/^deb \(.*debian.*\)$/deb-src \1/p' /etc/apt/sources.list > "$apt/sources.list.d/main.list"
    fi
    local options=(-o "Dir::Etc::SourceParts=$apt/sources.list.d" -o "Dir::Etc::SourceList=$apt/none.list"
                   -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
    touch "$apt/none.list"
    apt-get "${options[@]}" -qq update
    (cd "$apt" && apt-get "${options[@]}" -qq source --download-only tini)
    tar -xzf "$apt"/tini_*.orig.tar.gz -C "$apt"
    cp -R "$apt"/tini-*/test "$work/src/test"
}

if [ "$source_arg" = debian ]; then
    fetch_debian_source
elif [ -f "$source_arg/test/run_inner_tests.py" ]; then
    cp -R "$source_arg/test" "$work/src/test"
elif git --git-dir="$source_arg" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    git --git-dir="$source_arg" archive HEAD test | tar -x -C "$work/src"
elif [ -f "$source_arg" ]; then
    tar -xf "$source_arg" -C "$work/src" --strip-components=1 --wildcards '*/test/*'
else
    echo "tini-tests: $source_arg is neither 'debian', a tini source tree, a git directory nor a tarball" >&2
    exit 2
fi
[ -f "$work/src/test/run_inner_tests.py" ] || { echo "tini-tests: no test/run_inner_tests.py in $source_arg" >&2; exit 2; }

# The deliberate difference (see above): the "Tini should warn" check, inverted.
python3 - "$work/src/test/run_inner_tests.py" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
swaps = [
    ('assert "zombie reaping won\'t work" in err, "No warning message was output!"',
     'assert "zombie reaping won\'t work" not in err, "studio init: no warning expected, it is a subreaper"'),
    ('assert ret == 1, "Reaping test succeeded (it should have failed)!"',
     'assert ret == 0, "studio init: every zombie should have been reaped (it is a subreaper)"'),
]
for old, new in swaps:
    if text.count(old) != 1:
        sys.exit("tini-tests: this version of run_inner_tests.py differs; cannot find: " + old)
    text = text.replace(old, new)
open(path, "w").write(text)
PY

# `tini` in BUILD_DIR, where the suite looks for it: a compiled shim, not a shell script, so the
# signal mask and ignored signals it is started with reach `studio init` untouched (the sigconf test).
cat > "$work/tini.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL) return 127;
    args[0] = STUDIO;
    args[1] = "init";
    for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
    execv(STUDIO, args);
    perror(STUDIO);
    return 127;
}
C
cc -O2 -DSTUDIO="\"$studio\"" -o "$work/build/tini" "$work/tini.c"
cc -o "$work/build/sigconf-test" "$work/src/test/sigconf/sigconf-test.c"

# The suite's Python modules, in a venv whose bin/ also provides the `python` its helpers' #! names.
if [ ! -f "$venv/.tini-tests-ready" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check psutil bitmap python-prctl
    "$venv/bin/python" -c 'import psutil, bitmap, prctl'
    touch "$venv/.tini-tests-ready"
fi

echo "tini-tests: studio $("$studio" --version 2>&1 | head -1) in tini's place; suite from $source_arg"
cd "$work"
# FORCE_SUBREAPER=1: also the -s and TINI_SUBREAPER variants. A hung init must not hang CI.
PATH="$venv/bin:$PATH" SOURCE_DIR="$work/src" BUILD_DIR="$work/build" FORCE_SUBREAPER=1 \
    timeout 900 python3 "$work/src/test/run_inner_tests.py"
