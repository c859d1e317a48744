"""Tests for export.py and training.webmodel: the TF.js export round trip and the committed web model."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, cli_in_process

import export
from training.webmodel import WebModelError, load_web_model

COMMITTED_MODEL = ROOT / "web" / "model"


@pytest.fixture(scope="module")
def float32_export(smoke_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "model"
    report = export.export(smoke_run, out, "none")
    return out, report


def test_float32_export_matches_keras(float32_export):
    out, report = float32_export
    assert report["max_abs_difference"] <= export.FLOAT32_TOLERANCE
    assert report["top1_agreement"] == 1.0
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["labels"] == ["eye", "hand", "nose"]
    assert metadata["model_hash"] == export.weights_hash(out)
    assert metadata["raster"]["line_diameter"] == 16 and metadata["data"]["licence"] == "CC BY 4.0"
    assert {path.name for path in out.iterdir()} == {"model.json", "metadata.json", "group1-shard1of1.bin", "class_means.bin"}


@pytest.mark.parametrize("quantize", ["float16", "uint8"])
def test_quantized_exports_report_agreement(smoke_run, tmp_path, quantize):
    report = export.export(smoke_run, tmp_path / "model", quantize)
    # On the tiny run's test split; the shipped model's figure is in bench/results/quantization.json.
    assert report["top1_agreement"] >= 0.95 and abs(report["top1_change_points"]) <= 5
    assert json.loads((tmp_path / "model" / "metadata.json").read_text())["quantization"] == quantize


def test_export_is_reproducible_byte_for_byte(smoke_run, float32_export, tmp_path):
    out, _ = float32_export
    export.export(smoke_run, tmp_path / "again", "none")
    for name in ("model.json", "group1-shard1of1.bin", "metadata.json"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name


def test_web_model_loader_agrees_with_tensorflowjs(float32_export):
    import tensorflowjs

    out, _ = float32_export
    ours, metadata = load_web_model(out)
    theirs = tensorflowjs.converters.load_keras_model(str(out / "model.json"))
    images = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    assert np.abs(ours(images).numpy() - theirs(images).numpy()).max() <= 1e-6


@pytest.mark.parametrize("damage, message", [
    ("metadata.json", "metadata.json is missing"),
    ("model.json", "model.json is missing"),
    ("group1-shard1of1.bin", "group1-shard1of1.bin is missing"),
])
def test_broken_model_folder_is_named(float32_export, tmp_path, damage, message):
    out, _ = float32_export
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / damage).unlink()
    with pytest.raises(WebModelError, match=message):
        load_web_model(broken)


def run_export_cli(capsys, *args):
    return cli_in_process(capsys, export.main, *args)


def test_export_cli_errors(tmp_path, capsys):
    assert run_export_cli(capsys, str(tmp_path), "--out", str(tmp_path / "m")) == (
        2, f"error: {tmp_path} is not a training run: model.h5 is missing\n")
    assert run_export_cli(capsys, str(tmp_path), "--out", str(tmp_path / "m"), "--quantize", "int4") == (
        2, "error: unknown --quantize 'int4' (choose from none, float16, uint8)\n")
    # No default --out: an export never lands on the shipped web/model unless asked to.
    status, stderr = run_export_cli(capsys, str(tmp_path))
    assert status == 2 and "the following arguments are required: --out" in stderr


@pytest.mark.parametrize("damage, message", [
    (lambda run: (run / "config.json").write_text("{"), "config.json: not a readable JSON file"),
    (lambda run: (run / "config.json").write_text('{"model": "sketchnet"}'), "config.json: has no 'classes'"),
    (lambda run: (run / "metrics.json").write_text("[1]"), "metrics.json: not a JSON object"),
    (lambda run: (run / "model.h5").write_bytes((run / "model.h5").read_bytes()[:4000]),
     "model.h5: not a readable Keras .h5 file"),
])
def test_a_broken_run_is_named(smoke_run, tmp_path, capsys, damage, message):
    run = Path(shutil.copytree(smoke_run, tmp_path / "run"))
    damage(run)
    status, stderr = run_export_cli(capsys, str(run), "--out", str(tmp_path / "model"))
    assert status == 2 and len(stderr.splitlines()) == 1
    assert stderr.startswith(f"error: {run}/{message}")
    assert not (tmp_path / "model").exists()


def test_export_never_deletes_what_it_did_not_write(float32_export, smoke_run, tmp_path):
    out, _ = float32_export
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "model.json").write_text("mine")
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"holds files that export.py did not write \(notes.txt\)"):
        export.export(smoke_run, mine, "none", overwrite=True)
    assert sorted(path.name for path in mine.iterdir()) == ["model.json", "notes.txt"]
    earlier = Path(shutil.copytree(out, tmp_path / "earlier"))
    with pytest.raises(ValueError, match="holds an earlier output of export.py; add --overwrite"):
        export.export(smoke_run, earlier, "uint8")
    assert json.loads((earlier / "metadata.json").read_text())["quantization"] == "none"
    report = export.export(smoke_run, earlier, "uint8", overwrite=True)
    assert report["replaced"] == f"none, hash {report_hash(out)[:8]}…"  # says what it replaced
    assert json.loads((earlier / "metadata.json").read_text())["quantization"] == "uint8"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["earlier", "mine"]  # nothing left beside


def report_hash(folder):
    return json.loads((folder / "metadata.json").read_text())["model_hash"]


def test_committed_web_model_labels_match_outputs():
    model, metadata = load_web_model(COMMITTED_MODEL)
    assert model.output_shape[-1] == len(metadata["labels"]) == len(set(metadata["labels"]))
    # The class means the page compares taught classes with: one uint8 row of 1,152 features per class.
    means = metadata["class_means"]
    assert means["shape"] == [len(metadata["labels"]), 1152] and means["layer"] == "flatten"
    values = np.frombuffer((COMMITTED_MODEL / means["file"]).read_bytes(), np.uint8).reshape(means["shape"]) / 255
    assert np.allclose(np.linalg.norm(values, axis=1), np.linalg.norm(values, axis=1).mean(), rtol=0.3)
    assert values.max() > 0
    assert metadata["model_hash"] == export.weights_hash(COMMITTED_MODEL)
    run = ROOT / "runs" / metadata["name"]
    assert json.loads((run / "config.json").read_text())["classes"] == metadata["labels"]


def test_committed_web_model_is_reproduced_by_export(tmp_path):
    """The weights are reproduced bit for bit: folding batch normalization and uint8 quantization are
    elementwise IEEE operations (and a min and a max), the same on every CPU. What export measures with the
    model (the metrics, the confidence threshold, the class means) goes through convolutions whose
    summation order follows the CPU's vector width, so those are compared within tolerances: a figure to
    one drawing in a thousand, the threshold to 0.005, a class mean to one uint8 step."""
    metadata = json.loads((COMMITTED_MODEL / "metadata.json").read_text())
    report = export.export(ROOT / "runs" / metadata["name"], tmp_path / "model", metadata["quantization"],
                           mirror_average=metadata["mirror_average"])
    assert abs(report["top1_agreement"] - metadata["metrics"]["export_top1_agreement"]) <= 1e-3
    assert sorted(path.name for path in (tmp_path / "model").iterdir()) == sorted(
        path.name for path in COMMITTED_MODEL.iterdir())
    for name in ("model.json", "group1-shard1of1.bin"):
        assert (tmp_path / "model" / name).read_bytes() == (COMMITTED_MODEL / name).read_bytes(), name
    means = metadata["class_means"]["file"]
    committed_means, rebuilt_means = (np.frombuffer((folder / means).read_bytes(), np.uint8).astype(int)
                                      for folder in (COMMITTED_MODEL, tmp_path / "model"))
    assert np.abs(committed_means - rebuilt_means).max() <= 1
    rebuilt = json.loads((tmp_path / "model" / "metadata.json").read_text())
    measured = {"metrics", "confidence_threshold", "training"}
    assert {key: value for key, value in rebuilt.items() if key not in measured} == {
        key: value for key, value in metadata.items() if key not in measured}
    assert rebuilt["metrics"].keys() == metadata["metrics"].keys()
    for name, value in metadata["metrics"].items():
        assert (rebuilt["metrics"][name] is None) == (value is None), name
        if value is not None:
            assert abs(rebuilt["metrics"][name] - value) <= 1e-3, name
    assert abs(rebuilt["confidence_threshold"] - metadata["confidence_threshold"]) <= 0.005
    assert {key: value for key, value in rebuilt["training"].items() if key != "training_seconds"} == {
        key: value for key, value in metadata["training"].items() if key != "training_seconds"}


def test_batch_normalization_folds_exactly():
    """Conv blocks with trained-looking statistics fold into single layers."""
    import tf_keras as keras
    from tf_keras import layers

    from training.model import build_model

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, 3, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2D(12, 3, use_bias=True), layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2D(6, 3), layers.BatchNormalization(),  # no ReLU after: stays linear
        layers.GlobalAveragePooling2D(), layers.Dense(5, activation="softmax"),
    ])
    generator = np.random.default_rng(3)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            size = layer.gamma.shape[0]
            layer.set_weights([generator.uniform(0.5, 2, size), generator.normal(0, 0.3, size),
                               generator.normal(0, 0.5, size), generator.uniform(0.2, 3, size)])
    folded = export.fold_batch_normalization(model)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in folded.layers)
    assert not any(isinstance(layer, keras.layers.ReLU) for layer in folded.layers)
    assert [layer.get_config()["activation"] for layer in folded.layers[:3]] == ["relu", "relu", "linear"]
    images = generator.random((16, 28, 28, 1), dtype=np.float32)
    assert np.abs(model(images).numpy() - folded(images).numpy()).max() <= 1e-5
    shipped = build_model("sketchnet", 5)
    assert len(export.fold_batch_normalization(shipped).layers) < len(shipped.layers) - 4
    original = build_model("original", 5)
    assert export.fold_batch_normalization(original) is original  # nothing to fold
