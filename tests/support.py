"""Helpers the test files share, in one place (test files do not import each other): the page in Chromium
(open, draw, wait for its own signals), the JavaScript rasterizer through Node, and waitress servers and
sockets for the hostile-client tests. Not a test file; pytest collects nothing here.
"""

import contextlib
import json
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
from conftest import ROOT, shared_drawings

import serve

# ---------------------------------------------------------------------------------------------------------
# The page in Chromium

def first_drawing(word):
    return next(drawing for w, drawing in shared_drawings() if w == word)


def open_page(context, base_url, query=""):
    """Open the page, recording console errors and every request's origin; wait for the model."""
    page = context.new_page()
    page.errors, page.requests = [], []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(base_url + query)
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
    return page


def canvas_point(box, x, y):
    # Drawing units 0..255 mapped into the middle 80% of the canvas, as a person leaves a margin.
    return box["x"] + box["width"] * (0.1 + 0.8 * x / 255), box["y"] + box["height"] * (0.1 + 0.8 * y / 255)


def draw(page, drawing, steps=1):
    page.locator("#canvas").scroll_into_view_if_needed()  # as a person scrolls back to draw
    box = page.locator("#canvas").bounding_box()
    for xs, ys in drawing:
        page.mouse.move(*canvas_point(box, xs[0], ys[0]))
        page.mouse.down()
        for x, y in zip(xs[1:], ys[1:]):
            page.mouse.move(*canvas_point(box, x, y), steps=steps)
        page.mouse.up()


def wait_until(page, expression, timeout=30):
    """Poll a page expression until it is truthy. (Playwright's wait_for_function polls with eval inside
    the page, which our Content-Security-Policy rightly forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(20)


def settled_guesses(page):
    """Wait for the page's own signal that no prediction is pending or running, then read the bars."""
    page.evaluate("window.sketch.idle()")
    items = page.locator("#guesses li")
    return [(items.nth(i).get_attribute("data-label"), float(items.nth(i).get_attribute("data-probability")))
            for i in range(items.count())]


def server_top1(base_url, strokes):
    request = urllib.request.Request(base_url + "predict", data=json.dumps({"strokes": strokes}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["predictions"][0]["label"]


BODY_PARTS = ["eye", "arm", "face", "finger", "hand", "leg", "mouth", "nose", "ear"]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


# ---------------------------------------------------------------------------------------------------------
# The JavaScript rasterizer

def javascript_rasterize(drawings):
    """raster.js's rasterize() on each drawing, through raster_cli.mjs: 784 values, or the error message."""
    lines = "".join(json.dumps({"drawing": drawing}) + "\n" for drawing in drawings)
    result = subprocess.run(["node", str(ROOT / "tests" / "js" / "raster_cli.mjs")], input=lines,
                            capture_output=True, text=True, check=True, timeout=120)
    return [json.loads(line) for line in result.stdout.splitlines()]


# ---------------------------------------------------------------------------------------------------------
# Waitress servers and sockets (test_server_hostile.py, test_nginx.py)

DEADLINE = 60  # seconds any wait may take on a loaded machine before the test fails
BIG_FILE = "/vendor/tf.es2017.min.js"  # the largest file the page loads (1.1 MB)


class StubPredictor:
    labels = ["cat", "dog"]
    model_hash = "stub"

    def predict(self, bitmap):
        return [{"label": "cat", "probability": 1.0}, {"label": "dog", "probability": 0.0}]


def stub_app():
    return serve.create_app({"PREDICTOR": StubPredictor(), "EXTRA_MODEL_DIRS": []})


@contextlib.contextmanager
def running(app=None, threads=serve.DEFAULT_THREADS):
    """serve.py's app (or `app`) behind make_server in a thread of this process; the server while the block
    runs."""
    server = serve.make_server(app or stub_app(), "127.0.0.1", 0, threads)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    try:
        yield server
    finally:
        server.task_dispatcher.shutdown(timeout=5)
        # Closing every socket from inside the loop ends it; from this thread it would race the loop.
        server.trigger.pull_trigger(lambda: [each.close() for each in list(server._map.values())])
        loop.join(timeout=DEADLINE)


def connections(server):
    """The server's open connections (a copy: its loop changes the dict while we look)."""
    for _ in range(1000):
        try:
            return list(server.active_channels.values())
        except RuntimeError:
            continue
    raise RuntimeError("the server's connections kept changing")


def wait_for(condition, what):
    """Poll condition() until it holds, failing the test after DEADLINE seconds (what: for the message)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"waited {DEADLINE} s for {what}")


def open_sockets(port, count, first_bytes=b"", receive_buffer=None):
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.settimeout(DEADLINE)
        sock.connect(("127.0.0.1", port))
        if first_bytes:
            sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


def close_all(sockets):
    for sock in sockets:
        sock.close()
