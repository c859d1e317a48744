"""Load test of POST /predict: the real server (waitress) on 127.0.0.1, 2,000 requests at concurrency 16.

    python -m bench.load_test [--requests 2000] [--concurrency 16]

Each request posts one real drawing from the shared stroke files. Bounded in count and time; loopback only.
Prints JSON (requests per second, latency percentiles in ms, errors) and writes bench/results/load_test.json.
Work it cannot measure is refused with one line and exit status 2, before anything is written: fewer than one
request or client, more clients than the server's 1,000 connections, or a run in which no request succeeded.
"""

import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import LiveServer, machine, percentiles, shared_drawings, write_result
from training.cli import ArgumentParser, count_argument

MAX_CONCURRENCY = 1000  # serve.py's connection limit: more clients would measure its evictions


def run(requests, concurrency, time_limit=300.0):
    bodies = [json.dumps({"strokes": drawing}).encode() for _, drawing in shared_drawings()]
    latencies, errors, statuses = [], [], {}
    lock = threading.Lock()
    local = threading.local()

    with LiveServer() as server:
        deadline = time.monotonic() + time_limit

        def one(index):
            if time.monotonic() > deadline:
                return
            if not hasattr(local, "connection"):
                local.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            body = bodies[index % len(bodies)]
            started = time.perf_counter()
            try:
                local.connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = local.connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                local.connection.close()
                del local.connection
                status = type(error).__name__
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status == 200:
                    latencies.append(elapsed)
                else:
                    errors.append(status)

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(requests)))
        wall = time.perf_counter() - started
    return {
        "requests": requests, "concurrency": concurrency, "completed": len(latencies) + len(errors),
        "errors": len(errors), "statuses": statuses,
        "requests_per_second": round((len(latencies) + len(errors)) / wall, 1),
        "latency_ms": percentiles(latencies) if latencies else None,
        "seconds": round(wall, 2), "machine": machine(),
    }


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=count_argument(1), default=2000)
    parser.add_argument("--concurrency", type=count_argument(1, MAX_CONCURRENCY), default=16)
    args = parser.parse_args(argv)
    result = run(args.requests, args.concurrency)
    if result["latency_ms"] is None:
        # Latencies of nothing but failures would overwrite the committed figures with a measurement of nothing.
        print(f"error: no request succeeded (statuses: {result['statuses']}); nothing written", file=sys.stderr)
        return 2
    write_result("load_test", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
