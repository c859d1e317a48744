"""Export a training run to a TF.js web model, with metadata, and verify the export against Keras.

    python export.py runs/sketchnet --out web/model [--quantize none|float16|uint8]

Writes model.json and weight shards (via tensorflowjs, with batch normalization folded into the convolutions)
and metadata.json: the labels in output order,
the input format, the raster parameters, the run's metrics, the data's sources and licence and a hash of
the weights (`model_hash`, which the server reports and the browser caches by). The export is then loaded
back and compared with the Keras model on a batch of test images: a float32 export must agree to 1e-5
(largest absolute difference of probabilities); a quantized one reports its top-1 agreement and accuracy
change. The output folder is replaced only after the check passes. Exits 2 with one line on bad input.
"""

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from training import data as quickdraw
from training.cli import ArgumentParser
from training.raster import RASTER_PARAMETERS

# tensorflowjs imports tensorflow-decision-forests, which imports IPython for a welcome banner whenever
# stdout is not a terminal (under pytest, in CI); IPython is not installed, and the banner is not wanted.
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")

FLOAT32_TOLERANCE = 1e-5
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
    it (for a separable convolution, into its pointwise kernel): kernel * gamma / sqrt(variance + epsilon)
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
        assert layer.input is previous_output, f"{layer.name}: folding needs a plain chain of layers"
        previous_output = layer.output
    rebuilt, weights, index = [keras.Input(shape=model.input_shape[1:], name=model.input_names[0])], [], 0
    while index < len(chain):
        layer = chain[index]
        following = chain[index + 1] if index + 1 < len(chain) else None
        convolution = isinstance(layer, (layers.Conv2D, layers.SeparableConv2D))
        if convolution and isinstance(following, layers.BatchNormalization):
            # The output channels' weights are the last axis of the (pointwise) kernel in both kinds.
            kernels = layer.get_weights()[:2 if isinstance(layer, layers.SeparableConv2D) else 1]
            last = kernels[-1].astype(np.float64)
            channels = last.shape[-1]
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
            weights.append([*kernels[:-1], (last * scale).astype(np.float32),
                            ((bias - mean) * scale + beta).astype(np.float32)])
        else:
            rebuilt.append(layer.__class__.from_config(layer.get_config()))
            weights.append(layer.get_weights())
            index += 1
    folded = keras.Sequential(rebuilt, name=model.name)
    for layer, values in zip(folded.layers, weights):
        layer.set_weights(values)
    return folded


def load_run(run_dir):
    run_dir = Path(run_dir)
    for name in ("model.h5", "config.json", "metrics.json"):
        if not (run_dir / name).is_file():
            raise ValueError(f"{run_dir} is not a training run: {name} is missing")
    import tf_keras as keras

    model = keras.models.load_model(run_dir / "model.h5", compile=False)
    config = json.loads((run_dir / "config.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return model, config, metrics


def verification_batch(config):
    """The run's whole test split (so quantization's accuracy change is measured, not guessed), or seeded
    random images when the data is not on this machine."""
    try:
        data = quickdraw.load_data(config["data_dir"], config["classes"], seed=config["seed"],
                                   max_per_class=config.get("max_per_class"))
        return data.arrays("test")
    except ValueError:
        generator = np.random.default_rng(0)
        return generator.random((64, 28, 28, 1), dtype=np.float32), None


def export(run_dir, out, quantize="none"):
    """Export run_dir to out; returns the verification report. Raises ValueError on any mismatch."""
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"unknown --quantize {quantize!r} (choose from {', '.join(QUANTIZATIONS)})")
    import tensorflowjs as tfjs

    model, config, metrics = load_run(run_dir)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o755)
    try:
        quantization_map = None if quantize == "none" else {quantize: "*"}
        tfjs.converters.save_keras_model(fold_batch_normalization(model), str(staging),
                                         quantization_dtype_map=quantization_map)
        report = verify(model, staging, config, quantize)
        model_hash = weights_hash(staging)
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
            "confidence_threshold": metrics.get("confidence_threshold", 0.5),
            "metrics": {
                "test_top1": metrics["test"]["top1"],
                "test_top3": metrics["test"]["top3"],
                "real_strokes_top1": metrics.get("real_strokes", {}).get("top1"),
                "export_top1_agreement": report["top1_agreement"],
            },
            "training": {"seed": config["seed"], "epochs_run": metrics.get("epochs_run"),
                         "training_seconds": metrics.get("training_seconds")},
            "data": DATA_CREDIT,
        }
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    report["model_hash"] = model_hash
    report["size_bytes"] = size_bytes
    return report


def verify(model, folder, config, quantize):
    """Load the TF.js export back into Keras and compare probabilities with the original model."""
    import tensorflowjs as tfjs

    images, labels = verification_batch(config)
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
    parser.add_argument("--out", default="web/model")
    parser.add_argument("--quantize", default="none", help="none, float16 or uint8")
    args = parser.parse_args(argv)
    try:
        report = export(args.run_dir, args.out, args.quantize)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
