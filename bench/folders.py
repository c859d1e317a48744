"""Model folders a stranger could hand the app: each a copy of web/model with one hostile change.

Not run directly: tests/test_model_folder.py holds the gate (training/modelfolder.py) to each of them, and
`python -m bench.hostile --server-families model_folders` starts the real server with all of them beside
the shipped model and measures what they cost it. HOSTILE_FOLDERS maps a name to (the finding of issue 33
it reproduces, the folder's name, the change, words of the one-line refusal); make_folder builds one.
"""

import json
import os
import shutil
from math import prod as math_prod
from pathlib import Path

from bench.common import ROOT

SHIPPED = ROOT / "web" / "model"
SHARD = "group1-shard1of1.bin"
RAN = "ran-a-command"  # a file the Lambda folder's shell command would create beside it


def with_taught(folder, model_json, metadata, labels=("arm",), drawings_file="taught.ndjson"):
    """A well-formed taught entry, as "Download as a model" writes it (all-zero means, no drawings)."""
    columns = metadata["class_means"]["shape"][1]
    metadata["taught"] = {"labels": list(labels), "file": "taught_means.bin", "shape": [len(labels), columns],
                          "dtype": "uint8", "scale": "value = q / 255", "rule": "beside_softmax",
                          "drawings": {label: 5 for label in labels}}
    if drawings_file is not None:
        metadata["taught"]["drawings_file"] = drawings_file
        (folder / drawings_file).write_text("")
    (folder / "taught_means.bin").write_bytes(bytes(len(labels) * columns))


def layers(model_json):
    return model_json["modelTopology"]["model_config"]["config"]["layers"]


def lambda_shell(folder, model_json, metadata):
    """Finding 1: a Lambda layer whose function is named by module, so that building it runs a shell command."""
    layers(model_json).insert(1, {"class_name": "Lambda", "config": {
        "name": "lambda", "trainable": True, "dtype": "float32", "function_type": "function",
        "function": {"module": "pydoc", "class_name": "function", "config": "pipepager", "registered_name": "function"},
        "arguments": {"cmd": f"touch {folder / RAN}"}, "module": "pydoc", "output_shape": None,
        "output_shape_type": "raw", "output_shape_module": None}})


def module_activation(folder, model_json, metadata):
    layers(model_json)[1]["config"]["activation"] = {"module": "pydoc", "class_name": "function",
                                                      "config": "pipepager", "registered_name": "function"}


def module_initializer(folder, model_json, metadata):
    layers(model_json)[1]["config"]["kernel_initializer"] = {"module": "pydoc", "class_name": "pipepager",
                                                              "config": {}, "registered_name": None}


def custom_layer(folder, model_json, metadata):
    layers(model_json)[-2]["class_name"] = "MyDropout"


def symlinked_drawings(folder, model_json, metadata):
    """Finding 2: the taught drawings a link to the process's environment."""
    with_taught(folder, model_json, metadata, drawings_file=None)
    metadata["taught"]["drawings_file"] = "taught.ndjson"
    os.symlink("/proc/self/environ", folder / "taught.ndjson")


def symlinked_shard(folder, model_json, metadata):
    (folder / SHARD).rename(folder / "real.bin")
    os.symlink(folder / "real.bin", folder / SHARD)


def shard_outside(folder, model_json, metadata):
    model_json["weightsManifest"][0]["paths"] = [f"../model/{SHARD}"]


def no_drawings_file(folder, model_json, metadata):
    """Finding 7: a taught entry without its drawings file (the service worker fetched 'undefined')."""
    with_taught(folder, model_json, metadata, drawings_file=None)


def shard_listed_250_times(folder, model_json, metadata):
    """Findings 7 and 8: one shard listed 250 times (2.84 GB at start-up from 8 MB, before the gate)."""
    model_json["weightsManifest"][0]["paths"] = [SHARD] * 250


def wide_dense(folder, model_json, metadata):
    """Finding 8: a Dense layer of 400,000 units (6.3 GB at start-up, before the gate)."""
    layers(model_json)[-1]["config"]["units"] = 400_000


def too_many_weights(folder, model_json, metadata):
    """Finding 8, within the layers' own bounds: 4,096 units after 1,152 features ask for 4.8 million weights."""
    layers(model_json)[-1]["config"]["units"] = 4096


def deep_json(folder, model_json, metadata):
    """Finding 9: model.json nested 200,000 deep (a RecursionError traceback, before the gate)."""
    return "[" * 200_000 + "]" * 200_000


def weights_as_object(folder, model_json, metadata):
    model_json["weightsManifest"][0]["weights"] = {"block1a_conv/kernel": [3, 3, 1, 32]}


def wrong_weight_shape(folder, model_json, metadata):
    model_json["weightsManifest"][0]["weights"][0]["shape"] = [3, 3, 1, 31]


def nan_quantization(folder, model_json, metadata):
    """Finding 10: NaN in the quantization, which made POST /predict answer NaN tokens (not JSON)."""
    model_json["weightsManifest"][0]["weights"][0]["quantization"]["min"] = float("nan")


def infinite_scale(folder, model_json, metadata):
    """Finding 10: a scale of 1e999, which is JSON and reads as infinity."""
    model_json["weightsManifest"][0]["weights"][0]["quantization"]["scale"] = "INFINITE"
    return json.dumps(model_json).replace('"INFINITE"', "1e999")


def string_mirror_average(folder, model_json, metadata):
    """Finding 11: mirror_average as the string "false" (mirrored by the server, not by the page)."""
    metadata["mirror_average"] = "false"


def integer_labels(folder, model_json, metadata):
    metadata["labels"] = list(range(len(metadata["labels"])))


def lone_surrogate_taught(folder, model_json, metadata):
    """Finding 6: a taught name the page could once save and the server refused."""
    with_taught(folder, model_json, metadata, labels=("\ud800x",))


def zero_width_taught(folder, model_json, metadata):
    """Finding 13: a taught name that displays as a built-in class's ("c", zero-width space, "at")."""
    with_taught(folder, model_json, metadata, labels=("c\u200bat",))


def nan_weights(folder, model_json, metadata):
    """Finding 10 by other means (the review of the fix): NaN float32 bytes in an unquantized weight."""
    weights = model_json["weightsManifest"][0]["weights"]
    for entry in weights:
        entry.pop("quantization", None)
    size = sum(4 * math_prod(entry["shape"]) for entry in weights)
    (folder / SHARD).write_bytes(b"\x00\x00\xc0\x7f" * (size // 4))


def huge_scale(folder, model_json, metadata):
    """A finite scale that overflows float32 once dequantized (1e300 * q)."""
    model_json["weightsManifest"][0]["weights"][0]["quantization"]["scale"] = 1e300


def loose_types(folder, model_json, metadata):
    """Values equal to the right ones in Python but not to TF.js: [null, 28.0, 28, true] as the input shape."""
    layers(model_json)[0]["config"]["batch_input_shape"] = [None, 28.0, 28, True]


def class_name_list(folder, model_json, metadata):
    """A class name that is not a string (a TypeError in the gate before the review)."""
    layers(model_json)[1]["class_name"] = []


def means_of_the_input(folder, model_json, metadata):
    """Class means of the input layer itself (admitted, then no layer for the page and the server)."""
    metadata["class_means"]["layer"] = layers(model_json)[0]["config"]["name"]
    metadata["class_means"]["shape"] = [len(metadata["labels"]), 784]
    (folder / "class_means.bin").write_bytes(bytes(len(metadata["labels"]) * 784))


def costly_layers(folder, model_json, metadata):
    """Few weights and much work (2.6 billion multiply-adds an image in the review): 1,024 filters at 28x28,
    then 64 filters over those 1,024 channels at 14x14, 116 million, with under a million weights."""
    first, second = layers(model_json)[1]["config"], layers(model_json)[3]["config"]
    first["filters"], second["filters"] = 1024, 64


def nothing(folder, model_json, metadata):
    """A well-formed folder, for the findings that are about its name (4, 7) or its other files (3)."""


# name: (finding, folder name, change, words of the refusal)
HOSTILE_FOLDERS = {
    "lambda_shell": (1, "model-lambda", lambda_shell, "'Lambda', which no export of ours writes"),
    "module_activation": (1, "model-activation", module_activation, "unexpected activation"),
    "module_initializer": (1, "model-initializer", module_initializer, "unexpected kernel_initializer"),
    "custom_layer": (1, "model-custom", custom_layer, "'MyDropout', which no export of ours writes"),
    "symlinked_drawings": (2, "model-environ", symlinked_drawings, "taught.ndjson cannot be read (a symbolic link)"),
    "symlinked_shard": (2, "model-link", symlinked_shard, f"{SHARD} cannot be read (a symbolic link)"),
    "shard_outside": (2, "model-outside", shard_outside, "not a plain file name"),
    "empty_id": (4, "model-", nothing, "its id '' (the name without 'model-')"),
    "no_drawings_file": (7, "model-undefined", no_drawings_file, "taught drawings file is not named"),
    "hash_in_id": (7, "model-a#b", nothing, "its id 'a#b'"),
    "shard_listed_250_times": (8, "model-twice", shard_listed_250_times, f"lists the shard '{SHARD}', which is not a "
                                                                        "plain file name, or twice"),
    "wide_dense": (8, "model-wide", wide_dense, "has an unexpected units: 400000"),
    "too_many_weights": (8, "model-many", too_many_weights, "weights by layer 10, over the 4,000,000 allowed"),
    "deep_json": (9, "model-deep", deep_json, "model.json is nested too deeply"),
    "weights_as_object": (9, "model-object", weights_as_object, "holds a group that is not {paths, weights}"),
    "wrong_weight_shape": (9, "model-shape", wrong_weight_shape, "gives block1a_conv/kernel the shape [3, 3, 1, 31]"),
    "nan_quantization": (10, "model-nan", nan_quantization, "model.json is not JSON (NaN is not a JSON number)"),
    "infinite_scale": (10, "model-infinite", infinite_scale, "model.json is not JSON (1e999 is too large for a number)"),
    "string_mirror_average": (11, "model-mirror", string_mirror_average, 'mirror_average must be true or false, not '
                                                                         '"false"'),
    "integer_labels": (11, "model-integers", integer_labels, "labels must be 34 distinct names"),
    "lone_surrogate_taught": (6, "model-surrogate", lone_surrogate_taught, "taught labels must be"),
    "zero_width_taught": (13, "model-zerowidth", zero_width_taught, "taught labels must be"),
    "reserved_id": (4, "model-shipped", nothing, "its id 'shipped' is the default model's"),
    "nan_weights": (10, "model-nanweights", nan_weights, "holds values that are not finite numbers"),
    "huge_scale": (10, "model-hugescale", huge_scale, "with a min or scale that is not a number from -1e+06 to 1e+06"),
    "loose_types": (11, "model-loose", loose_types, "has an unexpected batch_input_shape"),
    "class_name_list": (9, "model-classlist", class_name_list, "layer 1 is a '[]', which no export of ours writes"),
    "means_of_the_input": (9, "model-inputmeans", means_of_the_input, "class_means must name a layer of the model"),
    "costly_layers": (8, "model-costly", costly_layers, "multiply-adds an image by layer 3, over the 50,000,000"),
}


def make_strangers(parent):
    """Every folder of HOSTILE_FOLDERS, each in a folder of its own under parent (two may share a name), and a
    well-formed copy of the shipped model, model-good, that also holds a page and a script (card.html, card.js)
    which nothing may serve: (the hostile folders in HOSTILE_FOLDERS's order, the good one)."""
    parent = Path(parent)
    folders = []
    for name in HOSTILE_FOLDERS:
        (parent / name).mkdir()
        folders.append(make_folder(parent / name, name))
    good = parent / "model-good"
    shutil.copytree(SHIPPED, good)
    (good / "card.html").write_text("<script src=card.js></script>")
    (good / "card.js").write_text("alert(localStorage.length)")
    return folders, good


def make_folder(parent, name):
    """The hostile folder `name` of HOSTILE_FOLDERS, made under parent (which must exist); its path."""
    _, folder_name, change, _ = HOSTILE_FOLDERS[name]
    folder = Path(parent) / folder_name
    shutil.copytree(SHIPPED, folder)
    model_json = json.loads((folder / "model.json").read_text())
    metadata = json.loads((folder / "metadata.json").read_text())
    written = change(folder, model_json, metadata)
    (folder / "model.json").write_text(written if isinstance(written, str) else json.dumps(model_json))
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder
