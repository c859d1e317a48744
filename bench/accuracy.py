"""Accuracy and size of our model, the original architecture and DoodleNet, on the same data.

    python -m bench.accuracy

Our model is measured as the page guesses: averaged with the drawing's mirror image when its export says so
(metadata "mirror_average"), at twice the multiply-adds. Data: the shipped model's test split of the shared
bitmaps (same seed and split as training), and every shared real stroke drawing of those classes rasterized by
our own rasterizer. DoodleNet (ml5, 345 classes) is restricted to the classes both models know (argmax over those
outputs) and given whichever input polarity it does better with.

Leftover cue: the classes with denoised drawings keep a few wrongly restored pixels per drawing, and a model can learn
them as a sign of those classes (SOURCES.md). `twins/` holds every clean-class drawing put through the same
noise and denoiser, so each model also reads the clean classes' test drawings as stored and as their twins,
and we compare its top-1 and the share it calls a denoised class. DoodleNet never saw the leftovers: its
change is what they cost as plain noise, and a larger shift toward the denoised classes is the cue at work.

Prints JSON and writes bench/results/accuracy.json.
"""

import json
import tempfile
from pathlib import Path

import numpy as np

from bench.common import ROOT, SHARED, machine, write_result

DOODLENET = SHARED / "anchors" / "doodlenet"


def folder_bytes(folder, names=None):
    return sum(path.stat().st_size for path in Path(folder).iterdir()
               if path.is_file() and (names is None or path.name in names))


def scores(probabilities, labels, noisy=None):
    top = np.argsort(-probabilities, axis=1)
    result = {"top1": round(float(np.mean(top[:, 0] == labels)), 4),
              "top3": round(float(np.mean(np.any(top[:, :3] == labels[:, None], axis=1))), 4),
              "count": int(len(labels))}
    if noisy is not None:
        correct = top[:, 0] == labels
        result["clean_classes_top1"] = round(float(correct[~noisy].mean()), 4)
        result["denoised_classes_top1"] = round(float(correct[noisy].mean()), 4)
    return result


def leftover_cue(predict, images, twin_images, labels, denoised_columns):
    """Top-1 and share called a denoised class, for clean-class drawings as stored and as their twins."""
    result = {"clean_class_drawings": int(len(labels))}
    for name, batch in (("as_stored", images), ("as_twins", twin_images)):
        predicted = predict(batch).argmax(axis=1)
        result[f"top1_{name}"] = round(float(np.mean(predicted == labels)), 4)
        result[f"called_denoised_{name}"] = round(float(np.mean(np.isin(predicted, denoised_columns))), 4)
    return result


def main():
    import tf_keras as keras

    import export
    from training import data as quickdraw
    from training import train
    from training.model import multiply_adds
    from training.webmodel import guess_probabilities, load_layers_model, load_web_model

    shipped, metadata = load_web_model(ROOT / "web" / "model")
    labels = metadata["labels"]
    config = json.loads((ROOT / "runs" / metadata["name"] / "config.json").read_text())
    data = quickdraw.load_data(SHARED / "data" / "quickdraw", labels, seed=quickdraw.split_seed(config), use_twins=True)
    test_images, test_labels = data.arrays("test")
    stroke_images, stroke_labels, _ = train.load_stroke_set(SHARED / "data" / "quickdraw" / "strokes", labels)
    denoised = quickdraw.denoised_classes(SHARED / "data" / "quickdraw", labels)
    denoised_ids = [labels.index(name) for name in denoised]
    stroke_noisy = np.isin(stroke_labels, denoised_ids)
    test_classes, test_rows = data.splits["test"]
    has_twin = ~np.isin(test_classes, denoised_ids)
    clean_images, clean_labels = test_images[has_twin], test_labels[has_twin]
    clean_twin_images = data.gather(test_classes[has_twin], test_rows[has_twin], np.ones(has_twin.sum(), bool))

    def evaluate(predict):
        return {"test_split": scores(predict(test_images), test_labels),
                "real_strokes": scores(predict(stroke_images), stroke_labels, stroke_noisy),
                "leftover_cue": leftover_cue(predict, clean_images, clean_twin_images, clean_labels, denoised_ids)}

    results = {"classes": len(labels), "test_split_size": int(len(test_labels)),
               "real_stroke_drawings": int(len(stroke_labels)), "models": {}, "machine": machine()}
    mirror = bool(metadata.get("mirror_average"))
    results["models"]["ours"] = {
        "name": metadata["name"] + (", averaged with the mirror image" if mirror else ""),
        "quantization": metadata["quantization"], "mirror_average": mirror,
        # Per guess, as the page runs it: twice the network's multiply-adds when it also reads the mirror image.
        "parameters": int(shipped.count_params()), "multiply_adds": multiply_adds(shipped) * (2 if mirror else 1),
        "web_model_bytes": folder_bytes(ROOT / "web" / "model", {"model.json", "group1-shard1of1.bin"}),
        **evaluate(lambda x: guess_probabilities(shipped, metadata, x)),
    }

    original = keras.models.load_model(ROOT / "runs" / "original" / "model.h5", compile=False)
    with tempfile.TemporaryDirectory() as folder:
        export.export(ROOT / "runs" / "original", Path(folder) / "model", "none")
        original_bytes = folder_bytes(Path(folder) / "model", {"model.json", "group1-shard1of1.bin"})
    results["models"]["original"] = {
        "name": "original (tutorial architecture, same data and split)", "quantization": "none",
        "parameters": int(original.count_params()), "multiply_adds": multiply_adds(original),
        "web_model_bytes": original_bytes,
        **evaluate(lambda x: original.predict(x, batch_size=1024, verbose=0)),
    }

    doodlenet = load_layers_model(DOODLENET)
    doodle_names = [line.strip().replace("_", " ") for line in (DOODLENET / "class_names.txt").read_text().split(",")
                    if line.strip()] if "," in (DOODLENET / "class_names.txt").read_text() else \
        [line.strip().replace("_", " ") for line in (DOODLENET / "class_names.txt").read_text().splitlines()
         if line.strip()]
    shared_classes = [name for name in labels if name in doodle_names]
    columns = [doodle_names.index(name) for name in shared_classes]
    keep_test = np.isin(test_labels, [labels.index(name) for name in shared_classes])
    # Labels re-indexed to the shared classes' order (all of ours, when DoodleNet knows them all).
    remap = {labels.index(name): position for position, name in enumerate(shared_classes)}
    best, best_predict = None, None
    for polarity, transform in (("ink = 1", lambda x: x), ("ink = 0", lambda x: 1.0 - x)):
        def predict(images, transform=transform):
            return doodlenet.predict(transform(images), batch_size=1024, verbose=0)[:, columns]
        candidate = {
            "polarity": polarity,
            "test_split": scores(predict(test_images[keep_test]),
                                 np.array([remap[i] for i in test_labels[keep_test]])),
        }
        keep_strokes = np.isin(stroke_labels, list(remap))
        candidate["real_strokes"] = scores(predict(stroke_images[keep_strokes]),
                                           np.array([remap[i] for i in stroke_labels[keep_strokes]]),
                                           stroke_noisy[keep_strokes])
        if best is None or candidate["test_split"]["top1"] > best["test_split"]["top1"]:
            best, best_predict = candidate, predict
    keep_clean = np.isin(clean_labels, list(remap))
    best["leftover_cue"] = leftover_cue(best_predict, clean_images[keep_clean], clean_twin_images[keep_clean],
                                        np.array([remap[i] for i in clean_labels[keep_clean]]),
                                        [remap[i] for i in denoised_ids if i in remap])
    results["models"]["doodlenet"] = {
        "name": "DoodleNet (ml5, 345 classes, restricted to the shared classes)",
        "shared_classes": len(shared_classes), "parameters": int(doodlenet.count_params()),
        "multiply_adds": multiply_adds(doodlenet),
        "web_model_bytes": folder_bytes(DOODLENET, {"model.json", "group1-shard1of1.bin"}), **best,
    }
    write_result("accuracy", results)


if __name__ == "__main__":
    main()
