"""Drives `studio ui` in headless Chromium: live list, live log, charts, stop, delete, inert record text.

Run by UIBrowserTests.swift with STUDIO (the binary), STUDIOML_HOME and UI_WORKSPACE set. The store is the
one $STUDIOML_HOME/config.yaml names; UI_STORE says how this script reaches it from outside studio: `local`
(default: the files under $STUDIOML_HOME/store), `s3` (moto at UI_S3_ENDPOINT, through boto3) or `gcs` (the
emulator at STORAGE_EMULATOR_HOST); UI_DATABASE_BUCKET and UI_STORAGE_BUCKET name the buckets. With UI_HOME
set, `studio ui` runs with that STUDIOML_HOME, apart from the worker's, as on another machine: the log and
the charts then come through the store only. Exit 77 when selenium, chromium or chromedriver is missing
(the Swift test skips locally and fails under CI).
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    print("selenium is not installed (pip install selenium)")
    sys.exit(77)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if not CHROMIUM or not DRIVER:
    print("chromium or chromedriver is missing (apt-get install chromium chromium-driver)")
    sys.exit(77)

STUDIO = os.environ["STUDIO"]
HOME = os.environ["STUDIOML_HOME"]
WORKSPACE = os.environ["UI_WORKSPACE"]
SCRATCH = os.environ["E2E_SCRATCH"]
UI_HOME = os.environ.get("UI_HOME")
LIVE_LOG_DEADLINE = 5.0  # seconds from the experiment writing a line to the page showing it (issue 10)
# Seconds for a chart to show new points (the worker uploads every 2 s, the page asks every 3 s); the
# checkpoint tars come only every minute, so over S3 and GCS this holds only through the live pieces.
LIVE_CHART_DEADLINE = 10.0
processes = []


class Store:
    """The config's database and storage, read and written from outside studio."""

    def __init__(self):
        self.kind = os.environ.get("UI_STORE", "local")
        self.database = os.environ.get("UI_DATABASE_BUCKET")
        self.storage = os.environ.get("UI_STORAGE_BUCKET", self.database)
        if self.kind == "s3":
            import boto3
            self.s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=os.environ["UI_S3_ENDPOINT"],
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
        elif self.kind == "gcs":
            self.gcs = os.environ["STORAGE_EMULATOR_HOST"].rstrip("/")

    def _gcs(self, method, path, body=None, content_type="application/json"):
        request = urllib.request.Request(self.gcs + path, data=body, method=method, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            if error.code in (404, 409):
                return None
            raise

    def put(self, key, data):
        if self.kind == "local":
            path = os.path.join(HOME, "store", key + "%obj")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        elif self.kind == "s3":
            try:
                self.s3.create_bucket(Bucket=self.database)
            except self.s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            self.s3.put_object(Bucket=self.database, Key=key, Body=data)
        else:
            self._gcs("POST", "/storage/v1/b?project=studio-emulator", json.dumps({"name": self.database}).encode())
            name = urllib.parse.quote(key, safe="")
            self._gcs("POST", f"/upload/storage/v1/b/{self.database}/o?uploadType=media&name={name}", data,
                      content_type="application/octet-stream")

    def get(self, key):
        """The database object's bytes, or None."""
        if self.kind == "local":
            path = os.path.join(HOME, "store", key + "%obj")
            return open(path, "rb").read() if os.path.exists(path) else None
        if self.kind == "s3":
            try:
                return self.s3.get_object(Bucket=self.database, Key=key)["Body"].read()
            except self.s3.exceptions.NoSuchKey:
                return None
        return self._gcs("GET", f"/storage/v1/b/{self.database}/o/{urllib.parse.quote(key, safe='')}?alt=media")

    def stored_keys(self, prefix):
        """The storage bucket's keys under `prefix` (remote stores only)."""
        if self.kind == "s3":
            answer = self.s3.list_objects_v2(Bucket=self.storage, Prefix=prefix)
            return [item["Key"] for item in answer.get("Contents", [])]
        answer = self._gcs("GET", f"/storage/v1/b/{self.storage}/o?prefix={urllib.parse.quote(prefix, safe='')}")
        return [item["name"] for item in json.loads(answer or b"{}").get("items", [])]


STORE = Store()


def start(*args, output=None, environment=None):
    """Starts `studio args…`; its output goes to the file `output` (a pipe nobody drains would block it)."""
    sink = open(os.path.join(SCRATCH, output), "wb") if output else subprocess.PIPE
    process = subprocess.Popen([STUDIO, *args], cwd=WORKSPACE, stdout=sink, stderr=subprocess.STDOUT,
                               env=dict(os.environ, **(environment or {})))
    processes.append(process)
    return process


def submit(script, *args):
    result = subprocess.run([STUDIO, "run", "--queue", "local", script, *args], cwd=WORKSPACE,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def record(key):
    data = STORE.get("experiments/" + key)
    return json.loads(data) if data is not None else None


def until(what, condition, seconds=60):
    """Polls `condition` until it returns something true; fails naming `what` after `seconds`."""
    began = time.time()
    deadline = began + seconds
    last = None
    while time.time() < deadline:
        try:
            value = condition()
            if value:
                if time.time() - began > 3:
                    print(f"waited {time.time() - began:.1f} s for {what}")
                return value
        except Exception as error:  # the page may be mid-update: try again
            last = error
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")


def row_status(driver, key):
    rows = driver.find_elements(By.CSS_SELECTOR, f'#rows tr[data-key="{key}"] .badge')
    return rows[0].text if rows else None


def chart_points(driver, tag):
    """How many points the chart of `tag` draws (0 when there is no such chart yet)."""
    return driver.execute_script(
        "const f = Array.from(document.querySelectorAll('#charts figure')).find((n) => n.dataset.tag === arguments[0]);"
        "const line = f && f.querySelector('polyline');"
        "return line ? line.getAttribute('points').split(' ').length : f && f.querySelector('circle') ? 1 : 0;", tag)


def main():
    with open(os.path.join(WORKSPACE, "slow.py"), "w") as f:
        f.write(
            "import json, os, sys, time\n"
            "from tensorboard.summary.writer.event_file_writer import EventFileWriter\n"
            "from tensorboard.compat.proto import event_pb2, summary_pb2\n"
            "tb = json.load(open(os.environ['STUDIOML_ARTIFACT_MAPPING']))['tb']\n"
            "tb = tb if isinstance(tb, str) else tb.get('local')\n"
            "writer = EventFileWriter(tb)\n"
            "go = os.path.join(os.environ['E2E_SCRATCH'], 'go')\n"
            "mark = os.path.join(os.environ['E2E_SCRATCH'], 'mark')\n"
            "marked = False\n"
            "print('progress 10%\\rprogress 50%\\rprogress 100%', flush=True)\n"
            "for i in range(1000):\n"
            "    print(f'step {i}', flush=True)\n"
            "    if not marked and os.path.exists(mark):\n"
            "        marked = True\n"
            "        print('the marked line', flush=True)\n"
            "    values = [summary_pb2.Summary.Value(tag=t, simple_value=1.0 / (i + 1)) for t in ('loss', '<img src=x onerror=alert(2)>')]\n"
            "    writer.add_event(event_pb2.Event(wall_time=time.time(), step=i, summary=summary_pb2.Summary(value=values)))\n"
            "    writer.flush()\n"
            "    if os.path.exists(go): break\n"
            "    time.sleep(0.2)\n"
            "print('done', flush=True)\n")
    with open(os.path.join(WORKSPACE, "forever.py"), "w") as f:
        f.write("import signal, sys, time\n"
                "def last_words(*_):\n"
                "    print('stopping cleanly', flush=True)\n"
                "    sys.exit(0)\n"
                "signal.signal(signal.SIGTERM, last_words)\n"
                "while True:\n"
                "    print('tick', flush=True)\n"
                "    time.sleep(0.2)\n")

    # A record whose script name is markup: the page must show it as text.
    hostile = "<img src=x onerror=alert(1)>"
    STORE.put("experiments/hostile", json.dumps({"key": "hostile", "filename": hostile, "args": ["<b>bold</b>"],
                                                 "status": "finished", "time_added": 1.0, "artifacts": {}}).encode())

    if UI_HOME:
        ui = start("ui", "--port", "0", "--config", os.path.join(HOME, "config.yaml"), environment={"STUDIOML_HOME": UI_HOME})
    else:
        ui = start("ui", "--port", "0")
    line = ui.stdout.readline().decode()
    assert "serving http://" in line, line
    base = line.split("serving ")[1].split()[0]

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(base)
        # A marker that a reload would erase: every later check proves the page updated itself.
        driver.execute_script("window.__noReload = true; window.confirm = () => true;")
        until("the hostile row", lambda: row_status(driver, "hostile") == "finished")
        cell = driver.find_element(By.CSS_SELECTOR, '#rows tr[data-key="hostile"] td.script')
        assert cell.text == hostile + " <b>bold</b>", cell.text
        assert not driver.find_elements(By.CSS_SELECTOR, "#rows img, #rows b"), "record text became markup"

        slow = submit("slow.py")
        until("waiting", lambda: row_status(driver, slow) == "waiting")
        worker = start("remote-worker", "--queue", "local", "--lease", "3", "--grace", "2", "--timeout", "-1", "--pip", "never", output="worker.log")
        until("running", lambda: row_status(driver, slow) == "running")
        assert driver.execute_script("return window.__noReload === true"), "the page reloaded"

        driver.find_element(By.CSS_SELECTOR, f'#rows tr[data-key="{slow}"] a').click()
        until("the live log", lambda: "step 3" in driver.find_element(By.ID, "log").text)
        log_text = driver.find_element(By.ID, "log").text
        assert "progress 100%" in log_text and "progress 10%" not in log_text, log_text
        # A line the experiment prints when the test says so must be on the page within 5 s.
        open(os.path.join(SCRATCH, "mark"), "w").close()
        marked = time.time()
        until("the marked line on the page", lambda: "the marked line" in driver.find_element(By.ID, "log").text,
              seconds=LIVE_LOG_DEADLINE)
        print(f"live log: the marked line was on the page {time.time() - marked:.2f} s after the experiment was told to print it")
        if UI_HOME:
            assert STORE.stored_keys(f"experiments/{slow}/output.live/"), "no live log segments in the store"
        # The chart of the experiment's TensorBoard scalar grows while it runs (written by tensorboard's writer).
        first = until("the loss chart", lambda: chart_points(driver, "loss"), seconds=LIVE_CHART_DEADLINE)
        grown = time.time()
        until("the loss chart to grow", lambda: chart_points(driver, "loss") > first + 2, seconds=LIVE_CHART_DEADLINE)
        print(f"live chart: 3 more points on the page within {time.time() - grown:.2f} s")
        if os.environ.get("UI_EXPECT_METRICS"):
            until("the CPU chart", lambda: chart_points(driver, "_metrics/cpu"), seconds=LIVE_CHART_DEADLINE)
            assert STORE.stored_keys(f"experiments/{slow}/tb.live/"), "no live chart pieces in the store"
        hostile_tag = "<img src=x onerror=alert(2)>"
        until("the hostile tag's chart", lambda: chart_points(driver, hostile_tag))
        assert not driver.find_elements(By.CSS_SELECTOR, "#charts img"), "a tag name became markup"
        open(os.path.join(SCRATCH, "go"), "w").close()
        until("done in the log", lambda: "done" in driver.find_element(By.ID, "log").text)
        until("finished on the page", lambda: driver.find_element(By.ID, "d-status").text == "finished")
        driver.execute_script("window.location.hash = '#/'")
        until("finished in the list", lambda: row_status(driver, slow) == "finished")

        forever = submit("forever.py")
        until("forever running", lambda: row_status(driver, forever) == "running")
        driver.find_element(By.CSS_SELECTOR, f'#rows tr[data-key="{forever}"] a').click()
        until("the stop button", lambda: driver.find_element(By.ID, "d-stop").is_displayed())
        until("ticks in the log", lambda: "tick" in driver.find_element(By.ID, "log").text)
        driver.find_element(By.ID, "d-stop").click()
        until("stopped on the page", lambda: driver.find_element(By.ID, "d-status").text == "stopped")
        # The worker notices, ends the process and records the outcome with time_finished.
        until("the worker to stop it", lambda: (record(forever) or {}).get("time_finished"), seconds=60)
        assert record(forever)["status"] == "stopped", record(forever)
        # What it printed on its way out (on the worker's SIGTERM, after the click) still reaches the page.
        until("the experiment's last words on the page", lambda: "stopping cleanly" in driver.find_element(By.ID, "log").text,
              seconds=LIVE_LOG_DEADLINE)

        driver.execute_script("window.location.hash = '#/'")
        until("the list", lambda: row_status(driver, slow) == "finished")
        driver.find_element(By.CSS_SELECTOR, f'#rows tr[data-key="{slow}"] input[type=checkbox]').click()
        driver.find_element(By.ID, "bulk-delete").click()
        until("the deleted row to go", lambda: row_status(driver, slow) is None)
        assert record(slow) is None, "the record is still stored"
        if UI_HOME:
            assert STORE.stored_keys(f"experiments/{slow}/") == [], STORE.stored_keys(f"experiments/{slow}/")
        assert row_status(driver, forever) == "stopped"
        assert driver.execute_script("return window.__noReload === true"), "the page reloaded"
        worker.terminate()
        print("ui browser test: all checks passed")
    except BaseException:
        # What the page and the worker saw, for whoever reads the failure.
        print("page text:", driver.find_element(By.TAG_NAME, "body").text[-3000:])
        worker_log = os.path.join(SCRATCH, "worker.log")
        if os.path.exists(worker_log):
            print("worker log:", open(worker_log, errors="replace").read()[-3000:])
        raise
    finally:
        driver.quit()
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()


if __name__ == "__main__":
    main()
