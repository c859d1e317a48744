"""Routes toward DoodleNet's accuracy (issue 16), each measured over three seeds with paired tests.

    make routes               # trains the seeds' runs (five trainings like the shipped one), then runs this
    python -m bench.routes    # evaluates every route on those runs; prints JSON, writes bench/results/routes.json

The runs: the recipe shipped before issue 20 at seeds 1337 (runs/teacher), 1338 and 1339 (runs/routes/baseline-SEED),
and a student distilled from each (runs/routes/distilled-SEED, `training.train --teacher`). Every run shares
one split (`--split-seed 1337`), so every route is measured on the same 14,231 test drawings and the same 503
real stroke drawings, and a route is compared with the baseline of its own seed drawing by drawing.

The routes, as the issue names them:
- test-time mirror averaging (`training.model.mirror_average`), for every class, or only for the classes
  where it does not lower validation recall;
- the denoised domain on both sides: at test time the drawing is passed through the noise that the denoised
  classes' leftovers come from (grey pixels inverted, v to 255 - v, at the rate `twins/` shows for each grey
  level) and the predictions of a few draws are averaged; with the model as trained (half its clean drawings
  read as twins) and after a short fine-tuning on twins only;
- real strokes as training data: the baseline fine-tuned for one epoch on a sample of its training bitmaps
  plus stroke-level augmented copies of the shared stroke drawings (`training.fewshot.augment`), with its
  real-stroke accuracy measured by 5-fold over the drawings (each drawing held out with all its copies) and
  its test figures from the same fine-tuning on all drawings; beside it the same fine-tuning without strokes,
  so that the effect of the strokes is not confused with the effect of fine-tuning;
- distillation from the same seed's baseline, averaged with its mirror image (born-again networks);
- two networks in one guess: each seed's run averaged with the next seed's.

Paired tests: McNemar's exact test on the drawings one of the two predicts right and the other wrong, pooled
over the three seeds' pairs.

Measuring one seed takes minutes (seven short fine-tunings), so what each run gave is kept in
runs/routes/measured-*.npz under a hash of the model and the settings, and read back while both are
unchanged. A table over fewer runs than asked for is never written: a missing run is an error (exit 2).
"""

import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass

import numpy as np

from bench.common import RESULTS, ROOT, SHARED, machine, write_result

SEEDS = (1337, 1338, 1339)
DATA_DIR = SHARED / "data" / "quickdraw"

# Hyperparameters of the routes, in one place. Fine-tuning is short (one epoch over a sample) and slow (a
# tenth of the training rate), so it adapts the network without undoing its training; the copies are the
# few-shot module's augmentation, about twenty per drawing, so that ~400 drawings weigh about a quarter of
# the epoch. Twin draws: 4, each one more prediction per guess (their cost is not measured here).
FINETUNE = {"epochs": 1, "learning_rate": 3e-4, "bitmaps": 30000, "copies_per_drawing": 20, "folds": 5,
            "batch_size": 128, "label_smoothing": 0.1}
TWIN_DRAWS = 4
MEASURE_VERSION = 1  # bump when a route's measurement changes, so that runs/routes/measured-*.npz are redone


def run_folder(route, seed):
    if route == "baseline" and seed == 1337:
        return ROOT / "runs" / "teacher"  # the recipe shipped until issue 20, now the student's teacher
    return ROOT / "runs" / "routes" / f"{route}-{seed}"


def mcnemar(reference_correct, candidate_correct):
    """Exact two-sided McNemar test: (drawings only the reference gets right, only the candidate, p).

    Under the null hypothesis each discordant drawing is equally likely to favour either model, so the
    smaller count is binomial(discordant, 1/2) (https://en.wikipedia.org/wiki/McNemar%27s_test).
    """
    only_reference = int(np.sum(reference_correct & ~candidate_correct))
    only_candidate = int(np.sum(~reference_correct & candidate_correct))
    discordant = only_reference + only_candidate
    if discordant == 0:
        return only_reference, only_candidate, 1.0
    tail = sum(math.comb(discordant, k) for k in range(min(only_reference, only_candidate) + 1)) / 2 ** discordant
    return only_reference, only_candidate, min(1.0, 2 * tail)


def inversion_rates(data, denoised_ids):
    """P(a pixel of grey level v is inverted in the twin), from the clean classes' training rows."""
    class_ids, row_ids = data.splits["train"]
    counts, inverted = np.zeros(256), np.zeros(256)
    for class_id in np.unique(class_ids):
        if class_id in denoised_ids:
            continue
        rows = np.sort(row_ids[class_ids == class_id])
        stored, twin = data.bitmaps[class_id][rows], data.twins[class_id][rows]
        counts += np.bincount(stored.ravel(), minlength=256)
        inverted += np.bincount(stored[stored != twin], minlength=256)
    return inverted / np.maximum(counts, 1)


def twin_average(predict, images, rates, draws, seed):
    """Mean prediction over `draws` copies of each image with pixels inverted at the twins' rates."""
    rng = np.random.default_rng(seed)
    levels = np.rint(images[..., 0] * 255).astype(np.int64)
    total = 0
    for _ in range(draws):
        flip = rng.random(levels.shape) < rates[levels]
        noisy = np.where(flip, 255 - levels, levels).astype(np.float32)[..., None] / 255
        total = total + predict(noisy)
    return total / draws


def predictor(model):
    """A model's batch prediction as a plain function of images."""
    return lambda images: model.predict(images, batch_size=1024, verbose=0)


def mirror_average_for(predict, images, classes):
    """Mirror averaging for the given classes only (booleans, one per class): the others keep the
    unmirrored probability, and each row is renormalized."""
    from training.model import mirror_average

    probabilities = predict(images)
    averaged = np.where(np.asarray(classes, bool)[None, :], mirror_average(predict, images), probabilities)
    return averaged / averaged.sum(axis=1, keepdims=True)


def mirror_classes(model_predict, validation_images, validation_labels):
    """The classes whose validation recall mirror averaging does not lower."""
    from training.model import mirror_average

    plain = model_predict(validation_images).argmax(1)
    averaged = mirror_average(model_predict, validation_images).argmax(1)
    keep = []
    for class_id in range(int(validation_labels.max()) + 1):
        members = validation_labels == class_id
        keep.append(bool(np.sum(averaged[members] == class_id) >= np.sum(plain[members] == class_id)))
    return np.array(keep)


def fine_tune(run, data, seed, drawings, drawing_labels, twin_fraction, tag):
    """One epoch on a sample of training bitmaps plus augmented copies of the given drawings; a new model."""
    import tensorflow as tf
    import tf_keras as keras

    from training import data as quickdraw
    from training.fewshot import FEWSHOT_DEFAULTS, augment
    from training.train import SmoothedSparseCrossentropy

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(seed)
    class_ids, row_ids = data.splits["train"]
    chosen = np.sort(rng.choice(len(class_ids), size=FINETUNE["bitmaps"], replace=False))
    use_twin = rng.random(len(chosen)) < twin_fraction
    images = [data.gather(class_ids[chosen], row_ids[chosen], use_twin)]
    labels = [class_ids[chosen]]
    if drawings:
        copies = [augment(drawing, rng, FEWSHOT_DEFAULTS) for drawing in drawings
                  for _ in range(FINETUNE["copies_per_drawing"])]
        images.append(quickdraw.drawings_input(list(drawings) + copies))
        labels.append(np.concatenate([drawing_labels, np.repeat(drawing_labels, FINETUNE["copies_per_drawing"])]))
    images, labels = np.concatenate(images), np.concatenate(labels).astype(np.int32)
    model = keras.models.load_model(run / "model.h5", compile=False)
    model.compile(optimizer=keras.optimizers.Adam(FINETUNE["learning_rate"]),
                  loss=SmoothedSparseCrossentropy(FINETUNE["label_smoothing"], model.output_shape[-1]))
    started = time.perf_counter()
    model.fit(images, labels, epochs=FINETUNE["epochs"], batch_size=FINETUNE["batch_size"], shuffle=True,
              verbose=0)
    print(f"fine-tuned {run.name} ({tag}) in {time.perf_counter() - started:.0f} s", flush=True)
    return model


def save_measured(path, key, measured):
    """{route: (test correct, test top-3 correct, strokes correct)} of one run, with the key it was made under."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"route{index}_{part}": values for index, triple in enumerate(measured.values())
              for part, values in enumerate(triple)}
    np.savez_compressed(path, key=key, names=json.dumps(list(measured)), **arrays)


def load_measured(path, key):
    """What save_measured wrote, or None when there is nothing or it was made under another key."""
    if not path.is_file():
        return None
    with np.load(path) as stored:
        if str(stored["key"]) != key:
            return None
        return {name: tuple(stored[f"route{index}_{part}"] for part in range(3))
                for index, name in enumerate(json.loads(str(stored["names"])))}


@dataclass
class Context:
    """What every measurement reads: the run's settings, the split, the stroke drawings, the twins' rates."""

    config: dict
    data: object
    test_images: np.ndarray
    test_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    drawings: list
    stroke_labels: np.ndarray
    stroke_images: np.ndarray
    rates: np.ndarray


# Predictions of the network per guess in the page, by route: the cost of its test-time averaging. A
# distilled student's route costs what the same route costs its teacher. A new route must be named here.
PASSES_PER_GUESS = {
    "as trained": 1,
    "mirror averaging": 2,
    "mirror averaging, classes chosen on validation": 2,
    f"twin noise at test time ({TWIN_DRAWS} draws)": TWIN_DRAWS,
    f"fine-tuned on twins only, twin noise at test time ({TWIN_DRAWS} draws)": TWIN_DRAWS,
    "fine-tuned without strokes (control)": 1,
    "fine-tuned with real strokes": 1,
    "fine-tuned with real strokes, mirror averaging": 2,
    "two seeds averaged": 2,
}


def passes_per_guess(route):
    return PASSES_PER_GUESS[route.removeprefix("distilled, ")]


def measure(source, seed, run, context):
    """Every route that starts from one run: {route: (test correct, test top-3 correct, strokes correct)}."""
    import tf_keras as keras

    from training.fewshot import fold_of_each_drawing
    from training.model import mirror_average

    c = context
    measured = {}

    def record(route, test_probabilities, stroke_probabilities):
        test_top = np.argsort(-test_probabilities, axis=1)[:, :3]
        measured[route] = (test_top[:, 0] == c.test_labels, np.any(test_top == c.test_labels[:, None], axis=1),
                           stroke_probabilities.argmax(1) == c.stroke_labels)

    def both(transform):
        return transform(c.test_images), transform(c.stroke_images)

    predict = predictor(keras.models.load_model(run / "model.h5", compile=False))
    prefix = "" if source == "baseline" else "distilled, "
    record(f"{prefix}as trained", *both(predict))
    record(f"{prefix}mirror averaging", *both(lambda images: mirror_average(predict, images)))
    chosen = mirror_classes(predict, c.validation_images, c.validation_labels)
    record(f"{prefix}mirror averaging, classes chosen on validation",
           *both(lambda images: mirror_average_for(predict, images, chosen)))
    if source == "distilled":
        return measured
    record(f"twin noise at test time ({TWIN_DRAWS} draws)",
           *both(lambda images: twin_average(predict, images, c.rates, TWIN_DRAWS, seed)))

    # Fine-tunings, each from this seed's baseline.
    twin_fraction = c.config["twin_fraction"]
    tuned = predictor(fine_tune(run, c.data, seed, [], [], 1.0, tag="twins only"))
    record(f"fine-tuned on twins only, twin noise at test time ({TWIN_DRAWS} draws)",
           *both(lambda images: twin_average(tuned, images, c.rates, TWIN_DRAWS, seed)))
    tuned = predictor(fine_tune(run, c.data, seed, [], [], twin_fraction, tag="no strokes"))
    record("fine-tuned without strokes (control)", *both(tuned))
    # Real strokes: held-out predictions by K-fold for the strokes, the all-drawings model for the test split.
    fold = fold_of_each_drawing(c.stroke_labels, FINETUNE["folds"], seed)
    held_out = np.zeros((len(c.drawings), c.test_labels.max() + 1), np.float32)
    held_out_mirror = np.zeros_like(held_out)
    for index in range(FINETUNE["folds"]):
        training, testing = np.nonzero(fold != index)[0], fold == index
        tuned = predictor(fine_tune(run, c.data, seed + index + 1, [c.drawings[i] for i in training],
                                    c.stroke_labels[training], twin_fraction, tag=f"strokes, fold {index + 1}"))
        held_out[testing] = tuned(c.stroke_images[testing])
        held_out_mirror[testing] = mirror_average(tuned, c.stroke_images[testing])
    tuned = predictor(fine_tune(run, c.data, seed, c.drawings, c.stroke_labels, twin_fraction, tag="strokes, all"))
    record("fine-tuned with real strokes", tuned(c.test_images), held_out)
    record("fine-tuned with real strokes, mirror averaging", mirror_average(tuned, c.test_images), held_out_mirror)
    return measured


def measure_pairs(seeds, context):
    """Two networks in one guess: each seed's run averaged with the next seed's (the last with the first), as
    two models exported in one graph would be; {route: {seed: (test, test top-3, strokes correct)}}."""
    import tf_keras as keras

    c = context
    result = {}
    for source, route in (("baseline", "two seeds averaged"), ("distilled", "distilled, two seeds averaged")):
        outputs = {}
        for seed in seeds:
            predict = predictor(keras.models.load_model(run_folder(source, seed) / "model.h5", compile=False))
            outputs[seed] = (predict(c.test_images), predict(c.stroke_images))
        for index, seed in enumerate(seeds):
            partner = seeds[(index + 1) % len(seeds)]
            if partner == seed:
                continue
            test = (outputs[seed][0] + outputs[partner][0]) / 2
            strokes = (outputs[seed][1] + outputs[partner][1]) / 2
            top = np.argsort(-test, axis=1)[:, :3]
            result.setdefault(route, {})[seed] = (top[:, 0] == c.test_labels,
                                                  np.any(top == c.test_labels[:, None], axis=1),
                                                  strokes.argmax(1) == c.stroke_labels)
    return result


def main(argv=None):
    from training.cli import ArgumentParser, count_argument, start_tensorflow_quietly

    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=count_argument(0), nargs="+", default=list(SEEDS),
                        help="a subset, for a quick look")  # numpy's generators refuse negative seeds
    seeds = parser.parse_args(argv).seeds
    start_tensorflow_quietly()
    from training import data as quickdraw
    from training.fewshot import load_drawings

    started = time.perf_counter()
    config = json.loads((ROOT / "runs" / "teacher" / "config.json").read_text())
    class_names = config["classes"]
    data = quickdraw.load_data(DATA_DIR, class_names, seed=quickdraw.split_seed(config),
                               validation_fraction=config["validation_fraction"],
                               test_fraction=config["test_fraction"], use_twins=True)
    test_images, test_labels = data.arrays("test")
    validation_images, validation_labels = data.arrays("validation")
    drawings, stroke_labels = load_drawings(DATA_DIR / "strokes", class_names)
    stroke_images = quickdraw.drawings_input(drawings)
    denoised_ids = [class_names.index(name) for name in quickdraw.denoised_classes(DATA_DIR, class_names)]
    context = Context(config, data, test_images, test_labels, validation_images, validation_labels, drawings,
                      stroke_labels, stroke_images, inversion_rates(data, denoised_ids))

    # correct[route][seed] = (test correct, test top-3 correct, strokes correct), booleans per drawing.
    correct, missing = {}, []
    for seed in seeds:
        for source in ("baseline", "distilled"):
            run = run_folder(source, seed)
            if not (run / "model.h5").is_file():
                missing.append(str(run.relative_to(ROOT)))
                continue
            # Measuring a seed takes minutes; what was measured on the same model with the same settings is
            # read back from runs/routes/ instead.
            key = hashlib.sha256((run / "model.h5").read_bytes()
                                 + json.dumps([FINETUNE, TWIN_DRAWS, MEASURE_VERSION]).encode()).hexdigest()
            cache = ROOT / "runs" / "routes" / f"measured-{source}-{seed}.npz"
            measured = load_measured(cache, key)
            if measured is None:
                measured = measure(source, seed, run, context)
                save_measured(cache, key, measured)
            for route, value in measured.items():
                correct.setdefault(route, {})[seed] = value
    if not missing:
        for route, value in measure_pairs(seeds, context).items():
            correct.setdefault(route, {}).update(value)

    if missing:
        # What was measured is kept in runs/routes/; a table over fewer runs than asked for is not written.
        print(f"error: not trained: {', '.join(missing)} (make routes trains them)", file=sys.stderr)
        return 2
    doodlenet = json.loads((RESULTS / "accuracy.json").read_text())["models"]["doodlenet"]
    routes = {}
    for route, per_seed in correct.items():
        route_seeds = sorted(per_seed)
        figures = {}
        for position, name in enumerate(("test_top1", "test_top3", "strokes_top1")):
            values = [float(per_seed[seed][position].mean()) for seed in route_seeds]
            figures[name] = {"mean": round(float(np.mean(values)), 4), "spread": round(float(np.std(values)), 4),
                             "per_seed": [round(value, 4) for value in values]}
            baseline = correct.get("as trained", {})
            if route != "as trained" and all(seed in baseline for seed in route_seeds):
                reference = np.concatenate([baseline[seed][position] for seed in route_seeds])
                candidate = np.concatenate([per_seed[seed][position] for seed in route_seeds])
                only_baseline, only_route, p = mcnemar(reference, candidate)
                figures[name]["against_baseline"] = {"only_baseline": only_baseline, "only_route": only_route,
                                                     "p": round(p, 4)}
        routes[route] = {"seeds": route_seeds, "passes_per_guess": passes_per_guess(route), **figures}
    write_result("routes", {
        "seeds": seeds, "test_drawings": int(len(test_labels)), "stroke_drawings": int(len(stroke_labels)),
        "finetune": FINETUNE, "twin_draws": TWIN_DRAWS,
        "doodlenet": {"test_top1": doodlenet["test_split"]["top1"], "test_top3": doodlenet["test_split"]["top3"],
                      "strokes_top1": doodlenet["real_strokes"]["top1"]},
        "routes": routes, "seconds": round(time.perf_counter() - started), "machine": machine(),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
