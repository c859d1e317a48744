"""The README and docs/experiments.md say exactly what the committed measurements say.

Their tables are the output of `python -m bench.report` over bench/results/*.json, pasted verbatim; the
limits, the training time and the fidelity figures they quote are checked against their sources here or in
tests/test_raster.py.
"""

import json
import subprocess
import sys

from conftest import ROOT
from training import raster

README = (ROOT / "README.md").read_text()
EXPERIMENTS = (ROOT / "docs" / "experiments.md").read_text()


def report(section):
    return subprocess.run([sys.executable, "-m", "bench.report", section], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()


def test_readme_results_are_the_bench_report():
    assert report("readme") in README


def test_experiments_tables_are_the_bench_report():
    assert report("experiments") in EXPERIMENTS


def test_readme_limits_are_the_rasterizers():
    assert f"at most {raster.MAX_STROKES} strokes and {raster.MAX_POINTS:,} points" in README
    assert f"more than {raster.MAX_STROKES} strokes or {raster.MAX_POINTS:,} points" in README


def test_readme_training_time_is_the_shipped_runs():
    metrics = json.loads((ROOT / "runs" / "sketchnet" / "metrics.json").read_text())
    seconds = metrics["training_seconds"]
    assert (f"took {seconds:.0f} s ({seconds / 60:.1f} minutes, {metrics['epochs_run']} epochs) on 2 CPU cores"
            in README.replace("\n", " "))
