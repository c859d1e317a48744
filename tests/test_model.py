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
