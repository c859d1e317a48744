"""Parity: Keras vs the exported model in TF.js (Node cpu/wasm, Chromium wasm/cpu/webgl), and the page's
prediction vs POST /predict on every shared stroke drawing.

Keras here runs the exported weights (training.webmodel), so a difference is the runtime's, not the
export's; export.py itself checks the export against the trained model.
"""

import json
import subprocess

import numpy as np
import pytest
from conftest import ARTIFACTS, ROOT, shared_drawings
from support import server_top1

from training import raster
from training.webmodel import guess_probabilities, load_web_model

MODEL_DIR = ROOT / "web" / "model"
TOLERANCE = {"cpu": 1e-5, "wasm": 1e-5, "webgl": 1e-3}
REPORT = {}


@pytest.fixture(scope="module")
def reference():
    """Bitmaps of real drawings, the probabilities the Keras model gives them, and the page's guess as Keras
    computes it (averaged with the mirror image when the export says so)."""
    model, metadata = load_web_model(MODEL_DIR)
    bitmaps = np.array([raster.rasterize(drawing) for _, drawing in shared_drawings(per_class=3)])
    assert len(bitmaps) == 120  # "120 shared drawings (3 a class)" in the README
    images = bitmaps.reshape(-1, 28, 28, 1).astype(np.float32) / 255.0
    return bitmaps, model.predict(images, verbose=0), guess_probabilities(model, metadata, images)


def record(name, value):
    REPORT[name] = value
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "parity.json").write_text(json.dumps(REPORT, indent=2))


@pytest.mark.parametrize("backend", ["cpu", "wasm"])
def test_keras_vs_tfjs_in_node(reference, backend):
    bitmaps, expected, _ = reference
    result = subprocess.run(["node", str(ROOT / "tests" / "js" / "predict_cli.mjs"), str(MODEL_DIR), backend],
                            input=json.dumps({"images": bitmaps.tolist()}), capture_output=True, text=True,
                            timeout=300, check=True, cwd=ROOT)
    output = json.loads(result.stdout)
    assert output["backend"] == backend
    actual = np.array(output["probabilities"])
    difference = float(np.abs(actual - expected).max())
    record(f"node_{backend}_max_abs_difference", difference)
    assert difference <= TOLERANCE[backend]
    assert (actual.argmax(1) == expected.argmax(1)).all()


@pytest.mark.parametrize("backend", ["wasm", "cpu", "webgl"])
def test_keras_vs_tfjs_in_chromium(reference, browser, live_server, backend):
    bitmaps, _, expected = reference
    page = browser.new_page()
    try:
        page.goto(f"{live_server}?backend={backend}")
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
        assert page.get_attribute("body", "data-backend") == backend
        actual = np.array(page.evaluate("""async (bitmaps) => {
            const predictor = window.sketch.state.predictor;
            const rows = [];
            for (const bitmap of bitmaps) rows.push(Array.from(await predictor.predict({ bitmap })));
            return rows;
        }""", bitmaps.tolist()))
    finally:
        page.close()
    difference = float(np.abs(actual - expected).max())
    record(f"chromium_{backend}_max_abs_difference", difference)
    assert difference <= TOLERANCE[backend]
    assert (actual.argmax(1) == expected.argmax(1)).all()


def test_page_prediction_matches_server_on_every_shared_drawing(browser, live_server):
    """The page's prediction path (raster.js + TF.js, as the page calls it on a drawing's strokes) vs POST
    /predict over HTTP (raster.py + Keras) on all 628 drawings. Drawing on the canvas with the mouse, then
    asking POST /predict about the strokes the page captured, is tests/test_browser.py's
    test_drawing_real_drawings_gives_the_servers_guess (a few classes: every point is a mouse event)."""
    drawings = shared_drawings()
    server = [server_top1(live_server, drawing) for _, drawing in drawings]
    page = browser.new_page()
    try:
        page.goto(live_server)
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
        in_page = page.evaluate("""async (drawings) => {
            const labels = window.sketch.state.labels;
            const tops = [];
            for (const drawing of drawings) {
                const probabilities = await window.sketch.predictStrokes(drawing);
                tops.push(labels[probabilities.indexOf(Math.max(...probabilities))]);
            }
            return tops;
        }""", [drawing for _, drawing in drawings])
    finally:
        page.close()
    agreement = float(np.mean(np.array(in_page) == np.array(server)))
    record("page_vs_predict_top1_agreement", {"drawings": len(drawings), "agreement": agreement})
    assert len(drawings) == 628 and agreement == 1.0  # the README says all 628, and 100 %
