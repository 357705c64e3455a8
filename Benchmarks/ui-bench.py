#!/usr/bin/env python3
"""`studio ui` over N local experiments (default 10,000): time of the first list answer (cold: every
record read), of a warm one, of a `since` poll, of the page's first render in headless Chromium (when
selenium and chromium are installed), and the server's RSS. Goals (issue #10): first render <= 300 ms
for 10,000, RSS <= 40 MiB. Usage: Benchmarks/ui-bench.py [path/to/studio] [N]
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

studio = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/release/studio")
count = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
home = tempfile.mkdtemp(prefix="ui-bench-")
records = os.path.join(home, "store", "experiments")
os.makedirs(records)
statuses = ["waiting", "running", "finished", "failed", "stopped"]
now = time.time()
for i in range(count):
    key = f"{int(now) - i}_{i:08x}"
    status = random.choice(statuses)
    record = {"key": key, "filename": "train.py", "args": ["--lr", str(random.random())], "pythonenv": ["numpy==1.26.4"],
              "project": f"p{i % 7}", "owner": f"user{i % 5}", "status": status, "time_added": now - i,
              "time_started": now - i + 1 if status != "waiting" else None,
              "time_finished": now - i + 60 if status in ("finished", "failed", "stopped") else None,
              "info": {"exit_code": 0} if status == "finished" else {}, "artifacts": {}}
    with open(os.path.join(records, key + "%obj"), "w") as f:
        json.dump(record, f)
    # The default config keeps artifacts in the same store: experiments/<key>/output.tar beside each record.
    os.makedirs(os.path.join(records, key))
    with open(os.path.join(records, key, "output.tar%obj"), "w") as f:
        f.write("x")

ui = subprocess.Popen([studio, "ui", "--port", "0"], env=dict(os.environ, STUDIOML_HOME=home), stdout=subprocess.PIPE)
try:
    base = ui.stdout.readline().decode().split("serving ")[1].split()[0]

    def get(path):
        start = time.perf_counter()
        with urllib.request.urlopen(base + path.lstrip("/")) as response:
            body = json.load(response)
        return body, (time.perf_counter() - start) * 1000

    first, cold = get("/api/experiments")
    _, warm = get("/api/experiments?sort=run_time&status=running&q=0.5")
    time.sleep(0.6)  # past the catalog's refresh interval, so the poll re-lists
    _, poll = get(f"/api/experiments?since={first['generation']}")
    print(f"experiments: {first['total']}")
    print(f"list, cold (reads every record): {cold:.0f} ms")
    print(f"list, warm (filter + sort):      {warm:.0f} ms")
    print(f"since poll, nothing changed:     {poll:.0f} ms")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        options = Options()
        options.binary_location = shutil.which("chromium")
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        try:
            for label in ["first render, warm server:     ", "second render:                  "]:
                driver.get(base)
                deadline = time.time() + 30
                while time.time() < deadline and not driver.execute_script("return document.querySelectorAll('#rows tr').length"):
                    time.sleep(0.005)
                # From navigation start to the rows being in the DOM, as the page saw it.
                ms = driver.execute_script("return performance.now()")
                print(f"{label}{ms:.0f} ms (navigation start to rows shown, includes polling granularity)")
        finally:
            driver.quit()
    except Exception as error:
        print(f"browser render: not measured ({error.__class__.__name__}: {error})")
    with open(f"/proc/{ui.pid}/status") as f:
        rss = next(line for line in f if line.startswith("VmRSS")).split()[1]
    print(f"server RSS: {int(rss) / 1024:.1f} MiB")
finally:
    ui.terminate()
    ui.wait()
    shutil.rmtree(home)
