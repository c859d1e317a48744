"""Tests for training.model: the original architecture exactly, and ours."""

import pytest

from training.model import build_model, multiply_adds


def test_original_architecture_is_exact():
    model = build_model("original", 9)
    summary = [(layer.__class__.__name__, getattr(layer, "filters", None) or getattr(layer, "units", None))
               for layer in model.layers]
    assert summary == [("Conv2D", 30), ("MaxPooling2D", None), ("Conv2D", 15), ("MaxPooling2D", None),
                       ("Dropout", None), ("Flatten", None), ("Dense", 128), ("Dense", 50), ("Dense", 9)]
    assert model.layers[0].kernel_size == (3, 3)
    assert model.layers[4].rate == 0.2
    assert model.layers[-1].activation.__name__ == "softmax"


def test_sketchnet_shape_and_size():
    model = build_model("sketchnet", 34)
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 34)
    assert model.count_params() < 200_000  # the shipped uint8 export is 118 KB (bench/results/accuracy.json)
    # DoodleNet needs 7,809,792 multiply-adds per prediction; being faster starts with needing fewer.
    assert multiply_adds(model) < 7_800_000


def test_multiply_adds_by_hand():
    import tf_keras as keras
    from tf_keras import layers

    model = keras.Sequential([keras.Input(shape=(8, 8, 2)), layers.Conv2D(4, 3, padding="same"),
                              layers.Conv2D(5, 3, padding="valid"), layers.Flatten(), layers.Dense(3)])
    same, valid = 8 * 8 * 4 * 9 * 2, 6 * 6 * 5 * 9 * 4
    assert multiply_adds(model) == same + valid + 6 * 6 * 5 * 3


@pytest.mark.parametrize("name, classes, message", [("resnet", 3, "unknown model"), ("original", 1, "at least 2")])
def test_bad_arguments(name, classes, message):
    with pytest.raises(ValueError, match=message):
        build_model(name, classes)


def test_mirror_average_by_hand():
    import numpy as np

    from training.model import mirror_average

    images = np.zeros((2, 28, 28, 1), np.float32)
    images[0, 5, 2] = 1  # ink on the left: its mirror image has it on the right
    images[1, 5, 2] = images[1, 5, 25] = 1  # symmetric: its mirror image is itself

    def predict(batch):
        """Class 0 for ink on the left half only, class 1 for ink on the right half only, else even."""
        left, right = batch[:, :, :14].sum(axis=(1, 2, 3)), batch[:, :, 14:].sum(axis=(1, 2, 3))
        first = np.where(left > right, 0.8, np.where(right > left, 0.2, 0.5))
        return np.stack([first, 1 - first, np.zeros_like(first)], axis=1)

    np.testing.assert_allclose(mirror_average(predict, images), [[0.5, 0.5, 0], [0.5, 0.5, 0]])
    # Averaging for class 1 only (bench.routes): class 0 keeps the unmirrored 0.8, and the row is renormalized.
    from bench.routes import mirror_average_for

    np.testing.assert_allclose(mirror_average_for(predict, images, [False, True, True]),
                               [[0.8 / 1.3, 0.5 / 1.3, 0], [0.5, 0.5, 0]])


@pytest.mark.parametrize("mirror", [True, False])
def test_guess_probabilities_follow_the_export(mirror):
    """Server, gallery and benchmarks guess as the page does: mirror averaging only when the metadata says."""
    import numpy as np

    from training.webmodel import guess_probabilities

    model = build_model("sketchnet", 5)
    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    plain = model.predict(images, verbose=0)
    expected = (plain + model.predict(images[:, :, ::-1], verbose=0)) / 2 if mirror else plain
    np.testing.assert_allclose(guess_probabilities(model, {"mirror_average": mirror}, images), expected, atol=1e-6)
