"""Tests for training.train: a 1-epoch smoke run on tiny data, one-line errors on bad input, output
folders that are never deleted unless they hold only an earlier run, and fine-tuning from a run."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SHARED_DATA, cli_in_process

DOODLENET = SHARED_DATA.parent.parent / "anchors" / "doodlenet"


def test_smoke_run_writes_every_artifact(smoke_run):
    for name in ("model.h5", "config.json", "metrics.json", "confusion_matrix.png", "misclassified.png",
                 "training_curves.png"):
        assert (smoke_run / name).is_file(), name
    config = json.loads((smoke_run / "config.json").read_text())
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    assert config["classes"] == ["eye", "hand", "nose"] and config["seed"] == 1337
    assert config["epochs"] == 1 and config["model"] == "sketchnet"
    assert 0 <= metrics["test"]["top1"] <= metrics["test"]["top3"] <= 1
    assert set(metrics["test"]["per_class"]) == {"eye", "hand", "nose"}
    assert np.array(metrics["test"]["confusion_matrix"]).shape == (3, 3)
    assert metrics["training_seconds"] > 0
    assert not [p for p in smoke_run.parent.iterdir() if p.name.startswith(".")]  # no staging left


def run_train(*args):
    return subprocess.run([sys.executable, "-m", "training.train", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def main_in_process(capsys, *args):
    """training.train.main as the CLI runs it, in this process (no TensorFlow start-up per case)."""
    from training import train

    return cli_in_process(capsys, train.main, *args)


@pytest.fixture()
def bad_data_dir(tmp_path):
    (tmp_path / "bitmaps").mkdir()
    np.save(tmp_path / "bitmaps" / "cat.npy", np.zeros((10, 784), np.uint8))
    np.save(tmp_path / "bitmaps" / "square.npy", np.zeros((10, 28, 28), np.uint8))
    np.save(tmp_path / "bitmaps" / "floaty.npy", np.zeros((10, 784), np.float64))
    return tmp_path


@pytest.mark.parametrize("extra, message", [
    (["--classes", "cat", "unicorn"], "no bitmap file for class 'unicorn'"),
    (["--classes", "cat", "square"], "shape is (10, 28, 28)"),
    (["--classes", "cat", "floaty"], "dtype is float64"),
    (["--preset", "no-such-preset"], "unknown preset"),
    (["--classes"], "expected at least one argument"),
    (["--no-such-option"], "unrecognized arguments"),
    (["--classes", "cat", "--model", "resnet"], "unknown model"),
    (["--classes", "cat", "--epochs", "0"], "--epochs must be at least 1"),
    (["--classes", "cat", "--twin-fraction", "2"], "--twin-fraction"),
    (["--classes", "cat", "--validation-fraction", "0"], "--validation-fraction must be in (0, 0.5], got 0.0"),
    (["--classes", "cat", "--validation-fraction", "0.9"], "--validation-fraction must be in (0, 0.5], got 0.9"),
    (["--classes", "cat", "--patience", "0"], "--patience must be at least 1, got 0"),
    (["--classes", "cat", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),  # was 128, silently
    (["--classes", "cat", "--learning-rate", "0"], "--learning-rate must be above 0, got 0.0"),
])
def test_bad_input_is_one_line_and_exit_2(bad_data_dir, tmp_path, capsys, extra, message):
    out = tmp_path / "out" / "run"
    status, stderr = main_in_process(capsys, "--data-dir", str(bad_data_dir), "--out", str(out), *extra)
    assert status == 2
    assert message in stderr
    assert not out.exists()


def test_cli_error_has_no_traceback(bad_data_dir, tmp_path):
    result = run_train("--data-dir", str(bad_data_dir), "--classes", "unicorn", "--out", str(tmp_path / "r"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: no bitmap file for class 'unicorn' in "
                                                  f"{bad_data_dir} (looked for unicorn.npy and "
                                                  "full_numpy_bitmap_unicorn.npy)"]


def test_unwritable_output_folder(bad_data_dir, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status, stderr = main_in_process(capsys, "--data-dir", str(bad_data_dir), "--classes", "cat",
                                     "--out", str(blocker / "run"))
    assert status == 2 and "not writable" in stderr


def test_extra_strokes_must_name_known_classes(tiny_data_dir, tmp_path):
    from training import train

    extra = tmp_path / "corrections.ndjson"
    extra.write_text(json.dumps({"word": "eye", "drawing": [[[0, 50, 100], [0, 40, 0]]]}) + "\n")
    images, labels = train.load_extra_strokes([str(extra)], ["eye", "hand"])
    assert images.shape == (1, 28, 28, 1) and labels.tolist() == [0]
    with pytest.raises(ValueError, match="not a class of this run"):
        train.load_extra_strokes([str(extra)], ["hand", "nose"])


def test_distributed_training_on_one_cpu_host(tiny_data_dir, tmp_path, capsys):
    """MirroredStrategy over this host's devices (one CPU here) runs the same pipeline end to end.

    With augmentation on, which sketchnet's defaults leave off, so that this path stays tested too.
    """
    from training import train

    out = tmp_path / "mirrored"
    status = train.main(["--data-dir", str(tiny_data_dir), "--epochs", "1", "--batch-size", "32",
                         "--distribute", "mirrored", "--augment", "on", "--out", str(out), "--verbose", "0"])
    assert status == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["distribute"] == "mirrored" and (out / "model.h5").is_file()
    assert config["augment"] is True


def kernels(run):
    """The trained kernels of a run's model (batch normalization's moving statistics move without training)."""
    import h5py

    with h5py.File(run / "model.h5", "r") as weights:
        found = []
        weights["model_weights"].visititems(lambda name, item: found.append((name, item[()]))
                                            if name.endswith("kernel:0") else None)
    return dict(found)


def test_fine_tuning_on_corrections(smoke_run, tiny_data_dir, tmp_path, capsys):
    """The loop from the page back to training: start from a run, add labelled drawings, train on."""
    from training import train

    corrections = tmp_path / "corrections.ndjson"
    corrections.write_text("".join(json.dumps({"word": word, "drawing": [[[0, 40, 90], [10, 60, 0]]]}) + "\n"
                                   for word in ("eye", "nose")))
    out = tmp_path / "tuned"
    # A learning rate too small to move a weight: what the run ends with is what it started from.
    status = train.main(["--data-dir", str(tiny_data_dir), "--init-from", str(smoke_run), "--extra-strokes",
                         str(corrections), "--epochs", "1", "--batch-size", "32", "--learning-rate", "1e-12",
                         "--out", str(out), "--verbose", "0"])
    assert status == 0, capsys.readouterr().err
    assert json.loads((out / "config.json").read_text())["init_from"] == str(smoke_run.resolve())
    started, tuned = kernels(smoke_run), kernels(out)
    assert started.keys() == tuned.keys() and len(started) >= 4
    assert all(np.abs(started[name] - tuned[name]).max() < 1e-6 for name in started)
    status = train.main(["--data-dir", str(tiny_data_dir), "--classes", "eye", "hand", "--init-from",
                         str(smoke_run), "--out", str(tmp_path / "bad"), "--verbose", "0"])
    assert status == 2 and "same classes" in capsys.readouterr().err


@pytest.fixture()
def earlier_run(smoke_run, tmp_path):
    """A copy of a finished run, as a person's runs/ folder would hold it."""
    return Path(shutil.copytree(smoke_run, tmp_path / "runs" / "earlier"))


def test_out_with_other_files_is_refused_and_left_alone(tiny_data_dir, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "model.h5").write_text("also mine")
    status, stderr = main_in_process(capsys, "--data-dir", str(tiny_data_dir), "--out", str(out), "--overwrite")
    assert status == 2
    assert stderr == (f"error: output folder {out} holds files that training.train did not write (notes.txt); "
                      "choose an empty or new folder\n")
    assert sorted(path.name for path in out.iterdir()) == ["model.h5", "notes.txt"]


def test_out_dot_is_refused(tiny_data_dir, capsys):
    status, stderr = main_in_process(capsys, "--data-dir", str(tiny_data_dir), "--out", ".")
    assert status == 2 and "did not write" in stderr and (ROOT / "README.md").is_file()


def test_an_earlier_run_is_replaced_only_with_overwrite(earlier_run, tiny_data_dir, capsys):
    before = (earlier_run / "metrics.json").read_text()
    status, stderr = main_in_process(capsys, "--data-dir", str(tiny_data_dir), "--out", str(earlier_run))
    assert status == 2 and stderr == (f"error: output folder {earlier_run} holds an earlier output of "
                                      "training.train; add --overwrite to replace it\n")
    assert (earlier_run / "metrics.json").read_text() == before
    status, _ = main_in_process(capsys, "--data-dir", str(tiny_data_dir), "--out", str(earlier_run), "--overwrite",
                                "--epochs", "1", "--batch-size", "32", "--verbose", "0", "--seed", "7")
    assert status == 0
    assert json.loads((earlier_run / "config.json").read_text())["seed"] == 7
    assert sorted(path.name for path in earlier_run.parent.iterdir()) == ["earlier"]  # nothing left beside it


@pytest.mark.parametrize("damage, message", [
    (lambda run: (run / "model.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100)), "model.h5: not a readable Keras .h5 file"),
    (lambda run: (run / "model.h5").write_bytes((run / "model.h5").read_bytes()[:5000]),
     "model.h5: not a readable Keras .h5 file"),
    (lambda run: (run / "model.h5").write_text("hello"), "model.h5: not a readable Keras .h5 file"),
    (lambda run: (run / "config.json").write_text('{"classes": ['), "config.json: not a readable JSON file"),
    (lambda run: (run / "config.json").write_text("[]"), "config.json: not a JSON object"),
])
def test_a_broken_init_from_run_is_named(earlier_run, tiny_data_dir, tmp_path, capsys, damage, message):
    damage(earlier_run)
    status, stderr = main_in_process(capsys, "--data-dir", str(tiny_data_dir), "--init-from", str(earlier_run),
                                     "--out", str(tmp_path / "tuned"))
    assert status == 2 and len(stderr.splitlines()) == 1
    assert stderr.startswith(f"error: {earlier_run / message.split(':')[0]}: {message.split(': ', 1)[1]}")


def test_empty_extra_strokes_file_is_named(tiny_data_dir, tmp_path, capsys):
    empty = tmp_path / "corrections.ndjson"
    empty.write_text("\n")
    status, stderr = main_in_process(capsys, "--data-dir", str(tiny_data_dir), "--extra-strokes", str(empty),
                                     "--out", str(tmp_path / "run"))
    assert status == 2 and stderr == f"error: --extra-strokes {empty}: no drawings in the file(s)\n"


def test_missing_data_folder_is_said_so(tmp_path, capsys):
    status, stderr = main_in_process(capsys, "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run"))
    assert status == 2 and stderr == f"error: data folder {tmp_path / 'nowhere'} does not exist\n"


def test_split_seed_is_fixed_while_the_seed_varies(smoke_run, tiny_data_dir):
    """Runs at other seeds (bench.routes) test on the very rows the shipped seed's run tests on."""
    from training import data as quickdraw

    config = json.loads((smoke_run / "config.json").read_text())
    assert config["split_seed"] == quickdraw.DEFAULT_SEED and config["seed"] == quickdraw.DEFAULT_SEED

    def split_rows(run_config):
        data = quickdraw.load_data(tiny_data_dir, run_config["classes"], seed=quickdraw.split_seed(run_config),
                                   validation_fraction=run_config["validation_fraction"],
                                   test_fraction=run_config["test_fraction"])
        return {split: np.concatenate(rows) for split, rows in data.splits.items()}

    shipped, other_seed = split_rows(config), split_rows(config | {"seed": 5})
    assert all(np.array_equal(shipped[split], other_seed[split]) for split in shipped)
    assert len(shipped["test"]) > 0
    # A run made before the key existed split by its own seed: other rows.
    older = split_rows({key: value for key, value in config.items() if key != "split_seed"} | {"seed": 5})
    assert not np.array_equal(shipped["test"], older["test"])


def test_distillation_targets_mix_the_teacher_and_the_labels(smoke_run, tiny_data_dir):
    import tf_keras as keras

    from training import data as quickdraw
    from training import train
    from training.model import mirror_average

    config = json.loads((smoke_run / "config.json").read_text()) | {"teacher": [str(smoke_run)], "teacher_weight": 0.25}
    data = quickdraw.load_data(tiny_data_dir, config["classes"], seed=config["split_seed"],
                               validation_fraction=config["validation_fraction"])
    targets = train.teacher_targets(config, data)
    class_ids, row_ids = data.splits["train"]
    teacher = keras.models.load_model(smoke_run / "model.h5", compile=False)
    predicted = mirror_average(lambda x: teacher.predict(x, verbose=0), data.gather(class_ids, row_ids))
    smoothing = config["label_smoothing"]
    labels = np.eye(3)[class_ids] * (1 - smoothing) + smoothing / 3
    np.testing.assert_allclose(targets, 0.25 * predicted + 0.75 * labels, atol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1, atol=1e-5)


def test_several_teachers_are_averaged_doodlenet_among_them(smoke_run, tiny_data_dir):
    """A run folder and DoodleNet's TF.js folder teach together: each row's target is the mean of their
    mirror-averaged guesses (DoodleNet's restricted to the run's classes and renormalized), mixed with the labels."""
    import tf_keras as keras

    from training import data as quickdraw
    from training import fewshot, train
    from training.model import mirror_average

    config = json.loads((smoke_run / "config.json").read_text()) | {
        "teacher": [str(smoke_run), str(DOODLENET)], "teacher_weight": 0.7}
    data = quickdraw.load_data(tiny_data_dir, config["classes"], seed=config["split_seed"],
                               validation_fraction=config["validation_fraction"])
    targets = train.teacher_targets(config, data)
    class_ids, row_ids = data.splits["train"]
    images = data.gather(class_ids, row_ids)
    ours = keras.models.load_model(smoke_run / "model.h5", compile=False)
    doodlenet = fewshot.load_teacher(DOODLENET, config["classes"])
    predicted = (mirror_average(lambda x: ours.predict(x, verbose=0), images) + mirror_average(doodlenet, images)) / 2
    smoothing = config["label_smoothing"]
    labels = np.eye(3)[class_ids] * (1 - smoothing) + smoothing / 3
    # Float32 sums of a few terms each: 1e-5 is far below any difference a change of recipe would make.
    np.testing.assert_allclose(targets, 0.7 * predicted + 0.3 * labels, atol=1e-5)
    np.testing.assert_allclose(targets.sum(axis=1), 1, atol=1e-5)


def test_distilled_run_records_its_teachers(smoke_run, tiny_data_dir, tmp_path, capsys):
    from training import fewshot, train

    out = tmp_path / "student"
    status = train.main(["--data-dir", str(tiny_data_dir), "--teacher", str(smoke_run), str(DOODLENET),
                         "--mirror-inputs", "on", "--epochs", "1", "--batch-size", "32", "--out", str(out),
                         "--verbose", "0", "--seed", "8"])
    assert status == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["teacher"] == [str(smoke_run.resolve()), str(DOODLENET.resolve())]
    assert config["teachers"][1] == fewshot.TEACHER_CREDITS["doodlenet"] and config["teacher_weight"] == 0.5
    assert config["teachers"][0]["name"] == f"our sketchnet run ({smoke_run.name}/)"
    assert config["mirror_inputs"] is True and config["seed"] == 8 and config["split_seed"] == 1337


def test_mirror_inputs_flip_half_the_drawings():
    """--mirror-inputs: over a batch, about half the drawings come out mirrored and the rest untouched."""
    from training import train

    images = np.zeros((400, 28, 28, 1), np.float32)
    images[:, :, :5] = 1  # ink on the left only: a mirrored drawing has it on the right
    flipped = train.with_mirror_images(None, seed=3)(images, training=True).numpy()
    mirrored = np.all(flipped[:, :, -5:] == 1, axis=(1, 2, 3))
    untouched = np.all(flipped == images, axis=(1, 2, 3))
    assert np.all(mirrored ^ untouched) and 120 < mirrored.sum() < 280


@pytest.mark.parametrize("extra, message", [
    (["--teacher", "{nowhere}"], "--teacher {nowhere} is not a training run (model.h5 and config.json)"),
    (["--teacher", "{run}", "--teacher-weight", "0"], "--teacher-weight must be in (0, 1], got 0.0"),
    (["--teacher", "{run}", "--teacher-weight", "1.5"], "--teacher-weight must be in (0, 1], got 1.5"),
    (["--teacher", "{run}", "--extra-strokes", "{strokes}"], "--teacher cannot be combined with --extra-strokes"),
    (["--teacher", "{run}", "--classes", "eye", "hand"], "--teacher {run} was trained as 'sketchnet' on other classes"),
])
def test_bad_teacher_is_one_line(earlier_run, tiny_data_dir, tmp_path, capsys, extra, message):
    strokes = tmp_path / "strokes.ndjson"
    strokes.write_text(json.dumps({"word": "eye", "drawing": [[[0, 40], [10, 60]]]}) + "\n")
    names = {"run": earlier_run, "nowhere": tmp_path / "nowhere", "strokes": strokes}
    status, stderr = main_in_process(capsys, "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / "student"),
                                     *[value.format(**names) for value in extra])
    assert status == 2 and len(stderr.splitlines()) == 1
    assert stderr.startswith("error: " + message.format(**names)), stderr


def test_multi_worker_training_runs_on_two_local_workers(tiny_data_dir, tmp_path):
    """The README's way to outgrow one machine, `--distribute multi-worker`, run for real: two workers on
    127.0.0.1 described by TF_CONFIG train one short epoch together, and each writes a run: the same model
    (weights within 1e-5 of each other: the all-reduce gives both workers one update, and only float
    summation order could differ), so the same test figure (within 0.002, which no changed decision fits in)."""
    import os
    import socket

    import tf_keras

    ports = []
    sockets = [socket.socket() for _ in range(2)]
    for each in sockets:  # two free loopback ports, released just before the workers bind them
        each.bind(("127.0.0.1", 0))
        ports.append(each.getsockname()[1])
    for each in sockets:
        each.close()
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        environment = os.environ | {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker",
                                                                                          "index": index}}),
                                    "HOME": str(tmp_path), "CUDA_VISIBLE_DEVICES": ""}
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "training.train", "--data-dir", str(tiny_data_dir), "--epochs", "1",
             "--batch-size", "32", "--distribute", "multi-worker", "--verbose", "0",
             "--out", str(tmp_path / f"worker-{index}")],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        outputs = [worker.communicate(timeout=600) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    figures, weights = [], []
    for index, (worker, (stdout, stderr)) in enumerate(zip(workers, outputs)):
        assert worker.returncode == 0, stderr[-2000:]
        config = json.loads((tmp_path / f"worker-{index}" / "config.json").read_text())
        assert config["distribute"] == "multi-worker"
        figures.append(json.loads(stdout.strip().splitlines()[-1])["test_top1"])
        weights.append(tf_keras.models.load_model(tmp_path / f"worker-{index}" / "model.h5", compile=False).get_weights())
    assert len(weights[0]) == len(weights[1]) and all(
        np.allclose(first, second, atol=1e-5) for first, second in zip(weights[0], weights[1]))
    assert abs(figures[0] - figures[1]) <= 1 / 500
