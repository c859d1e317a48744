"""The page under hostile input (issue 24's Page section), in headless Chromium: what each case costs the
main thread, and how long a start takes with what is stored.

    python -m bench.page_hostile                      # prints JSON, writes bench/results/page_hostile.json
    python -m bench.page_hostile --web /tmp/before/web  # the same against another copy of web/ (prints only)

Cases, each in a fresh context (service workers blocked, so that reloads are comparable):
- replay: a pasted line of MAX_POINTS points (bench.shapes.zigzag, kept nearly whole by the simplification)
  replayed: its length, its frames, the gaps between frames and the longest main-thread task (Long Tasks API);
- long_stroke: one stroke grown to 2,000 points, then 200 moves more, each followed by a frame, from
  synthetic pointer events: the pointermove handler's time and the gap between frames while the stroke
  holds 2,000-2,200 points (what a person drawing feels);
- import_small / import_long: importing 10,000 small taught lines (issue 24's 634 KB file) and 48 lines of
  5,000 points: the time until the page says how it went, the longest task meanwhile, and the start
  (navigation to ready) after a reload with that store, beside the start with an empty one;
- store: localStorage at about 4.5 MB of corrections: reading the count at start, saving one more, and
  the start with that store (why the drawings stay in localStorage rather than IndexedDB: see web/js/store.js);
- damaged_means (issue 33): one class taught, then its stored means damaged by hand in each way of
  DAMAGED_MEANS, and the page reloaded: whether it becomes ready, how long that takes, and whether the class
  is back (rebuilt from its drawings); then names no server or file can hold, taught through the page;
- addresses (issue 33, finding 13): odd game links (a model that is not here, a round length of "0x10", an
  id with "#"): whether the page is ready, which model it opened, and what it said.

Timings are wall-clock on a machine that may be shared: noisy; compare within one run.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    LiveServer,
    machine,
    percentiles,
    shared_drawings,
    wait_until_healthy,
    write_result,
)
from bench.shapes import spiral_drawing, zigzag
from training import raster
from training.raster import MAX_POINTS

LONG_TASKS = """() => {
    window.benchTasks = [];
    new PerformanceObserver((list) => window.benchTasks.push(...list.getEntries().map((entry) => entry.duration)))
        .observe({ type: 'longtask' });
}"""
TASKS = "() => { const tasks = window.benchTasks; window.benchTasks = []; return tasks; }"

REPLAY = """(text) => new Promise((resolve) => {
    const gaps = [];
    let last = performance.now();
    let running = true;
    const frame = (now) => { gaps.push(now - last); last = now; if (running) requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    window.addEventListener('sketch:replayed', (event) => { running = false; resolve({ ...event.detail, gaps }); },
                            { once: true });
    document.querySelector('details.load').open = true;
    document.getElementById('load-text').value = text;
    document.getElementById('replay').click();
})"""

LONG_STROKE = """async ([grow, measured]) => {
    const canvas = document.getElementById('canvas');
    const rect = canvas.getBoundingClientRect();
    const point = (i) => [0.05 + 0.9 * (i * 7 % 997) / 997, i % 2 ? 0.48 : 0.52];
    const event = (type, [x, y]) => new PointerEvent(type, {
        pointerId: 7, pointerType: 'mouse', button: 0, buttons: 1, isPrimary: true, bubbles: true, cancelable: true,
        clientX: rect.left + rect.width * x, clientY: rect.top + rect.height * y,
    });
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    canvas.dispatchEvent(event('pointerdown', point(0)));
    for (let i = 1; i < grow; i++) {
        window.dispatchEvent(event('pointermove', point(i)));
        if (i % 200 === 0) await frame();
    }
    if (window.sketch.idle) await window.sketch.idle();
    const handler = [];
    const gaps = [];
    let last = await frame();
    for (let i = grow; i < grow + measured; i++) {
        const started = performance.now();
        window.dispatchEvent(event('pointermove', point(i)));
        handler.push(performance.now() - started);
        const now = await frame();
        gaps.push(now - last);
        last = now;
    }
    window.dispatchEvent(event('pointerup', point(grow + measured - 1)));
    return { handler, gaps };
}"""

STORE = """async (lines) => {
    const { Corrections } = await import('./js/corrections.js');
    localStorage.setItem('sketch.corrections', JSON.stringify(lines));
    let started = performance.now();
    const count = new Corrections().count; // the first time: every line is read
    const firstCountMs = performance.now() - started;
    started = performance.now();
    new Corrections().count; // each start after it
    const countMs = performance.now() - started;
    const corrections = new Corrections();
    corrections.count;
    started = performance.now();
    let saveError = null;
    try {
        corrections.add([[[0, 40, 80], [10, 0, 10]]], 'cat');
    } catch (error) {
        saveError = error.message;
    }
    return { count, first_count_ms: firstCountMs, count_ms: countMs, save_ms: performance.now() - started, save_error: saveError,
             bytes: localStorage.getItem('sketch.corrections').length };
}"""


class OtherWeb:
    """serve.py's app on another copy of web/ (waitress, loopback), for before/after comparisons."""

    def __init__(self, web):
        self.web = web

    def __enter__(self):
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import serve, waitress; "
                "waitress.serve(serve.create_app({'WEB_DIR': sys.argv[2]}), host='127.0.0.1', port=int(sys.argv[3]), "
                "threads=8, _quiet=True)")
        self.process = subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(self.web), str(port)], cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_healthy(self.process, self.url)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


def summary(values):
    values = list(values)
    if not values:
        return None
    return {**percentiles(values, (50, 95)), "max": round(max(values), 1), "count": len(values)}


def open_page(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="block")
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=600_000)
    page.evaluate(LONG_TASKS)
    return context, page


def ready_after_reload(page):
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=600_000)
    return round(page.evaluate("window.sketch.readyAt"), 1)


def settle(page, timeout_s=600):
    """Wait until the page says no work is pending (its idle(), where it has one), within a deadline."""
    page.set_default_timeout(timeout_s * 1000)
    page.evaluate("window.sketch.idle ? window.sketch.idle() : true")


def replay_case(browser, url):
    context, page = open_page(browser, url)
    line = json.dumps({"word": "zigzag", "drawing": zigzag(MAX_POINTS)})
    detail = page.evaluate(REPLAY, line)
    tasks = page.evaluate(TASKS)
    context.close()
    return {"points": MAX_POINTS, "milliseconds": round(detail["milliseconds"], 1), "frames": detail["frames"],
            "frame_gap_ms": summary(detail["gaps"]), "longest_task_ms": max(tasks, default=0)}


def long_stroke_case(browser, url):
    context, page = open_page(browser, url)
    page.set_default_timeout(900_000)
    result = page.evaluate(LONG_STROKE, [2000, 200])
    tasks = page.evaluate(TASKS)
    context.close()
    return {"points": "2,000 to 2,200", "pointermove_handler_ms": summary(result["handler"]),
            "frame_gap_ms": summary(result["gaps"]), "longest_task_ms": max(tasks, default=0)}


def import_case(browser, url, lines, name):
    context, page = open_page(browser, url)
    empty_start = ready_after_reload(page)
    page.evaluate(LONG_TASKS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.ndjson"
        path.write_text("".join(f"{line}\n" for line in lines))
        size = path.stat().st_size
        page.evaluate("document.getElementById('taught-panel').open = true")
        page.evaluate("document.getElementById('message').textContent = ''")
        started = time.monotonic()
        page.set_default_timeout(900_000)
        page.set_input_files("#taught-import", str(path))
        deadline = time.monotonic() + 900
        while not page.evaluate("/^(Imported|Could not)/.test(document.getElementById('message').textContent)"):
            assert time.monotonic() < deadline, "the import did not end"
            time.sleep(0.05)
        import_s = time.monotonic() - started
    message = page.inner_text("#message")
    settle(page)
    tasks = page.evaluate(TASKS)
    taught = page.evaluate("window.sketch.state.taughtNames.length")
    start = ready_after_reload(page)
    settle(page)
    context.close()
    return {"lines": len(lines), "bytes": size, "import_s": round(import_s, 2), "message": message,
            "longest_task_ms": max(tasks, default=0), "long_tasks": len(tasks), "classes": taught,
            "start_ms": {"empty_store": empty_start, "after_import": start}}


def store_case(browser, url):
    context, page = open_page(browser, url)
    empty_start = ready_after_reload(page)
    drawings = [drawing for _, drawing in shared_drawings(per_class=40)]
    lines, total = [], 0
    while total < 4_500_000:
        line = json.dumps({"word": "cat", "drawing": raster.normalize(drawings[len(lines) % len(drawings)])})
        lines.append(line)
        total += len(line) + 3
    result = page.evaluate(STORE, lines)
    result["start_ms"] = {"empty_store": empty_start, "full_store": ready_after_reload(page)}
    result["count_ms"] = round(result["count_ms"], 1)
    result["first_count_ms"] = round(result["first_count_ms"], 1)
    result["save_ms"] = round(result["save_ms"], 1)
    context.close()
    return result


# Hand damage to the stored means of a taught class (issue 33, finding 5): a field and the value it is given.
DAMAGED_MEANS = {
    "sample 5": ("sample", 5), "sample {}": ("sample", {}), 'sample [["ab"]]': ("sample", [["ab"]]),
    "name 7": ("name", 7), "name null": ("name", None),
}
PROTOTYPE_NAMES = ["constructor", "__proto__", "toString"]
UNHOLDABLE_NAMES = ["\ud800x", "c\u200bat", "\u202etac"]  # a lone surrogate; zero-width; right-to-left


def damaged_means_case(browser, url, timeout_s=120):
    """A class taught, its stored means damaged in each way of DAMAGED_MEANS, the page reloaded each time."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context, page = open_page(browser, url)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)[:200]))
    drawing = spiral_drawing(2, 0, 40)
    page.evaluate("(strokes) => window.sketch.teach('spiral', strokes)", drawing)
    results = {}
    for name, change in DAMAGED_MEANS.items():
        page.evaluate("""([field, value]) => {
          const key = 'sketch.taught-means.shipped';
          const entry = JSON.parse(localStorage.getItem(key));
          entry.classes[0][field] = value;
          localStorage.setItem(key, JSON.stringify(entry));
        }""", list(change))
        started = time.monotonic()
        page.reload()
        try:
            page.wait_for_selector("body[data-ready=true]", state="attached", timeout=timeout_s * 1000)
            settle(page, timeout_s)
            ready = True
        except PlaywrightTimeout:
            ready = False
        results[name] = {"ready": ready, "seconds": round(time.monotonic() - started, 1),
                         "taught_after": page.evaluate("window.sketch.state.taught?.names() ?? null") if ready else None}
    # Names that are also Object's own (found in review): taught from drawings too long to keep as a sample, so
    # that a lookup by name would find the prototype's instead.
    long_drawing = zigzag(600)  # kept nearly whole by the simplification: over the 500 points a sample may have
    for name in PROTOTYPE_NAMES:
        page.evaluate("([name, strokes]) => window.sketch.teach(name, strokes)", [name, long_drawing])
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=timeout_s * 1000)
    settle(page, timeout_s)
    results["prototype_names"] = {"taught_after": page.evaluate("window.sketch.state.taught.names()"),
                                  "without_sample": page.evaluate(
                                      "window.sketch.state.taught.classes().filter((c) => !c.sample).map((c) => c.name)"),
                                  "classes_listed": page.locator("#class-list li").count()}
    outcomes = page.evaluate("""([names, strokes]) => Promise.all(names.map((name) => window.sketch.teach(name, strokes)
      .then(() => 'taught', (error) => `refused: ${error.message}`)))""", [UNHOLDABLE_NAMES, drawing])
    results["unholdable_names"] = dict(zip(UNHOLDABLE_NAMES, outcomes))
    results["page_errors"] = errors
    context.close()
    return results


ODD_ADDRESSES = ["?play&model=nope&seconds=0x10", "?model=a%23b", "?play&model=" + "x" * 300, "?play&seconds=1e1"]


def addresses_case(browser, url):
    """Each address of ODD_ADDRESSES opened in a fresh page: ready or not, the model opened, the message."""
    results = {}
    for address in ODD_ADDRESSES:
        context = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="block")
        page = context.new_page()
        page.goto(url + address)
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=120_000)
        results[address[:40]] = {"model": page.get_attribute("body", "data-model"),
                                 "message": page.inner_text("#message")[:200]}
        context.close()
    return results


def main(argv=None):
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web", type=Path, help="another copy of web/ to measure (prints; writes nothing)")
    parser.add_argument("--cases", nargs="*",
                        default=["replay", "long_stroke", "import_small", "import_long", "store", "damaged_means",
                                 "addresses"])
    args = parser.parse_args(argv)
    compact = {"separators": (",", ":")}
    small = [json.dumps({"word": f"curl {index % 3}",
                         "drawing": raster.normalize(spiral_drawing(2 + index % 7 * 0.1, index % 5, 8))},
                        **compact) for index in range(10_000)]
    long = [json.dumps({"word": f"comb {index % 4}", "drawing": zigzag(MAX_POINTS)}, **compact) for index in range(48)]
    results = {"machine": machine(), "web": str(args.web or ROOT / "web"), "cases": {}}
    server = OtherWeb(args.web) if args.web else LiveServer()
    with server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        cases = {
            "replay": lambda: replay_case(browser, server.url),
            "long_stroke": lambda: long_stroke_case(browser, server.url),
            "import_small": lambda: import_case(browser, server.url, small, "small"),
            "import_long": lambda: import_case(browser, server.url, long, "long"),
            "store": lambda: store_case(browser, server.url),
            "damaged_means": lambda: damaged_means_case(browser, server.url),
            "addresses": lambda: addresses_case(browser, server.url),
        }
        for name in args.cases:
            results["cases"][name] = cases[name]()
            print(name, json.dumps(results["cases"][name]), file=sys.stderr, flush=True)
        browser.close()
    if args.web:
        print(json.dumps(results, indent=2))
    else:
        write_result("page_hostile", results)


if __name__ == "__main__":
    main()
