"""Shared pytest fixtures: tiny generated data, a 1-epoch smoke run, the Flask app, a live server, Chromium.

    .venv/bin/python -m pytest tests/            # or: make test
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
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data" / "quickdraw"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")  # see export.py


def write_tiny_class(path, rows, seed):
    """Random sparse 'drawings' (a bright block per class at a class-specific place) so a CNN can learn."""
    generator = np.random.default_rng(seed)
    images = np.zeros((rows, 28, 28), dtype=np.uint8)
    for image in images:
        top, left = 4 + seed % 3 * 6 + generator.integers(0, 3), 4 + seed % 2 * 10 + generator.integers(0, 3)
        image[top:top + 8, left:left + 8] = 255
    np.save(path, images.reshape(rows, 784))


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "quickdraw"
    (folder / "bitmaps").mkdir(parents=True)
    for seed, name in enumerate(["eye", "hand", "nose"]):
        write_tiny_class(folder / "bitmaps" / f"{name}.npy", 60, seed)
    return folder


@pytest.fixture(scope="session")
def smoke_run(tiny_data_dir, tmp_path_factory):
    """A 1-epoch sketchnet run on the tiny data (a few seconds)."""
    from training import train

    out = tmp_path_factory.mktemp("runs") / "smoke"
    status = train.main(["--data-dir", str(tiny_data_dir), "--model", "sketchnet", "--epochs", "1",
                         "--out", str(out), "--verbose", "0", "--batch-size", "32"])
    assert status == 0
    return out


@pytest.fixture(scope="session")
def app():
    from serve import create_app

    return create_app({"TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(extra_args=()):
    """serve.py in a subprocess on a free port; returns (process, base URL) once /healthz answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", str(port), *extra_args],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve.py exited: {process.stdout.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "healthz", timeout=1) as response:
                if json.load(response)["status"] == "ok":
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("serve.py did not start within 90 s")


@pytest.fixture(scope="session")
def live_server():
    process, url = start_server()
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (installs Debian's chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def shared_drawings(per_class=None):
    """(class, drawing) pairs from the shared real stroke files."""
    pairs = []
    for path in sorted((SHARED_DATA / "strokes").glob("*.ndjson")):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        for line in lines[:per_class]:
            record = json.loads(line)
            pairs.append((record["word"], record["drawing"]))
    return pairs
