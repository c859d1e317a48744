"""How soon the game's win rule fires on real drawings drawn as a person draws them (issue 21, Play).

    python -m bench.game           # prints JSON, writes bench/results/game.json (2 to 4 minutes on 2 cores)
    python -m bench.game --line    # prints the README's line from bench/results/game.json

Every shared real stroke drawing of the shipped model's classes (../shared/data/quickdraw/strokes/<class>.ndjson)
is replayed in its own stroke order: its prefixes, point by point (drawings of more than MAX_PREFIXES points
in MAX_PREFIXES even steps, so that the cost stays bounded), the stroke in progress included, as the page
guesses while a stroke is drawn. Each prefix is rasterized by training.raster (the page's rasterizer's
twin) and guessed by the web model as the server guesses (training.webmodel: the exported weights, averaged
with the mirror image when metadata.json says so). The win rule is web/js/game.js's: the top guess is the
drawing's class and sure, its probability as the page shows it (one decimal) at least the shipped threshold.

Per class: how many drawings the rule fires on at all, how many before the drawing is complete, and at the
first win, the median share of the drawing's ink (length of its strokes) and of its points drawn so far.
"""

import argparse
import json

import numpy as np

from bench.common import RESULTS, ROOT, SHARED, machine, write_result

# A drawing of more points is replayed in this many even steps (the last one the whole drawing).
MAX_PREFIXES = 40
# Classes named in the README's line: the ones the rule fires on least often.
HARDEST = 3


def prefix_counts(points):
    """The point counts of the prefixes replayed: 1..points, or MAX_PREFIXES even steps ending at points."""
    if points <= MAX_PREFIXES:
        return list(range(1, points + 1))
    return sorted({int(np.ceil(step * points / MAX_PREFIXES)) for step in range(1, MAX_PREFIXES + 1)})


def prefix(drawing, count):
    """The drawing's first `count` points, in stroke order (the last stroke possibly cut)."""
    strokes = []
    for xs, ys in drawing:
        if count <= 0:
            break
        strokes.append([xs[:count], ys[:count]])
        count -= len(xs)
    return strokes


def ink_lengths(drawing):
    """The length of ink drawn after each point, cumulative over the drawing's points in order."""
    lengths = []
    total = 0.0
    for xs, ys in drawing:
        for i in range(len(xs)):
            if i > 0:
                total += float(np.hypot(xs[i] - xs[i - 1], ys[i] - ys[i - 1]))
            lengths.append(total)
    return lengths


def is_sure(probability, threshold):
    """web/js/words.js's isSure: the probability as the page shows it, to one decimal, against the threshold so shown."""
    return float(f"{probability * 100:.1f}") >= float(f"{threshold * 100:.1f}")


def first_wins(probabilities, targets, threshold):
    """For each prefix, whether the win rule fires: top-1 is the target class and it is sure."""
    top = probabilities.argmax(axis=1)
    top_probability = probabilities[np.arange(len(top)), top]
    return np.array([t == target and is_sure(p, threshold) for t, p, target in zip(top, top_probability, targets)])


def measure():
    from training import data as quickdraw
    from training.fewshot import load_drawings
    from training.webmodel import guess_probabilities, load_web_model

    model, metadata = load_web_model(ROOT / "web" / "model")
    labels, threshold = metadata["labels"], metadata["confidence_threshold"]
    drawings, classes = load_drawings(SHARED / "data" / "quickdraw" / "strokes", labels)
    # Every prefix of every drawing, guessed in one batch (the model sees each as the page would).
    owners, counts, prefixes = [], [], []
    for index, drawing in enumerate(drawings):
        for count in prefix_counts(sum(len(xs) for xs, _ in drawing)):
            owners.append(index)
            counts.append(count)
            prefixes.append(prefix(drawing, count))
    probabilities = guess_probabilities(model, metadata, quickdraw.drawings_input(prefixes))
    owners = np.array(owners)
    wins = first_wins(probabilities, np.asarray(classes)[owners], threshold)

    per_class = {label: {"drawings": 0, "won": 0, "won_before_complete": 0, "ink": [], "points": []} for label in labels}
    for index, drawing in enumerate(drawings):
        entry = per_class[labels[classes[index]]]
        entry["drawings"] += 1
        rows = np.nonzero(owners == index)[0]
        won = rows[wins[rows]]
        if len(won) == 0:
            continue
        first = won[0]
        total_points = sum(len(xs) for xs, _ in drawing)
        ink = ink_lengths(drawing)
        entry["won"] += 1
        entry["won_before_complete"] += int(counts[first] < total_points)
        entry["ink"].append(ink[counts[first] - 1] / ink[-1] if ink[-1] > 0 else 1.0)
        entry["points"].append(counts[first] / total_points)

    def summary(entry):
        drawings_count = max(entry["drawings"], 1)
        return {
            "drawings": entry["drawings"],
            "won": round(entry["won"] / drawings_count, 4),
            "won_before_complete": round(entry["won_before_complete"] / drawings_count, 4),
            "median_ink_share_at_win": round(float(np.median(entry["ink"])), 3) if entry["ink"] else None,
            "median_point_share_at_win": round(float(np.median(entry["points"])), 3) if entry["points"] else None,
        }

    all_ink = [share for entry in per_class.values() for share in entry["ink"]]
    total = {"drawings": len(drawings), "won": sum(e["won"] for e in per_class.values()),
             "won_before_complete": sum(e["won_before_complete"] for e in per_class.values()), "ink": all_ink,
             "points": [share for entry in per_class.values() for share in entry["points"]]}
    classes_summary = {label: summary(entry) for label, entry in per_class.items()}
    hardest = sorted(classes_summary, key=lambda label: (classes_summary[label]["won"],
                                                         -(classes_summary[label]["median_ink_share_at_win"] or 1)))
    return {
        "model": metadata.get("name"),
        "model_hash": metadata.get("model_hash"),
        "threshold": threshold,
        "mirror_average": bool(metadata.get("mirror_average")),
        "max_prefixes": MAX_PREFIXES,
        "prefixes_guessed": len(prefixes),
        "overall": summary(total),
        "hardest": hardest[:HARDEST],
        "classes": classes_summary,
        "machine": machine(),
    }


def readme_line(result):
    """The README's line: how often and how early the game recognizes real drawings, and the hardest classes."""
    overall = result["overall"]
    hardest = ", ".join(f"{label} {100 * result['classes'][label]['won']:.0f} %" for label in result["hardest"])
    return (f"Drawn stroke by stroke, {100 * overall['won']:.0f} % of the {overall['drawings']} shared real drawings "
            f"win their round ({100 * overall['won_before_complete']:.0f} % before they are finished, typically after "
            f"{100 * overall['median_ink_share_at_win']:.0f} % of their ink); hardest: {hardest}.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line", action="store_true", help="print the README's line from bench/results/game.json")
    args = parser.parse_args(argv)
    if args.line:
        print(readme_line(json.loads((RESULTS / "game.json").read_text())))
        return 0
    import time

    started = time.monotonic()
    result = measure()
    result["seconds"] = round(time.monotonic() - started, 1)
    write_result("game", result)
    print(readme_line(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
