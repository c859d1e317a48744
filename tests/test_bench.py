"""Tests for the arithmetic of bench.routes: McNemar's exact test and the cost of each route."""

import numpy as np
import pytest

from bench.routes import TWIN_DRAWS, mcnemar, passes_per_guess


@pytest.mark.parametrize("only_reference, only_candidate, both, p", [
    (10, 0, 5, 2 / 1024),       # ten discordant pairs all one way: 2 * 0.5**10
    (5, 5, 0, 1.0),
    (0, 0, 7, 1.0),              # no discordant pair: nothing to tell apart
    (3, 1, 2, 0.625),            # 2 * (1 + 4) / 16
])
def test_mcnemar_exact(only_reference, only_candidate, both, p):
    reference = np.array([True] * only_reference + [False] * only_candidate + [True] * both)
    candidate = np.array([False] * only_reference + [True] * only_candidate + [True] * both)
    assert mcnemar(reference, candidate) == (only_reference, only_candidate, pytest.approx(p))


def test_passes_per_guess():
    assert passes_per_guess("as trained") == 1
    assert passes_per_guess("distilled, mirror averaging") == 2
    assert passes_per_guess(f"twin noise at test time ({TWIN_DRAWS} draws)") == TWIN_DRAWS
    assert passes_per_guess("fine-tuned with real strokes") == 1
    assert passes_per_guess("distilled, two seeds averaged") == 2
    with pytest.raises(KeyError):  # a route must be named in the table, not guessed from words in its name
        passes_per_guess("mirror-ish new route")


def test_every_measured_route_has_its_passes_from_the_table():
    import json

    from bench.common import RESULTS

    routes = json.loads((RESULTS / "routes.json").read_text())["routes"]
    assert {name: route["passes_per_guess"] for name, route in routes.items()} == {
        name: passes_per_guess(name) for name in routes}


def test_measurements_are_kept_under_their_key(tmp_path):
    from bench.routes import load_measured, save_measured

    measured = {"as trained": (np.array([True, False]), np.array([True, True]), np.array([False, True, True])),
                "mirror averaging": (np.array([True, True]), np.array([True, True]), np.array([True, True, True]))}
    path = tmp_path / "measured-baseline-1.npz"
    assert load_measured(path, "k") is None
    save_measured(path, "k", measured)
    loaded = load_measured(path, "k")
    assert list(loaded) == list(measured)
    assert all(np.array_equal(a, b) for name in measured for a, b in zip(loaded[name], measured[name]))
    assert load_measured(path, "another model") is None


def test_test_times_adds_up_each_files_cases(tmp_path):
    """bench.test_times, which docs/tests.md's figures come from: seconds per test file, slowest first."""
    from bench.test_times import seconds_per_file

    report = tmp_path / "junit.xml"
    report.write_text('<testsuites><testsuite name="pytest">'
                      '<testcase classname="tests.test_page" name="a" time="2.5"/>'
                      '<testcase classname="tests.test_page" name="b" time="1.0"/>'
                      '<testcase classname="tests.test_raster" name="c" time="4.0"/>'
                      '</testsuite></testsuites>')
    assert seconds_per_file(report) == {"tests/test_raster.py": 4.0, "tests/test_page.py": 3.5}
