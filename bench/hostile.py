"""Worst cases at the limits: what the most hostile input within them costs, and whether the server stays up.

    python -m bench.hostile          # part of `make bench`; prints JSON, writes bench/results/hostile.json

1. Both rasterizers on the worst shapes of bench/shapes.py within the limits (MAX_POINTS points,
   MAX_STROKES strokes, MAX_CROSSINGS sample-line crossings), among them the costliest drawing its search
   found ("searched"), and on the shapes it refuses for too much ink, which cost their simplification.
2. The PNG path on the costliest pictures the size limit allows.
3. The real server (waitress, 127.0.0.1 only): each worst drawing and PNG as one POST /predict; then
   /healthz, polled while 8 clients post worst-case drawings in a loop and 150 connections sit half-sent.
4. The server's families (issue 24), each while /healthz, a page file and /predict are polled: PNGs that
   lie about their size (a decoy IHDR before the real one; RGBA against greyscale), slow readers (32
   connections pipelining 20 GETs of the 1.1 MB TF.js file, never reading), trickling senders (1,000
   connections sending a byte every 10 s), silent sockets (1,000), and JSON floods (30 clients posting
   2 MB bodies whose ignored third row holds a million numbers).

5. Model folders from strangers (issue 33): serve.py started with every folder of bench/folders.py beside the
   shipped model: which it left out (one line each), its peak memory and time to answer, whether a Lambda
   folder's command ran, and whether anything but a model's own files is served from a model folder.

    python -m bench.hostile --server-families slow_readers json_flood   # only these; prints JSON, writes nothing
    python -m bench.hostile --server-families --port 5000 --pid PID     # against a server already running
6. Ctrl-C while a command starts (issue 33, finding 12: the first was sometimes lost during TensorFlow's
   import): serve.py, export.py and training.webmodel, each interrupted at spread moments of its start-up;
   how many ended within 10 s of the one Ctrl-C.

    python -m bench.hostile --model-folders                             # only family 5; prints JSON
    python -m bench.hostile --interrupts                                # only family 6; prints JSON

Every loop is bounded in count and time, and every connection goes to the loopback address. The machine
these run on may be shared, so latencies are noisy; outages (failures, longest_outage_s) are the signal.
"""

import base64
import http.client
import io
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from pathlib import Path

from bench.common import ROOT, LiveServer, machine, percentiles, wait_until_healthy, write_result
from bench.shapes import refused_drawings, worst_drawings
from training import raster
from training.picture import png_to_bitmap

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


def searched_drawing(port, repeats=5):
    """The searched worst drawing (bench/results/searched_worst.json, from python -m bench.shapes --search)
    as POST /predict, `repeats` times: the median and the largest, in ms, and the statuses. One request of a
    shape says little on a shared machine; this is the family's figure for "answered within half a second"."""
    from bench.shapes import searched

    drawing = searched()
    if drawing is None:
        return None
    body = json.dumps({"strokes": drawing}).encode()
    answers = [timed_request(port, body) for _ in range(repeats)]
    times = [answer["ms"] for answer in answers]
    return {"median_ms": round(statistics.median(times), 1), "max_ms": max(times),
            "statuses": sorted({answer["status"] for answer in answers}), "requests": repeats,
            "points": sum(len(stroke[0]) for stroke in drawing), "strokes": len(drawing)}


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


# The server's families (issue 24): PNGs that lie about their size, and clients that hold threads or
# connections. Each takes the port of a running server (so the same commands measure any build of it) and
# returns a dict; `python -m bench.hostile --server-families ...` runs only these.

SERVER_FAMILIES = ("lying_pngs", "slow_readers", "trickling_senders", "silent_sockets", "json_flood",
                   "long_field_names")
CAT = [[[0, 50, 100, 150], [0, 80, 20, 90]], [[20, 60], [100, 110]]]
PROBE_TIMEOUT = 5.0  # seconds; a probe not answered within this counts as a failure


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decoy_png(width, height, colour_type=6, decode_bytes=None):
    """A PNG whose first IHDR says 16x16 and whose second, the one a decoder uses, says width x height
    (8-bit, colour type 6 = RGBA), then zlib data for up to `decode_bytes` of its rows (all of them by
    default): the zeros compress about 1,000 to 1, so 13,377 x 13,377 RGBA fits a body of about 1 MB."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = b"\0" * (1 + width * channels)
    rows = height if decode_bytes is None else max(1, min(height, decode_bytes // len(row)))
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    decoy = struct.pack(">IIBBBBB", 16, 16, 8, colour_type, 0, 0, 0)
    real = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", decoy) + png_chunk(b"IHDR", real)
            + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b""))


def image_body(png):
    return json.dumps({"image": "data:image/png;base64," + base64.b64encode(png).decode()}).encode()


def memory_kib(pid, field):
    """A field of /proc/PID/status (VmRSS, VmHWM) in KiB; None where /proc cannot say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """The process's CPU time so far (user and system, all threads), in seconds; None where /proc cannot
    say. On a shared machine this, not the wall time, is what a request cost the server."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def reset_peak_memory(pid):
    """Start the process's peak-memory (VmHWM) count afresh, where Linux allows it (clear_refs, 5)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def probe(port, path="/healthz", body=None, timeout=PROBE_TIMEOUT):
    """One request on a fresh connection: (status or error name, milliseconds)."""
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            if body is None:
                connection.request("GET", path)
            else:
                connection.request("POST", path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status = response.status
        finally:
            connection.close()
    except OSError as error:
        status = type(error).__name__
    return status, (time.perf_counter() - started) * 1000


def poll(port, seconds, probes, interval=0.25, max_polls=400):
    """Each of `probes` (name: (path, body)) in turn every `interval` s for `seconds` (at most max_polls
    rounds): per probe, latency percentiles, failures (not 200 within PROBE_TIMEOUT) and the longest
    stretch of consecutive failures in seconds."""
    results = {name: {"ms": [], "failures": 0, "outage_started": None, "longest_outage_s": 0.0}
               for name in probes}
    deadline = time.monotonic() + seconds
    for _ in range(max_polls):
        if time.monotonic() >= deadline:
            break
        for name, (path, body) in probes.items():
            status, ms = probe(port, path, body)
            result = results[name]
            result["ms"].append(ms)
            now = time.monotonic()
            if status == 200:
                result["outage_started"] = None
            else:
                result["failures"] += 1
                if result["outage_started"] is None:
                    result["outage_started"] = now - ms / 1000
                result["longest_outage_s"] = max(result["longest_outage_s"], now - result["outage_started"])
        time.sleep(interval)
    return {name: {"ms": percentiles(result["ms"], (50, 95, 100)) if result["ms"] else None,
                   "polls": len(result["ms"]), "failures": result["failures"],
                   "longest_outage_s": round(result["longest_outage_s"], 1)}
            for name, result in results.items()}


HEALTH = {"healthz": ("/healthz", None)}
PAGE_AND_HEALTH = HEALTH | {"page file": ("/js/main.js", None), "predict": ("/predict", json.dumps({"strokes": CAT}).encode())}


def lying_pngs(port, pid, concurrent=4):
    """PNGs whose cost is not what their first header says, one POST /predict each, with the server's peak
    memory growth; then `concurrent` decoys at once while a normal /predict is timed."""
    import numpy as np
    from PIL import Image, ImageDraw

    def stripes(mode):
        image = Image.new("L", (4096, 4096), 255)
        pen = ImageDraw.Draw(image)
        for x in range(0, 4096, 8):
            pen.line([(x, 0), (x, 4095)], fill=0, width=1)
        buffer = io.BytesIO()
        image.convert(mode).save(buffer, format="PNG")
        return buffer.getvalue()

    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 4), dtype=np.uint8)
    noise_png = io.BytesIO()
    Image.fromarray(noise).save(noise_png, format="PNG")  # (400, 400, 4) uint8: RGBA
    pngs = {"decoy IHDR 16x16, real 13377x13377 RGBA": decoy_png(13377, 13377),
            "decoy IHDR 16x16, real 89478485x2 RGBA": decoy_png(89478485, 2, decode_bytes=1 << 20),
            "stripes 4096x4096 L": stripes("L"), "stripes 4096x4096 RGBA": stripes("RGBA"),
            "noise 400x400 RGBA": noise_png.getvalue()}
    cases = {}
    for name, png in pngs.items():
        body = image_body(png)
        before = memory_kib(pid, "VmRSS")
        peak_known = reset_peak_memory(pid)
        cpu_before = cpu_seconds(pid)
        status, ms = probe(port, "/predict", body, timeout=120)
        cpu_after = cpu_seconds(pid)
        peak = memory_kib(pid, "VmHWM") if peak_known else None
        cases[name] = {"status": status, "ms": round(ms, 1), "bytes": len(body),
                       "server_cpu_ms": round((cpu_after - cpu_before) * 1000) if cpu_before is not None else None,
                       "peak_memory_growth_mb": round((peak - before) / 1024, 1) if peak and before else None}
    decoy = image_body(pngs["decoy IHDR 16x16, real 13377x13377 RGBA"])
    statuses = [None] * concurrent
    before = memory_kib(pid, "VmRSS")
    peak_known = reset_peak_memory(pid)

    def attacker(index):
        statuses[index] = probe(port, "/predict", decoy, timeout=120)[0]

    attackers = [threading.Thread(target=attacker, args=(index,)) for index in range(concurrent)]
    for thread in attackers:
        thread.start()
    normal = probe(port, "/predict", PAGE_AND_HEALTH["predict"][1], timeout=60)
    for thread in attackers:
        thread.join(timeout=150)
    peak = memory_kib(pid, "VmHWM") if peak_known else None
    return {"pngs": cases, "concurrent_decoys": concurrent, "decoy_statuses": [str(s) for s in statuses],
            "normal_predict_meanwhile": {"status": normal[0], "ms": round(normal[1], 1)},
            "peak_memory_growth_mb": round((peak - before) / 1024, 1) if peak and before else None}


def raise_file_limit(wanted):
    """Let this process open `wanted` sockets where the hard limit allows."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


def slow_readers(port, connections=32, pipelined=20, path="/vendor/tf.es2017.min.js", seconds=20):
    """`connections` clients each pipeline `pipelined` GETs of a big file on one connection and never read
    (a 4 KB receive buffer); meanwhile /healthz, a page file and /predict are polled."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * pipelined
    sockets = []
    try:
        for _ in range(connections):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(5)
            sock.connect(("127.0.0.1", port))
            sock.sendall(request)
            sockets.append(sock)
        return {"connections": connections, "pipelined": pipelined, "path": path, "seconds": seconds,
                "probes": poll(port, seconds, PAGE_AND_HEALTH)}
    finally:
        for sock in sockets:
            sock.close()


def trickling_senders(port, connections=1000, interval=10.0, seconds=45):
    """`connections` clients that each send one byte every `interval` s: half of them header bytes, half body
    bytes after whole headers; any the server closes reconnect at the next tick. Meanwhile /healthz, a page
    file and /predict are polled."""
    raise_file_limit(connections + 256)
    stop = threading.Event()
    counts = {"opened": 0, "closed_by_server": 0, "refused": 0}

    def opening(index):
        if index % 2:
            return b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        return (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n{\"strokes\": [")

    def connect(index):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            sock.sendall(opening(index))
            sock.setblocking(False)
            counts["opened"] += 1
            return sock
        except OSError:
            counts["refused"] += 1
            return None

    sockets = [None] * connections

    def trickle():
        for index in range(connections):
            if stop.is_set():
                return
            sockets[index] = connect(index)
        while not stop.wait(interval):
            for index in range(connections):
                if stop.is_set():
                    return
                sock = sockets[index]
                if sock is not None:
                    try:
                        sock.send(b"a" if index % 2 else b" ")
                        continue
                    except OSError:
                        counts["closed_by_server"] += 1
                        sock.close()
                sockets[index] = connect(index)

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        probes = poll(port, seconds, PAGE_AND_HEALTH)
    finally:
        stop.set()
        trickler.join(timeout=120)
        for sock in sockets:
            if sock is not None:
                sock.close()
    return {"connections": connections, "interval_s": interval, "seconds": seconds, "probes": probes} | counts


def silent_sockets(port, connections=1000, seconds=45):
    """`connections` sockets that connect and send nothing; meanwhile /healthz and a page file are polled."""
    raise_file_limit(connections + 256)
    sockets = []
    try:
        for _ in range(connections):
            try:
                sockets.append(socket.create_connection(("127.0.0.1", port), timeout=1))
            except OSError:
                break
        return {"connections": len(sockets), "seconds": seconds, "probes": poll(port, seconds, PAGE_AND_HEALTH)}
    finally:
        for sock in sockets:
            sock.close()


def json_flood(port, clients=30, seconds=20):
    """`clients` post, in a loop, bodies just under 2 MB whose ignored third stroke row holds about a million
    numbers; meanwhile /healthz and a page file are polled."""
    head, tail = b'{"strokes": [[[0, 50, 100], [0, 80, 20], [', b"]]]}"
    count = (2 * 1024 * 1024 - len(head) - len(tail) - 16) // 2
    body = head + b",".join([b"0"] * count) + tail
    stop = threading.Event()
    statuses = {}
    lock = threading.Lock()

    def attacker():
        for _ in range(10_000):
            if stop.is_set():
                return
            status = str(probe(port, "/predict", body, timeout=30)[0])
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    attackers = [threading.Thread(target=attacker) for _ in range(clients)]
    for thread in attackers:
        thread.start()
    try:
        probes = poll(port, seconds, HEALTH | {"page file": PAGE_AND_HEALTH["page file"]})
    finally:
        stop.set()
        for thread in attackers:
            thread.join(timeout=60)
    return {"clients": clients, "body_bytes": len(body), "numbers_in_ignored_row": count, "seconds": seconds,
            "probes": probes, "attack_statuses": statuses}


def long_field_names(port, clients=4, requests=20):
    """Issue 33, finding 13: bodies whose one unknown field is named by 1.5 MB of text (its whole name was
    echoed back); the largest answer any of them got, which should not grow with the request."""
    body = json.dumps({"x" * 1_500_000: 1, "strokes": [[[0, 1], [0, 1]]]}).encode()
    sizes, statuses, lock = [], {}, threading.Lock()

    def attacker():
        for _ in range(requests):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read()
                with lock:
                    sizes.append(len(answer))
                    statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
            except OSError as error:
                with lock:
                    statuses[type(error).__name__] = statuses.get(type(error).__name__, 0) + 1
            finally:
                connection.close()

    attackers = [threading.Thread(target=attacker) for _ in range(clients)]
    for thread in attackers:
        thread.start()
    for thread in attackers:
        thread.join(timeout=300)
    return {"clients": clients, "body_bytes": len(body), "largest_answer_bytes": max(sizes, default=None),
            "attack_statuses": statuses}


def server_families(port, pid, names=SERVER_FAMILIES, decoys=4):
    """The named families against the server on `port` (process `pid`), one after another."""
    runs = {"lying_pngs": lambda: lying_pngs(port, pid, decoys), "slow_readers": lambda: slow_readers(port),
            "trickling_senders": lambda: trickling_senders(port), "silent_sockets": lambda: silent_sockets(port),
            "json_flood": lambda: json_flood(port), "long_field_names": lambda: long_field_names(port)}
    results = {}
    for name in names:
        cpu_before = cpu_seconds(pid) if pid else None
        results[name] = runs[name]()
        if cpu_before is not None:
            results[name]["server_cpu_s"] = round(cpu_seconds(pid) - cpu_before, 2)
        # Let the server close what the family left behind before the next one starts.
        poll(port, 2, HEALTH)
    return results


def server_families_lines(families):
    """The server families as README lines (for bench/report.py's reliability table): one table row per
    PNG, and per connection family the outage and /healthz's latency."""
    lines = []
    pngs = families.get("lying_pngs")
    if pngs:
        lines += ["| PNG that lies | answer | server CPU | peak memory growth |", "|---|---|---|---|"]
        for name, case in pngs["pngs"].items():
            lines.append(f"| {name} ({case['bytes']:,} bytes) | {case['status']} in {case['ms']:.0f} ms "
                         f"| {case['server_cpu_ms']} ms | {case['peak_memory_growth_mb']} MB |")
        normal = pngs["normal_predict_meanwhile"]
        lines += ["", f"{pngs['concurrent_decoys']} decoys at once: peak memory growth "
                  f"{pngs['peak_memory_growth_mb']} MB; a normal /predict meanwhile answered {normal['status']} "
                  f"in {normal['ms']:.0f} ms.", ""]
    described = {"slow_readers": lambda f: f"{f['connections']} connections pipelining {f['pipelined']} GETs of "
                                           f"{f['path']} and never reading",
                 "trickling_senders": lambda f: f"{f['connections']:,} connections sending a byte every "
                                                f"{f['interval_s']:.0f} s",
                 "silent_sockets": lambda f: f"{f['connections']:,} silent connections",
                 "json_flood": lambda f: f"{f['clients']} clients posting {f['body_bytes']:,}-byte bodies of "
                                         f"{f['numbers_in_ignored_row']:,} numbers"}
    rows = []
    for name, describe in described.items():
        if name in families:
            family = families[name]
            health = family["probes"]["healthz"]
            worst = max(probe["longest_outage_s"] for probe in family["probes"].values())
            failures = sum(probe["failures"] for probe in family["probes"].values())
            polls = sum(probe["polls"] for probe in family["probes"].values())
            rows.append(f"| {describe(family)} ({family['seconds']} s) | {health['ms']['p50']:.0f} / "
                        f"{health['ms']['p95']:.0f} / {health['ms']['p100']:.0f} ms | {failures} of {polls} "
                        f"| {worst:.1f} s |")
    if rows:
        lines += ["| clients holding threads or connections | /healthz p50 / p95 / slowest | probes failed "
                  "| longest outage |", "|---|---|---|---|", *rows, ""]
    return lines


def model_folders():
    """Family 5: serve.py with every hostile folder beside a well-formed one holding a page and a script."""
    from bench.folders import RAN, make_strangers

    with tempfile.TemporaryDirectory() as parent:
        folders, good = make_strangers(parent)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", str(port), "--also",
                                    *map(str, folders), str(good)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        try:
            wait_until_healthy(process, f"http://127.0.0.1:{port}/")
            ready_seconds = time.monotonic() - started
            peak_mib = memory_kib(process.pid, "VmHWM") / 1024
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/models", timeout=10) as answer:
                listed = json.load(answer)["models"]
            probes = {path: probe(port, path)[0] for path in (
                "/models/good/card.html", "/model-good/card.html", "/models/good/model.json",
                "/models/environ/taught.ndjson")}
        finally:
            process.terminate()
            _, errors = process.communicate(timeout=30)
        return {
            "folders": len(folders), "left_out": sum(line.startswith("warning: left out") for line in errors.splitlines()),
            "stderr_lines": len(errors.splitlines()), "served_models": [model["id"] for model in listed],
            "command_ran": any((folder / RAN).exists() for folder in folders), "probes": probes,
            "seconds_to_healthy": round(ready_seconds, 1), "peak_memory_mib": round(peak_mib),
        }


INTERRUPTED_COMMANDS = {
    "serve.py": ["serve.py", "--port", "0"],
    "export.py": ["export.py", "runs/sketchnet", "--out", "{out}"],
    "training.webmodel": ["-m", "training.webmodel", "web/model"],
}


def interrupts(starts=6, spread_s=6.0):
    """Family 6: each command started `starts` times and sent one SIGINT after i * spread_s / starts seconds
    (so the Ctrl-C lands at spread moments of TensorFlow's import and the model's loading); how many of them
    ended within 10 s of it. A command that finished first (nothing left to interrupt) is counted apart."""
    import signal

    results = {}
    for name, command in INTERRUPTED_COMMANDS.items():
        ended, finished_first, slowest = 0, 0, 0.0
        for index in range(starts):
            with tempfile.TemporaryDirectory() as scratch:
                arguments = [part.format(out=Path(scratch) / "out") for part in command]
                process = subprocess.Popen([sys.executable, *arguments], cwd=ROOT, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
                try:
                    process.wait(timeout=index * spread_s / starts)
                    finished_first += 1
                    continue
                except subprocess.TimeoutExpired:
                    pass
                process.send_signal(signal.SIGINT)
                sent = time.monotonic()
                try:
                    process.wait(timeout=10)
                    ended += 1
                    slowest = max(slowest, time.monotonic() - sent)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        results[name] = {"interrupted": starts - finished_first, "ended_within_10_s": ended,
                         "finished_before_the_signal": finished_first, "slowest_end_s": round(slowest, 2)}
    return results


def nothing_answers(port):
    """Whether nothing listens on 127.0.0.1:port (a mistyped --port would otherwise measure nothing, and pass)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return True
    return False


def families_only(argv):
    """`--server-families [NAME ...]`: only those families (all by default), printed, not written; against the
    server given by --port and --pid, or a fresh serve.py."""
    import argparse

    parser = argparse.ArgumentParser(description="the server's hostile-client families only")
    parser.add_argument("--server-families", nargs="*", choices=SERVER_FAMILIES, required=True)
    parser.add_argument("--port", type=int, help="a server already running on 127.0.0.1 (default: start serve.py)")
    parser.add_argument("--pid", type=int, help="that server's process id, for its memory figures")
    parser.add_argument("--decoys", type=int, default=4,
                        help="decoy PNGs posted at once (one took the unfixed server to 3.5 GB and 55 s)")
    args = parser.parse_args(argv)
    names = args.server_families or SERVER_FAMILIES
    if args.port is not None:
        if nothing_answers(args.port):
            print(f"error: nothing answers on 127.0.0.1:{args.port}", file=sys.stderr)
            return 2
        results = server_families(args.port, args.pid, names, args.decoys)
    else:
        with LiveServer() as server:
            results = server_families(server.port, server.process.pid, names, args.decoys)
    print(json.dumps({"server_families": results, "machine": machine()}, indent=2))
    return 0


def main():
    if sys.argv[1:] == ["--model-folders"]:
        print(json.dumps({"model_folders": model_folders(), "machine": machine()}, indent=2))
        return 0
    if sys.argv[1:] == ["--interrupts"]:
        print(json.dumps({"interrupts": interrupts(), "machine": machine()}, indent=2))
        return 0
    if len(sys.argv) > 1:
        return families_only(sys.argv[1:])
    drawings = worst_drawings() | refused_drawings()

    def attempt(drawing):
        try:
            raster.rasterize(drawing)
        except ValueError:
            pass  # refused for too much ink, after simplifying: the time is what the refusal costs

    python = {name: timed(lambda drawing=drawing: attempt(drawing)) for name, drawing in drawings.items()}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(drawings, handle)
        handle.flush()
        javascript = json.loads(subprocess.run(["node", str(ROOT / "bench" / "raster_timing.mjs"), handle.name],
                                               capture_output=True, text=True, check=True, timeout=300).stdout)
    pngs = worst_pngs()

    # The server's own path: the chunks checked, the pixels decoded, the ink found in bands.
    picture = {name: timed(lambda data=data: png_to_bitmap(data, 4096), repeats=3) | {"bytes": len(data)}
               for name, data in pngs.items()}
    bodies = [json.dumps({"strokes": drawing}).encode() for drawing in drawings.values()]
    png_bodies = {name: json.dumps({"image": "data:image/png;base64," + base64.b64encode(data).decode()}).encode()
                  for name, data in pngs.items()}
    with LiveServer() as server:
        requests = {name: timed_request(server.port, body) for name, body in zip(drawings, bodies)}
        requests |= {name: timed_request(server.port, body) for name, body in png_bodies.items()}
        searched = searched_drawing(server.port)
        attack = healthz_under_attack(server.port, bodies)
        families = server_families(server.port, server.process.pid)
    folders = model_folders()
    interrupted = interrupts()
    write_result("hostile", {
        "limits": {"max_points": raster.MAX_POINTS, "max_strokes": raster.MAX_STROKES,
                   "max_crossings": raster.MAX_CROSSINGS, "max_image_side": 4096, "max_body_bytes": 2 * 1024 * 1024},
        "python_rasterize": python, "javascript_rasterize": javascript, "png_to_bitmap": picture,
        "predict_requests": requests, "searched_drawing": searched, "server_under_attack": attack, "server_families": families,
        "model_folders": folders, "interrupts": interrupted,
        "machine": machine(),
    })


if __name__ == "__main__":
    sys.exit(main())
