"""Helpers shared by the benchmarks and the tests: a live server, Chromium's flags, the shared drawings,
percentiles, and writing results.

Not run directly; see bench/run_all.py and tests/conftest.py.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# JavaScript for the browser benchmarks, placed at the top of a function that has `tf` in scope: a bitmap as
# the model's input tensor, and one prediction of a layers model, timed until its data is read back.
MODEL_TIMING_JS = """
    const input = (bitmap) => tf.tensor(Float32Array.from(bitmap, (v) => v / 255), [1, 28, 28, 1]);
    const timedPredict = async (model, bitmap) => {
        const started = performance.now();
        const output = tf.tidy(() => model.predict(input(bitmap)));
        await output.data();
        output.dispose();
        return performance.now() - started;
    };
"""


def percentiles(values, points=(50, 95, 99)):
    values = np.asarray(values, dtype=np.float64)
    return {f"p{point}": round(float(np.percentile(values, point)), 3) for point in points}


def write_result(name, result):
    """Print the result as JSON and save it as bench/results/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2)
    (RESULTS / f"{name}.json").write_text(text + "\n")
    print(text)
    return result


def shared_drawings(per_class=None):
    """(class, drawing) pairs from the shared real stroke files, at most per_class of each class.

    A missing folder is an error, not an empty list: every test that loops over the drawings would pass
    without checking anything.
    """
    folder = SHARED / "data" / "quickdraw" / "strokes"
    paths = sorted(folder.glob("*.ndjson"))
    if not paths:
        raise FileNotFoundError(f"no real stroke drawings in {folder}: the shared data must lie beside the checkout")
    pairs = []
    for path in paths:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        for line in lines[:per_class]:
            record = json.loads(line)
            pairs.append((record["word"], record["drawing"]))
    return pairs


def machine():
    return {"cores": os.cpu_count(), "python": sys.version.split()[0]}


def wait_until_healthy(process, url, seconds=90):
    """Poll url's /healthz until it answers (a server process starting up); kill the process and raise
    RuntimeError, with its exit status, if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not answer /healthz within {seconds} s (exit status {process.poll()})")


class LiveServer:
    """serve.py (waitress) on a free loopback port, for as long as the with-block lasts."""

    def __init__(self, *args):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.args = args

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", str(self.port),
                                         *self.args], cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until_healthy(self.process, self.url)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)
