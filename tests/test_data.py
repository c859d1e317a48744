"""Tests for training.data: loading, validation, the split and the tf.data pipeline."""

import numpy as np
import pytest

from training import data as quickdraw


def test_loads_both_file_names(tmp_path):
    np.save(tmp_path / "full_numpy_bitmap_cat.npy", np.zeros((5, 784), np.uint8))
    (tmp_path / "bitmaps").mkdir()
    np.save(tmp_path / "bitmaps" / "dog.npy", np.ones((7, 784), np.uint8))
    loaded = quickdraw.load_data(tmp_path, ["cat", "dog"], validation_fraction=0.2, test_fraction=0.2)
    assert [len(array) for array in loaded.bitmaps] == [5, 7]
    assert isinstance(loaded.bitmaps[0], np.memmap)  # memory-mapped, not read whole
    assert quickdraw.available_classes(tmp_path) == ["cat", "dog"]


@pytest.mark.parametrize("array, message", [
    (np.zeros((5, 784), np.float32), "dtype is float32"),
    (np.zeros((5, 28, 28), np.uint8), "shape is (5, 28, 28)"),
    (np.zeros((5, 783), np.uint8), "shape is (5, 783)"),
    (np.zeros((0, 784), np.uint8), "has no rows"),
])
def test_bad_files_are_named(tmp_path, array, message):
    np.save(tmp_path / "cat.npy", array)
    with pytest.raises(ValueError, match="cat.npy") as error:
        quickdraw.load_data(tmp_path, ["cat"])
    assert message in str(error.value)


def test_not_an_npy_file(tmp_path):
    (tmp_path / "cat.npy").write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a readable .npy"):
        quickdraw.load_data(tmp_path, ["cat"])


def test_missing_class(tmp_path):
    with pytest.raises(ValueError, match="no bitmap file for class 'unicorn'"):
        quickdraw.load_data(tmp_path, ["unicorn"])


@pytest.mark.parametrize("classes, preset, message", [
    ([], None, "empty"),
    ([" "], None, "empty"),
    (["cat", "cat"], None, "duplicates"),
    (None, "no-such-preset", "unknown preset"),
    (["cat"], "body-parts", "not both"),
])
def test_bad_class_lists(tmp_path, classes, preset, message):
    with pytest.raises(ValueError, match=message):
        quickdraw.resolve_classes(tmp_path, classes, preset)


def test_presets():
    assert quickdraw.preset_classes("body-parts") == ["eye", "arm", "face", "finger", "hand", "leg",
                                                     "mouth", "nose", "ear"]
    assert len(quickdraw.preset_classes("shipped")) >= 2


def test_split_is_deterministic_stratified_and_disjoint():
    first = quickdraw.split_indices(1000, 7, "cat", 0.1, 0.1)
    second = quickdraw.split_indices(1000, 7, "cat", 0.1, 0.1)
    other_seed = quickdraw.split_indices(1000, 8, "cat", 0.1, 0.1)
    for split in first:
        assert np.array_equal(first[split], second[split])
    assert not np.array_equal(first["test"], other_seed["test"])
    assert [len(first[s]) for s in ("train", "validation", "test")] == [800, 100, 100]
    union = np.concatenate(list(first.values()))
    assert len(np.unique(union)) == 1000
    assert len(quickdraw.split_indices(1000, 7, "cat", 0.1, 0.1, max_per_class=50)["train"]) == 40


def test_split_of_a_class_ignores_other_classes(tiny_data_dir):
    alone = quickdraw.load_data(tiny_data_dir, ["hand"])
    together = quickdraw.load_data(tiny_data_dir, ["eye", "hand"])
    hand_rows = together.splits["test"][1][together.splits["test"][0] == 1]
    assert np.array_equal(alone.splits["test"][1], hand_rows)


def test_dataset_batches_and_twins(tmp_path):
    (tmp_path / "bitmaps").mkdir()
    (tmp_path / "twins").mkdir()
    np.save(tmp_path / "bitmaps" / "cat.npy", np.zeros((40, 784), np.uint8))
    np.save(tmp_path / "twins" / "cat.npy", np.full((40, 784), 255, np.uint8))
    np.save(tmp_path / "bitmaps" / "dog.npy", np.full((40, 784), 10, np.uint8))
    loaded = quickdraw.load_data(tmp_path, ["cat", "dog"], use_twins=True)
    assert loaded.twins[1] is None
    batches = list(quickdraw.make_dataset(loaded, "train", 16, shuffle=True, seed=1, twin_fraction=0.5))
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert images.shape == (loaded.split_size("train"), 28, 28, 1)
    assert images.max() <= 1.0
    cat_means = images[labels == 0].mean(axis=(1, 2, 3))
    assert 0 < np.mean(cat_means == 1.0) < 1  # some cat rows came from the twin file, some did not
    assert np.allclose(images[labels == 1], 10 / 255)
