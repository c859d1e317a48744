"""Adversarial drawings at the rasterizer's limits, shared by bench/hostile.py and the tests, and a search
for the costliest drawing within them.

    python -m bench.shapes                          # prints each shape's strokes, points, and rasterize()'s answer
    python -m bench.shapes --search [--seconds 120] [--seed 0]
                                                    # searches; writes bench/results/searched_worst.json

Hand-made shapes, each within every limit (MAX_POINTS, MAX_STROKES and MAX_CROSSINGS of training/raster.py):
- zigzag: one stroke of MAX_POINTS points whose x alternates 0 and 255 while y climbs; every RDP split
  lands at one end of its span (quadratic RDP);
- comb: one stroke whose y alternates 0 and 255 while x climbs across the box, with as many teeth as
  MAX_CROSSINGS allows: every segment crosses every sample line;
- spiral: one stroke winding inwards, where RDP keeps nearly every point;
- scribble: a seeded random walk, the shape of a long real scribble;
- confetti: MAX_STROKES strokes of random segments spread over the box, as many as MAX_CROSSINGS allows;
- searched: the costliest drawing the search below found (bench/results/searched_worst.json).

Refused shapes (refused_drawings) are beyond MAX_CROSSINGS, so they cost only their simplification: the
comb and the confetti at MAX_POINTS, and the issue's comb of random x (24, "Drawings that defeat
simplification"), which cost over a second each before the crossings were limited.

The search is hill-climbing from these shapes and from random drawings, over drawings within MAX_POINTS and
MAX_STROKES with integer coordinates in 0..255 (normalization scales any drawing to that box, so this
loses nothing but sub-unit detail). Its objective is the CPU time of training/raster.py's rasterize(),
refusals included: CPU time, the least of a few runs, because the machine may be shared and wall time would
reward another process's load. It is seeded and bounded in time; each improvement is timed again before it
is kept, so a lucky run does not lead the climb astray.
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench.common import RESULTS, ROOT
from training import raster
from training.raster import MAX_POINTS, MAX_STROKES

SEARCHED = RESULTS / "searched_worst.json"


def spiral_drawing(turns, phase, points=40):
    """An outward spiral in 0..255 units, a thing the shipped model does not know: what the page tests and
    bench.page_hostile teach it (turns and phase make each one a little different)."""
    xs, ys = [], []
    for i in range(points):
        angle, radius = phase + turns * 2 * math.pi * i / (points - 1), 10 + 110 * i / (points - 1)
        xs.append(round(128 + radius * math.cos(angle)))
        ys.append(round(128 + radius * math.sin(angle)))
    return [[xs, ys]]


def zigzag(points=MAX_POINTS):
    return [[[0 if i % 2 == 0 else 255 for i in range(points)], list(range(points))]]


def within_crossings(make, most):
    """make(n) for the largest n <= most that rasterize() accepts (a bisection: acceptance only gets harder
    as n grows, for the shapes here)."""
    low, high = 1, most
    while low < high:
        middle = (low + high + 1) // 2
        try:
            raster.rasterize(make(middle))
            low = middle
        except ValueError:
            high = middle - 1
    return make(low)


def full_comb(points):
    return [[np.linspace(0, 255, points).round().astype(int).tolist(), [0 if i % 2 == 0 else 255 for i in range(points)]]]


def comb():
    return within_crossings(full_comb, MAX_POINTS)


def spiral(points=MAX_POINTS):
    turns = 40
    angles = np.linspace(0, 2 * math.pi * turns, points)
    radii = np.linspace(1000, 10, points)
    return [[np.round(radii * np.cos(angles), 2).tolist(), np.round(radii * np.sin(angles), 2).tolist()]]


def scribble(points=MAX_POINTS, seed=0):
    steps = np.random.default_rng(seed).normal(0, 3, (2, points))
    return [np.round(np.cumsum(steps, axis=1), 2).tolist()]


def full_confetti(per_stroke, strokes=MAX_STROKES, seed=0):
    generator = np.random.default_rng(seed)
    return [np.round(generator.uniform(0, 255, (2, per_stroke)), 2).tolist() for _ in range(strokes)]


def confetti():
    return within_crossings(full_confetti, MAX_POINTS // MAX_STROKES)


def random_comb(points=MAX_POINTS, seed=1):
    """Issue 24's drawing: one stroke alternating between the top and bottom edges at random x."""
    xs = np.random.default_rng(seed).integers(0, 256, points).tolist()
    return [[xs, [0 if i % 2 == 0 else 255 for i in range(points)]]]


def searched():
    """The costliest drawing bench.shapes --search found, or None before any search."""
    if not SEARCHED.is_file():
        return None
    return json.loads(SEARCHED.read_text())["drawing"]


SHAPES = {"zigzag": zigzag, "comb": comb, "spiral": spiral, "scribble": scribble, "confetti": confetti,
          "searched": searched}


def worst_drawings():
    """Every shape within the limits, by name (rasterize() accepts each)."""
    drawings = {name: make() for name, make in SHAPES.items()}
    return {name: drawing for name, drawing in drawings.items() if drawing is not None}


def flat_comb(points=MAX_POINTS):
    """This module's comb before issue 24: x climbs to 4,999, so y's teeth span 13 units once scaled."""
    return [[list(range(points)), [0 if i % 2 == 0 else 255 for i in range(points)]]]


def refused_drawings():
    """Shapes beyond MAX_CROSSINGS, by name: rasterize() refuses each after simplifying it."""
    return {"comb at 5,000 points": full_comb(MAX_POINTS), "confetti at 5,000 points": full_confetti(MAX_POINTS // MAX_STROKES),
            "random comb (issue 24)": random_comb(), "flat comb (before issue 24)": flat_comb()}


def cpu_seconds(drawing, repeats):
    """The least CPU time of `repeats` calls of rasterize() (refusals count: they cost too)."""
    best = math.inf
    for _ in range(repeats):
        started = time.process_time()
        try:
            raster.rasterize(drawing)
        except ValueError:
            pass
        best = min(best, time.process_time() - started)
    return best


def as_genome(drawing):
    """A drawing as integer strokes in 0..255, as normalization would frame it."""
    strokes = [np.array(stroke[:2], dtype=np.float64) for stroke in drawing]
    low = np.min([stroke.min(axis=1) for stroke in strokes], axis=0)
    span = max(float(np.max([stroke.max(axis=1) for stroke in strokes]) - low.min()), 1e-9)
    return [np.clip(np.round((stroke - low[:, None]) * 255 / span), 0, 255).astype(np.int64) for stroke in strokes]


def as_drawing(genome):
    return [stroke.tolist() for stroke in genome]


def mutate(genome, generator):
    """A changed copy: noise, extremes, a ramp, a shuffle or a stretch on a block of one stroke, or a
    stroke split, merged, lengthened or shortened. Stays within MAX_POINTS and MAX_STROKES."""
    genome = [stroke.copy() for stroke in genome]
    index = int(generator.integers(len(genome)))
    stroke = genome[index]
    count = stroke.shape[1]
    length = int(min(count, max(1, round(2 ** generator.uniform(0, math.log2(count + 1))))))
    first = int(generator.integers(0, count - length + 1))
    block = slice(first, first + length)
    axis = int(generator.integers(0, 3))  # x, y, or both
    axes = [0, 1] if axis == 2 else [axis]
    total = sum(each.shape[1] for each in genome)
    move = generator.integers(0, 9)
    if move == 0:
        for each in axes:
            stroke[each, block] += np.round(generator.normal(0, 2 ** generator.uniform(0, 7), length)).astype(np.int64)
    elif move == 1:
        phase = int(generator.integers(0, 2))
        for each in axes:
            stroke[each, block] = np.where((np.arange(length) + phase) % 2 == 0, 0, 255)
    elif move == 2:
        for each in axes:
            stroke[each, block] = np.round(np.linspace(*generator.integers(0, 256, 2), length)).astype(np.int64)
    elif move == 3:
        stroke[:, block] = stroke[:, block][:, generator.permutation(length)]
    elif move == 4 and len(genome) < MAX_STROKES and count > 1:
        cut = int(generator.integers(1, count))
        genome[index:index + 1] = [stroke[:, :cut], stroke[:, cut:]]
    elif move == 5 and index + 1 < len(genome):
        genome[index:index + 2] = [np.concatenate([stroke, genome[index + 1]], axis=1)]
    elif move == 6 and total < MAX_POINTS:
        extra = stroke[:, block][:, :MAX_POINTS - total]
        genome[index] = np.concatenate([stroke[:, :first + length], extra, stroke[:, first + length:]], axis=1)
    elif move == 7 and count > length:
        genome[index] = np.delete(stroke, np.arange(first, first + length), axis=1)
    elif move == 8:
        # Stretch or squeeze the block about its lowest value: how a shape is tuned to a limit.
        factor = 2 ** generator.uniform(-1, 1)
        for each in axes:
            low = stroke[each, block].min()
            stroke[each, block] = low + np.round((stroke[each, block] - low) * factor).astype(np.int64)
    for each in genome:
        np.clip(each, 0, 255, out=each)
    return genome


def starting_genomes(generator):
    """The hand-made shapes (with the last search's find, so that searches build on each other), the
    refused ones, and random drawings at MAX_POINTS."""
    drawings = list(worst_drawings().values()) + list(refused_drawings().values())
    drawings += [[generator.integers(0, 256, (2, MAX_POINTS)).tolist()],
                 [generator.integers(0, 256, (2, MAX_POINTS // MAX_STROKES)).tolist() for _ in range(MAX_STROKES)]]
    return [as_genome(drawing) for drawing in drawings]


def search(seconds=120.0, seed=0, repeats=3, keep=4):
    """Hill-climbing for the drawing that costs rasterize() the most CPU time, within `seconds`.

    Keeps the `keep` costliest drawings found; each round mutates one of them and keeps the result if it
    costs more than the cheapest kept (confirmed by timing it `repeats` times). Returns the costliest, its
    CPU seconds and the number of drawings tried."""
    generator = np.random.default_rng(seed)
    deadline = time.monotonic() + seconds
    pool = sorted(((cpu_seconds(as_drawing(genome), 2), genome) for genome in starting_genomes(generator)),
                  key=lambda entry: -entry[0])[:keep]
    tried = 0
    while time.monotonic() < deadline:
        parent = pool[int(generator.integers(len(pool)))][1]
        child = mutate(parent, generator)
        tried += 1
        if cpu_seconds(as_drawing(child), 1) > pool[-1][0]:
            cost = cpu_seconds(as_drawing(child), repeats)
            if cost > pool[-1][0]:
                pool = sorted(pool[:-1] + [(cost, child)], key=lambda entry: -entry[0])
    cost, genome = pool[0]
    return as_drawing(genome), cost, tried


def javascript_milliseconds(drawings, repeats=5):
    """raster.js's rasterize() on each drawing ({name: drawing}), through bench/raster_timing.mjs."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(drawings, handle)
        handle.flush()
        return json.loads(subprocess.run(["node", str(ROOT / "bench" / "raster_timing.mjs"), handle.name, str(repeats)],
                                         capture_output=True, text=True, check=True, timeout=300).stdout)


def describe(drawing):
    """Strokes, points, and what the rasterizer would do with them."""
    try:
        raster.rasterize(drawing)
        outcome = "accepted"
    except ValueError as error:
        outcome = str(error)
    return {"strokes": len(drawing), "points": sum(len(stroke[0]) for stroke in drawing), "outcome": outcome}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="search for the costliest drawing and save it")
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the search may take")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.search:
        print(json.dumps({name: describe(drawing) for name, drawing in (worst_drawings() | refused_drawings()).items()},
                         indent=2))
        return 0
    if not (0 < args.seconds <= 3600):
        print(f"error: --seconds must be more than 0 and at most 3600, got {args.seconds}", file=sys.stderr)
        return 2
    drawing, cost, tried = search(args.seconds, args.seed)
    result = {"drawing": drawing, "python_cpu_ms": round(cost * 1000, 1),
              "javascript_ms": javascript_milliseconds({"searched": drawing})["searched"],
              "search": {"seconds": args.seconds, "seed": args.seed, "drawings_tried": tried}} | describe(drawing)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # One line: the drawing is 10,000 numbers, which an indented file would spread over as many lines.
    SEARCHED.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(json.dumps({key: value for key, value in result.items() if key != "drawing"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
