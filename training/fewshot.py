"""A model for new classes from a few stroke drawings each, on top of the shipped network's features.

    python -m training.fewshot --preset body-parts --teacher ../shared/anchors/doodlenet --out runs/body-parts
    python -m training.fewshot --classes arm spiral --extra-strokes taught-shipped.ndjson --out runs/mine

For classes with only a handful of drawings (the shared stroke files hold 10 to 29 per class), training a
network is out of the question, but the shipped network already turns a sketch into 1,152 features
(its flattened 3x3x128 grid) that separate shapes well. So each drawing is multiplied by stroke-level
augmentation through our own rasterizer (the same geometry the page produces), the frozen network turns
every copy into features, and a new softmax layer learns the classes from them. Classes that also have
bitmaps contribute a sample of those, and every copy also joins as its mirror image (a body part means the same
mirrored). Nothing is fine-tuned: on a few hundred drawings the extra
parameters would mostly learn the drawings by heart.

Classes taught in the page, exported as ndjson, feed it with --extra-strokes: their drawings join their
classes' stroke files (a class may have only those). Accuracy is measured without a test split: K-fold over
the stroke drawings (every drawing is held out once, with all the copies made from it), and written per class
into metrics.json like any run's test figures.

A teacher (--teacher, a TF.js layers model folder with class_names.txt, such as ml5's DoodleNet in
../shared/anchors/doodlenet, MIT) makes the head's targets the teacher's guess for each copy and bitmap (mixed
with the label by settings["teacher_weight"]), restricted to this run's classes and renormalized: the teacher
learned the body parts from far more drawings than the dozen here, and its probabilities for the wrong classes
say which copies look alike. The teacher is frozen (nothing it reads changes it), so it reads every copy once;
each K-fold head is given the guesses for its own training copies only, and a held-out drawing's copies reach no
head, as input or as target. Its weights are read at training time and are not part of the run. The run's
config.json names it ("teachers"), and export.py copies that credit into metadata.json.

The run folder (model.h5, config.json, metrics.json) exports with export.py and serves with
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
    "mirror_copies": True,     # every copy also joins as its mirror image; bench/body_parts.py measures it
    # Share of a target taken from the teacher's guess (with --teacher; else 0). All of it: DoodleNet's guess for a
    # copy beat the copy's label as a target at every seed (bench/body_parts.py), since a copy cut short or
    # sheared may no longer look like its class, and the teacher says so; the labels still weight the classes.
    "teacher_weight": 1.0,
    # Function matching (Beyer et al., "Knowledge distillation: a good teacher is patient and consistent",
    # https://arxiv.org/abs/2106.05237): with a teacher, this many bitmaps of each class the run does not learn
    # (a cat, a chair) join the head's rows with the teacher's guess among this run's classes as their only
    # target, so the head copies the teacher on drawings unlike its few examples too. Each such row weighs
    # transfer_weight (a labelled row weighs 1 on average). 0 turns it off; bench/body_parts.py measures it.
    "transfer_bitmaps_per_class": 0,
    "transfer_weight": 1.0,
}

# Credit for the teachers this module knows, by folder name: what config.json and the export's metadata say.
TEACHER_CREDITS = {
    "doodlenet": {
        "name": "DoodleNet (ml5.js), 345 Quick, Draw! classes",
        "url": "https://github.com/ml5js/ml5-data-and-models/tree/0612a3e7c51cbffdc5db701dff49d16d1ac26fa8/"
               "models/doodlenet",
        "licence": "MIT",
        "licence_notice": "Copyright (c) 2018 ml5",
        "use": "soft targets at training time (its guesses restricted to this model's classes); its weights are "
               "not shipped",
    },
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


def teacher_class_names(folder):
    """The teacher's output order from its class_names.txt (comma- or line-separated, `_` for spaces)."""
    text = (Path(folder) / "class_names.txt").read_text()
    return [name.strip().replace("_", " ") for name in (text.split(",") if "," in text else text.splitlines())
            if name.strip()]


def check_teacher(folder, class_names):
    """ValueError unless folder is a teacher that knows every class; returns its credit."""
    folder = Path(folder)
    if not (folder / "model.json").is_file() or not (folder / "class_names.txt").is_file():
        raise ValueError(f"--teacher {folder} is not a TF.js layers model folder with class_names.txt")
    unknown = [name for name in class_names if name not in teacher_class_names(folder)]
    if unknown:
        raise ValueError(f"--teacher {folder} does not know the classes {', '.join(map(repr, unknown))}")
    return TEACHER_CREDITS.get(folder.name.lower(), {"name": folder.name, "licence": "unknown"})


def load_teacher(folder, class_names):
    """A function from model inputs (ink = 1, as ours and DoodleNet's) to the teacher's guesses restricted to
    class_names and renormalized to sum to 1."""
    from training.webmodel import load_layers_model

    model = load_layers_model(folder)
    columns = [teacher_class_names(folder).index(name) for name in class_names]

    def guess(images):
        chosen = model.predict(images, batch_size=512, verbose=0)[:, columns].astype(np.float64)
        return (chosen / np.maximum(chosen.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)
    return guess


def build_head(num_features, num_classes, dropout_rate, seed):
    import tf_keras as keras
    from tf_keras import layers

    return keras.Sequential([keras.Input((num_features,)), layers.Dropout(dropout_rate, seed=seed),
                             layers.Dense(num_classes, activation="softmax", name="fewshot_probabilities")])


def head_targets(labels, num_classes, settings, teacher_guesses=None):
    """What the head learns from, as (targets, weights): one row of class probabilities and one weight per
    example. Every class weighs the same whatever its number of examples; with teacher_guesses (one row of class
    probabilities per example), a labelled row's target is its label mixed with the teacher's guess
    (settings["teacher_weight"]), and an unlabelled one (label -1: a function-matching row) has the guess as its
    whole target and settings["transfer_weight"] as its weight."""
    labelled = labels >= 0
    counts = np.bincount(labels[labelled], minlength=num_classes)
    weights = np.full(len(labels), settings.get("transfer_weight", 1.0), dtype=np.float64)
    weights[labelled] = (labelled.sum() / (num_classes * counts))[labels[labelled]]
    targets = np.zeros((len(labels), num_classes), dtype=np.float32)
    targets[labelled] = np.eye(num_classes, dtype=np.float32)[labels[labelled]]
    if teacher_guesses is not None:
        share = np.where(labelled, settings["teacher_weight"], 1.0)[:, None].astype(np.float32)
        targets = (1 - share) * targets + share * teacher_guesses
    return targets, weights


def train_head(features, labels, num_classes, settings, seed, teacher_guesses=None):
    """A softmax layer on the features, trained on head_targets's targets and weights."""
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    head = build_head(features.shape[1], num_classes, settings["dropout_rate"], seed)
    targets, weights = head_targets(labels, num_classes, settings, teacher_guesses)
    head.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]), loss="categorical_crossentropy")
    head.fit(features, targets, sample_weight=weights, epochs=settings["epochs"], batch_size=256, verbose=0,
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


def prepare(config, teacher=None):
    """What every head of a run learns from: the features of each drawing's copies (and their mirror images),
    of the sampled bitmaps, and the teacher's guesses for them (None without a teacher)."""
    import tf_keras as keras

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
    copy_images = quickdraw.drawings_input(all_copies)
    # Mirror images double the rows, so they are only made when the recipe uses them.
    views = [copy_images, copy_images[:, :, ::-1]] if settings["mirror_copies"] else [copy_images]

    def features_of(images):
        return extractor.predict(images, batch_size=512, verbose=0)
    material = {"class_names": class_names, "drawings": len(drawings), "labels": labels, "copies": copies,
                "copy_owner": np.repeat(np.arange(len(drawings)), copies + 1),
                "copy_features": [features_of(view) for view in views],
                "copy_teacher": [teacher(view) for view in views] if teacher else None}
    material["drawing_features"] = material["copy_features"][0][::copies + 1]
    bitmap_images, bitmap_labels = [], []
    for class_id, name in enumerate(class_names):
        path = quickdraw.class_file(config["data_dir"], name) if Path(config["data_dir"]).is_dir() else None
        if path is None:
            continue
        rows = quickdraw.open_bitmaps(path)
        chosen = np.sort(rng.choice(len(rows), size=min(settings["bitmaps_per_class"], len(rows)), replace=False))
        bitmap_images.append(quickdraw.model_input(rows[chosen]))
        bitmap_labels.append(np.full(len(chosen), class_id, dtype=np.int32))
    bitmap_images = np.concatenate(bitmap_images) if bitmap_images else np.zeros((0, 28, 28, 1), np.float32)
    material["bitmap_labels"] = np.concatenate(bitmap_labels) if bitmap_labels else np.zeros(0, dtype=np.int32)
    material["bitmap_features"] = (features_of(bitmap_images) if len(bitmap_images)
                                   else np.zeros((0, material["drawing_features"].shape[1]), np.float32))
    material["bitmap_teacher"] = (teacher(bitmap_images) if len(bitmap_images) else
                                  np.zeros((0, len(class_names)), np.float32)) if teacher else None
    transfer_images = transfer_bitmaps(config, rng) if teacher else np.zeros((0, 28, 28, 1), np.float32)
    material["transfer_features"] = (features_of(transfer_images) if len(transfer_images)
                                     else np.zeros((0, material["drawing_features"].shape[1]), np.float32))
    material["transfer_teacher"] = (teacher(transfer_images) if len(transfer_images)
                                    else np.zeros((0, len(class_names)), np.float32))
    return material


def transfer_bitmaps(config, rng):
    """settings["transfer_bitmaps_per_class"] bitmaps of each class in the data folder that the run does not
    learn (none without bitmaps/), for function matching."""
    per_class = config["settings"].get("transfer_bitmaps_per_class", 0)
    if not per_class or not (Path(config["data_dir"]) / "bitmaps").is_dir():
        return np.zeros((0, 28, 28, 1), np.float32)
    images = []
    for name in quickdraw.available_classes(config["data_dir"]):
        if name in config["classes"]:
            continue
        rows = quickdraw.open_bitmaps(quickdraw.class_file(config["data_dir"], name))
        chosen = np.sort(rng.choice(len(rows), size=min(per_class, len(rows)), replace=False))
        images.append(quickdraw.model_input(rows[chosen]))
    return np.concatenate(images) if images else np.zeros((0, 28, 28, 1), np.float32)


def training_rows(material, keep_drawing, settings):
    """(features, labels, teacher guesses or None) of the copies of the drawings kept, in every view the
    settings use, and of the bitmaps."""
    rows = keep_drawing[material["copy_owner"]]
    views = len(material["copy_features"]) if settings["mirror_copies"] else 1
    features = [view[rows] for view in material["copy_features"][:views]] + [material["bitmap_features"]]
    labels = [material["labels"][material["copy_owner"]][rows]] * views + [material["bitmap_labels"]]
    guesses = None
    if material["copy_teacher"] is not None:
        guesses = [view[rows] for view in material["copy_teacher"][:views]] + [material["bitmap_teacher"]]
        # Function matching: unlabelled rows (label -1) whose only target is the teacher's guess.
        if settings.get("transfer_bitmaps_per_class", 0) and len(material.get("transfer_features", [])):
            features.append(material["transfer_features"])
            labels.append(np.full(len(material["transfer_features"]), -1, dtype=np.int32))
            guesses.append(material["transfer_teacher"])
        guesses = np.concatenate(guesses)
    return np.concatenate(features), np.concatenate(labels), guesses


def kfold_probabilities(material, settings, seed, verbose=False):
    """Every drawing predicted once by a head that never saw it nor any copy of it, nor a teacher's guess for
    them: (probabilities, fold of each drawing)."""
    labels = material["labels"]
    fold = fold_of_each_drawing(labels, settings["folds"], seed)
    held_out = np.zeros((material["drawings"], len(material["class_names"])), dtype=np.float32)
    for index in range(settings["folds"]):
        features, targets, guesses = training_rows(material, fold != index, settings)
        head = train_head(features, targets, len(material["class_names"]), settings, seed + index, guesses)
        held_out[fold == index] = head.predict(material["drawing_features"][fold == index], verbose=0)
        if verbose:
            print(f"fold {index + 1} of {settings['folds']}: "
                  f"{np.mean(held_out[fold == index].argmax(1) == labels[fold == index]):.3f}", file=sys.stderr)
    return held_out, fold


def build(config, out, verbose=True):
    """Features, K-fold evaluation, the final head, and the run folder's three files."""
    import tensorflow as tf
    import tf_keras as keras
    from tf_keras import layers

    from training.metrics import classification_metrics, confidence_threshold

    tf.config.experimental.enable_op_determinism()  # the same seed gives the same model, byte for byte, on one machine
    started = time.perf_counter()
    settings = config["settings"]
    class_names = config["classes"]
    teacher = load_teacher(config["teacher"], class_names) if config.get("teacher") else None
    material = prepare(config, teacher)
    labels = material["labels"]
    held_out, _ = kfold_probabilities(material, settings, config["seed"], verbose)
    evaluation = classification_metrics(held_out, labels, class_names)

    features, targets, guesses = training_rows(material, np.ones(material["drawings"], dtype=bool), settings)
    head = train_head(features, targets, len(class_names), settings, config["seed"], guesses)
    base = keras.models.load_model(Path(config["base"]) / "model.h5", compile=False)
    extractor = keras.Model(base.input, base.get_layer(FEATURE_LAYER).output)
    x = layers.Dropout(settings["dropout_rate"], name="fewshot_dropout")(extractor.output)
    outputs = layers.Dense(len(class_names), activation="softmax", name="fewshot_probabilities")(x)
    model = keras.Model(base.input, outputs, name="fewshot")
    model.get_layer("fewshot_probabilities").set_weights(head.layers[-1].get_weights())
    model.save(out / "model.h5", include_optimizer=False)
    bitmap_labels = material["bitmap_labels"]
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
    parser.add_argument("--teacher", help="a TF.js layers model folder with class_names.txt whose guesses join "
                                          "the targets, e.g. ../shared/anchors/doodlenet")
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
        teachers = [check_teacher(args.teacher, class_names)] if args.teacher else []
        out.check()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = {"model": "fewshot", "classes": class_names, "seed": args.seed,
              "base": str(Path(args.base).resolve()), "data_dir": str(Path(args.data_dir).resolve()),
              "strokes_dir": str(strokes_dir.resolve()), "extra_strokes": extra_strokes,
              "teacher": str(Path(args.teacher).resolve()) if args.teacher else None, "teachers": teachers,
              # Without a teacher the targets are the labels alone, and the settings say so.
              "settings": FEWSHOT_DEFAULTS | {"copies_per_drawing": args.copies,
                                              "teacher_weight": FEWSHOT_DEFAULTS["teacher_weight"] if args.teacher
                                              else 0.0}}
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
