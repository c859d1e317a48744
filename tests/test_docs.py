"""The README and docs/ say exactly what the committed measurements say.

Their tables are the output of `python -m bench.report` over bench/results/*.json, pasted verbatim (each
section into the document bench.report.DOCUMENTS names); the limits, the threshold and the fidelity
figures they quote are checked against their sources here or in tests/test_raster.py.
"""

import json
import re
import subprocess
import sys

import pytest

from bench.report import DOCUMENTS
from conftest import ROOT
from training import raster

README = (ROOT / "README.md").read_text()
EXPERIMENTS = (ROOT / "docs" / "experiments.md").read_text()


def report(section):
    return subprocess.run([sys.executable, "-m", "bench.report", section], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()


@pytest.mark.parametrize("section", list(DOCUMENTS))
def test_each_report_section_stands_verbatim_in_its_document(section):
    assert report(section) in (ROOT / DOCUMENTS[section]).read_text()


def test_readme_is_a_five_minute_read():
    """Issue 23: at most 200 lines; the reference lives in docs/, and every document it links exists."""
    assert len(README.splitlines()) <= 200
    for link in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / link).exists(), link


def test_the_limits_quoted_are_the_rasterizers():
    server = (ROOT / "docs" / "server.md").read_text()
    data = (ROOT / "docs" / "data.md").read_text()
    assert f"at most {raster.MAX_STROKES} strokes and {raster.MAX_POINTS:,} points, and at most " \
           f"{raster.MAX_CROSSINGS:,} crossings" in " ".join(README.split())
    assert f"more than {raster.MAX_STROKES} strokes or {raster.MAX_POINTS:,} points" in server
    assert (f"at most {raster.MAX_STROKES} strokes, {raster.MAX_POINTS:,} points in all, {raster.MAX_CROSSINGS:,} "
            "sample-line crossings after simplification") in data
    most = json.loads((ROOT / "bench" / "results" / "fidelity.json").read_text())["most_crossings"]
    assert f"the 628 shared real drawings make at most {most:,}" in " ".join(data.split())


def test_readme_class_groups():
    """"the 20 denoised classes ... the 14 others"."""
    from training.data import denoised_classes

    labels = json.loads((ROOT / "web" / "model" / "metadata.json").read_text())["labels"]
    denoised = denoised_classes(ROOT.parent / "shared" / "data" / "quickdraw", labels)
    assert (len(denoised), len(labels) - len(denoised)) == (20, 14)
    assert "the 20 whose bitmaps here come wholly or partly" in README and "the 14 others" in README


def test_the_shipped_confidence_threshold_keeps_the_top_guess_right_95_percent_of_the_time():
    """"below a confidence threshold chosen on the validation data (the top guess is right 95 % of the time
    above it)": the shipped web model, guessing as the page does, on the validation split of its run."""
    import numpy as np

    from training import data as quickdraw
    from training.webmodel import guess_probabilities, load_web_model

    model, metadata = load_web_model(ROOT / "web" / "model")
    config = json.loads((ROOT / "runs" / metadata["name"] / "config.json").read_text())
    data = quickdraw.load_data(quickdraw.DEFAULT_DATA_DIR, config["classes"], seed=quickdraw.split_seed(config),
                               validation_fraction=config["validation_fraction"],
                               test_fraction=config["test_fraction"], max_per_class=config.get("max_per_class"))
    images, labels = data.arrays("validation")
    probabilities = guess_probabilities(model, metadata, images)
    confident = probabilities.max(axis=1) >= metadata["confidence_threshold"]
    assert confident.mean() > 0.5  # the threshold lets most guesses through, so the figure below means something
    assert np.mean(probabilities.argmax(axis=1)[confident] == labels[confident]) >= 0.95
    assert "(the top guess is right 95 % of the time above it)" in README.replace("\n  ", " ")


def test_mirror_averaging_claim_is_the_routes_measurement():
    """The README: mirror averaging was ahead at each of three seeds (on the test split), and it ships."""
    routes = json.loads((ROOT / "bench" / "results" / "routes.json").read_text())["routes"]
    plain, mirrored = routes["as trained"]["test_top1"], routes["mirror averaging"]["test_top1"]
    assert routes["mirror averaging"]["seeds"] == routes["as trained"]["seeds"] == [1337, 1338, 1339]
    assert all(after > before for before, after in zip(plain["per_seed"], mirrored["per_seed"]))
    assert "the average was ahead on the test split at each of three seeds" in " ".join(README.split())
    assert json.loads((ROOT / "web" / "model" / "metadata.json").read_text())["mirror_average"] is True


def test_experiments_routes_claims_are_the_routes_measurement():
    """docs/experiments.md's reading of the routes table, and the README's count of trainings, as measured."""
    results = json.loads((ROOT / "bench" / "results" / "routes.json").read_text())
    routes, doodlenet = results["routes"], results["doodlenet"]
    figures = ("test_top1", "test_top3", "strokes_top1")
    mean = lambda route, key: routes[route][key]["mean"]  # noqa: E731
    # Mirror averaging is ahead of the shipped recipe at every seed on all three figures.
    for key in figures:
        assert all(after > before for before, after in zip(routes["as trained"][key]["per_seed"],
                                                           routes["mirror averaging"][key]["per_seed"]))
    # The distilled student is ahead of its teacher on all three; two seeds averaged are ahead of mirror averaging.
    assert all(mean("distilled, as trained", key) > mean("as trained", key) for key in figures)
    assert all(mean("two seeds averaged", key) > mean("mirror averaging", key) for key in figures)
    # No route is ahead of DoodleNet on top-3 or on the real strokes; mirror averaging is on top-1.
    assert all(route["test_top3"]["mean"] < doodlenet["test_top3"] for route in routes.values())
    assert all(route["strokes_top1"]["mean"] < doodlenet["strokes_top1"] for route in routes.values())
    assert mean("mirror averaging", "test_top1") > doodlenet["test_top1"]
    # Distillation's recipe: two trainings of the shipped run's length, within 40 minutes.
    seconds = json.loads((ROOT / "runs" / "sketchnet" / "metrics.json").read_text())["training_seconds"]
    assert 2 * seconds < 40 * 60 and f"{2 * seconds / 60:.0f} minutes at its {seconds:.0f} s each" in \
        " ".join(EXPERIMENTS.split())
    # `make routes`: the shipped recipe at the two other seeds, then a student per seed: five trainings.
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nroutes: setup"):makefile.index("\nconstraints:")]
    other_seeds = makefile.split("ROUTE_SEEDS := ")[1].split("\n")[0].split()
    assert other_seeds == ["1338", "1339"] and recipe.count("for seed in $(ROUTE_SEEDS)") == 2
    assert recipe.count("-m training.train") == 3 and recipe.count("--seed 1337 --teacher runs/sketchnet") == 1
    assert "five more trainings like the shipped one" in " ".join(README.split())


def test_each_modules_documented_command_runs(tmp_path):
    """The small tools each module's docstring offers (`python -m training.data ...` and so on) run as
    documented and print what the docstring says, so none of them is dead code."""
    from PIL import Image

    picture = tmp_path / "sketch.png"
    image = Image.new("L", (280, 280), 255)
    image.paste(0, (100, 60, 120, 220))  # a dark bar: ink
    image.save(picture)
    strokes = ROOT.parent / "shared" / "data" / "quickdraw" / "strokes" / "eye.ndjson"
    commands = {
        ("training.data", "--preset", "shipped", "--max-per-class", "50"): "train",
        ("training.model", "sketchnet", "9"): "Total params",
        ("training.ndjson", str(strokes), "1"): "@",
        ("training.picture", str(picture)): "@@@",
        ("training.webmodel", "web/model"): "model_hash",
    }
    for arguments, printed in commands.items():
        result = subprocess.run([sys.executable, "-m", *arguments], cwd=ROOT, capture_output=True, text=True,
                                timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                                  "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert result.returncode == 0 and printed in result.stdout, (arguments, result.stderr[-500:])


def test_make_run_takes_the_port_and_host_the_readme_shows():
    """`make run PORT=8080 HOST=0.0.0.0` (README) passes both to serve.py (a dry run: nothing starts)."""
    assert "`make run PORT=8080 HOST=0.0.0.0`" in README
    recipe = subprocess.run(["make", "-n", "run", "PORT=8080", "HOST=0.0.0.0"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60).stdout
    assert "serve.py --host 0.0.0.0 --port 8080" in recipe
