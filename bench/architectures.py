"""Time per prediction of candidate architectures against DoodleNet, in headless Chromium, per TF.js backend.

    python -m bench.architectures [--rounds 5]

Speed is a property of the architecture, not of trained weights, so each candidate is built with random
weights and no batch normalization (export.py folds it into the convolutions, so this is the layer graph
TF.js runs); the shipped one comes from training.model itself, folded by export.py. Each is saved with
tensorflowjs and timed in the page's own TF.js beside DoodleNet: the same 100 rasterized real drawings,
every model in turn, `--rounds` times. It answers "which design can be faster than DoodleNet?" before
spending a training run on it. Prints JSON and writes
bench/results/architectures.json; the accuracy of the designs that were trained is in the README.
"""

import json
import tempfile
from pathlib import Path

from bench.common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MODEL_TIMING_JS,
    ROOT,
    SHARED,
    LiveServer,
    machine,
    percentiles,
    shared_drawings,
    write_result,
)

DOODLENET = SHARED / "anchors" / "doodlenet"

# Layer plans: an integer is a 3x3 "same" convolution with that many filters (+ ReLU), "valid:N" an unpadded
# one, "pool" a 2x2 max pooling, "crop" drops the outermost pixel ring, "dense:N" a hidden dense layer.
# Every plan ends with flatten and a softmax over the shipped model's classes.
CANDIDATES = {
    "32-48-48-128 (shipped before)": [32, "pool", 48, 48, "pool", 128, "pool"],
    "32-48-48-128 on the cropped 26x26": ["crop", "valid:32", "pool", 48, 48, "pool", 128, "pool"],
    "one conv at 14 + dense 96": [32, "pool", 48, "pool", 96, "pool", "dense:96"],
}

TIME_MODELS = """async ([bitmaps, urls, rounds]) => {
    const tf = window.sketch.state.predictor.tf;""" + MODEL_TIMING_JS + """
    const models = {};
    for (const [name, url] of Object.entries(urls)) models[name] = await tf.loadLayersModel(url);
    const timings = {};
    for (const [name, model] of Object.entries(models)) {
        timings[name] = [];
        // Warm-up: kernels compiled, buffers allocated.
        for (const bitmap of bitmaps.slice(0, 10)) await timedPredict(model, bitmap);
    }
    // Models take turns, so that a change in the machine's load touches all of them alike.
    for (let round = 0; round < rounds; round++) {
        for (const [name, model] of Object.entries(models)) {
            for (const bitmap of bitmaps) timings[name].push(await timedPredict(model, bitmap));
        }
    }
    return timings;
}"""


def build(plan, num_classes):
    import tf_keras as keras
    from tf_keras import layers

    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for step in plan:
        if step == "pool":
            x = layers.MaxPooling2D(2)(x)
        elif step == "crop":
            x = layers.Cropping2D(1)(x)
        elif isinstance(step, str) and step.startswith("valid:"):
            x = layers.Conv2D(int(step.split(":")[1]), 3, padding="valid", activation="relu")(x)
        elif isinstance(step, str) and step.startswith("dense:"):
            x = layers.Dense(int(step.split(":")[1]), activation="relu")(layers.Flatten()(x))
        else:
            x = layers.Conv2D(step, 3, padding="same", activation="relu")(x)
    if len(x.shape) > 2:
        x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


def main():
    import os

    from training.cli import ArgumentParser, count_argument

    parser = ArgumentParser(description=__doc__.splitlines()[0])  # one-line errors, exit status 2
    parser.add_argument("--rounds", type=count_argument(1), default=5)  # no rounds would measure nothing
    args = parser.parse_args()  # before the slow imports, so a bad argument is refused at once
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    import tensorflowjs
    from playwright.sync_api import sync_playwright

    import export
    from training import raster
    from training.model import build_model, multiply_adds
    from training.webmodel import load_layers_model

    bitmaps = [raster.rasterize(drawing) for _, drawing in shared_drawings(per_class=3)][:100]
    num_classes = len(json.loads((ROOT / "web" / "model" / "metadata.json").read_text())["labels"])
    results = {"machine": machine(), "predictions_per_model": len(bitmaps) * args.rounds, "models": {}}
    with tempfile.TemporaryDirectory() as folder:
        folders = {"doodlenet": DOODLENET}
        candidates = {"sketchnet 32-40-40-128 (shipped)": (None, export.fold_batch_normalization(
            build_model("sketchnet", num_classes)))}
        candidates |= {name: (plan, build(plan, num_classes)) for name, plan in CANDIDATES.items()}
        for index, (name, (plan, model)) in enumerate(candidates.items()):
            folders[name] = Path(folder) / f"candidate{index}"
            tensorflowjs.converters.save_keras_model(model, str(folders[name]))
            results["models"][name] = {"plan": plan, "parameters": int(model.count_params()),
                                       "multiply_adds": multiply_adds(model)}
        doodlenet = load_layers_model(DOODLENET)
        results["models"]["doodlenet"] = {"parameters": int(doodlenet.count_params()),
                                          "multiply_adds": multiply_adds(doodlenet)}
        keys = {name: f"m{index}" for index, name in enumerate(folders)}
        with LiveServer() as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for backend in ("wasm", "cpu"):
                # Service workers blocked: requests a service worker makes cannot be intercepted.
                context = browser.new_context(service_workers="block")
                by_key = {key: folders[name] for name, key in keys.items()}
                context.route("**/candidates/**", lambda route, by_key=by_key: route.fulfill(
                    path=str(by_key[route.request.url.split("/")[-2]] / route.request.url.split("/")[-1]),
                    headers={"Cross-Origin-Resource-Policy": "same-origin"}))
                page = context.new_page()
                page.goto(f"{server.url}?backend={backend}")
                page.wait_for_selector("body[data-ready=true]", state="attached", timeout=120_000)
                urls = {name: f"{server.url}candidates/{key}/model.json" for name, key in keys.items()}
                timings = page.evaluate(TIME_MODELS, [bitmaps, urls, args.rounds])
                for name, values in timings.items():
                    results["models"][name].setdefault("prediction_ms", {})[backend] = percentiles(values, (50, 95))
                context.close()
            browser.close()
    write_result("architectures", results)


if __name__ == "__main__":
    main()
