"""Speed in headless Chromium, per TF.js backend, for our model and DoodleNet; and the page's cold start.

    python -m bench.browser_speed [--predictions 200]

For each backend (wasm, webgl, cpu), in fresh browser contexts (empty cache):
- cold start: from navigation to the model being ready to predict (after its warm-up prediction);
- time per prediction (p50, p95) of our model and of DoodleNet on the same rasterized real drawings;
- time from a pointer event to the updated guess, while real drawings are drawn with mouse moves.
DoodleNet's files are served to the page from ../shared/anchors/doodlenet by request interception. WebGL in
headless Chromium on this machine is software (SwiftShader), so its numbers say little about real GPUs.
Prints JSON and writes bench/results/browser_speed.json.
"""

from bench.common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MODEL_TIMING_JS,
    SHARED,
    LiveServer,
    machine,
    percentiles,
    shared_drawings,
    write_result,
)

DOODLENET = SHARED / "anchors" / "doodlenet"
TIME_PREDICTIONS = """async ([bitmaps, doodleUrl]) => {
    const predictor = window.sketch.state.predictor;
    const tf = predictor.tf;
    const doodlenet = await tf.loadLayersModel(doodleUrl);""" + MODEL_TIMING_JS + """
    const predictDoodlenet = (bitmap) => timedPredict(doodlenet, bitmap);
    const timed = async (predict, bitmap) => {
        const started = performance.now();
        await predict(bitmap);
        return performance.now() - started;
    };
    const ours = (bitmap) => predictor.predict({ bitmap });
    for (const bitmap of bitmaps.slice(0, 10)) { await ours(bitmap); await predictDoodlenet(bitmap); }
    // The two models take turns on each drawing, each going first half of the time, so that changes in
    // the machine's load and in the browser's state touch both alike.
    const timings = { ours: [], doodlenet: [] };
    for (const [index, bitmap] of bitmaps.entries()) {
        const order = index % 2 ? ['ours', 'doodlenet'] : ['doodlenet', 'ours'];
        for (const name of order) {
            timings[name].push(await timed(name === 'ours' ? ours : predictDoodlenet, bitmap));
        }
    }
    return timings;
}"""


def draw_and_collect(page, drawing):
    page.evaluate("() => { window.latencies = []; if (!window.listening) { window.listening = true; "
                  "window.addEventListener('sketch:prediction', (e) => window.latencies.push("
                  "[e.detail.inputToScreenMilliseconds, e.detail.inputToNextFrameMilliseconds])); } }")
    box = page.locator("#canvas").bounding_box()
    def point(x, y):
        return box["x"] + box["width"] * (0.1 + 0.8 * x / 255), box["y"] + box["height"] * (0.1 + 0.8 * y / 255)

    for xs, ys in drawing:
        page.mouse.move(*point(xs[0], ys[0]))
        page.mouse.down()
        for x, y in zip(xs[1:], ys[1:]):
            page.mouse.move(*point(x, y), steps=2)
            page.wait_for_timeout(8)  # a person's pointer moves about every frame, not all at once
        page.mouse.up()
    page.wait_for_timeout(300)
    values = page.evaluate("window.latencies")
    page.evaluate("document.getElementById('clear').click()")
    return values


def main():
    from playwright.sync_api import sync_playwright

    from training import raster
    from training.cli import ArgumentParser, count_argument

    # One-line errors with exit status 2; no predictions or no drawings would measure nothing.
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=count_argument(1), default=200)
    parser.add_argument("--drawn", type=count_argument(1), default=12, help="drawings drawn with the mouse per backend")
    args = parser.parse_args()
    records = [drawing for _, drawing in shared_drawings(per_class=6)][:max(args.predictions, args.drawn)]
    bitmaps = [raster.rasterize(drawing) for drawing in records[:args.predictions]]
    results = {"backends": {}, "machine": machine(), "predictions": len(bitmaps), "drawn": args.drawn}
    with LiveServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for backend in ("wasm", "webgl", "cpu"):
            # Cold start as a first visit really is: empty cache, the service worker installing alongside.
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.goto(f"{server.url}?backend={backend}&measure")
            page.wait_for_selector("body[data-ready=true]", state="attached", timeout=120_000)
            cold_start = page.evaluate("window.sketch.readyAt")
            context.close()
            # The rest with service workers blocked: requests a service worker makes cannot be intercepted,
            # and DoodleNet's files are served by interception.
            context = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="block")
            context.route("**/doodlenet/*", lambda route: route.fulfill(
                path=str(DOODLENET / route.request.url.rsplit("/", 1)[-1]),
                headers={"Cross-Origin-Resource-Policy": "same-origin"}))
            page = context.new_page()
            page.goto(f"{server.url}?backend={backend}&measure")
            page.wait_for_selector("body[data-ready=true]", state="attached", timeout=120_000)
            description = page.inner_text("#info")
            timings = page.evaluate(TIME_PREDICTIONS, [bitmaps, server.url + "doodlenet/model.json"])
            latencies = []
            for drawing in records[:args.drawn]:
                latencies += draw_and_collect(page, drawing)
            results["backends"][backend] = {
                "description": description,
                "cold_start_ms": round(cold_start, 1),
                "prediction_ms": {"ours": percentiles(timings["ours"], (50, 95)),
                                  "doodlenet": percentiles(timings["doodlenet"], (50, 95))},
                "pointer_to_guess_ms": percentiles([value[0] for value in latencies], (50, 95)),
                "pointer_to_next_frame_ms": percentiles([value[1] for value in latencies], (50, 95)),
                "guesses_measured": len(latencies),
            }
            context.close()
        browser.close()
    write_result("browser_speed", results)


if __name__ == "__main__":
    main()
