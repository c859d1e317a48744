"""Load an exported TF.js layers model (model.json + shards) into tf_keras, quantization included.

    python -m training.webmodel web/model      # prints the model's labels and hash (and taught classes)

The server predicts with this, so that POST /predict runs exactly the weights the browser runs (uint8 or
float16 exports are dequantized the way TF.js does it: value = min + scale * q), without importing the
tensorflowjs package and its dependencies at request time. The folder's files are read once, into memory
(read_model_files), and the server serves those very bytes to the page: replacing the folder on disk
cannot make the page and POST /predict run different models. tests/test_export.py checks the loader
against tensorflowjs's own. A folder saved by the page's "Download as a model" loads too: its classes
taught in the page (metadata "taught", training/taught.py) are checked, and guessed by the page's rule.
"""

import json
import sys
from pathlib import Path

from training.modelfolder import WebModelError, build_model, read_model_folder, read_weights
from training.taught import check_taught


def read_model_files(folder, names=("metadata.json", "model.json")):
    """Every file of the folder that the page and the server use, as {file name: bytes}, read through the
    gate (training.modelfolder.read_model_folder: model.json's layers and manifest, metadata.json, the shards
    and the files metadata.json names, all checked before anything is deserialized); without metadata.json
    when `names` leaves it out."""
    return read_model_folder(folder, with_metadata="metadata.json" in names)


def load_layers_model(folder, files=None):
    """A TF.js layers model (model.json + shards, read from folder through the gate unless given) as a tf_keras
    model, built from the checked layer settings (training.modelfolder.build_model), never from the JSON."""
    folder = Path(folder)
    files = files if files is not None else read_model_files(folder, names=("model.json",))
    model = build_model(folder, files)
    weights = read_weights(files, json.loads(files["model.json"])["weightsManifest"], folder)
    model.set_weights([weights[variable.name.split(":")[0]] for variable in model.weights])
    return model


def load_web_model(folder, files=None):
    """(model, metadata) from one of our web model folders, or from its files already read; raises
    WebModelError naming what is wrong."""
    folder = Path(folder)
    files = files if files is not None else read_model_files(folder)
    model = load_layers_model(folder, files)
    # The gate (read_model_files) checked the labels, the hash and the taught entry against this very model.
    metadata = json.loads(files["metadata.json"])
    return model, metadata


def all_labels(metadata):
    """The classes a guess names, in order: the model's outputs, then any classes taught in the page."""
    return list(metadata["labels"]) + list((metadata.get("taught") or {}).get("labels", []))


def guess_probabilities(model, metadata, images, files=None):
    """Probabilities as the page computes a guess: the model's, averaged with its mirror image's when the
    export says so (metadata "mirror_average"; training.model.mirror_average, web/js/model.js); and, for a
    model with classes taught in the page (metadata "taught", with its files), over all_labels(metadata) by
    the page's rule (training.taught.beside_softmax), on the features of the drawing itself from the same run."""
    from training.model import mirror_average

    def predict(batch):
        return model.predict(batch, batch_size=1024, verbose=0)

    if not metadata.get("taught"):
        return mirror_average(predict, images) if metadata.get("mirror_average") else predict(images)
    if files is None:
        raise ValueError("a model with taught classes is guessed with its files (read_model_files), which hold "
                         "the taught means")
    import tf_keras as keras

    from training.taught import beside_softmax, class_means, unit_length

    layer = model.get_layer(metadata["class_means"]["layer"])
    with_features = keras.Model(model.input, [model.output, layer.output])
    probabilities, features = with_features.predict(images, batch_size=1024, verbose=0)
    if metadata.get("mirror_average"):
        probabilities = (probabilities + predict(images[:, :, ::-1])) / 2
    _, taught_means = check_taught(metadata, files, "")
    return beside_softmax(probabilities, unit_length(features), class_means(metadata, files), taught_means)


def main(argv=None):
    from training.cli import native_stderr_captured

    folder = (sys.argv[1:] if argv is None else argv) or ["web/model"]
    try:
        with native_stderr_captured():
            model, metadata = load_web_model(folder[0])
    except WebModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"labels": metadata["labels"], "model_hash": metadata["model_hash"],
                      **({"taught": metadata["taught"]["labels"]} if metadata.get("taught") else {})}))
    return 0


if __name__ == "__main__":
    from training.cli import interrupt_ends_process

    interrupt_ends_process()
    sys.exit(main())
