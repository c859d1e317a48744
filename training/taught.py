"""Taught classes and "none of these" in Python: the twin of web/js/taught.js's besideSoftmax and of
web/js/words.js's isNoneOfThese, for the server, the benches and a model downloaded from the page. Not run
directly: `python -m training.webmodel web/model-taught-...` loads such a folder and prints its classes.

A person teaches the page a new class from a few drawings; the page keeps each taught class as the mean of
its drawings' features (FEATURE_LAYER, each scaled to length 1). "Download as a model" saves the shipped
network with those means beside it, and metadata.json's "taught" entry:

    "taught": {"labels": ["arm", "leg"], "file": "taught_means.bin", "shape": [2, 1152], "dtype": "uint8",
               "scale": "value = q / 255", "rule": "beside_softmax", "drawings": {"arm": 5, "leg": 6}}

so that `serve.py --also FOLDER` serves it and `training.webmodel.load_web_model` loads it, taught classes
included. tests/test_teaching_model.py holds these functions identical to the page's on the same numbers.
"""

import unicodedata

import numpy as np

RULE = "beside_softmax"
MAX_TAUGHT_CLASSES = 100  # as web/js/taught.js: what the page can teach one model, and so save with it
MAX_NAME_LENGTH = 40      # as web/js/taught.js, in UTF-16 code units as JavaScript counts a string's length
# What JavaScript's String.prototype.trim() removes (ECMAScript's WhiteSpace and LineTerminator): Python's
# str.strip() removes more (U+001C to U+001F, U+0085), so names are compared with exactly these.
# Characters a name may not hold: controls (Cc), format characters (Cf: zero-width spaces and joiners, the
# right-to-left marks and overrides that can make "c\u200bat" or a reversed name display as "cat"), surrogates
# (Cs), private use (Co) and line and paragraph separators (Zl, Zp). web/js/taught.js refuses the same
# categories with /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u.
UNPRINTABLE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
# Format characters newer than Python 3.11's Unicode 14 (Egyptian hieroglyph format controls, Unicode 15),
# unassigned to unicodedata but Cf to the browser's: a review compared every code point with Node's.
NEWER_FORMAT_CHARACTERS = range(0x13439, 0x13440)
JS_TRIMMED = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
              "\u2028\u2029\u202f\u205f\u3000\ufeff")


def unit_length(features):
    """Each row scaled to length 1 (a zero row stays zero), as taught.js's unitLength."""
    features = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(features, axis=-1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


def beside_softmax(probabilities, features, class_means, taught_means):
    """Probabilities over the built-in classes and then the taught ones, for each row: the built-in class the
    softmax picks keeps its place unless a taught class's mean is more similar (dot product with the unit
    features) than that class's own mean; then the taught class takes the picked class's probability and
    the rest is scaled to fit. Ties keep the built-in class, and the first taught class wins a tie among
    taught ones, as in the page."""
    probabilities = np.atleast_2d(np.asarray(probabilities, dtype=np.float32))
    features = np.atleast_2d(np.asarray(features, dtype=np.float32))
    taught_means = np.asarray(taught_means, dtype=np.float32).reshape(-1, features.shape[1])
    result = np.concatenate([probabilities, np.zeros((len(probabilities), len(taught_means)), np.float32)], axis=1)
    if len(taught_means) == 0:
        return result
    picked = probabilities.argmax(axis=1)
    picked_similarity = np.sum(features * class_means[picked], axis=1)
    taught_similarity = features @ taught_means.T
    best = taught_similarity.argmax(axis=1)
    wins = taught_similarity[np.arange(len(best)), best] > picked_similarity
    rows = np.nonzero(wins)[0]
    share = probabilities[rows, picked[rows]]
    count = probabilities.shape[1]
    result[rows, :count] = probabilities[rows] * (1 - share[:, None])
    result[rows, count + best[rows]] = share
    return result


def is_none_of_these(probabilities, built_in, below):
    """Whether each guess (row) is "none of these": its top class is one of the model's own (index under
    built_in, the model's outputs; the rest are taught) and even it is less likely than `below` (metadata
    "none_of_these", chosen by export.py on the validation split; None: never). A taught class on top never
    is: it won by being nearer the drawing than the softmax's pick, and took that pick's probability."""
    probabilities = np.atleast_2d(probabilities)
    if below is None:
        return np.zeros(len(probabilities), dtype=bool)
    top = probabilities.argmax(axis=1)
    return (top < built_in) & (probabilities[np.arange(len(top)), top] < below)


def is_name(label):
    """A name the page could have taught (web/js/taught.js checkName): a string that JavaScript's trim()
    leaves as it is, of 1 to MAX_NAME_LENGTH UTF-16 code units, printable (no character of
    UNPRINTABLE_CATEGORIES, so no lone surrogate)."""
    if not isinstance(label, str) or label != label.strip(JS_TRIMMED):
        return False
    if any(unicodedata.category(character) in UNPRINTABLE_CATEGORIES or ord(character) in NEWER_FORMAT_CHARACTERS
           for character in label):
        return False
    try:
        units = len(label.encode("utf-16-le")) // 2
    except UnicodeEncodeError:  # a lone surrogate, which a browser's JSON may hold but no name should
        return False
    return 0 < units <= MAX_NAME_LENGTH


def check_class_means(metadata, files, folder, outputs):
    """The class means' entry, checked as taught classes use it: (rows, columns) plain integers, one row per
    output, and its file that many bytes. Raises ValueError naming what is wrong."""
    entry = metadata.get("class_means")
    shape = entry.get("shape") if isinstance(entry, dict) else None
    if (not isinstance(shape, list) or len(shape) != 2 or not all(type(size) is int and size > 0 for size in shape)
            or shape[0] != outputs):
        raise ValueError(f"model folder {folder}: taught classes are compared with the class means, whose shape "
                         f"must be [{outputs}, columns]")
    data = files.get(entry.get("file")) if isinstance(entry.get("file"), str) else None
    if data is None or len(data) != shape[0] * shape[1]:
        raise ValueError(f"model folder {folder}: the class means file holds {len(data or b'')} bytes, "
                         f"not {shape[0] * shape[1]}")
    return shape[1]


def check_taught(metadata, files, folder):
    """The taught entry of metadata.json and its means file, checked: (labels, means as float32 rows), or
    ([], None) for a folder with no taught classes. Raises ValueError naming what is wrong, since the
    folder may come from a browser, edited by hand."""
    taught = metadata.get("taught")
    if taught is None:
        return [], None
    if not isinstance(taught, dict):
        raise ValueError(f"model folder {folder}: metadata.json's taught is not an object")
    labels = taught.get("labels")
    built_in = [label for label in metadata.get("labels") or [] if isinstance(label, str)]
    if (not isinstance(labels, list) or not 1 <= len(labels) <= MAX_TAUGHT_CLASSES
            or not all(is_name(label) for label in labels)
            or len(set(labels)) != len(labels) or set(labels) & set(built_in)):
        raise ValueError(f"model folder {folder}: metadata.json's taught labels must be 1 to {MAX_TAUGHT_CLASSES} "
                         f"distinct names of at most {MAX_NAME_LENGTH} characters, none a built-in class")
    columns = check_class_means(metadata, files, folder, len(metadata.get("labels") or []))
    if taught.get("rule") != RULE or taught.get("dtype") != "uint8" or taught.get("shape") != [len(labels), columns]:
        raise ValueError(f"model folder {folder}: metadata.json's taught entry must be rule {RULE!r}, dtype uint8 and "
                         f"shape [{len(labels)}, {columns}] (the class means' columns)")
    data = files.get(taught.get("file")) if isinstance(taught.get("file"), str) else None
    if data is None or len(data) != len(labels) * columns:
        raise ValueError(f"model folder {folder}: the taught means file holds {len(data or b'')} bytes, "
                         f"not {len(labels) * columns}")
    return labels, np.frombuffer(data, np.uint8).reshape(len(labels), columns).astype(np.float32) / 255


def class_means(metadata, files):
    """The shipped class means (metadata "class_means") as float32 rows, as model.js reads them."""
    entry = metadata["class_means"]
    return np.frombuffer(files[entry["file"]], np.uint8).reshape(entry["shape"]).astype(np.float32) / 255

