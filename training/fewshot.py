"""A model for new classes from a few stroke drawings each, on top of the shipped network's features.

    python -m training.fewshot --preset body-parts --out runs/body-parts      # then export.py as any run
    python -m training.fewshot --classes arm spiral --extra-strokes taught-shipped.ndjson --out runs/mine

For classes with only a handful of drawings (the shared stroke files hold 10 to 29 per class), training a
network is out of the question, but the shipped network already turns a sketch into 1,152 features
(its flattened 3x3x128 grid) that separate shapes well. So each drawing is multiplied by stroke-level
augmentation through our own rasterizer (the same geometry the page produces), the frozen network turns
every copy into features, and a new softmax layer learns the classes from them. Classes that also have
bitmaps contribute a sample of those. Nothing is fine-tuned: on a few hundred drawings the extra
parameters would mostly learn the drawings by heart.

Classes taught in the page, exported as ndjson, feed it with --extra-strokes: their drawings join their
classes' stroke files (a class may have only those). Accuracy is measured without a test split: K-fold over the stroke drawings (every drawing is held out
once, with all the copies made from it), and written per class into metrics.json like any run's test
figures. The run folder (model.h5, config.json, metrics.json) exports with export.py and serves with
serve.py --model unchanged. Bad input exits with status 2 and one line.
"""

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from training import data as quickdraw
from training.cli import ArgumentParser, OutputFolder, start_tensorflow_quietly
from training.model import FEATURE_LAYER
from training.ndjson import read_ndjson
from training.raster import rasterize

RUN_FILES = ("model.h5", "config.json", "metrics.json")

# Hyperparameters, in one place. Copies per drawing: enough that the head sees each drawing in many framings;
# more bought nothing in the K-fold figures. The augmentation ranges are the ways one person's sketch of a
# thing differs from another's: a little rotation, aspect and shear, strokes placed a bit apart, a stroke
# left out or stopped short, a shaky hand.
FEWSHOT_DEFAULTS = {
    "copies_per_drawing": 40,
    "bitmaps_per_class": 200,  # from classes that have bitmaps; the rest of the class is stroke drawings
    "folds": 5,
    "epochs": 60,
    "learning_rate": 3e-3,
    "dropout_rate": 0.3,
    "rotation_degrees": 15.0,
    "aspect_jitter": 0.15,
    "shear": 0.2,
    "stroke_shift": 6.0,       # units of the 0..255 drawing box, per stroke
    "point_noise": 1.5,        # units, per point
    "drop_stroke": 0.15,       # chance of leaving out each stroke of a drawing with several
    "truncate_stroke": 0.25,   # chance of stopping the last stroke short
}


def augment(drawing, rng, settings):
    """A new copy of a drawing, changed the ways one person's sketch differs from another's."""
    strokes = [np.array(stroke[:2], dtype=np.float64) for stroke in drawing]
    if len(strokes) > 1:
        kept = [stroke for stroke in strokes if rng.random() >= settings["drop_stroke"]]
        strokes = kept or [strokes[int(rng.integers(len(strokes)))]]
    if rng.random() < settings["truncate_stroke"] and strokes[-1].shape[1] > 2:
        last = strokes[-1]
        strokes[-1] = last[:, :max(2, math.ceil(last.shape[1] * rng.uniform(0.6, 1.0)))]
    angle = math.radians(rng.uniform(-1, 1) * settings["rotation_degrees"])
    aspect = 1 + rng.uniform(-1, 1) * settings["aspect_jitter"]
    shear = rng.uniform(-1, 1) * settings["shear"]
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    transform = rotation @ np.array([[aspect, shear], [0.0, 1 / aspect]])
    result = []
    for stroke in strokes:
        shift = rng.normal(0, settings["stroke_shift"], (2, 1))
        points = transform @ stroke + shift + rng.normal(0, settings["point_noise"], stroke.shape)
        result.append(np.round(points, 2).tolist())
    return result


def load_drawings(strokes_dir, class_names, extra_paths=()):
    """Every stroke drawing of each class, from its stroke file and from ndjson files of labelled drawings
    (`word` names the class): (drawings, class ids). ValueError names a class with fewer than two, or a
    drawing labelled with a class this run does not have."""
    extra = {name: [] for name in class_names}
    for path in extra_paths:
        # Drawings taught in the page are checked as rasterize() will use them, so that a bad one stops
        # the run here with its file and line, rather than during training.
        for record in read_ndjson(path, check_drawing=rasterize):
            if record.get("word") not in extra:
                raise ValueError(f"{path}: drawing labelled {record.get('word')!r}, which is not a class of this run")
            extra[record["word"]].append(record["drawing"])
    drawings, labels = [], []
    for class_id, name in enumerate(class_names):
        path = Path(strokes_dir) / f"{name}.ndjson"
        found = [record["drawing"] for record in read_ndjson(path)] if path.is_file() else []
        found += extra[name]
        if not found:
            raise ValueError(f"no stroke drawings for class {name!r}: {path} does not exist and no --extra-strokes "
                             "drawing is labelled so")
        if len(found) < 2:
            raise ValueError(f"class {name!r} has {len(found)} drawing; a class needs at least 2")
        drawings += found
        labels += [class_id] * len(found)
    return drawings, np.array(labels, dtype=np.int32)


def build_head(num_features, num_classes, dropout_rate, seed):
    import tf_keras as keras
    from tf_keras import layers

    return keras.Sequential([keras.Input((num_features,)), layers.Dropout(dropout_rate, seed=seed),
                             layers.Dense(num_classes, activation="softmax", name="fewshot_probabilities")])


def train_head(features, labels, num_classes, settings, seed):
    """A softmax layer on the features, every class weighted equally whatever its number of examples."""
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    head = build_head(features.shape[1], num_classes, settings["dropout_rate"], seed)
    counts = np.bincount(labels, minlength=num_classes)
    weights = (len(labels) / (num_classes * counts))[labels]
    head.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]),
                 loss="sparse_categorical_crossentropy")
    head.fit(features, labels, sample_weight=weights, epochs=settings["epochs"], batch_size=256, verbose=0,
             shuffle=True)
    return head


def fold_of_each_drawing(labels, folds, seed):
    """Stratified folds: each class's drawings dealt round-robin in a seeded order."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), dtype=np.int32)
    for class_id in np.unique(labels):
        members = rng.permutation(np.nonzero(labels == class_id)[0])
        fold[members] = np.arange(len(members)) % folds
    return fold


def build(config, out, verbose=True):
    """Features, K-fold evaluation, the final head, and the run folder's three files."""
    import tf_keras as keras
    from tf_keras import layers

    from training.metrics import classification_metrics, confidence_threshold

    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()  # the same seed gives the same model, byte for byte, on one machine
    started = time.perf_counter()
    settings = config["settings"]
    class_names = config["classes"]
    base = keras.models.load_model(Path(config["base"]) / "model.h5", compile=False)
    extractor = keras.Model(base.input, base.get_layer(FEATURE_LAYER).output)
    drawings, labels = load_drawings(config["strokes_dir"], class_names, config["extra_strokes"])
    rng = np.random.default_rng(config["seed"])
    copies = settings["copies_per_drawing"]
    # Row r of the copies belongs to drawing r // (copies + 1); the first copy of each is the drawing itself.
    all_copies = [copy for drawing in drawings for copy in [drawing] + [augment(drawing, rng, settings)
                                                                        for _ in range(copies)]]
    copy_features = extractor.predict(quickdraw.drawings_input(all_copies), batch_size=512, verbose=0)
    copy_owner = np.repeat(np.arange(len(drawings)), copies + 1)
    drawing_features = copy_features[::copies + 1]
    bitmap_features, bitmap_labels = [], []
    for class_id, name in enumerate(class_names):
        path = quickdraw.class_file(config["data_dir"], name) if Path(config["data_dir"]).is_dir() else None
        if path is None:
            continue
        rows = quickdraw.open_bitmaps(path)
        chosen = np.sort(rng.choice(len(rows), size=min(settings["bitmaps_per_class"], len(rows)), replace=False))
        bitmap_features.append(extractor.predict(quickdraw.model_input(rows[chosen]), batch_size=512, verbose=0))
        bitmap_labels.append(np.full(len(chosen), class_id, dtype=np.int32))
    bitmap_features = np.concatenate(bitmap_features) if bitmap_features else np.zeros((0, copy_features.shape[1]))
    bitmap_labels = np.concatenate(bitmap_labels) if bitmap_labels else np.zeros(0, dtype=np.int32)

    # K-fold: every drawing is predicted once by a head that never saw it nor any copy of it.
    fold = fold_of_each_drawing(labels, settings["folds"], config["seed"])
    held_out = np.zeros((len(drawings), len(class_names)), dtype=np.float32)
    for index in range(settings["folds"]):
        training_rows = fold[copy_owner] != index
        features = np.concatenate([copy_features[training_rows], bitmap_features])
        targets = np.concatenate([labels[copy_owner][training_rows], bitmap_labels])
        head = train_head(features, targets, len(class_names), settings, config["seed"] + index)
        held_out[fold == index] = head.predict(drawing_features[fold == index], verbose=0)
        if verbose:
            print(f"fold {index + 1} of {settings['folds']}: "
                  f"{np.mean(held_out[fold == index].argmax(1) == labels[fold == index]):.3f}", file=sys.stderr)
    evaluation = classification_metrics(held_out, labels, class_names)

    head = train_head(np.concatenate([copy_features, bitmap_features]),
                      np.concatenate([labels[copy_owner], bitmap_labels]), len(class_names), settings,
                      config["seed"])
    x = layers.Dropout(settings["dropout_rate"], name="fewshot_dropout")(extractor.output)
    outputs = layers.Dense(len(class_names), activation="softmax", name="fewshot_probabilities")(x)
    model = keras.Model(base.input, outputs, name="fewshot")
    model.get_layer("fewshot_probabilities").set_weights(head.layers[-1].get_weights())
    model.save(out / "model.h5", include_optimizer=False)
    metrics = {
        "model": config["model"],
        "parameters": int(model.count_params()),
        "evaluation": f"{settings['folds']}-fold over the stroke drawings; every drawing held out once with "
                      "all its copies",
        "test": evaluation,
        "drawings": {name: int(np.sum(labels == class_id)) for class_id, name in enumerate(class_names)},
        "bitmaps": {name: int(np.sum(bitmap_labels == class_id)) for class_id, name in enumerate(class_names)},
        "confidence_threshold": confidence_threshold(held_out, labels),
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", nargs="+", help="class names, each with a stroke file")
    parser.add_argument("--preset", help="a class preset, e.g. body-parts")
    parser.add_argument("--data-dir", default=str(quickdraw.DEFAULT_DATA_DIR),
                        help="holds strokes/ (required) and bitmaps/ (used where a class has them)")
    parser.add_argument("--base", default=str(quickdraw.REPO_ROOT / "runs" / "sketchnet"),
                        help="the training run whose network gives the features")
    parser.add_argument("--out", required=True, help="output folder, e.g. runs/body-parts")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it holds an earlier run")
    parser.add_argument("--seed", type=int, default=quickdraw.DEFAULT_SEED)
    parser.add_argument("--copies", type=int, default=FEWSHOT_DEFAULTS["copies_per_drawing"],
                        help="augmented copies per drawing")
    parser.add_argument("--extra-strokes", nargs="*", default=[],
                        help="ndjson files of labelled drawings (things taught in the page, exported) added to "
                             "their classes")
    args = parser.parse_args(argv)
    out = OutputFolder(args.out, owned=lambda name: name in RUN_FILES, tool="training.fewshot",
                       overwrite=args.overwrite)
    try:
        if bool(args.classes) == bool(args.preset):
            raise ValueError("give either --classes or --preset")
        class_names = quickdraw.resolve_classes(args.data_dir, args.classes, args.preset)
        if len(class_names) < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {len(class_names)}")
        if args.copies < 0:
            raise ValueError(f"--copies must be at least 0, got {args.copies}")
        if not (Path(args.base) / "model.h5").is_file():
            raise ValueError(f"--base {args.base} is not a training run: model.h5 is missing")
        strokes_dir = Path(args.data_dir) / "strokes"
        for path in args.extra_strokes:
            if not Path(path).is_file():
                raise ValueError(f"--extra-strokes file {path} does not exist")
        extra_strokes = [str(Path(path).resolve()) for path in args.extra_strokes]
        load_drawings(strokes_dir, class_names, extra_strokes)
        out.check()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = {"model": "fewshot", "classes": class_names, "seed": args.seed,
              "base": str(Path(args.base).resolve()), "data_dir": str(Path(args.data_dir).resolve()),
              "strokes_dir": str(strokes_dir.resolve()), "extra_strokes": extra_strokes,
              "settings": FEWSHOT_DEFAULTS | {"copies_per_drawing": args.copies}}
    start_tensorflow_quietly()
    try:
        with out.staging() as staging:
            metrics = build(config, staging)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(out.path), "kfold_top1": metrics["test"]["top1"],
                      "per_class": {name: round(values["recall"], 3)
                                    for name, values in metrics["test"]["per_class"].items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
