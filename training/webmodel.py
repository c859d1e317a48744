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

import numpy as np

from training.taught import check_taught

QUANTIZED_DTYPES = {"uint8": np.uint8, "float16": np.float16}  # what export.py's --quantize writes


class WebModelError(ValueError):
    """The model folder is missing, incomplete or inconsistent."""


def read_model_files(folder, names=("metadata.json", "model.json")):
    """These files (metadata.json and model.json), then every weight shard model.json lists, as
    {file name: bytes}."""
    folder = Path(folder)
    files = {}
    for name in names:
        if not (folder / name).is_file():
            raise WebModelError(f"model folder {folder}: {name} is missing")
        files[name] = (folder / name).read_bytes()
    try:
        manifest = json.loads(files["model.json"])["weightsManifest"]
        shards = [path for group in manifest for path in group["paths"]]
    except (ValueError, KeyError, TypeError) as error:
        raise WebModelError(f"model folder {folder}: cannot load the model ({error})") from None
    try:
        metadata = json.loads(files["metadata.json"]) if "metadata.json" in files else {}
    except ValueError as error:
        raise WebModelError(f"model folder {folder}: metadata.json is not JSON ({error})") from None
    # The class means, and the means of classes taught in the page (a model saved by "Download as a model"),
    # sit beside the shards and are served with them.
    described = {}
    for entry in ("class_means", "taught"):
        described[entry] = metadata.get(entry) if isinstance(metadata, dict) else None
        if described[entry] is not None and not isinstance(described[entry], dict):
            raise WebModelError(f"model folder {folder}: metadata.json's {entry} is not an object")
    listed = [("model.json", name) for name in shards]
    for entry, value in described.items():
        if value:
            listed.append((f"metadata.json's {entry}", value.get("file")))
        if value and "drawings_file" in value:
            # A saved model's taught drawings (taught.ndjson): the page joins them to the next save's.
            listed.append((f"metadata.json's {entry} drawings", value["drawings_file"]))
    for source, name in listed:
        # Shards (and the means) sit beside model.json; a path elsewhere is not ours to read.
        if not isinstance(name, str) or Path(name).name != name or name in (".", ".."):
            raise WebModelError(f"model folder {folder}: {source} names a file outside the folder: {name!r}")
        if not (folder / name).is_file():
            raise WebModelError(f"model folder {folder}: weight shard {name} is missing")
        files[name] = (folder / name).read_bytes()
    return files


def read_weights(files, manifest, folder):
    """Every weight of the manifest as a float32 array, by name, dequantized where needed."""
    weights = {}
    for group in manifest:
        buffer = b"".join(files[path] for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            quantization = entry.get("quantization")
            if quantization and quantization.get("dtype") not in QUANTIZED_DTYPES:
                raise WebModelError(f"{folder}: weight {entry.get('name')!r} is quantized to "
                                    f"{quantization.get('dtype')!r}, which export.py does not write")
            dtype = QUANTIZED_DTYPES[quantization["dtype"]] if quantization else np.dtype(entry["dtype"])
            count = int(np.prod(entry["shape"], dtype=np.int64))
            size = count * np.dtype(dtype).itemsize
            if offset + size > len(buffer):
                raise WebModelError(f"{folder}: weight shards are shorter than model.json says")
            values = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
            offset += size
            if quantization and quantization["dtype"] != "float16":
                # In double precision and in TF.js's order (q * scale + min), rounded to float32 once, as
                # tfjs-core's io_utils does: float32 arithmetic here rounds twice and can differ by one
                # unit in the last place, which moved probabilities by 1e-5.
                values = values.astype(np.float64) * quantization["scale"] + quantization["min"]
            weights[entry["name"]] = values.astype(np.float32).reshape(entry["shape"])
    return weights


def load_layers_model(folder, files=None):
    """A TF.js layers model (model.json + shards, read from folder unless given) as a tf_keras model."""
    import tf_keras as keras

    folder = Path(folder)
    files = files if files is not None else read_model_files(folder, names=("model.json",))
    try:
        model_json = json.loads(files["model.json"])
        topology = model_json["modelTopology"]["model_config"]
        model = keras.models.model_from_json(json.dumps(topology))
        weights = read_weights(files, model_json["weightsManifest"], folder)
    except WebModelError:
        raise
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise WebModelError(f"model folder {folder}: cannot load the model ({error})") from None
    values = []
    for variable in model.weights:
        name = variable.name.split(":")[0]
        if name not in weights:
            raise WebModelError(f"model folder {folder}: weight {name} is missing from the shards")
        values.append(weights[name])
    model.set_weights(values)
    return model


def load_web_model(folder, files=None):
    """(model, metadata) from one of our web model folders, or from its files already read; raises
    WebModelError naming what is wrong."""
    folder = Path(folder)
    files = files if files is not None else read_model_files(folder)
    model = load_layers_model(folder, files)
    try:
        metadata = json.loads(files["metadata.json"])
    except ValueError as error:
        raise WebModelError(f"model folder {folder}: metadata.json is not JSON ({error})") from None
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    if not isinstance(labels, list) or len(labels) != model.output_shape[-1]:
        raise WebModelError(f"model folder {folder}: metadata.json labels do not match the model's "
                            f"{model.output_shape[-1]} outputs")
    if not isinstance(metadata.get("model_hash"), str):
        raise WebModelError(f"model folder {folder}: metadata.json has no model_hash")
    try:
        taught_labels, _ = check_taught(metadata, files, folder)
    except ValueError as error:
        raise WebModelError(str(error)) from None
    if taught_labels:
        # Taught classes compare the features of the class means' layer: it must be the model's, that wide.
        layer_name = metadata["class_means"].get("layer")
        layer = next((each for each in model.layers if each.name == layer_name), None)
        columns = metadata["class_means"]["shape"][1]
        if layer is None or int(np.prod(layer.output_shape[1:])) != columns:
            raise WebModelError(f"model folder {folder}: the class means' layer {layer_name!r} is not a layer of "
                                f"the model with {columns} features")
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


if __name__ == "__main__":
    loaded_model, loaded_metadata = load_web_model(sys.argv[1] if len(sys.argv) > 1 else "web/model")
    print(json.dumps({"labels": loaded_metadata["labels"], "model_hash": loaded_metadata["model_hash"],
                      **({"taught": loaded_metadata["taught"]["labels"]} if loaded_metadata.get("taught") else {})}))
