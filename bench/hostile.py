"""Worst cases at the limits: what the most hostile input within them costs, and whether the server stays up.

    python -m bench.hostile          # part of `make bench`; prints JSON, writes bench/results/hostile.json

1. Both rasterizers on the worst shapes of bench/shapes.py (MAX_POINTS points, MAX_STROKES strokes).
2. The PNG path on the costliest pictures the size limit allows.
3. The real server (waitress, 127.0.0.1 only): each worst drawing and PNG as one POST /predict; then
   /healthz, polled while 8 clients post worst-case drawings in a loop and 150 connections sit half-sent.
Every loop is bounded in count and time, and every connection goes to the loopback address.
"""

import base64
import http.client
import io
import json
import socket
import statistics
import subprocess
import tempfile
import threading
import time

from bench.common import ROOT, LiveServer, machine, percentiles, write_result
from bench.shapes import worst_drawings
from training import raster
from training.picture import image_to_bitmap

HOSTILE_CLIENTS = 8
IDLE_CONNECTIONS = 150
HEALTH_POLLS = 40


def timed(function, repeats=5):
    """Median and largest of `repeats` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def worst_pngs():
    """PNG files: 1-pixel lines on the largest allowed square (the most line to measure and thicken),
    a thin strip, and noise (the most bytes to decode within the body limit)."""
    import numpy as np
    from PIL import Image, ImageDraw

    def png(image):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    def stripes(width, height):
        image = Image.new("L", (width, height), 255)
        pen = ImageDraw.Draw(image)
        for x in range(0, width, 8):
            pen.line([(x, 0), (x, height - 1)], fill=0, width=1)
        return image

    noise = np.random.default_rng(0).integers(0, 256, (1100, 1100), dtype=np.uint8)
    return {"stripes 4096x4096": png(stripes(4096, 4096)), "stripes 1024x1024": png(stripes(1024, 1024)),
            "strip 4096x1": png(stripes(4096, 1)), "noise 1100x1100": png(Image.fromarray(noise))}


def post(port, body, timeout=60):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def timed_request(port, body):
    started = time.perf_counter()
    status = post(port, body)
    return {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1)}


def healthz_under_attack(port, bodies, seconds_limit=60):
    """/healthz latency while HOSTILE_CLIENTS post the worst drawings and IDLE_CONNECTIONS sit half-sent."""
    stop = threading.Event()
    statuses = {}
    lock = threading.Lock()

    def attacker(index):
        while not stop.is_set():
            try:
                status = str(post(port, bodies[index % len(bodies)]))
            except OSError as error:
                status = type(error).__name__
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    idle = []
    for _ in range(IDLE_CONNECTIONS):
        # A request line, headers promising a body, and half of it: the server must wait for the rest.
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"strokes\": [")
        idle.append(sock)
    attackers = [threading.Thread(target=attacker, args=(index,)) for index in range(HOSTILE_CLIENTS)]
    for thread in attackers:
        thread.start()
    time.sleep(1.0)  # let the attack reach its steady state
    latencies, failures = [], 0
    deadline = time.monotonic() + seconds_limit
    for _ in range(HEALTH_POLLS):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            connection.close()
            ok = response.status == 200
        except OSError:
            ok = False
        latencies.append((time.perf_counter() - started) * 1000)
        failures += not ok
        time.sleep(0.1)
    stop.set()
    for thread in attackers:
        thread.join(timeout=30)
    for sock in idle:
        sock.close()
    return {"healthz_ms": percentiles(latencies, (50, 95, 100)), "healthz_polls": len(latencies),
            "healthz_failures": failures, "attack_statuses": statuses, "clients": HOSTILE_CLIENTS,
            "idle_connections": IDLE_CONNECTIONS}


def main():
    drawings = worst_drawings()
    python = {name: timed(lambda drawing=drawing: raster.rasterize(drawing)) for name, drawing in drawings.items()}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(drawings, handle)
        handle.flush()
        javascript = json.loads(subprocess.run(["node", str(ROOT / "bench" / "raster_timing.mjs"), handle.name],
                                               capture_output=True, text=True, check=True, timeout=300).stdout)
    pngs = worst_pngs()

    def decode_and_convert(data):
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image_to_bitmap(image)

    picture = {name: timed(lambda data=data: decode_and_convert(data), repeats=3) | {"bytes": len(data)}
               for name, data in pngs.items()}
    bodies = [json.dumps({"strokes": drawing}).encode() for drawing in drawings.values()]
    png_bodies = {name: json.dumps({"image": "data:image/png;base64," + base64.b64encode(data).decode()}).encode()
                  for name, data in pngs.items()}
    with LiveServer() as server:
        requests = {name: timed_request(server.port, body) for name, body in zip(drawings, bodies)}
        requests |= {name: timed_request(server.port, body) for name, body in png_bodies.items()}
        attack = healthz_under_attack(server.port, bodies)
    write_result("hostile", {
        "limits": {"max_points": raster.MAX_POINTS, "max_strokes": raster.MAX_STROKES,
                   "max_image_side": 4096, "max_body_bytes": 2 * 1024 * 1024},
        "python_rasterize": python, "javascript_rasterize": javascript, "png_to_bitmap": picture,
        "predict_requests": requests, "server_under_attack": attack, "machine": machine(),
    })


if __name__ == "__main__":
    main()
