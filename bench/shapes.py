"""Adversarial drawings at the rasterizer's limits, shared by bench/hostile.py and the tests.

Each shape puts MAX_POINTS points where they cost the most:
- zigzag: one stroke whose x alternates 0 and 255 while y climbs; every RDP split lands at one end of
  its span (quadratic RDP), and every segment crosses the whole width;
- comb: one stroke whose y alternates 0 and 255 while x climbs; RDP as above, and every segment crosses
  all 448 sample lines (the most rendering work per point);
- spiral: one stroke winding inwards, where RDP keeps nearly every point;
- scribble: a seeded random walk, the shape of a long real scribble;
- confetti: MAX_STROKES strokes of short random segments spread over the box.

    python -m bench.shapes   # prints each shape's stroke and point counts
"""

import json
import math

import numpy as np

from training.raster import MAX_POINTS, MAX_STROKES


def zigzag(points=MAX_POINTS):
    return [[[0 if i % 2 == 0 else 255 for i in range(points)], list(range(points))]]


def comb(points=MAX_POINTS):
    return [[list(range(points)), [0 if i % 2 == 0 else 255 for i in range(points)]]]


def spiral(points=MAX_POINTS):
    turns = 40
    angles = np.linspace(0, 2 * math.pi * turns, points)
    radii = np.linspace(1000, 10, points)
    return [[np.round(radii * np.cos(angles), 2).tolist(), np.round(radii * np.sin(angles), 2).tolist()]]


def scribble(points=MAX_POINTS, seed=0):
    steps = np.random.default_rng(seed).normal(0, 3, (2, points))
    return [np.round(np.cumsum(steps, axis=1), 2).tolist()]


def confetti(points=MAX_POINTS, strokes=MAX_STROKES, seed=0):
    generator = np.random.default_rng(seed)
    per_stroke = points // strokes
    return [np.round(generator.uniform(0, 255, (2, per_stroke)), 2).tolist() for _ in range(strokes)]


SHAPES = {"zigzag": zigzag, "comb": comb, "spiral": spiral, "scribble": scribble, "confetti": confetti}


def worst_drawings():
    """Every shape at the limits, by name."""
    return {name: make() for name, make in SHAPES.items()}


if __name__ == "__main__":
    print(json.dumps({name: {"strokes": len(drawing), "points": sum(len(xs) for xs, _ in drawing)}
                      for name, drawing in worst_drawings().items()}))
