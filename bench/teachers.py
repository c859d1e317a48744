"""Students distilled from every teacher at hand (issue 20), three seeds each, against DoodleNet and the
network they replace.

    make students             # trains the students at seeds 1338 and 1339 (seed 1337 is runs/sketchnet), then this
    python -m bench.teachers  # prints JSON, writes bench/results/teachers.json
    python -m bench.teachers --seeds 1337     # only the students named (the table says which)

The student is the shipped architecture trained on the mean of two teachers' mirror-averaged guesses mixed
with the labels (`training.train --teacher runs/teacher ../shared/anchors/doodlenet`): our own network
(runs/teacher, the previously shipped recipe) and ml5's DoodleNet (MIT), restricted to our classes and
renormalized. It reads each drawing once per guess. Measured here on the same 14,231 test bitmaps and 503
real stroke drawings as every other route (the split of `--split-seed 1337`), against:
- the network it replaces, as it shipped: runs/teacher averaged with its mirror image (two passes a guess);
- DoodleNet restricted to our classes (`bench.accuracy`'s figures, one pass);
- the teachers' ensemble itself, which no student is expected to pass: it costs both networks and two passes.

Each comparison is paired, drawing by drawing, with McNemar's exact test pooled over the three seeds
(`bench.routes.mcnemar`). Figures are of the Keras runs in float32; the web export's (uint8) are in
`bench/results/accuracy.json`.
"""

import json
import sys
import time

import numpy as np

from bench.common import ROOT, SHARED, machine, write_result
from bench.routes import mcnemar

SEEDS = (1337, 1338, 1339)
DATA_DIR = SHARED / "data" / "quickdraw"
DOODLENET = SHARED / "anchors" / "doodlenet"
TEACHER_RUN = ROOT / "runs" / "teacher"
FIGURES = ("test_top1", "test_top3", "strokes_top1")


def student_folder(seed):
    """Seed 1337's student is the shipped run; the others live in runs/students/ (not committed)."""
    return ROOT / "runs" / "sketchnet" if seed == 1337 else ROOT / "runs" / "students" / f"student-{seed}"


def correct_of(probabilities, labels):
    """(top-1 correct, top-3 correct) per drawing."""
    top = np.argsort(-probabilities, axis=1)
    return top[:, 0] == labels, np.any(top[:, :3] == labels[:, None], axis=1)


def summarize(per_seed, reference=None):
    """Mean, spread and per-seed values of each figure, and McNemar against a reference's per-drawing
    results (pooled over the seeds, the reference repeated for each seed when it has one entry)."""
    figures = {}
    seeds = sorted(per_seed)
    for position, name in enumerate(FIGURES):
        values = [float(per_seed[seed][position].mean()) for seed in seeds]
        figures[name] = {"mean": round(float(np.mean(values)), 4), "spread": round(float(np.std(values)), 4),
                         "per_seed": [round(value, 4) for value in values]}
        for reference_name, reference_results in (reference or {}).items():
            pooled_reference = np.concatenate([reference_results[position] for _ in seeds])
            pooled = np.concatenate([per_seed[seed][position] for seed in seeds])
            only_reference, only_candidate, p = mcnemar(pooled_reference, pooled)
            figures[name][f"against_{reference_name}"] = {"only_it": only_reference, "only_student": only_candidate,
                                                          "p": round(p, 4)}
    return figures


def main(argv=None):
    from training.cli import ArgumentParser, count_argument, start_tensorflow_quietly

    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=count_argument(0), nargs="+", default=list(SEEDS),
                        help="the students to measure (default: all three)")
    seeds = sorted(set(parser.parse_args(argv).seeds))
    missing = [str(student_folder(seed).relative_to(ROOT)) for seed in seeds
               if not (student_folder(seed) / "model.h5").is_file()]
    if not (TEACHER_RUN / "model.h5").is_file():
        missing.append(str(TEACHER_RUN.relative_to(ROOT)))
    if missing:
        print(f"error: not trained: {', '.join(missing)} (make students trains them)", file=sys.stderr)
        return 2
    start_tensorflow_quietly()

    from training import data as quickdraw
    from training import train
    from training.model import mirror_average

    started = time.perf_counter()
    config = json.loads((student_folder(1337) / "config.json").read_text())
    class_names = config["classes"]
    data = quickdraw.load_data(DATA_DIR, class_names, seed=quickdraw.split_seed(config),
                               validation_fraction=config["validation_fraction"],
                               test_fraction=config["test_fraction"], use_twins=True)
    test_images, test_labels = data.arrays("test")
    stroke_images, stroke_labels, _ = train.load_stroke_set(DATA_DIR / "strokes", class_names)

    def results_of(predict):
        test_top1, test_top3 = correct_of(predict(test_images), test_labels)
        strokes_top1, _ = correct_of(predict(stroke_images), stroke_labels)
        return test_top1, test_top3, strokes_top1

    # The students and teachers predict as training.train's teachers do (a run folder or DoodleNet's).
    doodlenet = train.load_teacher(DOODLENET, class_names)
    teacher = train.load_teacher(TEACHER_RUN, class_names)
    references = {
        "doodlenet": results_of(doodlenet),
        "replaced": results_of(lambda images: mirror_average(teacher, images)),
    }
    ensemble = results_of(lambda images: (mirror_average(teacher, images) + mirror_average(doodlenet, images)) / 2)
    students, students_mirrored = {}, {}
    for seed in seeds:
        predict = train.load_teacher(student_folder(seed), class_names)
        students[seed] = results_of(predict)
        students_mirrored[seed] = results_of(lambda images, predict=predict: mirror_average(predict, images))

    student_config = {key: config[key] for key in ("teacher_weight", "mirror_inputs", "epochs", "learning_rate",
                                                   "label_smoothing", "twin_fraction")}
    write_result("teachers", {
        "seeds": seeds, "test_drawings": int(len(test_labels)), "stroke_drawings": int(len(stroke_labels)),
        "teachers": config["teachers"], "student_settings": student_config,
        # Each student's training time as its run recorded it (runs/students/ is not committed).
        "training_seconds": {str(seed): json.loads((student_folder(seed) / "metrics.json").read_text())
                             ["training_seconds"] for seed in seeds},
        "routes": {
            "student (one pass)": {"passes_per_guess": 1, **summarize(students, references)},
            "student averaged with its mirror image": {"passes_per_guess": 2,
                                                       **summarize(students_mirrored, references)},
            "replaced: runs/teacher averaged with its mirror image (shipped before)": {
                "passes_per_guess": 2, **summarize({1337: references["replaced"]})},
            "DoodleNet, restricted to our classes": {"passes_per_guess": 1,
                                                     **summarize({1337: references["doodlenet"]})},
            "the teachers' ensemble (reference, both networks)": {"passes_per_guess": 4,
                                                                  **summarize({1337: ensemble})},
        },
        "seconds": round(time.perf_counter() - started), "machine": machine(),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
