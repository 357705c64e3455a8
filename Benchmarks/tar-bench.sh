#!/usr/bin/env bash
# Times packing and unpacking a ~1 GiB workspace with studio's tar and with GNU tar, side by side,
# and prints the median of several runs and the ratio (GNU time / studio time: above 1 means studio is faster).
#
#   Benchmarks/tar-bench.sh                 # uses .build/release/studio
#   STUDIO=/path/to/studio RUNS=5 Benchmarks/tar-bench.sh
#
# studio is called as `studio tar create -f OUT DIR` and `studio tar extract -f IN DIR`.
# The workspace is generated once from /dev/urandom and cached under $TAR_BENCH_CACHE (default /tmp).
set -euo pipefail

STUDIO=${STUDIO:-.build/release/studio}
RUNS=${RUNS:-5}
CACHE=${TAR_BENCH_CACHE:-/tmp/studio-tar-bench}
WORKSPACE=$CACHE/workspace
SCRATCH=$CACHE/scratch

make_workspace() {
    echo "building the workspace in $WORKSPACE (once)..." >&2
    rm -rf "$WORKSPACE.partial"
    mkdir -p "$WORKSPACE.partial"
    local i size dir
    # 1,000 files of mixed sizes (1 KiB to 1 MiB, ~420 MiB) in 20 directories, some nested...
    for i in $(seq 0 999); do
        dir=$WORKSPACE.partial/d$((i % 20))/s$((i % 3))
        mkdir -p "$dir"
        case $((i % 5)) in
            0) size=1024 ;;
            1) size=16384 ;;
            2) size=131072 ;;
            3) size=$((700 * 1024)) ;;
            4) size=$((1024 * 1024)) ;;
        esac
        head -c "$size" /dev/urandom > "$dir/file-$i.bin"
    done
    # ...plus three large files (~600 MiB).
    for i in 1 2 3; do
        head -c $((200 * 1024 * 1024)) /dev/urandom > "$WORKSPACE.partial/large-$i.bin"
    done
    mv "$WORKSPACE.partial" "$WORKSPACE"
}

# Prints the wall time of a command in seconds.
time_of() {
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

[ -d "$WORKSPACE" ] || make_workspace
command -v "$STUDIO" > /dev/null || [ -x "$STUDIO" ] || { echo "no studio binary at $STUDIO (set STUDIO=...)" >&2; exit 2; }
echo "workspace: $(du -sh "$WORKSPACE" | cut -f1), $(find "$WORKSPACE" -type f | wc -l) files; $RUNS runs each" >&2

mkdir -p "$SCRATCH"
# Warm the page cache so every run reads the workspace from memory.
cat $(find "$WORKSPACE" -type f) > /dev/null

declare -A samples
create() { # tool
    rm -f "$SCRATCH/$1.tar"; sync
    if [ "$1" = studio ]; then samples[studio_create]+="$(time_of "$STUDIO" tar create -f "$SCRATCH/studio.tar" "$WORKSPACE") "
    else samples[gnu_create]+="$(time_of tar -cf "$SCRATCH/gnu.tar" -C "$WORKSPACE" .) "; fi
}
extract() { # tool
    rm -rf "$SCRATCH/$1-out"; mkdir -p "$SCRATCH/$1-out"; sync
    if [ "$1" = studio ]; then samples[studio_extract]+="$(time_of "$STUDIO" tar extract -f "$SCRATCH/studio.tar" "$SCRATCH/studio-out") "
    else samples[gnu_extract]+="$(time_of tar -xf "$SCRATCH/gnu.tar" -C "$SCRATCH/gnu-out") "; fi
}
for run in $(seq 1 "$RUNS"); do
    # Each tool first on every other run, and each removes its own previous output (then sync) just
    # before it is timed: neither inherits the other's writeback or deletions.
    if [ $((run % 2)) = 1 ]; then order="studio gnu"; else order="gnu studio"; fi
    for tool in $order; do create "$tool"; done
    for tool in $order; do extract "$tool"; done
    echo "run $run done" >&2
done

# One correctness check: what we extracted equals the workspace.
diff -r "$WORKSPACE" "$SCRATCH/studio-out" > /dev/null || { echo "MISMATCH: studio's extraction differs from the workspace" >&2; exit 1; }

printf '%-8s %12s %12s %8s\n' op studio_s gnu_tar_s ratio
for op in create extract; do
    ours=$(echo "${samples[studio_$op]}" | tr ' ' '\n' | grep . | median)
    theirs=$(echo "${samples[gnu_$op]}" | tr ' ' '\n' | grep . | median)
    printf '%-8s %12.3f %12.3f %8.2f\n' "$op" "$ours" "$theirs" "$(echo "$theirs / $ours" | bc -l)"
done
rm -rf "$SCRATCH"
