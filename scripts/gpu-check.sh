#!/bin/sh
# The GPU path on a machine with a real NVIDIA GPU (not run yet: the development machine has none,
# and every automated test uses a stand-in nvidia-smi). Run it there as root, from the repository:
#   scripts/gpu-check.sh [path/to/studio]
# It prints what `studio remote-worker --show-resources` finds, installs PyTorch from PyPI into a
# virtualenv (if it installs), queues one small CUDA experiment per GPU on a local queue, runs them
# with `--parallel auto`, and checks that each saw exactly its own GPU (CUDA_VISIBLE_DEVICES, and
# torch.cuda.device_count() == 1) and that `_metrics` carries `gpu: <index> util: … gpumem: …`.
# Paste its output into docs/resources-and-gpus.md. Exit 0: all checks passed.
set -eu
STUDIO=$(readlink -f "${1:-dist/studio}")
[ -x "$STUDIO" ] || { echo "gpu-check: $STUDIO is not an executable; run make static or pass its path" >&2; exit 2; }
command -v nvidia-smi >/dev/null || { echo "gpu-check: no nvidia-smi on PATH: this is not a GPU machine (or the driver is missing)" >&2; exit 2; }
work=$(mktemp -d /tmp/gpu-check.XXXXXX)
export STUDIOML_HOME="$work/home"
echo "== nvidia-smi"
nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu --format=csv
echo "== studio remote-worker --show-resources"
"$STUDIO" remote-worker --show-resources
gpus=$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)

echo "== PyTorch"
python3 -m venv "$work/venv"
if "$work/venv/bin/pip" install -q torch; then
    PY="$work/venv/bin"
else
    echo "gpu-check: PyTorch did not install; the experiment checks CUDA_VISIBLE_DEVICES and _metrics only"
    PY=""
fi

mkdir -p "$work/ws"
cat > "$work/ws/cuda_job.py" <<'PYJOB'
import os, time
seen = os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>")
print("CUDA_VISIBLE_DEVICES=" + seen, "CUDA_DEVICE_ORDER=" + os.environ.get("CUDA_DEVICE_ORDER", "<unset>"))
try:
    import torch
    print("torch.cuda.device_count()=%d" % torch.cuda.device_count())
    x = torch.randn(4096, 4096, device="cuda")
    end = time.time() + 25
    while time.time() < end:
        x = (x @ x).clamp(-1, 1)
    torch.cuda.synchronize()
    print("matmul ok on", torch.cuda.get_device_name(0))
except ImportError:
    time.sleep(25)
PYJOB
cd "$work/ws"
for _ in $(seq "$gpus"); do "$STUDIO" run --queue local --gpus 1 --cpus 0 --ram 0 --hdd 0 cuda_job.py >> "$work/keys"; done
cd "$work"
echo "== worker: --parallel auto ($gpus GPU(s))"
PATH="${PY:+$PY:}$PATH" "$STUDIO" remote-worker --queue local --parallel auto --timeout 0 --pip never --keep-runs 1000 2>&1 | tail -40

failed=0
echo "== checks"
while read -r key; do
    out="$STUDIOML_HOME/experiments/$key/output"
    metrics="$STUDIOML_HOME/experiments/$key/_metrics"
    status=$("$STUDIO" status "$key" 2>/dev/null | tail -1 || true)
    echo "-- $key: $status"
    cat "$out" 2>/dev/null || echo "(no output kept)"
    if ! grep -Eq '^CUDA_VISIBLE_DEVICES=[0-9]+ CUDA_DEVICE_ORDER=PCI_BUS_ID' "$out" 2>/dev/null; then
        echo "FAIL: no single CUDA_VISIBLE_DEVICES with PCI_BUS_ID order"; failed=1
    fi
    if [ -n "$PY" ] && ! grep -q 'torch.cuda.device_count()=1' "$out" 2>/dev/null; then echo "FAIL: CUDA does not see exactly one GPU"; failed=1; fi
    if ! grep -Eq 'gpu: [0-9]+ util: -?[0-9]+ gpumem: [0-9]+' "$metrics" 2>/dev/null; then echo "FAIL: no GPU figures in _metrics"; failed=1; fi
    tail -2 "$metrics" 2>/dev/null || true
done < "$work/keys"
devices=$(cat "$STUDIOML_HOME"/experiments/*/output 2>/dev/null | sed -n 's/^CUDA_VISIBLE_DEVICES=\([0-9,]*\) .*/\1/p' | sort | uniq -d)
[ -z "$devices" ] || { echo "FAIL: GPUs given to two experiments at once: $devices"; failed=1; }
echo "== verdict: $([ $failed = 0 ] && echo ok || echo FAIL) (files kept in $work)"
exit $failed
