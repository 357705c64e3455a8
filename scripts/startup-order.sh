#!/bin/sh
# Regenerates scripts/startup-order.txt, the link order (lld --symbol-ordering-file) of what `studio
# init` touches: the static link (scripts/build-static.sh) puts the listed functions together at the
# front of .text and the listed data together at the front of .data, .bss, .rodata and .data.rel.ro,
# so a start touches fewer pages, and each page holds more of what a start needs. In this order:
#   1. the idle path: what runs between the init's release of its start-up pages and its wait for
#      a signal (Sources/CStudioInit/pages.c), so that the wait faults back one 64 KiB window only;
#   2. the functions a plain start-up runs (valgrind's callgrind), with every variant of the string
#      functions glibc picks per CPU (valgrind's CPU is not the host's), and the spawned child's
#      (valgrind does not follow it between clone and exec);
#   3. the data a plain start-up reads or writes, in the order it first touches it (valgrind's
#      lackey), named by the symbol that holds each address;
#   4. the functions of a start-up with JSON logging and of one that forwards a signal to a group;
#   and last, whatever of this lies in input sections over 64 KiB (the Swift standard library's code).
# Symbols that a later change renames are skipped by the linker, so a stale list only costs speed;
# rerun this after changing the init path. Needs valgrind and python3.
set -eu
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "startup-order: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
LINK_MAP="$work/map" KEEP_SYMBOLS=1 scripts/build-static.sh "$work/studio" >&2
n=0
# The start-up paths: a plain run, one with logging, and one that forwards a signal to a group.
for command in "init /bin/true" "init --log-format json --verbose -- /bin/sh -c exit" \
               "init -g -- /bin/sh -c 'kill -TERM \$\$'"; do
    n=$((n + 1))
    eval valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/run$n.%p" "$work/studio" "$command" >/dev/null 2>&1 || true
done
# The data of the plain start-up only: the others also scan all ~7,000 protocol conformance records.
valgrind --tool=lackey --trace-mem=yes --log-file="$work/memory" "$work/studio" init /bin/true >/dev/null 2>&1 || true
nm -n -S --defined-only "$work/studio" >"$work/symbols"
readelf -SW "$work/studio" >"$work/sections"
/usr/bin/python3 - "$work" >scripts/startup-order.txt <<'PY'
import bisect, glob, re, sys

work = sys.argv[1]
# 1. The idle path (pages.c, then the C library calls it makes after its last madvise).
order = ["studio_wait_signal_after_releasing_pages", "release_executable_pages", "studio_wait_signal",
         "madvise", "sigfillset", "__libc_sigwaitinfo", "__sigtimedwait", "__errno_location"]

# 2. Functions: callgrind names each function once as "fn=(id) name" (later mentions are "fn=(id)").
symbols = []  # (address, size, type, name)
for line in open(f"{work}/symbols"):
    parts = line.split()
    if len(parts) == 4:
        symbols.append((int(parts[0], 16), int(parts[1], 16), parts[2], parts[3]))
names = {s[3] for s in symbols}
variants = {}  # "memmove" -> ["__memmove_avx_unaligned_erms", "__memmove_evex_unaligned_erms", ...]
for name in names:
    match = re.match(r"^__([a-z0-9]+?)_(sse2|ssse3|sse4_1|sse4_2|avx|avx2|evex|evex512|avx512)(_.*)?$", name)
    if match:
        variants.setdefault(match.group(1), []).append(name)
def functions(profile):
    names = []
    for line in open(profile):
        match = re.match(r"^c?fn=\(\d+\) (.*)$", line.rstrip("\n"))
        if not match or match.group(1).startswith("0x"):
            continue
        name = match.group(1)
        if name.startswith("(below main)"):  # callgrind's name for what runs before main
            names += ["_start", "__libc_start_main_impl", "__libc_start_call_main"]
            continue
        names.append(name)
        match = re.match(r"^__([a-z0-9]+?)_(sse2|ssse3|sse4_1|sse4_2|avx|avx2|evex|evex512|avx512)(_.*)?$", name)
        if match:  # the same function for the host's CPU
            names += sorted(variants.get(match.group(1), []))
    return names
# The spawned child runs between clone and exec, where valgrind does not follow (spawn.c).
child = ["child_entry", "setpgid", "setsid", "sigemptyset", "sigprocmask", "__sigprocmask", "__libc_sigaction",
         "syscall", "execve", "tcsetpgrp", "ioctl", "fcntl", "dup2", "strchr", "_exit"]
profiles = sorted(glob.glob(f"{work}/run*"))
order += functions(profiles[0]) + child
later = [name for profile in profiles[1:] for name in functions(profile)]

# 3. Data: the symbol that holds each address lackey saw loaded, stored or modified.
data_sections = []
for line in open(f"{work}/sections"):
    match = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S+)", line)
    if match and "A" in match.group(4) and "X" not in match.group(4) and not match.group(1).startswith(("swift5", ".note", ".rela")):
        data_sections.append((int(match.group(2), 16), int(match.group(2), 16) + int(match.group(3), 16)))
data_symbols = sorted(s for s in symbols if s[2] in "bBdDrRvVgG" and s[1] > 0)
starts = [s[0] for s in data_symbols]
def holder(address):
    index = bisect.bisect_right(starts, address) - 1
    if index >= 0 and address < data_symbols[index][0] + data_symbols[index][1]:
        return data_symbols[index][3]
    return None
for line in open(f"{work}/memory"):
    if line[:2] not in (" L", " S", " M"):
        continue
    address = int(line[3:].split(",")[0], 16)
    if any(start <= address < end for start, end in data_sections):
        name = holder(address)
        if name:
            order.append(name)

# A symbol moves its whole input section. Swift.o (the standard library) has one 1.6 MB .text that
# the init touches in a few places: ordered by its first symbol it would split the hot code in two,
# so sections over 64 KiB (a fault-around window) go after all the others.
section_size = {}
size = 0
for line in open(f"{work}/map"):
    match = re.match(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (\s*)(\S.*)$", line)
    if not match:
        continue
    if len(match.group(2)) == 8:
        size = int(match.group(1), 16)
    elif len(match.group(2)) == 16:
        section_size.setdefault(match.group(3), size)
order += later  # the start-ups with logging and signals, after the plain one's code and data
order = [n for n in order if section_size.get(n, 0) <= 65536] + [n for n in order if section_size.get(n, 0) > 65536]

seen = set()
for name in order:
    if name not in seen:
        seen.add(name)
        print(name)
PY
echo "scripts/startup-order.txt: $(wc -l <scripts/startup-order.txt) symbols" >&2
