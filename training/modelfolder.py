"""The gate every model folder passes before anything reads it as a model: a folder is data, never code.

    python -m training.modelfolder web/model-taught-20261207-221854   # "ok: ..." or one line saying why not

A model folder may come from a stranger (a ZIP saved by "Download as a model" on someone else's page), so
the server (server/models.py), training.webmodel, the page's list (GET /models names only what passed here)
and so the service worker all take a folder through read_model_folder, which admits only what export.py and
"Download as a model" write, and checks it before any of it is deserialized:

- model.json: a Sequential TF.js layers model of the layer classes export.py writes (LAYER_SCHEMAS; the first
  an InputLayer, or a layer that states the input's shape, as in DoodleNet, the teacher training reads), each key
  of each layer known and of the expected kind, of its exact JSON type (28.0 or true for 1 is refused, as TF.js
  may read them otherwise): no Lambda layer, no custom objects, nothing that names a Python module. Its shapes
  are worked out here, from the 28x28 input on, so that the weights it needs (MAX_PARAMETERS) and its work per
  image (MAX_MULTIPLY_ADDS) are bounded before a single array is allocated.
- The weight manifest: exactly those weights, with those shapes, float32 or quantized by export.py's rules
  (a min and scale within MAX_QUANTIZED), in shards that are each a regular file inside the folder, opened
  without following a link (no FIFO, device or hard link, no path, no file listed twice) and exactly as long
  as the weights they hold; every weight, dequantized as TF.js does, a finite float32 (read_weights).
- metadata.json: labels that are distinct printable names, one per output; typed fields the page and the
  server act on (mirror_average a boolean, thresholds numbers in [0, 1], a hex model_hash); class means and
  taught means that fit the model, and the taught drawings' file.
- The folder's id (its name without "model-") is safe in a URL and in a cache name: MODEL_ID.
- All files read together are at most MAX_MODEL_BYTES; no JSON holds NaN, Infinity or a number too large for a
  float. A value of a type no check expected is a refusal too (read_model_folder's net), never a traceback.

Anything else raises WebModelError with one line naming the folder and the reason. The model is then built
from the checked layer settings (build_model), not from the folder's JSON.
"""

import errno
import json
import math
import os
import re
import stat
import sys
from pathlib import Path

import numpy as np

from training.taught import MAX_NAME_LENGTH, check_taught, is_name

IMAGE_SIZE = 28                 # the input every model of ours takes: 28x28x1 (training/raster.py's IMAGE_SIZE)
MAX_MODEL_BYTES = 16 * 2**20    # every file read from one folder, together; the shipped model is 157 KB
MAX_JSON_BYTES = 2**20          # model.json and metadata.json, each
MAX_PARAMETERS = 4_000_000      # weights a model.json may ask for; DoodleNet has about 550,000
MAX_MULTIPLY_ADDS = 50_000_000  # an image; the shipped model takes 7.6 million, DoodleNet 7.8 million
MAX_LAYERS = 64
MAX_CLASSES = 1000
MAX_SHARDS = 64
MAX_QUANTIZED = 1e6  # the largest min or scale of a uint8 quantization; the shipped model's are under 4
RESERVED_ID = "shipped"  # the id of serve.py's --model, whatever its folder is called
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
LAYER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # a valid TensorFlow name scope, too
MODEL_HASH = re.compile(r"[0-9a-f]{8,128}")
ACTIVATIONS = ("linear", "relu", "softmax", "tanh")  # tanh: DoodleNet's, which training reads as a teacher
INITIALIZERS = ("GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "Zeros", "Ones", "RandomNormal",
                "RandomUniform", "TruncatedNormal", "VarianceScaling", "Constant")
QUANTIZED_DTYPES = {"uint8": np.uint8, "float16": np.float16}  # what export.py's --quantize writes


class WebModelError(ValueError):
    """The model folder is missing, incomplete, inconsistent, or holds what no export of ours writes."""


def model_id(folder):
    """A model folder's id in URLs, cache names and POST /predict: its name without "model-"."""
    return Path(folder).name.removeprefix("model-")


def check_model_id(folder):
    """The folder's id, or WebModelError when it is not safe in a URL (MODEL_ID: letters, digits, - and _)."""
    identifier = model_id(folder)
    if identifier == RESERVED_ID:
        raise WebModelError(f"model folder {folder}: its id {identifier!r} is the default model's (serve.py --model)")
    if not MODEL_ID.fullmatch(identifier):
        raise WebModelError(f"model folder {folder}: its id {identifier[:70]!r} (the name without 'model-') must be "
                            "1 to 64 letters, digits, '-' or '_', starting with a letter or digit")
    return identifier


# ---------------------------------------------------------------------------------------------------------
# Reading: regular files inside the folder, bounded, and JSON without NaN, Infinity or unbounded nesting.

def read_file(folder, name, limit):
    """The bytes of folder/name: a regular file (not a link, a FIFO or a device) of at most `limit` bytes."""
    if not FILE_NAME.fullmatch(name):
        raise WebModelError(f"model folder {folder}: {name[:70]!r} is not a plain file name inside the folder")
    try:
        # O_NOFOLLOW refuses a symbolic link, O_NONBLOCK keeps a FIFO from blocking the open; then fstat says
        # what was opened, so nothing can be swapped between the check and the read.
        descriptor = os.open(Path(folder) / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise WebModelError(f"model folder {folder}: {name} is missing") from None
    except OSError as error:
        reason = "a symbolic link" if error.errno == errno.ELOOP else error.strerror  # O_NOFOLLOW met a link
        raise WebModelError(f"model folder {folder}: {name} cannot be read ({reason})") from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1:
        os.close(descriptor)
        what = "not a regular file" if not stat.S_ISREG(status.st_mode) else "a hard link (one file with another name)"
        raise WebModelError(f"model folder {folder}: {name} is {what}")
    with os.fdopen(descriptor, "rb") as file:
        if status.st_size > limit:
            raise WebModelError(f"model folder {folder}: {name} is {status.st_size:,} bytes, over the {limit:,} "
                                "allowed")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise WebModelError(f"model folder {folder}: {name} grew past {limit:,} bytes while it was read")
    return data


def _no_constants(token):
    raise ValueError(f"{token} is not a JSON number")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large for a number")
    return value


def parse_json(folder, name, data):
    """A JSON object from bytes, refusing NaN and Infinity (not JSON; a browser's JSON.parse refuses them too)."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constants, parse_float=_finite_float)
    except RecursionError:
        raise WebModelError(f"model folder {folder}: {name} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise WebModelError(f"model folder {folder}: {name} is not JSON ({str(error)[:100]})") from None
    if not isinstance(value, dict):
        raise WebModelError(f"model folder {folder}: {name} is not a JSON object")
    return value


# ---------------------------------------------------------------------------------------------------------
# model.json's topology: each layer's keys and values, and the shapes and weights they imply.

def _same(value, expected):
    """Equal and of the same JSON types all the way down: 1.0, true and 1 are three different values here, as
    they may be to TF.js."""
    if isinstance(expected, list):
        return (isinstance(value, list) and len(value) == len(expected)
                and all(_same(each, wanted) for each, wanted in zip(value, expected)))
    return type(value) is type(expected) and value == expected


def _is_int(value, low, high):
    return type(value) is int and low <= value <= high


def _pair(low, high):
    return lambda value: (isinstance(value, list) and len(value) == 2 and all(_is_int(v, low, high) for v in value))


def _initializer(value):
    """An initializer as tf_keras writes it. It is never built here (the weights are the file's), but TF.js
    reads it, so only known classes with plain settings pass."""
    if not isinstance(value, dict) or set(value) - {"module", "class_name", "config", "registered_name"}:
        return False
    config = value.get("config", {})
    return (value.get("module", "keras.initializers") == "keras.initializers"
            and value.get("registered_name") is None and value.get("class_name") in INITIALIZERS
            and isinstance(config, dict) and len(config) <= 8
            and all(isinstance(key, str) and (setting is None or type(setting) in (int, float, str, bool))
                    for key, setting in config.items()))


def _number(low, high):
    # The bounds are checked before isfinite, so that an integer of 400 digits is refused, not an OverflowError.
    return lambda value: type(value) in (int, float) and low <= value <= high and math.isfinite(value)


COMMON = {"name": lambda value: isinstance(value, str) and LAYER_NAME.fullmatch(value) is not None,
          "trainable": lambda value: type(value) is bool,
          "dtype": lambda value: value == "float32"}
NONE = lambda value: value is None  # noqa: E731  (a regularizer, constraint or noise shape: none are written)
CHANNELS_LAST = lambda value: value == "channels_last"  # noqa: E731
KERNEL = {"activation": lambda value: value in ACTIVATIONS, "use_bias": lambda value: type(value) is bool,
          "kernel_initializer": _initializer, "bias_initializer": _initializer,
          "kernel_regularizer": NONE, "bias_regularizer": NONE, "activity_regularizer": NONE,
          "kernel_constraint": NONE, "bias_constraint": NONE}
# The layer classes export.py writes (training.model's networks, batch normalization folded into the
# convolutions), each key they may hold and what it must be. Keys marked required must be there.
LAYER_SCHEMAS = {
    "InputLayer": {"batch_input_shape": lambda value: _same(value, [None, IMAGE_SIZE, IMAGE_SIZE, 1]),
                   "sparse": lambda value: value is False, "ragged": lambda value: value is False},
    "Conv2D": {"filters": lambda value: _is_int(value, 1, 1024), "kernel_size": _pair(1, 9), "strides": _pair(1, 4),
               "padding": lambda value: value in ("same", "valid"), "data_format": CHANNELS_LAST,
               "dilation_rate": lambda value: _same(value, [1, 1]), "groups": lambda value: _same(value, 1), **KERNEL},
    "MaxPooling2D": {"pool_size": _pair(1, 4), "strides": lambda value: value is None or _pair(1, 4)(value),
                     "padding": lambda value: value in ("same", "valid"), "data_format": CHANNELS_LAST},
    "Flatten": {"data_format": CHANNELS_LAST},
    "Dropout": {"rate": lambda value: _number(0, 0.99)(value), "noise_shape": NONE,
                "seed": lambda value: value is None or _is_int(value, 0, 2**63)},
    "Dense": {"units": lambda value: _is_int(value, 1, 4096), **KERNEL},
}
REQUIRED = {"InputLayer": {"batch_input_shape"}, "Conv2D": {"filters", "kernel_size"},
            "MaxPooling2D": {"pool_size"}, "Flatten": set(), "Dropout": {"rate"}, "Dense": {"units"}}


def _output_size(size, window, stride, padding):
    return -(-size // stride) if padding == "same" else (size - window) // stride + 1


def check_topology(folder, model_json):
    """model.json's layers, checked: (layers as [(class name, config)], {weight name: shape} in build order,
    {layer name: flattened output size}, the number of outputs). Raises WebModelError naming the first problem."""
    def refuse(reason):
        raise WebModelError(f"model folder {folder}: model.json {reason}")

    if set(model_json) - {"format", "generatedBy", "convertedBy", "modelTopology", "weightsManifest"}:
        refuse(f"has unknown entries {sorted(map(str, set(model_json) - {'format'}))[:3]}")
    if model_json.get("format", "layers-model") != "layers-model":
        refuse("is not a TF.js layers model")
    topology = model_json.get("modelTopology")
    config = topology.get("model_config") if isinstance(topology, dict) else None
    if (not isinstance(config, dict) or set(topology) - {"keras_version", "backend", "model_config"}
            or config.get("class_name") != "Sequential" or not isinstance(config.get("config"), dict)):
        refuse("is not a Sequential model as export.py writes it")
    layer_list = config["config"].get("layers")
    if not isinstance(layer_list, list) or not 2 <= len(layer_list) <= MAX_LAYERS:
        refuse(f"must hold 2 to {MAX_LAYERS} layers")
    layers, weights, sizes, names, shape = [], {}, {}, set(), (IMAGE_SIZE, IMAGE_SIZE, 1)
    multiply_adds = 0
    for index, layer in enumerate(layer_list):
        class_name = layer.get("class_name") if isinstance(layer, dict) else None
        if not isinstance(class_name, str) or class_name not in LAYER_SCHEMAS or set(layer) - {"class_name", "config"}:
            refuse(f"layer {index} is a {str(class_name)[:40]!r}, which no export of ours writes "
                   f"(allowed: {', '.join(LAYER_SCHEMAS)})")
        if class_name == "InputLayer" and index != 0:
            refuse("has an InputLayer after its first layer")
        settings = layer.get("config")
        schema = COMMON | LAYER_SCHEMAS[class_name]
        if class_name != "InputLayer":
            # The input's shape may be stated on the first layer itself, as older Keras wrote it (DoodleNet's
            # second layer states it too, which Keras and TF.js ignore); it can only be the 28x28x1 input.
            schema = schema | {"batch_input_shape": LAYER_SCHEMAS["InputLayer"]["batch_input_shape"]}
        if not isinstance(settings, dict):
            refuse(f"layer {index} has no settings")
        unknown = sorted(str(key)[:40] for key in set(settings) - set(schema))
        if unknown:
            refuse(f"layer {index} ({class_name}) has settings no export of ours writes: {', '.join(unknown[:3])}")
        missing = sorted((REQUIRED[class_name] | {"name"} | ({"batch_input_shape"} if index == 0 else set()))
                         - set(settings))
        if missing:
            refuse(f"layer {index} ({class_name}) lacks {', '.join(missing)}")
        bad = next((key for key, value in settings.items() if not schema[key](value)), None)
        if bad is not None:
            refuse(f"layer {index} ({class_name}) has an unexpected {bad}: {json.dumps(settings[bad])[:60]}")
        name = settings["name"]
        if name in names:
            refuse(f"names two layers {name!r}")
        names.add(name)
        if class_name in ("Conv2D", "MaxPooling2D") and len(shape) != 3:
            refuse(f"layer {index} ({class_name}) needs an image, but gets a flat vector")
        if class_name == "Dense" and len(shape) != 1:
            refuse(f"layer {index} (Dense) needs a flat vector: put a Flatten before it")
        if class_name == "Conv2D":
            (kernel_h, kernel_w), (stride_h, stride_w) = settings["kernel_size"], settings.get("strides", [1, 1])
            padding = settings.get("padding", "valid")
            weights[f"{name}/kernel"] = [kernel_h, kernel_w, shape[2], settings["filters"]]
            if settings.get("use_bias", True):
                weights[f"{name}/bias"] = [settings["filters"]]
            inputs = shape[2]
            shape = (_output_size(shape[0], kernel_h, stride_h, padding),
                     _output_size(shape[1], kernel_w, stride_w, padding), settings["filters"])
            multiply_adds += math.prod(shape) * kernel_h * kernel_w * inputs
        elif class_name == "MaxPooling2D":
            pool = settings["pool_size"]
            strides = settings.get("strides") or pool
            padding = settings.get("padding", "valid")
            shape = (_output_size(shape[0], pool[0], strides[0], padding),
                     _output_size(shape[1], pool[1], strides[1], padding), shape[2])
        elif class_name == "Flatten":
            shape = (math.prod(shape),)
        elif class_name == "Dense":
            weights[f"{name}/kernel"] = [shape[0], settings["units"]]
            if settings.get("use_bias", True):
                weights[f"{name}/bias"] = [settings["units"]]
            multiply_adds += shape[0] * settings["units"]
            shape = (settings["units"],)
        if min(shape) < 1:
            refuse(f"layer {index} ({class_name}) leaves nothing of the 28x28 image")
        parameters = sum(math.prod(each) for each in weights.values())
        if parameters > MAX_PARAMETERS:
            refuse(f"asks for {parameters:,} weights by layer {index}, over the {MAX_PARAMETERS:,} allowed")
        if multiply_adds > MAX_MULTIPLY_ADDS:
            refuse(f"asks for {multiply_adds:,} multiply-adds an image by layer {index}, over the "
                   f"{MAX_MULTIPLY_ADDS:,} allowed")
        if class_name != "InputLayer":  # the class means compare a layer's output, never the input itself
            sizes[name] = math.prod(shape)
        layers.append((class_name, settings))
    last_class, last = layers[-1]
    if last_class != "Dense" or last.get("activation") != "softmax":
        refuse("must end in a Dense layer with a softmax")
    return layers, weights, sizes, shape[0]


def check_manifest(folder, manifest, weights):
    """The weight manifest, checked against the weights the topology needs: [(shard names, bytes they must
    hold)] per group. Each weight once, with its shape, float32 or quantized with finite min and scale."""
    def refuse(reason):
        raise WebModelError(f"model folder {folder}: model.json's weightsManifest {reason}")

    if not isinstance(manifest, list) or not 1 <= len(manifest) <= MAX_SHARDS:
        refuse("must be a list of weight groups")
    groups, seen, paths = [], set(), []
    for group in manifest:
        if (not isinstance(group, dict) or set(group) != {"paths", "weights"} or not isinstance(group["paths"], list)
                or not isinstance(group["weights"], list) or not group["paths"]):
            refuse("holds a group that is not {paths, weights}")
        size = 0
        for entry in group["weights"]:
            if not isinstance(entry, dict) or set(entry) - {"name", "shape", "dtype", "quantization"}:
                refuse("holds a weight that is not {name, shape, dtype, quantization}")
            name = entry.get("name")
            if not isinstance(name, str) or name not in weights or name in seen:
                refuse(f"lists {str(name)[:60]!r}, which the layers do not need, or twice")
            seen.add(name)
            if entry.get("shape") != weights[name] or entry.get("dtype") != "float32":
                refuse(f"gives {name} the shape {json.dumps(entry.get('shape'))[:40]} ({entry.get('dtype')!r}), "
                       f"not {weights[name]} (float32)")
            quantization = entry.get("quantization")
            itemsize = 4
            if quantization is not None:
                if (not isinstance(quantization, dict) or not isinstance(quantization.get("dtype"), str)
                        or quantization.get("dtype") not in QUANTIZED_DTYPES
                        or set(quantization) - {"dtype", "min", "scale", "original_dtype"}
                        or quantization.get("original_dtype", "float32") != "float32"):
                    refuse(f"quantizes {name} in a way export.py does not write")
                if quantization["dtype"] == "uint8" and not (
                        _number(-MAX_QUANTIZED, MAX_QUANTIZED)(quantization.get("min"))
                        and _number(0, MAX_QUANTIZED)(quantization.get("scale"))):
                    refuse(f"quantizes {name} with a min or scale that is not a number from -{MAX_QUANTIZED:g} "
                           f"to {MAX_QUANTIZED:g} (a scale from 0)")
                itemsize = np.dtype(QUANTIZED_DTYPES[quantization["dtype"]]).itemsize
            size += math.prod(weights[name]) * itemsize
        for path in group["paths"]:
            if not isinstance(path, str) or not FILE_NAME.fullmatch(path) or path in paths:
                refuse(f"lists the shard {str(path)[:70]!r}, which is not a plain file name, or twice")
            paths.append(path)
        groups.append((group["paths"], size))
    missing = sorted(set(weights) - seen)
    if missing:
        refuse(f"lacks {', '.join(missing[:3])}")
    return groups


def read_weights(files, manifest, folder):
    """Every weight of a checked manifest (check_manifest) as a float32 array, by name, dequantized as TF.js
    dequantizes it (value = min + scale * q); WebModelError for a weight that is not a finite number then
    (NaN or infinite float32 or float16 bytes, or a scale so large that float32 overflows), which would make
    every guess NaN."""
    weights = {}
    for group in manifest:
        buffer = b"".join(files[path] for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            quantization = entry.get("quantization")
            dtype = np.dtype(QUANTIZED_DTYPES[quantization["dtype"]] if quantization else np.float32)
            count = math.prod(entry["shape"])
            values = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
            offset += count * dtype.itemsize
            if quantization and quantization["dtype"] != "float16":
                # In double precision and in TF.js's order (q * scale + min), rounded to float32 once, as
                # tfjs-core's io_utils does: float32 arithmetic here rounds twice and can differ by one
                # unit in the last place, which moved probabilities by 1e-5.
                values = values.astype(np.float64) * quantization["scale"] + quantization["min"]
            with np.errstate(over="ignore", invalid="ignore"):
                values = values.astype(np.float32)
            if not np.isfinite(values).all():
                raise WebModelError(f"model folder {folder}: the weight {entry['name']} holds values that are not "
                                    "finite numbers")
            weights[entry["name"]] = values.reshape(entry["shape"])
    return weights


# ---------------------------------------------------------------------------------------------------------
# metadata.json: what the page and the server act on.

def check_metadata(folder, metadata, outputs, sizes):
    """The entries the page and the server act on, checked; the files the metadata names beside the model
    (class means, taught means, taught drawings) as [(what, name)]."""
    def refuse(reason):
        raise WebModelError(f"model folder {folder}: metadata.json's {reason}")

    labels = metadata.get("labels")
    if (not isinstance(labels, list) or len(labels) != outputs or len(labels) > MAX_CLASSES
            or not all(is_name(label) for label in labels) or len(set(labels)) != len(labels)):
        refuse(f"labels must be {outputs} distinct names (one per output) of 1 to {MAX_NAME_LENGTH} printable "
               "characters, with no space around them")
    if not isinstance(metadata.get("model_hash"), str) or not MODEL_HASH.fullmatch(metadata["model_hash"]):
        refuse("model_hash must be the weights' hash in hex (export.py writes it)")
    if "mirror_average" in metadata and type(metadata["mirror_average"]) is not bool:
        refuse(f"mirror_average must be true or false, not {json.dumps(metadata['mirror_average'])[:30]}")
    threshold = metadata.get("confidence_threshold")
    if threshold is not None and not _number(0, 1)(threshold):
        refuse("confidence_threshold must be a number from 0 to 1")
    none_of_these = metadata.get("none_of_these")
    if none_of_these is not None and not (isinstance(none_of_these, dict) and (
            none_of_these.get("below") is None or _number(0, 1)(none_of_these["below"]))):
        refuse("none_of_these must hold a 'below' from 0 to 1")
    named = []
    means = metadata.get("class_means")
    if means is not None:
        if not isinstance(means, dict) or means.get("dtype", "uint8") != "uint8":
            refuse("class_means must be an object of uint8 means")
        layer, shape = means.get("layer"), means.get("shape")
        if (not isinstance(layer, str) or layer not in sizes or shape != [outputs, sizes[layer]]
                or not all(type(size) is int for size in shape)):
            refuse(f"class_means must name a layer of the model and the shape [{outputs}, that layer's size]")
        named.append(("class means", means.get("file")))
    if metadata.get("taught") is not None:
        taught = metadata["taught"]
        if not isinstance(taught, dict) or means is None:
            refuse("taught must be an object, beside the class means it is compared with")
        named.append(("taught means", taught.get("file")))
        # "Download as a model" always writes the taught drawings, and the page and the service worker fetch them.
        named.append(("taught drawings", taught.get("drawings_file")))
    for what, name in named:
        if name is None:
            refuse(f"{what} file is not named (what writes the entry always names it)")
        if not isinstance(name, str) or not FILE_NAME.fullmatch(name):
            refuse(f"{what} file {str(name)[:70]!r} is not a plain file name inside the folder")
    return named


# ---------------------------------------------------------------------------------------------------------
# The gate.

def read_model_folder(folder, with_metadata=True):
    """Every file of a model folder that the page and the server use, checked (see check_model_folder), as
    {file name: bytes}; WebModelError with one line for anything the gate does not admit, whatever its shape."""
    try:
        return check_model_folder(folder, with_metadata)
    except (TypeError, AttributeError, KeyError, IndexError, OverflowError) as error:
        # Each check looks at a value's type before using it; this is the net under them, so that no input can
        # get past the gate, or stop a server, by an exception that is not a refusal.
        raise WebModelError(f"model folder {folder}: holds what no export of ours writes ({type(error).__name__}: "
                            f"{str(error)[:80]})") from None


def check_model_folder(folder, with_metadata=True):
    """Every file of a model folder that the page and the server use, checked as this module's docstring says,
    as {file name: bytes}: model.json, metadata.json (unless with_metadata is False), the weight shards and the
    files metadata.json names. Raises WebModelError with one line naming the folder and the reason."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WebModelError(f"model folder {folder}: not a folder")
    files = {"metadata.json": read_file(folder, "metadata.json", MAX_JSON_BYTES)} if with_metadata else {}
    files["model.json"] = read_file(folder, "model.json", MAX_JSON_BYTES)
    model_json = parse_json(folder, "model.json", files["model.json"])
    _, weights, sizes, outputs = check_topology(folder, model_json)
    groups = check_manifest(folder, model_json.get("weightsManifest"), weights)
    named = []
    if with_metadata:
        metadata = parse_json(folder, "metadata.json", files["metadata.json"])
        named = check_metadata(folder, metadata, outputs, sizes)
    total = sum(len(data) for data in files.values())
    for paths, size in groups:
        held = 0
        for path in paths:
            if path in files:
                raise WebModelError(f"model folder {folder}: {path} is listed twice")
            files[path] = read_file(folder, path, MAX_MODEL_BYTES - total)
            total += len(files[path])
            held += len(files[path])
        if held != size:
            raise WebModelError(f"model folder {folder}: the shards {', '.join(paths)} hold {held:,} bytes, but "
                                f"their weights take {size:,}")
    read_weights(files, model_json["weightsManifest"], folder)  # every weight a finite number
    for what, name in named:
        if name in files:
            raise WebModelError(f"model folder {folder}: the {what} file {name} is also another of its files")
        files[name] = read_file(folder, name, MAX_MODEL_BYTES - total)
        total += len(files[name])
    if with_metadata:
        try:
            check_taught(metadata, files, folder)
        except ValueError as error:
            raise WebModelError(str(error)) from None
        means = metadata.get("class_means")
        if means is not None and len(files[means["file"]]) != math.prod(means["shape"]):
            raise WebModelError(f"model folder {folder}: the class means file holds {len(files[means['file']]):,} "
                                f"bytes, not {math.prod(means['shape']):,}")
        drawings = (metadata.get("taught") or {}).get("drawings_file")
        if drawings is not None:
            try:
                files[drawings].decode("utf-8")
            except UnicodeDecodeError:
                raise WebModelError(f"model folder {folder}: {drawings} is not UTF-8 text") from None
    return files


def build_model(folder, files):
    """The tf_keras model of a checked folder's model.json, built from the checked layer settings (never from
    the JSON itself, so nothing in it can name code), without its weights."""
    import tf_keras as keras

    layers, _, _, _ = check_topology(folder, parse_json(folder, "model.json", files["model.json"]))
    model = keras.Sequential(name="web_model")
    first_is_input = layers[0][0] == "InputLayer"
    input_name = "image"
    while not first_is_input and input_name in {settings["name"] for _, settings in layers}:
        input_name += "_input"  # a name no layer has
    model.add(keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name=layers[0][1]["name"] if first_is_input else input_name))
    for class_name, settings in layers[1:] if first_is_input else layers:
        name = settings["name"]
        if class_name == "Conv2D":
            layer = keras.layers.Conv2D(settings["filters"], settings["kernel_size"], strides=settings.get("strides", 1),
                                        padding=settings.get("padding", "valid"),
                                        activation=settings.get("activation"),
                                        use_bias=settings.get("use_bias", True), name=name)
        elif class_name == "MaxPooling2D":
            layer = keras.layers.MaxPooling2D(settings["pool_size"], strides=settings.get("strides"),
                                              padding=settings.get("padding", "valid"), name=name)
        elif class_name == "Flatten":
            layer = keras.layers.Flatten(name=name)
        elif class_name == "Dropout":
            layer = keras.layers.Dropout(settings["rate"], name=name)
        else:
            layer = keras.layers.Dense(settings["units"], activation=settings.get("activation"),
                                       use_bias=settings.get("use_bias", True), name=name)
        model.add(layer)
    return model


def main(argv=None):
    folders = sys.argv[1:] if argv is None else argv
    if not folders:
        print("usage: python -m training.modelfolder FOLDER [FOLDER ...]", file=sys.stderr)
        return 2
    status = 0
    for folder in folders:
        try:
            check_model_id(folder)
            files = read_model_folder(folder)
        except WebModelError as error:
            print(f"refused: {error}", file=sys.stderr)
            status = 1
            continue
        print(f"ok: {folder} ({len(files)} files, {sum(map(len, files.values())):,} bytes)")
    return status


if __name__ == "__main__":
    sys.exit(main())
