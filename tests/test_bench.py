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
