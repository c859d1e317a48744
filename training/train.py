"""Train a sketch CNN on Quick, Draw! bitmaps and write the model, its config, metrics and plots.

    python -m training.train --data-dir ../shared/data/quickdraw --model sketchnet --out runs/sketchnet
    python -m training.train --preset body-parts --data-dir data/quickdraw --model original --out runs/original

Writes to --out: model.h5, config.json (every resolved setting), metrics.json (test top-1/top-3,
per-class precision and recall, confusion matrix, accuracy on real stroke drawings, training time),
confusion_matrix.png, misclassified.png and training_curves.png. Bad input exits with status 2 and
one line on stderr, before any training. The output folder is written beside its place and renamed into
it, so a failed run leaves nothing half-written; an existing folder is replaced only with --overwrite and
only when it holds nothing but an earlier run's files.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from training import data as quickdraw
from training.cli import ArgumentParser, OutputFolder, start_tensorflow_quietly
from training.metrics import classification_metrics, confidence_threshold, save_plots, stroke_metrics
from training.model import MODEL_NAMES, TRAINING_DEFAULTS, build_model, mirror_average

RUN_FILES = ("model.h5", "config.json", "metrics.json", "confusion_matrix.png", "misclassified.png",
             "training_curves.png")



def parse_args(argv):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(quickdraw.DEFAULT_DATA_DIR))
    parser.add_argument("--classes", nargs="+", help="class names (default: every class in --data-dir)")
    parser.add_argument("--preset", help="body-parts, shipped or all")
    parser.add_argument("--model", default="sketchnet", help=f"one of {', '.join(MODEL_NAMES)}")
    parser.add_argument("--out", required=True, help="output folder, e.g. runs/sketchnet")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out if it holds an earlier run (and nothing else)")
    parser.add_argument("--seed", type=int, default=quickdraw.DEFAULT_SEED,
                        help="seeds the initialization, the batch order and the twin choice")
    parser.add_argument("--split-seed", type=int, default=quickdraw.DEFAULT_SEED,
                        help="seeds the train/validation/test split; kept fixed so that runs of several "
                             "seeds are measured on the same test drawings")
    parser.add_argument("--max-per-class", type=int, help="use at most this many drawings per class")
    parser.add_argument("--epochs", type=int, help="maximum epochs (early stopping may end sooner)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--twin-fraction", type=float,
                        help="share of each clean class's rows read from twins/ (see SOURCES.md)")
    parser.add_argument("--augment", choices=["on", "off"], help="random shift, scale and rotation")
    parser.add_argument("--augment-strength", type=float,
                        help="scales every augmentation range (1 = the ranges in make_augmentation)")
    parser.add_argument("--validation-fraction", type=float,
                        help="share of each class held out for validation (the test split does not depend on it)")
    parser.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    parser.add_argument("--strokes-dir", help="real stroke drawings (.ndjson) to report accuracy on "
                        "(default: <data-dir>/strokes when it exists)")
    parser.add_argument("--extra-strokes", nargs="*", default=[],
                        help="ndjson files of labelled drawings (e.g. corrections saved from the page) "
                             "added to the training split")
    parser.add_argument("--init-from", help="a run folder (e.g. runs/sketchnet) whose weights training starts "
                        "from: with --extra-strokes and a few --epochs, this fine-tunes on corrections")
    parser.add_argument("--teacher", nargs="+", default=[],
                        help="one or more teachers to distil from: run folders (e.g. runs/sketchnet) and TF.js "
                             "layers folders with class_names.txt (e.g. ../shared/anchors/doodlenet); the targets "
                             "mix the mean of their mirror-averaged predictions with the labels")
    parser.add_argument("--teacher-weight", type=float, default=0.5,
                        help="share of the teachers' predictions in the targets (default 0.5)")
    parser.add_argument("--mirror-inputs", choices=["on", "off"], default="off",
                        help="show each training drawing as its mirror image half the time (with teachers, "
                             "whose targets are mirror-averaged, the same target fits both views)")
    parser.add_argument("--distribute", choices=["none", "mirrored", "multi-worker"], default="none",
                        help="tf.distribute strategy: mirrored = all GPUs of this host; multi-worker "
                             "= several hosts described by TF_CONFIG")
    parser.add_argument("--verbose", type=int, default=2, help="Keras progress output (0, 1 or 2)")
    return parser.parse_args(argv)


def resolve_config(args):
    """Every setting of the run, with per-model defaults filled in; raises ValueError on bad values."""
    if args.model not in MODEL_NAMES:
        raise ValueError(f"unknown model {args.model!r} (known models: {', '.join(MODEL_NAMES)})")
    defaults = TRAINING_DEFAULTS[args.model]

    def given_or_default(name):
        """The flag's value if given (0 included, so that it is refused below rather than replaced)."""
        value = getattr(args, name)
        return value if value is not None else defaults[name]

    class_names = quickdraw.resolve_classes(args.data_dir, args.classes, args.preset)
    config = {
        "model": args.model,
        "data_dir": str(Path(args.data_dir).resolve()),
        "classes": class_names,
        "seed": args.seed,
        "split_seed": args.split_seed,
        "max_per_class": args.max_per_class,
        "validation_fraction": given_or_default("validation_fraction"),
        "test_fraction": 0.1,
        "epochs": given_or_default("epochs"),
        "batch_size": given_or_default("batch_size"),
        "learning_rate": given_or_default("learning_rate"),
        "learning_rate_schedule": defaults["learning_rate_schedule"],
        "label_smoothing": given_or_default("label_smoothing"),
        "twin_fraction": given_or_default("twin_fraction"),
        "augment": (args.augment == "on") if args.augment else defaults["augment"],
        "augment_strength": args.augment_strength if args.augment_strength is not None else 1.0,
        "patience": given_or_default("patience"),
        "strokes_dir": args.strokes_dir or str(Path(args.data_dir) / "strokes"),
        "extra_strokes": [str(Path(path).resolve()) for path in args.extra_strokes],
        "init_from": str(Path(args.init_from).resolve()) if args.init_from else None,
        "teacher": [str(Path(path).resolve()) for path in args.teacher],
        "teacher_weight": args.teacher_weight if args.teacher else None,
        "teachers": [],
        "mirror_inputs": args.mirror_inputs == "on",
        "distribute": args.distribute,
    }
    if config["epochs"] < 1:
        raise ValueError(f"--epochs must be at least 1, got {config['epochs']}")
    if config["batch_size"] < 1:
        raise ValueError(f"--batch-size must be at least 1, got {config['batch_size']}")
    if not config["learning_rate"] > 0:
        raise ValueError(f"--learning-rate must be above 0, got {config['learning_rate']}")
    if not 0 < config["validation_fraction"] <= 0.5:
        raise ValueError(f"--validation-fraction must be in (0, 0.5], got {config['validation_fraction']}")
    if config["patience"] < 1:
        raise ValueError(f"--patience must be at least 1, got {config['patience']}")
    if not 0 <= config["twin_fraction"] <= 1:
        raise ValueError(f"--twin-fraction must be between 0 and 1, got {config['twin_fraction']}")
    if not 0 <= config["label_smoothing"] < 1:
        raise ValueError(f"--label-smoothing must be in [0, 1), got {config['label_smoothing']}")
    for path in config["extra_strokes"]:
        if not Path(path).is_file():
            raise ValueError(f"--extra-strokes file {path} does not exist")
    if config["init_from"]:
        check_run_like(Path(config["init_from"]), "--init-from", config["model"], class_names)
    config["teachers"] = [check_teacher(Path(path), class_names) for path in config["teacher"]]
    if config["teacher"] and config["extra_strokes"]:
        raise ValueError("--teacher cannot be combined with --extra-strokes (the teacher's targets cover only "
                         "the bitmaps)")
    if config["teacher"] and not 0 < config["teacher_weight"] <= 1:
        raise ValueError(f"--teacher-weight must be in (0, 1], got {config['teacher_weight']}")
    return config


def check_run_like(initial, flag, model, class_names):
    """A run folder with the given classes (and model, when one is given); ValueError naming it otherwise."""
    if not (initial / "model.h5").is_file() or not (initial / "config.json").is_file():
        raise ValueError(f"{flag} {initial} is not a training run (model.h5 and config.json)")
    initial_config = read_json_object(initial / "config.json")
    if initial_config.get("classes") != class_names or (model and initial_config.get("model") != model):
        raise ValueError(f"{flag} {initial} was trained as {initial_config.get('model')!r} on other "
                         "classes; it needs the same classes in the same order"
                         + (" and the same model" if model else ""))
    check_weights_file(initial / "model.h5")


def check_teacher(folder, class_names):
    """The credit of a teacher (a run folder, or a TF.js layers folder such as DoodleNet's) that knows every
    class; ValueError naming it otherwise."""
    from training import fewshot

    if (folder / "model.json").is_file() and (folder / "class_names.txt").is_file():
        return fewshot.check_teacher(folder, class_names)
    check_run_like(folder, "--teacher", None, class_names)
    model = read_json_object(folder / "config.json").get("model")
    return {"name": f"our {model} run ({folder.name}/)", "use": "soft targets at training time"}


def read_json_object(path):
    """A JSON object from a file; ValueError naming the file if it is not one."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: not a JSON object")
    return value


def check_weights_file(path):
    """Fail in a second, naming the file, if a Keras .h5 file is truncated or not one."""
    import h5py

    try:
        with h5py.File(path, "r") as weights:
            if "model_weights" not in weights and "layer_names" not in weights.attrs:
                raise ValueError(f"{path}: holds no Keras weights")
            weights.visit(lambda name: None)  # Reads every object header: a truncated file fails here.
    except OSError as error:
        raise ValueError(f"{path}: not a readable Keras .h5 file ({str(error).splitlines()[0]})") from None


def make_augmentation(seed, strength=1.0):
    """Random shift, zoom and rotation: the ways one person's sketch differs from another's framing.

    Doodles are already centred and scaled by the raster recipe, so the ranges stay small; flips are left
    out because many classes are drawn facing one way. At strength 1: about +-15 degrees, -12 % to +8 %
    zoom and +-6 % shift.
    """
    import tf_keras as keras
    from tf_keras import layers

    return keras.Sequential([
        layers.RandomRotation(0.04 * strength, fill_mode="constant", seed=seed),
        layers.RandomZoom((-0.12 * strength, 0.08 * strength), fill_mode="constant", seed=seed + 1),
        layers.RandomTranslation(0.06 * strength, 0.06 * strength, fill_mode="constant", seed=seed + 2),
    ], name="augmentation")


def load_stroke_set(strokes_dir, class_names):
    """Rasterize every real stroke drawing of the given classes: images, labels and their sources."""
    from training import ndjson

    drawings, labels, sources = [], [], []
    strokes_dir = Path(strokes_dir)
    for class_id, name in enumerate(class_names):
        path = strokes_dir / f"{name}.ndjson"
        if not path.is_file():
            continue
        for record in ndjson.read_ndjson(path):
            drawings.append(record["drawing"])
            labels.append(class_id)
            sources.append("raw" if record.get("simplified_from_raw") else "official")
    if not drawings:
        return None
    return quickdraw.drawings_input(drawings), np.array(labels, dtype=np.int32), np.array(sources)


def load_extra_strokes(paths, class_names):
    """Labelled ndjson drawings (their `word` names the class) rasterized for training."""
    from training import ndjson, raster

    images, labels = [], []
    for path in paths:
        for record in ndjson.read_ndjson(path):
            word = record.get("word")
            if word not in class_names:
                raise ValueError(f"{path}: drawing labelled {word!r}, which is not a class of this run")
            try:
                images.append(raster.rasterize(record["drawing"]))
            except ValueError as error:
                raise ValueError(f"{path}: a drawing labelled {word!r} is not valid ({error})") from None
            labels.append(class_names.index(word))
    if not images:
        raise ValueError(f"--extra-strokes {', '.join(map(str, paths))}: no drawings in the file(s)")
    return quickdraw.model_input(images), np.array(labels, dtype=np.int32)


def make_strategy(name):
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def train(config, out, verbose=2):
    """Run one training as described by config and write its artifacts to out (a fresh folder)."""
    import tensorflow as tf
    import tf_keras as keras

    # First, before any TensorFlow operation runs: a multi-worker strategy configures collective operations,
    # which TensorFlow allows only at program start-up.
    strategy = make_strategy(config["distribute"])
    keras.utils.set_random_seed(config["seed"])
    tf.config.experimental.enable_op_determinism()
    class_names = config["classes"]
    data = quickdraw.load_data(config["data_dir"], class_names, seed=quickdraw.split_seed(config),
                               validation_fraction=config["validation_fraction"],
                               test_fraction=config["test_fraction"],
                               max_per_class=config["max_per_class"],
                               use_twins=config["twin_fraction"] > 0)
    augment = make_augmentation(config["seed"], config["augment_strength"]) if config["augment"] else None
    if config.get("mirror_inputs"):
        augment = with_mirror_images(augment, config["seed"])
    targets = teacher_targets(config, data) if config.get("teacher") else None
    train_dataset = quickdraw.make_dataset(data, "train", config["batch_size"], shuffle=True,
                                           seed=config["seed"], twin_fraction=config["twin_fraction"],
                                           augment=augment, targets=targets)
    if config["extra_strokes"]:
        extra_images, extra_labels = load_extra_strokes(config["extra_strokes"], class_names)
        extra = tf.data.Dataset.from_tensor_slices((extra_images, extra_labels)).batch(config["batch_size"])
        train_dataset = train_dataset.concatenate(extra)
    validation_images, validation_labels = data.arrays("validation")
    test_images, test_labels = data.arrays("test")
    if targets is None:
        loss = SmoothedSparseCrossentropy(config["label_smoothing"], len(class_names))
        validation_targets = validation_labels
    else:
        loss = keras.losses.CategoricalCrossentropy()
        validation_targets = np.eye(len(class_names), dtype=np.float32)[validation_labels]

    steps_per_epoch = int(train_dataset.cardinality())
    assert steps_per_epoch > 0, steps_per_epoch
    # One endless, reshuffled iterator for the whole run: a new one per epoch left the CPU idle between epochs.
    train_dataset = train_dataset.repeat()

    with strategy.scope():
        model = build_model(config["model"], len(class_names))
        if config["init_from"]:
            model.load_weights(Path(config["init_from"]) / "model.h5")
        schedule = keras.optimizers.schedules.CosineDecay(
            config["learning_rate"], decay_steps=steps_per_epoch * config["epochs"], alpha=0.02)
        learning_rate = schedule if config["learning_rate_schedule"] == "cosine" else config["learning_rate"]
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            # Sparse labels with smoothing: tf_keras's sparse loss has no smoothing, so one-hot in the loss.
            loss=loss,
            metrics=["accuracy"],
        )
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=config["patience"],
                                               restore_best_weights=True)]
    started = time.perf_counter()
    history = model.fit(train_dataset, epochs=config["epochs"], steps_per_epoch=steps_per_epoch,
                        validation_data=(validation_images, validation_targets),
                        batch_size=config["batch_size"], callbacks=callbacks, verbose=verbose)
    training_seconds = time.perf_counter() - started

    test_probabilities = model.predict(test_images, batch_size=1024, verbose=0)
    validation_probabilities = model.predict(validation_images, batch_size=1024, verbose=0)
    metrics = {
        "model": config["model"],
        "parameters": int(model.count_params()),
        "epochs_run": len(history.history["loss"]),
        "training_seconds": round(training_seconds, 1),
        "test": classification_metrics(test_probabilities, test_labels, class_names),
        "validation": {"top1": float(np.mean(validation_probabilities.argmax(1) == validation_labels))},
        "confidence_threshold": confidence_threshold(validation_probabilities, validation_labels),
    }
    strokes = load_stroke_set(config["strokes_dir"], class_names) if Path(config["strokes_dir"]).is_dir() else None
    if strokes is not None:
        stroke_probabilities = model.predict(strokes[0], batch_size=1024, verbose=0)
        metrics["real_strokes"] = stroke_metrics(stroke_probabilities, strokes[1], strokes[2], class_names,
                                                 quickdraw.denoised_classes(config["data_dir"], class_names))
    model.save(out / "model.h5", include_optimizer=False)
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    save_plots(out, history.history, metrics, test_images, test_labels, test_probabilities, class_names)
    return metrics


def teacher_targets(config, data):
    """Distillation targets for every training row: the teachers' predictions mixed with the smoothed labels.

    Knowledge distillation (Hinton, Vinyals and Dean, https://arxiv.org/abs/1503.02531) at temperature 1. The
    teachers' probabilities for the wrong classes say which drawings look alike, which the labels cannot. A
    teacher of the student's own size helps already (born-again networks, https://arxiv.org/abs/1805.04770);
    DoodleNet, which learned from about ten times more drawings per class, adds what our rows cannot teach.
    With several teachers, each row's target is the mean of their predictions.

    Each teacher reads each row exactly as the student will (stored or twin, by the same seeded choice) and
    averages it with its mirror image (training.model.mirror_average), so that the student learns the mirror
    average in one pass. Computed once, before training: the targets do not depend on the augmentation.
    """
    class_ids, row_ids = data.splits["train"]
    use_twin = quickdraw.twin_choice(data, "train", config["seed"], config["twin_fraction"])
    num_classes = len(config["classes"])
    smoothed = np.full((len(class_ids), num_classes), config["label_smoothing"] / num_classes, np.float32)
    smoothed[np.arange(len(class_ids)), class_ids] += 1 - config["label_smoothing"]
    predicted = np.zeros_like(smoothed)
    for path in config["teacher"]:
        predict = load_teacher(Path(path), config["classes"])
        for start in range(0, len(class_ids), 8192):
            chunk = slice(start, start + 8192)
            images = data.gather(class_ids[chunk], row_ids[chunk], use_twin[chunk])
            predicted[chunk] += mirror_average(predict, images) / len(config["teacher"])
    weight = config["teacher_weight"]
    return (weight * predicted + (1 - weight) * smoothed).astype(np.float32)


def load_teacher(folder, class_names):
    """A function from model inputs to a teacher's class probabilities, in class_names' order."""
    import tf_keras as keras

    from training import fewshot

    if (folder / "model.json").is_file():
        return fewshot.load_teacher(folder, class_names)
    model = keras.models.load_model(folder / "model.h5", compile=False)
    return lambda images: model.predict(images, batch_size=1024, verbose=0)


def with_mirror_images(augment, seed):
    """augment (or nothing) followed by a random horizontal flip of half the drawings."""
    import tf_keras as keras
    from tf_keras import layers

    flip = layers.RandomFlip("horizontal", seed=seed + 3, name="mirror_images")
    return keras.Sequential(([augment] if augment is not None else []) + [flip], name="augmentation")


class SmoothedSparseCrossentropy:
    """Categorical cross-entropy with label smoothing on integer labels (a picklable-free callable)."""

    def __init__(self, label_smoothing, num_classes):
        self.label_smoothing = label_smoothing
        self.num_classes = num_classes
        self.__name__ = "smoothed_crossentropy"

    def __call__(self, labels, probabilities):
        import tensorflow as tf
        import tf_keras as keras

        one_hot = tf.one_hot(tf.cast(tf.reshape(labels, [-1]), tf.int32), self.num_classes)
        return keras.losses.categorical_crossentropy(one_hot, probabilities,
                                                     label_smoothing=self.label_smoothing)


def main(argv=None):
    args = parse_args(argv)
    out = OutputFolder(args.out, owned=lambda name: name in RUN_FILES, tool="training.train",
                       overwrite=args.overwrite)
    try:
        config = resolve_config(args)
        out.check()
        # Validate every data file before training, so bad input fails in a second, not after an hour.
        quickdraw.load_data(config["data_dir"], config["classes"], max_per_class=1)
        for path in config["extra_strokes"]:
            load_extra_strokes([path], config["classes"])
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    start_tensorflow_quietly()
    try:
        with out.staging() as staging:
            metrics = train(config, staging, verbose=args.verbose)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = {"out": str(out.path), "test_top1": metrics["test"]["top1"], "test_top3": metrics["test"]["top3"],
               "training_seconds": metrics["training_seconds"]}
    if "real_strokes" in metrics:
        summary["real_strokes_top1"] = metrics["real_strokes"]["top1"]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
