"""Classes taught in the page, taken further: the Python twin of the page's rule (training/taught.py) held to
web/js/taught.js and words.js; "none of these"; and "Download as a model", saved in Chromium at three sizes,
then loaded by training.webmodel, served by `serve.py --also` and guessed with in the page and by POST /predict.
A saved folder edited by hand is refused with one line.
"""

import json
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile

import numpy as np
import pytest
from conftest import ROOT, VIEWPORTS
from support import draw, open_page, settled_guesses, wait_until

from bench.common import LiveServer, shared_drawings
from bench.folders import with_taught
from bench.shapes import random_comb
from training import data as quickdraw
from training.fewshot import load_drawings
from training.taught import beside_softmax, is_none_of_these
from training.webmodel import WebModelError, all_labels, guess_probabilities, load_web_model, read_model_files

TAUGHT = "face"  # a shared stroke class the shipped model does not know; bench.teach finds it most often
TEACH_FROM = 5   # the first five of its shared drawings teach it; the sixth and seventh are guessed


def drawings_of(word):
    return [drawing for each, drawing in shared_drawings() if each == word]


def test_the_python_twin_is_the_pages_rule():
    """training.taught's beside_softmax and is_none_of_these against taught.js and words.js in Node, on random
    guesses where about half of the rows are won by a taught class. Decisions must agree exactly; values
    within 1e-6, since JavaScript adds the dot products in double precision and NumPy in float32 (a
    difference of a few units in the 7th digit, far below the 0.1 % the page shows)."""
    rng = np.random.default_rng(7)
    rows, columns, classes, taught = 200, 16, 5, 3
    logits = rng.normal(0, 2, (rows, classes))
    probabilities = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    features = rng.random((rows, columns)).astype(np.float32)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    class_means = rng.random((classes, columns)).astype(np.float32) * 0.5
    taught_means = rng.random((taught, columns)).astype(np.float32) * 0.42
    below = 0.4
    job = {"probabilities": probabilities.tolist(), "features": features.tolist(),
           "classMeans": {"values": class_means.tolist(), "columns": columns}, "taughtMeans": taught_means.tolist(),
           "below": below}
    result = subprocess.run(["node", str(ROOT / "tests" / "js" / "taught_cli.mjs")], input=json.dumps(job),
                            capture_output=True, text=True, check=True, timeout=60)
    page = json.loads(result.stdout)
    page_probabilities = np.array([row["probabilities"] for row in page])
    ours = beside_softmax(probabilities, features, class_means, taught_means)
    assert 0.3 < np.mean(ours.argmax(axis=1) >= classes) < 0.8  # both kinds of row are exercised
    assert np.array_equal(page_probabilities.argmax(axis=1), ours.argmax(axis=1))
    assert np.allclose(page_probabilities, ours, atol=1e-6)
    assert [row["none"] for row in page] == is_none_of_these(ours, classes, below).tolist()
    assert 0 < sum(row["none"] for row in page) < rows


def test_none_of_these_fires_on_a_random_comb_and_not_on_a_real_drawing():
    model, metadata = load_web_model(ROOT / "web" / "model")
    below = metadata["none_of_these"]["below"]
    cat = next(drawing for word, drawing in shared_drawings() if word == "cat")
    probabilities = guess_probabilities(model, metadata, quickdraw.drawings_input([random_comb(200), cat]))
    assert is_none_of_these(probabilities, len(metadata["labels"]), below).tolist() == [True, False]


def saved_folder(tmp_path, archive):
    """The saved ZIP unpacked as the README says (`python -m training.unpack`, which checks it as a model folder):
    one folder, model-taught-<date>, named as the page named it, holding only what the gate reads."""
    from training.unpack import unpack

    with zipfile.ZipFile(archive) as opened:
        assert opened.testzip() is None  # every file's CRC-32 checks
        names = opened.namelist()
        folder_name = names[0].split("/")[0]
        assert folder_name.startswith("model-taught-") and all(name.startswith(folder_name + "/") for name in names)
    folder = unpack(archive, tmp_path)
    assert folder == tmp_path / folder_name and len(list(folder.iterdir())) == len(names)
    return folder


def teach_and_save(context, base_url, folder):
    """In a fresh page: a random comb of strokes reads "none of these"; five drawings of a face teach it, and
    the held-out faces are guessed as it; Download as a model. Returns the saved ZIP's path."""
    faces = drawings_of(TAUGHT)
    page = open_page(context, base_url)
    draw(page, random_comb(200))
    settled_guesses(page)
    assert page.get_attribute("#status", "data-verdict") == "none"
    assert page.inner_text("#status").startswith("None of these")
    page.keyboard.press("Escape")
    page.evaluate("document.getElementById('taught-panel').open = true")
    assert page.is_disabled("#taught-model")  # nothing taught yet
    page.fill("#taught-name", TAUGHT)
    for drawing in faces[:TEACH_FROM]:
        draw(page, drawing)
        page.click("#taught-add")
        wait_until(page, "window.sketch.drawing.strokes.length === 0")
    for drawing in faces[TEACH_FROM:TEACH_FROM + 2]:
        draw(page, drawing)
        assert settled_guesses(page)[0][0] == TAUGHT
        assert page.get_attribute("#status", "data-verdict") != "none"  # a taught class on top never is
        page.keyboard.press("Escape")
    with page.expect_download() as download_info:
        page.click("#taught-model")
    archive = folder / download_info.value.suggested_filename
    download_info.value.save_as(archive)
    assert "Saved model-taught-" in page.inner_text("#message")
    assert page.errors == []
    page.close()
    return archive


@pytest.fixture(scope="module")
def saved_model(browser, live_server, tmp_path_factory):
    """A model saved from the page (desktop size) with a face taught, unpacked; and a server that serves it
    beside the shipped one (`serve.py --also`), as (folder, base URL)."""
    folder = tmp_path_factory.mktemp("saved")
    context = browser.new_context(**VIEWPORTS["desktop"], accept_downloads=True)
    archive = teach_and_save(context, live_server, folder)
    context.close()
    unpacked = saved_folder(folder, archive)
    with LiveServer("--also", str(unpacked)) as server:
        yield unpacked, server.url


def test_teaching_none_of_these_and_download_as_a_model(saved_model):
    """The whole path in the page (saved_model's teach_and_save: "none of these" on a comb, five faces taught,
    held-out faces found), down to a ZIP that Python's zipfile opens and checks and training.unpack unpacks."""
    folder, _ = saved_model
    assert json.loads((folder / "metadata.json").read_text())["taught"]["labels"] == [TAUGHT]


def test_the_saved_model_loads_in_python_with_its_taught_class(saved_model):
    folder, _ = saved_model
    files = read_model_files(folder)
    model, metadata = load_web_model(folder, files)
    shipped = json.loads((ROOT / "web" / "model" / "metadata.json").read_text())
    assert metadata["labels"] == shipped["labels"] and metadata["model_hash"] == shipped["model_hash"]
    assert metadata["taught"]["labels"] == [TAUGHT] and metadata["taught"]["drawings"] == {TAUGHT: TEACH_FROM}
    assert [json.loads(line)["word"] for line in (folder / "taught.ndjson").read_text().splitlines()] == [TAUGHT] * 5
    held_out = drawings_of(TAUGHT)[TEACH_FROM:TEACH_FROM + 2]
    probabilities = guess_probabilities(model, metadata, quickdraw.drawings_input(held_out), files)
    assert [all_labels(metadata)[index] for index in probabilities.argmax(axis=1)] == [TAUGHT, TAUGHT]
    # The README: "`python -m training.webmodel FOLDER` loads it and names them".
    printed = subprocess.run([sys.executable, "-m", "training.webmodel", str(folder)], cwd=ROOT, capture_output=True,
                             text=True, check=True, timeout=120).stdout
    assert json.loads(printed)["taught"] == [TAUGHT]
    # "... and `taught.ndjson` feeds `training.fewshot --extra-strokes`": its five drawings join the class.
    strokes = ROOT.parent / "shared" / "data" / "quickdraw" / "strokes"
    _, alone = load_drawings(strokes, [TAUGHT])
    _, joined = load_drawings(strokes, [TAUGHT], extra_paths=[folder / "taught.ndjson"])
    assert len(joined) == len(alone) + TEACH_FROM


def test_make_run_serves_every_model_folder_in_web_as_a_saved_one_is_named(tmp_path):
    """The README: "`python -m training.unpack` puts it in `web/` and `make run` serves it": training.unpack's
    default folder is web/; `make run` runs serve.py without --also (as `make -n` shows), whose default is
    every model-* folder of web/ (tried on a folder of its own); and the page names a saved model's folder
    model-taught-<date> (savemodel.js's folderName, run by Node)."""
    from server import DEFAULT_CONFIG, model_folders
    from training.unpack import DEFAULT_INTO

    assert DEFAULT_INTO == ROOT / "web" and DEFAULT_CONFIG["EXTRA_MODEL_DIRS"] == model_folders(ROOT / "web")
    for name in ("model-taught-1", "model-body-parts", "models", "js"):
        (tmp_path / name).mkdir()
    (tmp_path / "model-file").write_text("not a folder")
    assert model_folders(tmp_path) == [str(tmp_path / "model-body-parts"), str(tmp_path / "model-taught-1")]
    recipe = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    command = next(line for line in recipe.splitlines() if "serve.py" in line)
    assert command.split()[1:] == ["serve.py", "--host", "127.0.0.1", "--port", "5000"]
    name = subprocess.run(["node", "--input-type=module", "-e", "import { folderName } from './web/js/savemodel.js';"
                           "console.log(folderName(new Date(2026, 11, 7, 22, 18, 54)));"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert name == "model-taught-20261207-221854"


def test_the_saved_model_is_served_and_guesses_in_the_page(flow, saved_model):
    folder, url = saved_model
    model_id = folder.name.removeprefix("model-")
    shipped = json.loads((ROOT / "web" / "model" / "metadata.json").read_text())
    listed = json.load(urllib.request.urlopen(url + "models"))["models"]
    assert {"id": model_id, "classes": len(shipped["labels"]) + 1} in [
        {key: each[key] for key in ("id", "classes")} for each in listed]
    held_out = drawings_of(TAUGHT)[TEACH_FROM:TEACH_FROM + 2]
    request = urllib.request.Request(url + "predict", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"strokes": held_out[0], "model": model_id}).encode())
    assert json.load(urllib.request.urlopen(request))["predictions"][0]["label"] == TAUGHT
    page = open_page(flow[1], url, f"?model={model_id}")
    assert page.get_attribute("body", "data-model") == model_id
    for drawing in held_out:
        draw(page, drawing)
        assert settled_guesses(page)[0][0] == TAUGHT
        page.keyboard.press("Escape")
    assert TAUGHT in page.evaluate("window.sketch.state.allLabels")
    assert page.errors == []


def copy_of_the_shipped_model(tmp_path, taught_labels=("arm",)):
    """web/model copied, with a well-formed taught entry (all-zero means) to break in one way per test."""
    folder = tmp_path / "model-mine"
    shutil.copytree(ROOT / "web" / "model", folder)
    metadata = json.loads((folder / "metadata.json").read_text())
    with_taught(folder, None, metadata, labels=taught_labels)
    return folder, metadata


def test_a_well_formed_saved_folder_loads(tmp_path):
    folder, metadata = copy_of_the_shipped_model(tmp_path)
    (folder / "metadata.json").write_text(json.dumps(metadata))
    _, loaded = load_web_model(folder)
    assert all_labels(loaded)[-1] == "arm"


@pytest.mark.parametrize("change, message", [
    (lambda taught, metadata: taught.update(labels=["cat"]), "none a built-in class"),
    (lambda taught, metadata: taught.update(labels=["arm", "arm"]), "distinct"),
    (lambda taught, metadata: taught.update(labels=["x" * 41]), "at most 40"),
    (lambda taught, metadata: taught.update(labels=" arm"), "taught labels"),
    (lambda taught, metadata: taught.update(shape=[1, 5]), "shape"),
    (lambda taught, metadata: taught.update(rule="softmax"), "rule"),
    (lambda taught, metadata: taught.update(file="../model/class_means.bin"), "not a plain file name inside the folder"),
    (lambda taught, metadata: taught.update(file="missing.bin"), "missing"),
    (lambda taught, metadata: taught.update(file=["taught_means.bin"]), "not a plain file name inside the folder"),
    (lambda taught, metadata: metadata.update(taught=["arm"]), "taught must be an object"),
    (lambda taught, metadata: taught.update(labels=["arm", "leg"]), "shape"),
])
def test_a_saved_folder_edited_by_hand_is_refused_naming_what_is_wrong(tmp_path, change, message):
    folder, metadata = copy_of_the_shipped_model(tmp_path)
    change(metadata["taught"], metadata)
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(WebModelError, match=message):
        load_web_model(folder)


def test_a_saved_folder_with_short_means_is_refused(tmp_path):
    folder, metadata = copy_of_the_shipped_model(tmp_path)
    (folder / "metadata.json").write_text(json.dumps(metadata))
    (folder / "taught_means.bin").write_bytes(b"\0" * 10)
    with pytest.raises(WebModelError, match="holds 10 bytes"):
        load_web_model(folder)


def test_a_saved_folder_whose_class_means_do_not_fit_is_refused_at_loading(tmp_path):
    """Taught classes compare a drawing with the class means row by row: a folder whose means have too few
    rows (which would fail only when the softmax picked a missing row, as a 500), columns not the layer's,
    or a layer the model lacks is refused when the server starts, not when a drawing comes."""
    cases = {
        "the shape [34, that layer's size]": lambda entry, folder: (
            entry.update(shape=[5, entry["shape"][1]]),
            (folder / "class_means.bin").write_bytes(bytes(5 * entry["shape"][1]))),
        "class_means must name a layer of the model and the shape": lambda entry, folder: entry.update(
            shape=[34, 1152.0]),
        "holds 1152 bytes": lambda entry, folder: (folder / "class_means.bin").write_bytes(bytes(1152)),
        "class_means must name a layer of the model": lambda entry, folder: entry.update(layer="nope"),
    }
    for number, (message, change) in enumerate(cases.items()):
        folder, metadata = copy_of_the_shipped_model(tmp_path / str(number))
        change(metadata["class_means"], folder)
        (folder / "metadata.json").write_text(json.dumps(metadata))
        with pytest.raises(WebModelError, match=re.escape(message)):
            load_web_model(folder)


@pytest.mark.parametrize("label, loads", [
    ("arm\u00e9 \u732b", True),  # any printable name the page can make
    ("arm\u001c", False),    # a control character: the page refuses it too (Python's strip() would also trim it)
    ("a\u200brm", False),    # a zero-width space: it would display as "arm"
    ("\u00a0arm", False),    # trim() removes a no-break space: the page never makes such a name
    ("\ud800", False),       # a lone surrogate
    (["arm"], False),
    (3, False),
])
def test_taught_names_are_held_to_the_pages_rule(tmp_path, label, loads):
    """A name the page can make loads; any other is refused with one line, never a traceback."""
    folder, metadata = copy_of_the_shipped_model(tmp_path)
    metadata["taught"]["labels"] = [label]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    if loads:
        assert all_labels(load_web_model(folder)[1])[-1] == label
        return
    with pytest.raises(WebModelError, match="taught labels must be"):
        load_web_model(folder)
