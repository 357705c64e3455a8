#!/usr/bin/env bash
# Creates (once; later calls return at once) a Python venv at DIR with the real StudioML 0.0.49 from
# PyPI, made importable and runnable on today's Python (3.11) with the smallest shim found by trying.
# The compatibility tests and Benchmarks/studioml-worker-bench.sh use it.
# Usage: scripts/studioml-venv.sh DIR     (then: DIR/bin/studio-run …, DIR/bin/studio-remote-worker …)
# Needs: python3 with venv, and PyPI reachable the first time.
set -euo pipefail
dir="${1:?usage: scripts/studioml-venv.sh DIR}"
# Absolute: the entry point written below names its interpreter by this path.
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
stamp="$dir/.studioml-0.0.49-ready"
[ -f "$stamp" ] && exit 0
python3 -m venv "$dir"
py="$dir/bin/python"
"$py" -m pip install -q --disable-pip-version-check \
    'studioml==0.0.49' \
    'urllib3<2' 'requests-toolbelt==0.9.1'
# Why those two pins: `import studio.model` imports studio/pyrebase.py, which imports
# requests.packages.urllib3.contrib.appengine (gone in urllib3 2) and requests_toolbelt's appengine
# adapter (gone in requests-toolbelt 1.0). Everything else installs at today's versions.
#
# The shim: 0.0.49's remote_worker.py still imports pre-refactor names that the wheel no longer
# provides, so `studio-remote-worker` dies with an ImportError before it parses its arguments:
#   - remote_worker.py: `from .util import parse_verbosity` and `logs.get_logger(...)`;
#   - the stale studio/sqs_queue.py it imports: `from .util import retry, parse_verbosity`;
#   - the stale studio/qclient_cache.py it imports: `from .util import check_for_kb_interrupt`.
# `studio.util` is now a package whose functions live in studio.util.util, and the stale studio/logs.py
# has getLogger but not get_logger. The shim only adds those four names where the old code looks;
# it changes no behaviour, and the unmodified remote_worker.main() runs.
site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cat > "$site/studioml_049_shim.py" <<'PY'
"""Adds the four names StudioML 0.0.49's remote worker imports from its pre-refactor layout."""
import studio.logs
import studio.util
import studio.util.logs
import studio.util.util

studio.util.retry = studio.util.util.retry
studio.util.parse_verbosity = studio.util.util.parse_verbosity
studio.util.check_for_kb_interrupt = studio.util.util.check_for_kb_interrupt
studio.logs.get_logger = studio.util.logs.get_logger
PY
# The console script pip wrote, with the shim imported first (only this entry point needs it).
cat > "$dir/bin/studio-remote-worker" <<PY
#!$dir/bin/python
import studioml_049_shim  # noqa: F401 (see scripts/studioml-venv.sh)
from studio import remote_worker
remote_worker.main()
PY
chmod +x "$dir/bin/studio-remote-worker"
# Proof it imports and starts, before the venv counts as ready.
"$py" -c 'import studioml_049_shim, studio.model, studio.remote_worker'
"$dir/bin/studio-remote-worker" --help >/dev/null
touch "$stamp"
