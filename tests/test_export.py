"""Tests for export.py and training.webmodel: the TF.js export round trip and the committed web model."""

import json
import shutil

import numpy as np
import pytest

import export
from conftest import ROOT
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
    assert {path.name for path in out.iterdir()} == {"model.json", "metadata.json", "group1-shard1of1.bin"}


@pytest.mark.parametrize("quantize", ["float16", "uint8"])
def test_quantized_exports_report_agreement(smoke_run, tmp_path, quantize):
    report = export.export(smoke_run, tmp_path / "model", quantize)
    assert 0 <= report["top1_agreement"] <= 1 and "top1_change_points" in report
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
    ("group1-shard1of1.bin", "cannot load"),
])
def test_broken_model_folder_is_named(float32_export, tmp_path, damage, message):
    out, _ = float32_export
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / damage).unlink()
    with pytest.raises(WebModelError, match=message):
        load_web_model(broken)


def test_export_cli_errors(tmp_path, capsys):
    assert export.main([str(tmp_path), "--out", str(tmp_path / "m")]) == 2
    assert "not a training run" in capsys.readouterr().err
    assert export.main([str(tmp_path), "--quantize", "int4"]) == 2
    assert "unknown --quantize" in capsys.readouterr().err


def test_committed_web_model_labels_match_outputs():
    model, metadata = load_web_model(COMMITTED_MODEL)
    assert model.output_shape[-1] == len(metadata["labels"]) == len(set(metadata["labels"]))
    assert metadata["model_hash"] == export.weights_hash(COMMITTED_MODEL)
    run = ROOT / "runs" / metadata["name"]
    assert json.loads((run / "config.json").read_text())["classes"] == metadata["labels"]


def test_committed_web_model_is_reproduced_by_export(tmp_path):
    metadata = json.loads((COMMITTED_MODEL / "metadata.json").read_text())
    export.export(ROOT / "runs" / metadata["name"], tmp_path / "model", metadata["quantization"])
    for path in COMMITTED_MODEL.iterdir():
        assert (tmp_path / "model" / path.name).read_bytes() == path.read_bytes(), path.name


def test_batch_normalization_folds_exactly():
    """Conv and separable conv blocks with trained-looking statistics fold into single layers."""
    import tf_keras as keras
    from tf_keras import layers

    from training.model import build_model

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, 3, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU(),
        layers.SeparableConv2D(12, 3, use_bias=True), layers.BatchNormalization(), layers.ReLU(),
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
