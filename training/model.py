"""CNN architectures for 28x28 sketches, built with tf_keras so that TF.js 4.22 loads their export.

    python -m training.model sketchnet [NUM_CLASSES]   # prints a model's summary (default: the shipped classes)

`original` is the tutorial's network, kept exactly as the baseline to beat. `sketchnet` is ours: three
conv blocks with batch normalization and a flattened 3x3 head, a web model of about 120 KB once quantized
to uint8. TensorFlow is imported inside the builders, so that the command-line tools can reject bad input
in a fraction of a second, before TensorFlow starts.
"""

import sys

from training.data import IMAGE_SIZE

MODEL_NAMES = ("original", "sketchnet")
# sketchnet's last layer before dropout and the softmax: the features the few-shot head learns from and the
# page compares taught drawings by (export.py's class means).
FEATURE_LAYER = "flatten"

# Per-model training defaults (why each value, with the runs behind it: docs/experiments.md). The original
# keeps the tutorial's Adam at a constant rate and batches of 200. sketchnet: a cosine-decayed rate from a
# higher start (batch normalization tolerates it); label smoothing, so ambiguous doodles do not saturate;
# no geometric augmentation, since the raster recipe already centres and scales every drawing; patience
# above the two or three epochs that validation can dip while the rate is high; 3 % for validation, enough
# for early stopping and the confidence threshold, so that more drawings train.
TRAINING_DEFAULTS = {
    "original": {"batch_size": 200, "learning_rate": 1e-3, "learning_rate_schedule": "constant",
                 "label_smoothing": 0.0, "augment": False, "twin_fraction": 0.0, "epochs": 15, "patience": 3,
                 "validation_fraction": 0.1},
    "sketchnet": {"batch_size": 128, "learning_rate": 3e-3, "learning_rate_schedule": "cosine",
                  "label_smoothing": 0.1, "augment": False, "twin_fraction": 0.5, "epochs": 20, "patience": 8,
                  "validation_fraction": 0.03},
}


def build_original(num_classes):
    """The tutorial's CNN: Conv30-Pool-Conv15-Pool-Dropout-Dense128-Dense50-softmax."""
    import tf_keras as keras
    from tf_keras import layers

    return keras.Sequential([
        keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1)),
        layers.Conv2D(30, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(15, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Dropout(0.2),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(50, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ], name="original")


def conv_block(x, filters, name):
    from tf_keras import layers

    # Convolution without bias: the batch normalization that follows has its own offset.
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_sketchnet(num_classes, dropout_rate=0.3):
    """Our CNN: [conv-BN-ReLU] x (1, 2, 1) at 28, 14 and 7 pixels, then a position-aware softmax head.

    At full resolution a sketch is only edges, so the first block is one narrow convolution; capacity goes
    to 14x14 and 7x7, where parts of a drawing (wheels, ears, handles) meet. The head flattens a 3x3 grid
    instead of averaging it away: where a part sits (ears on top, legs below) tells classes apart, which
    global average pooling discards. export.py folds each batch normalization into its convolution. The
    14x14 convolutions have 40 filters because TF.js's time per prediction follows multiply-adds
    (bench/architectures.py), and 40 keeps them below DoodleNet's.
    """
    import tf_keras as keras
    from tf_keras import layers

    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), name="image")
    x = conv_block(inputs, 32, "block1a")
    x = layers.MaxPooling2D(2, name="block1_pool")(x)
    x = conv_block(x, 40, "block2a")
    x = conv_block(x, 40, "block2b")
    x = layers.MaxPooling2D(2, name="block2_pool")(x)
    x = conv_block(x, 128, "block3a")
    x = layers.MaxPooling2D(2, name="block3_pool")(x)
    x = layers.Flatten(name=FEATURE_LAYER)(x)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="sketchnet")


def multiply_adds(model):
    """Multiply-adds of one prediction: TF.js's time per prediction on wasm grows with this number."""
    from tf_keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            height, width, channels = layer.output_shape[1:]
            total += height * width * channels * layer.kernel_size[0] * layer.kernel_size[1] * layer.input_shape[-1]
        elif isinstance(layer, layers.Dense):
            total += layer.input_shape[-1] * layer.units
    return total


def mirror_average(predict, images):
    """Test-time averaging: the mean of the predictions for a drawing and for its mirror image.

    Most sketches mean the same mirrored (a bird facing left or right), so averaging the two views removes
    some of one view's accidents (docs/experiments.md measures it over three seeds). images: (n, 28, 28, 1),
    a NumPy array or a TensorFlow tensor (the server's compiled forward pass); web/js/model.js does the same.
    """
    return (predict(images) + predict(images[:, :, ::-1])) / 2


def build_model(name, num_classes):
    """Build (uncompiled) model `name` with num_classes outputs."""
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r} (known models: {', '.join(MODEL_NAMES)})")
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
    return build_original(num_classes) if name == "original" else build_sketchnet(num_classes)


if __name__ == "__main__":
    from training.data import preset_classes

    build_model(sys.argv[1] if len(sys.argv) > 1 else "sketchnet",
                int(sys.argv[2]) if len(sys.argv) > 2 else len(preset_classes("shipped"))).summary()
