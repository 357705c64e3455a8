#!/usr/bin/env python3
"""`studio ui` over the local store and moto's S3 (issue #10's benchmark).

For each store and total it prints: the first list answer after start-up, the page's first render in
headless Chromium (navigation start -> rows in the DOM and painted; median of fresh browsers, and of
later loads in the same browser), the cost of one live refresh when 10 experiments changed (`studio stop`
on 10 keys, then the page's own `since` poll until it reports all 10) and of a poll when nothing changed,
the server's RSS, and the page weight. Before the UI starts, one more experiment is stopped with `studio stop`,
as a store our own writers use has changed lately (--no-marks leaves the store as written: StudioML's
writers). The refresh cost is what the UI server asked of its store:
  local: its system calls on files under the store, traced with `strace -f` (files opened, directories
         read, stats; bytes read from files and directory entries);
  S3:    every request it sent, through a counting HTTP proxy placed between it and moto (requests by
         kind; response bytes).
Each store runs at two totals, so the output shows whether a refresh grows with the total.
Goals (issue #10): first render <= 300 ms for 10,000 local; a refresh reads only what changed;
RSS <= 40 MiB; page <= 150 KB.

Usage: Benchmarks/ui-bench.py [path/to/studio] [LOCAL_MAX] [--s3 100,1000] [--local 1000,10000]
       [--reps 5] [--no-s3] [--no-local] [--no-browser]
LOCAL_MAX alone (the old form) means --local LOCAL_MAX/10,LOCAL_MAX.
Needs: python3 with selenium (+ Debian's chromium, chromium-driver) for the render; strace for the local
refresh cost; moto[server] and boto3 for S3 (all installed by .ci/run).
"""
import argparse
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

STATUSES = ["waiting", "running", "finished", "failed", "stopped"]
PAGE_QUERY = "offset=0&limit=50&sort=time_added&order=desc"  # what app.js asks for first
CHANGED = 10


def record(i, now):
    key = f"{int(now) - i}_{i:08x}"
    status = STATUSES[i % len(STATUSES)]
    return key, {
        "key": key, "filename": "train.py", "args": ["--lr", str((i * 7919) % 1000 / 1000)],
        "pythonenv": ["numpy==1.26.4"], "project": f"p{i % 7}", "owner": f"user{i % 5}", "status": status,
        "time_added": now - i, "time_started": now - i + 1 if status != "waiting" else None,
        "time_finished": now - i + 60 if status in ("finished", "failed", "stopped") else None,
        "info": {"exit_code": 0} if status == "finished" else {},
        "artifacts": {"output": {"key": f"experiments/{key}/output.tar", "mutable": True}},
    }


def stoppable(count, now):
    """Keys the benchmark may stop: groups of CHANGED waiting or running ones, oldest first, and one more
    (the newest) that stands for the store having been written lately."""
    keys = [record(i, now)[0] for i in range(count - 1, -1, -1) if STATUSES[i % len(STATUSES)] in ("waiting", "running")]
    return [keys[n:n + CHANGED] for n in range(0, len(keys) - 1 - CHANGED + 1, CHANGED)], keys[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---- stores ----

class LocalStore:
    name = "local"

    def __init__(self, count, now):
        self.home = tempfile.mkdtemp(prefix="ui-bench-")
        self.root = os.path.join(self.home, "store")
        records = os.path.join(self.root, "experiments")
        os.makedirs(records)
        for i in range(count):
            key, body = record(i, now)
            with open(os.path.join(records, key + "%obj"), "w") as f:
                json.dump(body, f)
            # The default config keeps artifacts in the same store, beside each record.
            os.makedirs(os.path.join(records, key))
            with open(os.path.join(records, key, "output.tar%obj"), "w") as f:
                f.write("x")
        self.env = dict(os.environ, STUDIOML_HOME=self.home)
        self.ui_args = []
        self.control_args = []

    def close(self):
        shutil.rmtree(self.home, ignore_errors=True)


class CountingProxy:
    """Forwards every HTTP request to moto and counts them by kind, with the bytes of each answer."""

    def __init__(self, target_port):
        self.lock = threading.Lock()
        self.reset()
        proxy = self
        local = threading.local()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if getattr(local, "conn", None) is None:
                    local.conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                try:
                    local.conn.request(self.command, self.path, body=body, headers=headers)
                    answer = local.conn.getresponse()
                    data = answer.read()
                except (http.client.HTTPException, OSError):
                    local.conn = None
                    raise
                proxy.count(self.command, self.path, len(data))
                self.send_response(answer.status, answer.reason)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", answer.getheader("Content-Length", str(len(data)))
                                 if self.command == "HEAD" else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, method, path, size):
        path, _, query = path.partition("?")
        parts = [p for p in path.split("/") if p]
        if method == "GET" and len(parts) <= 1:
            kind = "LIST"
        elif method == "GET":
            kind = "GET"
        else:
            kind = method
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1
            self.bytes += size

    def reset(self):
        with self.lock:
            self.requests = {}
            self.bytes = 0

    def snapshot(self):
        with self.lock:
            return dict(self.requests), self.bytes


class S3Store:
    name = "s3"

    def __init__(self, count, now):
        import boto3
        from concurrent.futures import ThreadPoolExecutor
        self.home = tempfile.mkdtemp(prefix="ui-bench-s3-")
        port = free_port()
        self.moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.moto.poll() is not None:
                    raise RuntimeError("moto's server did not start (pip install 'moto[server]')")
                time.sleep(0.1)
        self.proxy = CountingProxy(port)
        creds = dict(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", **creds)
        for bucket in ("bench-meta", "bench-artifacts"):
            s3.create_bucket(Bucket=bucket)

        def put(i):
            key, body = record(i, now)
            s3.put_object(Bucket="bench-meta", Key=f"experiments/{key}", Body=json.dumps(body).encode())
            s3.put_object(Bucket="bench-artifacts", Key=f"experiments/{key}/output.tar", Body=b"x")
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(put, range(count)))
        self.env = dict(os.environ, STUDIOML_HOME=self.home, AWS_EC2_METADATA_DISABLED="true",
                        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
        self.ui_args = ["--config", self.config("ui.yaml", self.proxy.port)]  # the UI talks through the proxy
        self.control_args = ["--config", self.config("direct.yaml", port)]  # `studio stop` goes straight to moto

    def config(self, name, port):
        path = os.path.join(self.home, name)
        section = lambda bucket: (f"    type: s3\n    endpoint: http://127.0.0.1:{port}\n    bucket: {bucket}\n"
                                  "    authentication: none\n    credentials:\n        aws:\n"
                                  "            access_key: testing\n            secret_access_key: testing\n")
        with open(path, "w") as f:
            f.write("database:\n" + section("bench-meta") + "storage:\n" + section("bench-artifacts"))
        return path

    def close(self):
        self.proxy.server.shutdown()
        self.moto.terminate()
        self.moto.wait()
        shutil.rmtree(self.home, ignore_errors=True)


# ---- counting what the server asks of its store ----

class SyscallCounter:
    """strace -f on the UI server: system calls that touch files under the local store."""

    CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+)")

    def __init__(self, pid, root):
        self.pid, self.root = pid, root

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="ui-bench-strace-")
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(
            ["strace", "-f", "-ff", "-y", "-qq", "-s", "0", "-o", os.path.join(self.dir, "t"), "-p", str(self.pid),
             "-e", "trace=openat,open,getdents64,read,pread64,newfstatat,statx,stat,lstat,fstat"],
            stderr=self.err)
        # Attached once a trace file exists per thread; give it a moment past the first.
        deadline = time.time() + 10
        while time.time() < deadline and not any(n.startswith("t.") for n in os.listdir(self.dir)):
            time.sleep(0.02)
        time.sleep(0.3)
        if self.proc.poll() is not None:  # e.g. ptrace not permitted in this container
            self.err.seek(0)
            raise RuntimeError(f"strace could not attach: {self.err.read().strip()[-200:]}")

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait()
        counts = {"open file": 0, "open dir": 0, "getdents": 0, "stat": 0, "read": 0}
        read_bytes = 0
        for name in os.listdir(self.dir):
            if not name.startswith("t."):
                continue
            with open(os.path.join(self.dir, name), errors="replace") as f:
                for line in f:
                    match = self.CALL.match(line)
                    if not match or self.root not in match.group(2):
                        continue
                    call, args, ret = match.group(1), match.group(2), int(match.group(3))
                    if call in ("openat", "open"):
                        counts["open dir" if "O_DIRECTORY" in args else "open file"] += 1
                    elif call == "getdents64":
                        counts["getdents"] += 1
                        read_bytes += max(ret, 0)
                    elif call in ("read", "pread64"):
                        counts["read"] += 1
                        read_bytes += max(ret, 0)
                    else:
                        counts["stat"] += 1
        shutil.rmtree(self.dir, ignore_errors=True)
        return {k: v for k, v in counts.items() if v}, read_bytes


class ProxyCounter:
    def __init__(self, proxy):
        self.proxy = proxy

    def start(self):
        self.proxy.reset()

    def stop(self):
        return self.proxy.snapshot()


# ---- the UI server ----

class UI:
    def __init__(self, studio, store):
        self.store = store
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([studio, "ui", "--port", "0"] + store.ui_args, env=store.env,
                                     stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if "serving " not in line:
            raise RuntimeError(f"studio ui did not start: {line!r}")
        self.base = line.split("serving ")[1].split()[0]

    def get(self, path):
        with urllib.request.urlopen(self.base + path.lstrip("/"), timeout=60) as response:
            return response.read()

    def api(self, query):
        return json.loads(self.get("/api/experiments?" + query))

    def memory(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def first_answer(ui):
    ui.api(PAGE_QUERY)
    return (time.perf_counter() - ui.started) * 1000


def page_weight(ui):
    parts = {name: len(ui.get(name)) for name in ("/", "/app.js", "/charts.js", "/app.css")}
    return parts, sum(parts.values())


# ---- the first render, in Chromium ----

# Installed before the page's own scripts (CDP), so it sees the first row arrive without polling.
MARKER = """
(() => {
  const mark = () => {
    if (window.__rowsShown || !document.querySelector('#rows tr')) return;
    window.__rowsShown = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__rowsPainted = performance.now(); }, 0));
  };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true });
})();
"""
READ_MARKS = """
const api = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/experiments'))[0];
const shown = window.__rowsShown;
return [shown, window.__rowsPainted, api ? api.startTime : null, api ? api.responseEnd : null,
        performance.getEntriesByType('resource').filter((e) => e.responseEnd <= shown).length + 1];
"""


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    options.binary_location = shutil.which("chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MARKER})
    return driver


def load(driver, base):
    driver.get("about:blank")
    time.sleep(0.6)  # past the catalog's refresh interval, so every load's list answer re-checks the store
    driver.get(base)
    deadline = time.time() + 30
    while time.time() < deadline:
        marks = driver.execute_script(READ_MARKS)
        if marks[1] is not None:
            return marks
        time.sleep(0.02)
    raise RuntimeError("the list's rows never showed")


def renders(ui, reps):
    """Per fresh browser: its first load, then three more; each (rows shown, painted, api start, api end, requests)."""
    cold, warm = [], []
    for _ in range(reps):
        driver = browser()
        try:
            cold.append(load(driver, ui.base))
            warm += [load(driver, ui.base) for _ in range(3)]
        finally:
            driver.quit()
    return cold, warm


# ---- one live refresh ----

def refresh_cost(ui, counter, studio, keys, poll_only=False):
    """Counts what the server asks of its store from just before `keys` change until a poll reports them."""
    generation = ui.api(PAGE_QUERY)["generation"]
    time.sleep(0.6)  # past the catalog's refresh interval: the next poll re-checks the store
    counter.start()
    for key in keys:
        subprocess.run([studio, "stop"] + ui.store.control_args + [key], env=ui.store.env, check=True,
                       stdout=subprocess.DEVNULL)
    polls, seen, started = 0, set(), time.perf_counter()
    deadline = time.time() + 20
    while True:
        polls += 1
        answer = ui.api(PAGE_QUERY + f"&since={generation}")
        seen |= set(answer.get("changed", []))
        if set(keys) <= seen or time.time() > deadline:
            break
        time.sleep(0.2)
    elapsed = (time.perf_counter() - started) * 1000
    requests, read = counter.stop()
    if not set(keys) <= seen:
        print(f"  warning: a poll never reported {sorted(set(keys) - seen)}")
    return requests, read, polls, elapsed


def refresh_costs(ui, counter, studio, groups, reps):
    changed = [refresh_cost(ui, counter, studio, groups[n]) for n in range(reps)]
    quiet = [refresh_cost(ui, counter, studio, []) for _ in range(reps)]
    return changed, quiet


# ---- one store at one total ----

def run(studio, kind, count, args):
    now = time.time()
    print(f"\n== {kind} store, {count:,} experiments ==", flush=True)
    started = time.perf_counter()
    store = (LocalStore if kind == "local" else S3Store)(count, now)
    groups, latest = stoppable(count, now)
    if not args.no_marks:
        # The records were written directly, as StudioML's writers would; a store our own writers use has
        # also had a change lately, written by the binary's own record writer (with whatever marks it leaves).
        subprocess.run([studio, "stop"] + store.control_args + [latest], env=store.env, check=True, stdout=subprocess.DEVNULL)
    print(f"  (written in {time.perf_counter() - started:.1f} s)", flush=True)
    ui = UI(studio, store)
    result = {"kind": kind, "count": count}
    try:
        result["first answer"] = first_answer(ui)
        result["weight"] = page_weight(ui)
        if not args.no_browser:
            try:
                result["render"] = renders(ui, args.reps)
            except Exception as error:
                print(f"  browser render: not measured ({error.__class__.__name__}: {error})")
        counter = SyscallCounter(ui.proc.pid, store.root) if kind == "local" else ProxyCounter(store.proxy)
        if kind == "local" and not shutil.which("strace"):
            print("  refresh cost: not measured (install strace)")
        else:
            try:
                result["refresh"] = refresh_costs(ui, counter, studio, groups, args.refresh_reps)
            except Exception as error:
                print(f"  refresh cost: not measured ({error.__class__.__name__}: {error})")
        result["memory"] = ui.memory()
    finally:
        ui.close()
        store.close()
    report(result)
    return result


def fmt(ms):
    return "-" if ms is None else f"{ms:.0f} ms"


def summarise(runs):
    """(requests: {kind: median}, total requests, bytes, polls) over repetitions."""
    kinds = sorted({k for r in runs for k in r[0]})
    per = {k: median([r[0].get(k, 0) for r in runs]) for k in kinds}
    return per, median([sum(r[0].values()) for r in runs]), median([r[1] for r in runs]), median([r[2] for r in runs])


def report(r):
    print(f"  first list answer after start-up: {fmt(r['first answer'])} (includes reading every record)")
    if "render" in r:
        cold, warm = r["render"]
        print(f"  first render, fresh browser (median of {len(cold)}): rows in DOM {fmt(median([m[0] for m in cold]))}, "
              f"painted {fmt(median([m[1] for m in cold]))}; API request {fmt(median([m[2] for m in cold]))} -> "
              f"{fmt(median([m[3] for m in cold]))}; {median([m[4] for m in cold]):.0f} requests before the rows")
        print(f"  later loads, same browser (median of {len(warm)}): rows in DOM {fmt(median([m[0] for m in warm]))}, "
              f"painted {fmt(median([m[1] for m in warm]))}; API request {fmt(median([m[2] for m in warm]))} -> "
              f"{fmt(median([m[3] for m in warm]))}")
    if "refresh" in r:
        for label, runs in zip(("10 changed", "nothing changed"), r["refresh"]):
            per, total, read, polls = summarise(runs)
            unit = "syscalls on the store" if r["kind"] == "local" else "requests to S3"
            detail = ", ".join(f"{k} {v:g}" for k, v in per.items())
            print(f"  refresh, {label} (median of {len(runs)}): {total:g} {unit} ({detail}); "
                  f"{read:,.0f} bytes read; {polls:g} poll(s)")
    rss, peak = r["memory"]
    print(f"  server RSS: {rss:.1f} MiB (peak {peak:.1f} MiB)")
    parts, total = r["weight"]
    print(f"  page weight: {total:,} bytes ({', '.join(f'{k} {v:,}' for k, v in parts.items())})")


def ratios(results):
    print("\n== ratios ==")
    by = {(r["kind"], r["count"]): r for r in results}
    for kind in ("local", "s3"):
        counts = sorted(c for k, c in by if k == kind)
        if len(counts) < 2 or "refresh" not in by[(kind, counts[0])] or "refresh" not in by[(kind, counts[-1])]:
            continue
        small, large = by[(kind, counts[0])], by[(kind, counts[-1])]
        for n, label in ((0, "10 changed"), (1, "nothing changed")):
            _, req_s, bytes_s, _ = summarise(small["refresh"][n])
            _, req_l, bytes_l, _ = summarise(large["refresh"][n])
            print(f"  {kind} refresh, {label}: {counts[-1]:,} vs {counts[0]:,} experiments: "
                  f"requests x{req_l / max(req_s, 1):.2f}, bytes x{bytes_l / max(bytes_s, 1):.2f}")
        if "render" in small and "render" in large:
            print(f"  {kind} first render (fresh browser, painted): {counts[-1]:,} vs {counts[0]:,}: "
                  f"x{median([m[1] for m in large['render'][0]]) / median([m[1] for m in small['render'][0]]):.2f}")
    shared = sorted({c for k, c in by if k == "local"} & {c for k, c in by if k == "s3"})
    for count in shared:
        local, s3 = by[("local", count)], by[("s3", count)]
        if "render" in local and "render" in s3:
            print(f"  first render at {count:,}, S3 vs local: "
                  f"x{median([m[1] for m in s3['render'][0]]) / median([m[1] for m in local['render'][0]]):.2f}")
        print(f"  server RSS at {count:,}, S3 vs local: x{s3['memory'][0] / local['memory'][0]:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("studio", nargs="?", default="dist/studio")
    parser.add_argument("local_max", nargs="?", type=int)
    parser.add_argument("--local", default="1000,10000")
    parser.add_argument("--s3", default="100,1000")
    parser.add_argument("--reps", type=int, default=5, help="fresh browsers per render measurement")
    parser.add_argument("--refresh-reps", type=int, default=3)
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--no-local", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-marks", action="store_true",
                        help="leave the store as written (no change by `studio stop` before the UI starts)")
    args = parser.parse_args()
    studio = os.path.abspath(args.studio)
    local = [args.local_max // 10, args.local_max] if args.local_max else [int(n) for n in args.local.split(",")]
    plan = ([] if args.no_local else [("local", n) for n in local]) + \
           ([] if args.no_s3 else [("s3", int(n)) for n in args.s3.split(",")])
    print(f"studio: {studio} ({os.path.getsize(studio):,} bytes); machine: {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}")
    results = []
    for kind, count in plan:
        try:
            results.append(run(studio, kind, count, args))
        except Exception as error:
            print(f"  {kind} at {count:,}: not measured ({error.__class__.__name__}: {error})")
    ratios(results)


if __name__ == "__main__":
    main()
