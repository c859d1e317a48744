"""Teaching a new class from a few drawings by class means on the shipped network's features: how often
the new class is recognized, and what it costs the built-in classes. The measurement behind issue 15's
in-browser teaching, before the page does it.

    python -m bench.teach      # prints JSON, writes bench/results/teach.json

A drawing's features are the shipped web model's flattened 3x3x128 grid, scaled to length 1. A class is
the mean of its examples' features; a drawing goes to the class whose mean is most similar (cosine). The
built-in classes' means are the ones the model ships (class_means.bin, written by export.py from 300
training bitmaps each), so built-in and taught classes are compared on one scale, as web/js/taught.js does.
1. New classes: for each shared stroke class the model does not know, every drawing is held out in turn
   and the class is taught from EXAMPLES of the others (seeded); a hit is the held-out drawing's nearest
   mean being its own class, among the 34 built-in classes and the taught one.
2. Built-in classes: the 34 classes' real stroke drawings, classified by the model's softmax (as the page
   does today), by nearest mean among the 34, and among the 34 plus 1, 3 and 6 taught classes (each taught
   from EXAMPLES drawings; several seeded choices of which classes, averaged).
3. Beside the softmax: the model's softmax picks a built-in class, and a taught class wins only when the
   drawing is more similar to its mean than to the picked class's mean. Measured as in 1 and 2.
"""

import numpy as np

from bench.common import ROOT, SHARED, machine, write_result

EXAMPLES = 5           # drawings a person gives to teach a class
SUBSETS = 5            # seeded choices of which classes are taught, for 1 and 3 new classes


def main():
    from export import unit_features
    from training import data as quickdraw
    from training.fewshot import load_drawings
    from training.webmodel import guess_probabilities, load_web_model

    model, metadata = load_web_model(ROOT / "web" / "model")
    labels = metadata["labels"]

    data_dir = SHARED / "data" / "quickdraw"
    rng = np.random.default_rng(quickdraw.DEFAULT_SEED)
    shipped = metadata["class_means"]
    built_in_means = np.frombuffer((ROOT / "web" / "model" / shipped["file"]).read_bytes(),
                                   np.uint8).reshape(shipped["shape"]).astype(np.float32) / 255

    unknown = sorted(path.stem for path in (data_dir / "strokes").glob("*.ndjson") if path.stem not in labels)
    new_drawings, new_labels = load_drawings(data_dir / "strokes", unknown)
    new_images = quickdraw.drawings_input(new_drawings)
    new_features = unit_features(model, new_images)
    known_drawings, known_labels = load_drawings(data_dir / "strokes", labels)
    known_images = quickdraw.drawings_input(known_drawings)
    known_features = unit_features(model, known_images)

    def nearest(query, means):
        return np.argmax(query @ means.T, axis=1)

    def beside_softmax(query, softmax_choice, taught_means):
        """The softmax's built-in class, unless a taught mean is more similar than that class's mean."""
        built_in_similarity = np.sum(query * built_in_means[softmax_choice], axis=1)
        taught_similarity = query @ np.atleast_2d(taught_means).T
        best = taught_similarity.argmax(axis=1)
        wins = taught_similarity.max(axis=1) > built_in_similarity
        return np.where(wins, len(labels) + best, softmax_choice)

    def taught_mean(class_index, exclude=None):
        members = [i for i in np.nonzero(new_labels == class_index)[0] if i != exclude]
        chosen = rng.choice(members, min(EXAMPLES, len(members)), replace=False)
        return new_features[chosen].mean(axis=0)

    new_softmax_choice = guess_probabilities(model, metadata, new_images).argmax(axis=1)

    # 1. and 3. Recognition of a newly taught class, leave one drawing out.
    recognized = {}
    for class_index, name in enumerate(unknown):
        hits, beside = [], []
        for drawing in np.nonzero(new_labels == class_index)[0]:
            mean = taught_mean(class_index, exclude=drawing)
            query = new_features[drawing:drawing + 1]
            hits.append(nearest(query, np.vstack([built_in_means, mean]))[0] == len(labels))
            beside.append(beside_softmax(query, new_softmax_choice[drawing:drawing + 1], mean)[0] == len(labels))
        recognized[name] = {"drawings": len(hits), "recognized": round(float(np.mean(hits)), 4),
                            "recognized_beside_softmax": round(float(np.mean(beside)), 4)}
    total = sum(value["drawings"] for value in recognized.values())
    share = lambda key: round(sum(value[key] * value["drawings"] for value in recognized.values()) / total, 4)  # noqa: E731

    # 2. What taught classes cost the built-in ones, on their real strokes.
    known_softmax_choice = guess_probabilities(model, metadata, known_images).argmax(axis=1)
    softmax_top1 = float(np.mean(known_softmax_choice == known_labels))
    built_in = {"softmax": round(softmax_top1, 4),
                "nearest_mean_0_new": round(float(np.mean(nearest(known_features, built_in_means) == known_labels)), 4)}
    for count in (1, 3, len(unknown)):
        scores, beside = [], []
        for _ in range(SUBSETS if count < len(unknown) else 1):
            taught = rng.choice(len(unknown), count, replace=False)
            taught_means = np.array([taught_mean(index) for index in taught])
            scores.append(np.mean(nearest(known_features, np.vstack([built_in_means, taught_means])) == known_labels))
            beside.append(np.mean(beside_softmax(known_features, known_softmax_choice, taught_means) == known_labels))
        built_in[f"nearest_mean_{count}_new"] = round(float(np.mean(scores)), 4)
        built_in[f"beside_softmax_{count}_new"] = round(float(np.mean(beside)), 4)

    write_result("teach", {
        "examples_per_taught_class": EXAMPLES, "built_in_means": "web/model/" + shipped["file"],
        "new_classes": recognized, "new_classes_recognized": share("recognized"),
        "new_classes_recognized_beside_softmax": share("recognized_beside_softmax"),
        "built_in_real_strokes_top1": built_in, "built_in_drawings": int(len(known_labels)), "machine": machine(),
    })


if __name__ == "__main__":
    main()
