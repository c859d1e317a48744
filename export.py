"""Export a training run to a TF.js web model, with metadata, and verify the export against Keras.

    python export.py runs/sketchnet --out web/model [--quantize none|float16|uint8] [--mirror-average] [--overwrite]

Writes model.json and weight shards (via tensorflowjs, with batch normalization folded into the convolutions)
and metadata.json: the labels in output order,
the input format, the raster parameters, whether guesses average the drawing with its mirror image, the
run's metrics under that rule, the data's sources and licence and a hash of
the weights (`model_hash`, which the server reports and the browser caches by). The export is then loaded
back and compared with the Keras model on a batch of test images: a float32 export must agree to 1e-5
(largest absolute difference of probabilities); a quantized one reports its top-1 agreement and accuracy
change. The output folder is written beside its place and renamed into it only after the check passes;
an existing folder is replaced only with --overwrite and only when it holds nothing but an earlier
export's files (and the line printed says what it replaced). An --out that is a symbolic link stays one:
the export replaces the folder it points to. A staging folder left by an export that was killed is removed
by the next export to the same place (training/cli.py's OutputFolder says how it knows). Exits 2 with one
line on bad input.
"""

import hashlib
import json
import math
import os
import re
import sys
from pathlib import Path

from training.cli import ArgumentParser, OutputFolder, interrupt_ends_process, start_tensorflow_quietly

if __name__ == "__main__":
    # Ctrl-C ends an export at once, TensorFlow's import included (where Python sometimes lost it); a staging
    # folder it leaves is removed by the next export to the same place.
    interrupt_ends_process()

import numpy as np  # noqa: E402

from training import data as quickdraw  # noqa: E402
from training.model import FEATURE_LAYER  # noqa: E402
from training.raster import RASTER_PARAMETERS  # noqa: E402
from training.taught import unit_length  # noqa: E402

# tensorflowjs imports tensorflow-decision-forests, which imports IPython for a welcome banner whenever
# stdout is not a terminal (under pytest, in CI); IPython is not installed, and the banner is not wanted.
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")

FLOAT32_TOLERANCE = 1e-5
EXPORT_FILE = re.compile(r"(model\.json|metadata\.json|class_means\.bin|group\d+-shard\d+of\d+\.bin)")
MEANS_PER_CLASS = 300           # drawings averaged per class for its shipped mean
# "None of these" (web/js/words.js isNoneOfThese, training.taught.is_none_of_these): the page says a drawing
# is none of the classes it knows when even its top guess is less likely than the top guess of this share of
# the validation drawings. bench.teach reports how often the rule fires on built-in, taught and unknown drawings.
NONE_OF_THESE_SHARE = 0.05
QUANTIZATIONS = ("none", "float16", "uint8")
DATA_CREDIT = {
    "name": "Quick, Draw! dataset by Google",
    "url": "https://github.com/googlecreativelab/quickdraw-dataset",
    "licence": "CC BY 4.0",
    "licence_url": "https://creativecommons.org/licenses/by/4.0/",
}


def weights_hash(folder):
    """SHA-256 over model.json's weight manifest and every shard, in manifest order."""
    manifest = json.loads((folder / "model.json").read_text())["weightsManifest"]
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode())
    for group in manifest:
        for path in group["paths"]:
            digest.update((folder / path).read_bytes())
    return digest.hexdigest()


def fold_batch_normalization(model):
    """An equivalent inference model in which each convolution -> BatchNormalization (-> ReLU) is one layer.

    At inference a batch normalization is a per-channel affine map, so it folds into the convolution before
    it: kernel * gamma / sqrt(variance + epsilon)
    and (bias - mean) * that + beta (Ioffe and Szegedy 2015,
    https://arxiv.org/abs/1502.03167). A plain ReLU after it becomes the convolution's activation. In TF.js
    every layer is a separate kernel call, so this cuts the work per prediction; the result is checked
    against the unfolded model like any export. Models without batch normalization are returned as they are.
    """
    import tf_keras as keras
    from tf_keras import layers

    if not any(isinstance(layer, layers.BatchNormalization) for layer in model.layers):
        return model
    chain = [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]
    previous_output = model.inputs[0]
    for layer in chain:
        if layer.input is not previous_output:
            raise ValueError(f"layer {layer.name} does not follow the one before it: export folds batch "
                             "normalization only in a plain chain of layers")
        previous_output = layer.output
    rebuilt, weights, index = [keras.Input(shape=model.input_shape[1:], name=model.input_names[0])], [], 0
    while index < len(chain):
        layer = chain[index]
        following = chain[index + 1] if index + 1 < len(chain) else None
        if isinstance(layer, layers.Conv2D) and isinstance(following, layers.BatchNormalization):
            kernel = layer.get_weights()[0].astype(np.float64)  # output channels on the last axis
            channels = kernel.shape[-1]
            bias = layer.bias.numpy().astype(np.float64) if layer.use_bias else np.zeros(channels)
            gamma = following.gamma.numpy() if following.scale else np.ones(channels)
            beta = following.beta.numpy() if following.center else np.zeros(channels)
            mean, variance = following.moving_mean.numpy(), following.moving_variance.numpy()
            scale = gamma.astype(np.float64) / np.sqrt(variance.astype(np.float64) + following.epsilon)
            config = layer.get_config() | {"use_bias": True}
            index += 2
            after = chain[index] if index < len(chain) else None
            if config["activation"] == "linear" and isinstance(after, layers.ReLU) and after.max_value is None \
                    and float(after.negative_slope) == 0 and float(after.threshold) == 0:
                config["activation"] = "relu"
                index += 1
            rebuilt.append(layer.__class__.from_config(config))
            weights.append([(kernel * scale).astype(np.float32), ((bias - mean) * scale + beta).astype(np.float32)])
        else:
            rebuilt.append(layer.__class__.from_config(layer.get_config()))
            weights.append(layer.get_weights())
            index += 1
    folded = keras.Sequential(rebuilt, name=model.name)
    for layer, values in zip(folded.layers, weights):
        layer.set_weights(values)
    return folded


def load_run(run_dir):
    """(model, config, metrics) of a training run; ValueError naming the file that is missing or broken."""
    from training.train import check_weights_file, read_json_object

    run_dir = Path(run_dir)
    for name in ("model.h5", "config.json", "metrics.json"):
        if not (run_dir / name).is_file():
            raise ValueError(f"{run_dir} is not a training run: {name} is missing")
    config = read_json_object(run_dir / "config.json")
    metrics = read_json_object(run_dir / "metrics.json")
    for key in ("model", "classes", "seed"):
        if key not in config:
            raise ValueError(f"{run_dir / 'config.json'}: has no {key!r}")
    if "test" not in metrics:
        raise ValueError(f"{run_dir / 'metrics.json'}: has no 'test'")
    check_weights_file(run_dir / "model.h5")
    import tf_keras as keras

    try:
        model = keras.models.load_model(run_dir / "model.h5", compile=False)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{run_dir / 'model.h5'}: cannot be loaded as a Keras model ({error})") from None
    return model, config, metrics


def describe_export(folder):
    """'uint8, hash 9c228fbd…' for an earlier export in folder, or None when there is none."""
    try:
        metadata = json.loads((Path(folder) / "metadata.json").read_text())
        return f"{metadata['quantization']}, hash {metadata['model_hash'][:8]}…"
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_run_data(config):
    """The run's bitmaps and split, as it trained on them (memory-mapped), or None when they are not on
    this machine (a few-shot run has none). Loaded once per export and shared by what measures the model."""
    try:
        return quickdraw.load_data(config["data_dir"], config["classes"], seed=quickdraw.split_seed(config),
                                   validation_fraction=config.get("validation_fraction", 0.1),
                                   test_fraction=config.get("test_fraction", 0.1),
                                   max_per_class=config.get("max_per_class"))
    except (KeyError, ValueError):
        return None


def verification_batch(config, data):
    """The run's whole test split (so quantization's accuracy change is measured, not guessed); for a
    few-shot run, its stroke drawings; seeded random images when neither is on this machine."""
    if data is not None:
        return data.arrays("test")
    drawings = fewshot_drawings(config)
    if drawings is not None:
        return drawings
    generator = np.random.default_rng(0)
    return generator.random((64, 28, 28, 1), dtype=np.float32), None


def fewshot_drawings(config):
    """A few-shot run's stroke drawings as model inputs with their labels, or None (no such run, or its
    drawings are not on this machine)."""
    if not (config.get("strokes_dir") and Path(config["strokes_dir"]).is_dir()):
        return None
    from training.fewshot import load_drawings

    try:
        drawings, labels = load_drawings(config["strokes_dir"], config["classes"], config.get("extra_strokes", ()))
    except ValueError:
        return None
    return quickdraw.drawings_input(drawings), labels


def unit_features(model, images, layer=None):
    """The model's features of each image at FEATURE_LAYER, each scaled to length 1: what the page compares
    drawings by when it is taught new classes."""
    import tf_keras as keras

    extractor = keras.Model(model.input, model.get_layer(layer or FEATURE_LAYER).output)
    return unit_length(extractor.predict(images, batch_size=512, verbose=0))


def guess_metrics(model, config, metrics, mirror, data, exported=None):
    """The run's figures for the metadata, under the rule the page guesses by. Without mirror averaging, the
    run's own metrics.json; with it, the test split, the real strokes and the confidence threshold measured
    again with every drawing averaged with its mirror image (the threshold from the validation split, as in
    training). Either way, where the run's data is here, the threshold is measured on the export itself
    (exported, loaded back): quantization moves probabilities by a few thousandths, enough to move a
    threshold that sits at the edge of its target. The same pass of the export over the validation split gives
    the "none of these" bound (none_below; absent without the run's data)."""
    from training.metrics import confidence_threshold, top_k_accuracy
    from training.webmodel import guess_probabilities

    def rules_of_export():
        validation_images, validation_labels = data.arrays("validation")
        probabilities = guess_probabilities(exported, {"mirror_average": mirror}, validation_images)
        return {"confidence_threshold": confidence_threshold(probabilities, validation_labels),
                "none_below": none_of_these_below(probabilities)}

    if not mirror:
        return {"test_top1": metrics["test"]["top1"], "test_top3": metrics["test"]["top3"],
                "real_strokes_top1": metrics.get("real_strokes", {}).get("top1"),
                **(rules_of_export() if data is not None and exported is not None
                   else {"confidence_threshold": metrics.get("confidence_threshold", 0.5)})}
    from training.train import load_stroke_set

    def predict(images):
        return guess_probabilities(model, {"mirror_average": True}, images)

    if data is None:
        raise ValueError("--mirror-average measures the run again on its data, which is not in "
                         f"{config.get('data_dir')}")
    test_images, test_labels = data.arrays("test")
    validation_images, validation_labels = data.arrays("validation")
    test = predict(test_images)
    strokes = (load_stroke_set(config["strokes_dir"], config["classes"])
               if Path(config.get("strokes_dir", "")).is_dir() else None)
    return {"test_top1": top_k_accuracy(test, test_labels, 1), "test_top3": top_k_accuracy(test, test_labels, 3),
            "real_strokes_top1": (top_k_accuracy(predict(strokes[0]), strokes[1], 1) if strokes else None),
            **(rules_of_export() if exported is not None
               else {"confidence_threshold": confidence_threshold(predict(validation_images), validation_labels)})}


def export(run_dir, out, quantize="none", overwrite=False, mirror_average=False):
    """Export run_dir to out; returns the verification report. Raises ValueError on any mismatch."""
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"unknown --quantize {quantize!r} (choose from {', '.join(QUANTIZATIONS)})")
    folder = OutputFolder(out, owned=lambda name: EXPORT_FILE.fullmatch(name) is not None, tool="export.py",
                          overwrite=overwrite)
    folder.check()
    replaced = describe_export(out)
    model, config, metrics = load_run(run_dir)
    import tensorflowjs as tfjs

    with folder.staging() as staging:
        quantization_map = None if quantize == "none" else {quantize: "*"}
        tfjs.converters.save_keras_model(fold_batch_normalization(model), str(staging),
                                         quantization_dtype_map=quantization_map)
        data = load_run_data(config)
        report = verify(model, staging, config, quantize, data)
        from training.webmodel import load_layers_model

        figures = guess_metrics(model, config, metrics, mirror_average, data, load_layers_model(staging))
        none_below = figures.pop("none_below", None)
        model_hash = weights_hash(staging)
        means = write_class_means(staging, config, data)
        size_bytes = sum(path.stat().st_size for path in staging.iterdir())
        metadata = {
            "name": config["model"],
            "labels": config["classes"],
            "input": {"shape": [28, 28, 1], "dtype": "float32", "range": [0, 1],
                      "polarity": "ink = 1, background = 0"},
            "raster": RASTER_PARAMETERS,
            "quantization": quantize,
            "model_hash": model_hash,
            "size_bytes": size_bytes,
            "parameters": metrics.get("parameters"),
            "mirror_average": mirror_average,
            "confidence_threshold": figures.pop("confidence_threshold"),
            **({"none_of_these": {"below": none_below, "share_of_validation": NONE_OF_THESE_SHARE,
                                  "rule": "top probability below"}} if none_below is not None else {}),
            "metrics": figures | {"export_top1_agreement": report["top1_agreement"]},
            "training": {"seed": config["seed"], "epochs_run": metrics.get("epochs_run"),
                         "training_seconds": metrics.get("training_seconds")},
            "data": DATA_CREDIT,
            # Models whose guesses shaped this one at training time (their credit and licence, from the run).
            **({"teachers": config["teachers"]} if config.get("teachers") else {}),
            **({"class_means": means} if means else {}),
        }
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    report["model_hash"] = model_hash
    report["size_bytes"] = size_bytes
    if replaced:
        report["replaced"] = replaced
    return report


def none_of_these_below(validation_probabilities):
    """The probability below which a top guess reads "none of these": the NONE_OF_THESE_SHARE quantile of the
    export's top probability over the validation split, rounded down to 3 decimals. Only where the run's data
    is here (a few-shot run's drawings were all learned from, so they would say nothing about new ones)."""
    top = validation_probabilities.max(axis=1)
    return math.floor(float(np.quantile(top, NONE_OF_THESE_SHARE)) * 1000) / 1000


def class_images(config, data):
    """Up to MEANS_PER_CLASS drawings of each class as model inputs: training bitmaps, or a few-shot run's
    stroke drawings; (images, labels), or None when neither is on this machine."""
    if data is not None:
        classes, rows = data.splits["train"]
        chosen = np.concatenate([np.nonzero(classes == class_id)[0][:MEANS_PER_CLASS]
                                 for class_id in range(len(config["classes"]))])
        return data.gather(classes[chosen], rows[chosen]), classes[chosen]
    return fewshot_drawings(config)


def write_class_means(folder, config, data):
    """class_means.bin: each class's mean feature vector (FEATURE_LAYER, each drawing's scaled to length 1),
    as the exported model computes it, quantized to uint8 (value = q / 255; the features are ReLU outputs, so
    the means lie in [0, 1]). The page compares a drawing with them when a person teaches it a new class.
    Returns the metadata entry, or None without drawings to average or without the layer."""
    from training.webmodel import load_layers_model

    found = class_images(config, data)
    # Our loader, not tensorflowjs's: it dequantizes the weights exactly as TF.js in the page does.
    exported = load_layers_model(folder)
    if found is None or FEATURE_LAYER not in [layer.name for layer in exported.layers]:
        return None
    images, labels = found
    features = unit_features(exported, images)
    means = np.array([features[labels == class_id].mean(axis=0) for class_id in range(len(config["classes"]))])
    assert means.min() >= 0, "ReLU features average to non-negative means"
    (folder / "class_means.bin").write_bytes(np.round(np.clip(means, 0, 1) * 255).astype(np.uint8).tobytes())
    return {"file": "class_means.bin", "layer": FEATURE_LAYER, "shape": list(means.shape), "dtype": "uint8",
            "scale": "value = q / 255", "drawings": int(len(labels))}


def verify(model, folder, config, quantize, data):
    """Load the TF.js export back into Keras and compare probabilities with the original model."""
    import tensorflowjs as tfjs

    images, labels = verification_batch(config, data)
    reloaded = tfjs.converters.load_keras_model(str(folder / "model.json"))
    expected = model.predict(images, batch_size=256, verbose=0)
    actual = reloaded.predict(images, batch_size=256, verbose=0)
    max_difference = float(np.max(np.abs(expected - actual)))
    agreement = float(np.mean(expected.argmax(1) == actual.argmax(1)))
    report = {"quantize": quantize, "max_abs_difference": max_difference, "top1_agreement": agreement,
              "batch": int(len(images))}
    if labels is not None:
        report["top1_keras"] = float(np.mean(expected.argmax(1) == labels))
        report["top1_export"] = float(np.mean(actual.argmax(1) == labels))
        report["top1_change_points"] = round(100 * (report["top1_export"] - report["top1_keras"]), 3)
    if quantize == "none" and max_difference > FLOAT32_TOLERANCE:
        raise ValueError(f"exported model differs from Keras by {max_difference:.2e} "
                         f"(allowed {FLOAT32_TOLERANCE:.0e})")
    return report


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a training run folder, e.g. runs/sketchnet")
    parser.add_argument("--out", required=True, help="output folder, e.g. web/model")
    parser.add_argument("--quantize", default="none", help="none, float16 or uint8")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out if it holds an earlier export (and nothing else)")
    parser.add_argument("--mirror-average", action="store_true",
                        help="the page and the server average each guess with the drawing's mirror image; the "
                             "metadata's figures and confidence threshold are measured that way")
    args = parser.parse_args(argv)
    start_tensorflow_quietly()
    try:
        report = export(args.run_dir, args.out, args.quantize, args.overwrite, args.mirror_average)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
