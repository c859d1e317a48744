"""Teaching a new class from a few drawings: how often the page finds it, what it costs the built-in classes,
how often "none of these" fires, how long learning a drawing takes in the page, and every rule tried beside
the one that ships.

    python -m bench.teach      # prints JSON, writes bench/results/teach.json (about 5 minutes on 2 cores)

A drawing's features are the shipped web model's flattened 3x3x128 grid, scaled to length 1; a taught class
is the mean of its drawings' features. The page's rule is training.taught.beside_softmax, which
tests/test_teaching_model.py holds identical to web/js/taught.js: the softmax picks a built-in class, and a
taught class wins only when the drawing is more similar to its mean than to the picked class's shipped mean
(class_means.bin, export.py). "None of these" is training.taught.is_none_of_these (web/js/words.js): a
built-in top guess less likely than the model's metadata.none_of_these.below.
1. New classes: for each shared stroke class the model does not know, every drawing is held out in turn
   and the class is taught from EXAMPLES of the others (seeded); a hit is the held-out drawing's top guess
   being its own class, among the 34 built-in classes and the taught one.
2. Built-in classes: the 34 classes' real stroke drawings with 0, 1, 3 and 6 taught classes (each taught
   from EXAMPLES drawings; SUBSETS seeded choices of which classes for 1 and 3, averaged).
3. None of these: how often it fires on the built-in classes' real strokes (none taught), on the held-out
   drawings of 1. (their class taught), and on the unknown classes' drawings with nothing taught; and the
   same for the rule it was chosen against (the nearest class mean's similarity under a bound), at the same
   firing on the built-in drawings.
4. Learning in the page (Chromium, wasm): 6 classes of EXAMPLES drawings added one by one through the panel;
   the time from the click on "Add this drawing" to the drawing added, p50 and p95.
5. Methods: the rules tried for 1. and 2., on the same choices of drawings (METHODS says what each is).
   The class-means rule of the nearest mean alone is the baseline; a head trained in the page on the
   features (branch wip/teaching-head, commit 09fb69f, bench/teach.mjs there) is reported in
   docs/experiments.md from that commit's own bench.
"""

import json

import numpy as np

from bench.common import CHROMIUM, CHROMIUM_ARGS, ROOT, SHARED, LiveServer, machine, percentiles, write_result

EXAMPLES = 5           # drawings a person gives to teach a class
SUBSETS = 5            # seeded choices of which classes are taught, for 1 and 3 new classes
COPIES = 16            # augmented copies of each taught drawing (training.fewshot.augment), "augmented" method
WHITENED_DIMENSIONS = 128   # the "shared covariance" method's subspace
MARGINS = (0.05, 0.1)  # the "margin" methods: a taught mean must beat the picked class's by this much

METHODS = {
    "beside_softmax": "shipped: the softmax's pick, unless a taught mean is more similar than its class's mean",
    "nearest_mean": "the most similar of all class means, built-in and taught (the softmax unused)",
    **{f"beside_softmax_margin_{margin}": f"as shipped, but a taught mean must be more similar by {margin}"
       for margin in MARGINS},
    "augmented": f"as shipped, each taught mean also over {COPIES} augmented copies of each drawing "
                 "(training.fewshot's stroke augmentation)",
    "shared_covariance": f"as shipped, similarity as Mahalanobis distance under the built-in classes' shared "
                         f"within-class covariance ({WHITENED_DIMENSIONS} whitened dimensions, from 300 training "
                         "bitmaps per class)",
    "z_scored": "as shipped, each similarity as a z-score of that class's own drawings' similarity to its mean",
}


def main():
    from export import class_images, load_run_data, unit_features
    from training import data as quickdraw
    from training.fewshot import FEWSHOT_DEFAULTS, augment, load_drawings
    from training.taught import beside_softmax, class_means, is_none_of_these
    from training.webmodel import guess_probabilities, load_web_model, read_model_files

    files = read_model_files(ROOT / "web" / "model")
    model, metadata = load_web_model(ROOT / "web" / "model", files)
    labels = metadata["labels"]
    built_in_means = class_means(metadata, files)
    below = metadata["none_of_these"]["below"]
    data_dir = SHARED / "data" / "quickdraw"
    rng = np.random.default_rng(1337)

    unknown = sorted(path.stem for path in (data_dir / "strokes").glob("*.ndjson") if path.stem not in labels)
    new_drawings, new_labels = load_drawings(data_dir / "strokes", unknown)
    new_images = quickdraw.drawings_input(new_drawings)
    new_features = unit_features(model, new_images)
    new_softmax = guess_probabilities(model, metadata, new_images)
    known_drawings, known_labels = load_drawings(data_dir / "strokes", labels)
    known_images = quickdraw.drawings_input(known_drawings)
    known_features = unit_features(model, known_images)
    known_softmax = guess_probabilities(model, metadata, known_images)
    copies = np.stack([unit_features(model, quickdraw.drawings_input(
        [augment(drawing, rng, FEWSHOT_DEFAULTS) for _ in range(COPIES)])) for drawing in new_drawings])

    # What the shared-covariance and z-scored methods need from the training bitmaps (as export.py's means).
    config = json.loads((ROOT / "runs" / "sketchnet" / "config.json").read_text())
    train_images, train_classes = class_images(config, load_run_data(config))
    train_features = unit_features(model, train_images)
    class_centres = np.stack([train_features[train_classes == c].mean(axis=0) for c in range(len(labels))])
    residuals = train_features - class_centres[train_classes]
    variances, directions = np.linalg.eigh(residuals.T @ residuals / len(residuals))
    keep = np.argsort(variances)[::-1][:WHITENED_DIMENSIONS]
    whiten = directions[:, keep] / np.sqrt(variances[keep])
    own_similarity = np.sum(train_features * built_in_means[train_classes], axis=1)
    similarity_mean = np.array([own_similarity[train_classes == c].mean() for c in range(len(labels))])
    similarity_spread = np.array([own_similarity[train_classes == c].std() for c in range(len(labels))])

    def guess(method, features, softmax, taught):
        """Top guesses (index; 34 + k for the k-th taught class) of rows, with classes taught from `taught`
        (a list of arrays of indices into the unknown drawings)."""
        means = np.array([new_features[members].mean(axis=0) for members in taught])
        if method in ("beside_softmax", "augmented"):  # the page's own rule, through its tested twin
            if method == "augmented":
                means = np.array([np.vstack([new_features[members], copies[members].reshape(-1, features.shape[1])])
                                  .mean(axis=0) for members in taught])
            return beside_softmax(softmax, features, built_in_means, means).argmax(axis=1)
        if method == "nearest_mean":
            return np.argmax(features @ np.vstack([built_in_means, means]).T, axis=1)
        picked = softmax.argmax(axis=1)
        if method.startswith("beside_softmax_margin"):
            taught_similarity = features @ means.T - float(method.rsplit("_", 1)[1])
            wins = taught_similarity.max(axis=1) > np.sum(features * built_in_means[picked], axis=1)
            return np.where(wins, len(labels) + taught_similarity.argmax(axis=1), picked)
        if method == "shared_covariance":
            def distance(rows, centres):
                return np.sum(((rows - centres) @ whiten) ** 2, axis=1)
            picked_score = -distance(features, class_centres[picked])
            taught_scores = np.stack([-distance(features, mean[None]) for mean in means], axis=1)
        else:  # z_scored
            picked_score = (np.sum(features * built_in_means[picked], axis=1) - similarity_mean[picked]) / \
                similarity_spread[picked]
            taught_scores = []
            for members, mean in zip(taught, means):
                leave_one_out = [new_features[i] @ new_features[[j for j in members if j != i]].mean(axis=0)
                                 for i in members]
                spread = max(float(np.std(leave_one_out)), float(similarity_spread.mean()))
                taught_scores.append((features @ mean - np.mean(leave_one_out)) / spread)
            taught_scores = np.stack(taught_scores, axis=1)
        wins = taught_scores.max(axis=1) > picked_score
        return np.where(wins, len(labels) + taught_scores.argmax(axis=1), picked)

    # The drawings that teach: for each held-out drawing, EXAMPLES of the others of its class; for each
    # count, SUBSETS choices of classes and EXAMPLES drawings of each. Chosen once, so every method sees the same.
    held_out = []
    for class_index in range(len(unknown)):
        members = np.nonzero(new_labels == class_index)[0]
        for drawing in members:
            held_out.append((drawing, rng.choice(members[members != drawing], EXAMPLES, replace=False)))
    subsets = {count: [[rng.choice(np.nonzero(new_labels == index)[0], EXAMPLES, replace=False)
                        for index in rng.choice(len(unknown), count, replace=False)]
                       for _ in range(SUBSETS if count < len(unknown) else 1)]
               for count in (1, 3, len(unknown))}

    def found_share(method):
        hits = [guess(method, new_features[[drawing]], new_softmax[[drawing]], [teachers])[0] == len(labels)
                for drawing, teachers in held_out]
        by_class = {name: round(float(np.mean([hit for hit, (drawing, _) in zip(hits, held_out)
                                                if new_labels[drawing] == index])), 4)
                    for index, name in enumerate(unknown)}
        return round(float(np.mean(hits)), 4), by_class

    def built_in_share(method, count):
        return round(float(np.mean([np.mean(guess(method, known_features, known_softmax, taught) == known_labels)
                                    for taught in subsets[count]])), 4)

    methods = {}
    for method, description in METHODS.items():
        found, by_class = found_share(method)
        methods[method] = {"description": description, "found": found, "found_per_class": by_class,
                           "built_in_top1": {count: built_in_share(method, count) for count in subsets}}
    shipped = methods["beside_softmax"]
    softmax_top1 = round(float(np.mean(known_softmax.argmax(axis=1) == known_labels)), 4)

    # 3. None of these, by the shipped rule on the probabilities the page shows.
    taught_guesses = np.vstack([beside_softmax(new_softmax[[drawing]], new_features[[drawing]], built_in_means,
                                               new_features[teachers].mean(axis=0)[None]) for drawing, teachers in held_out])
    # The rule it was chosen against: the drawing's cosine similarity to the nearest built-in class mean, with
    # its bound set to fire as often on the built-in real strokes as the shipped rule does.
    built_in_rate = float(np.mean(is_none_of_these(known_softmax, len(labels), below)))
    unit_means = built_in_means / np.linalg.norm(built_in_means, axis=1, keepdims=True)
    known_nearest, new_nearest = (np.max(features @ unit_means.T, axis=1) for features in (known_features, new_features))
    nearest_below = float(np.quantile(known_nearest, built_in_rate))
    none_of_these = {
        "below": below, "rule": metadata["none_of_these"]["rule"],
        "compared_with": {
            "rule": "cosine similarity to the nearest built-in class mean below a bound, set to fire as often "
                    "on the built-in real strokes", "below": round(nearest_below, 4),
            "built_in": round(float(np.mean(known_nearest < nearest_below)), 4),
            "unknown_nothing_taught": round(float(np.mean(new_nearest < nearest_below)), 4)},
        "built_in": round(float(np.mean(is_none_of_these(known_softmax, len(labels), below))), 4),
        "taught_held_out": round(float(np.mean(is_none_of_these(taught_guesses, len(labels), below))), 4),
        "unknown_nothing_taught": round(float(np.mean(is_none_of_these(new_softmax, len(labels), below))), 4),
        "unknown_nothing_taught_per_class": {
            name: round(float(np.mean(is_none_of_these(new_softmax[new_labels == index], len(labels), below))), 4)
            for index, name in enumerate(unknown)},
    }

    write_result("teach", {
        "examples_per_taught_class": EXAMPLES, "built_in_means": "web/model/" + metadata["class_means"]["file"],
        "rule": "beside_softmax (web/js/taught.js, training/taught.py)",
        "new_classes": shipped["found_per_class"], "new_classes_found": shipped["found"],
        "built_in_real_strokes_top1": {"0": softmax_top1, **{str(count): value for count, value
                                                              in shipped["built_in_top1"].items()}},
        "built_in_loss_points": {str(count): round(100 * (softmax_top1 - value), 2)
                                 for count, value in shipped["built_in_top1"].items()},
        "built_in_drawings": int(len(known_labels)), "unknown_drawings": int(len(new_labels)),
        "none_of_these": none_of_these,
        "learn_in_page": learn_in_page(unknown, new_drawings, new_labels, rng),
        "methods": methods, "machine": machine(),
    })


def learn_in_page(unknown, drawings, labels, rng):
    """4.: each of 6 classes taught EXAMPLES drawings as the panel's Add does (window.sketch.teach: rasterized
    in the worker, the features from the model, the class's mean and store updated, the guesses' classes
    rebuilt), in Chromium (wasm); the milliseconds each add takes, timed in the page, so the figure is the
    learning, not the mouse or the test driver."""
    from playwright.sync_api import sync_playwright

    milliseconds = []
    with LiveServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(server.url + "?backend=wasm")
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
        for class_index, name in enumerate(unknown[:6]):
            for drawing in rng.choice(np.nonzero(labels == class_index)[0], EXAMPLES, replace=False):
                strokes = [[list(map(float, xs)), list(map(float, ys))] for xs, ys, *_ in drawings[drawing]]
                milliseconds.append(page.evaluate(
                    "async ([name, strokes]) => { const started = performance.now(); "
                    "await window.sketch.teach(name, strokes); return performance.now() - started; }",
                    [name, strokes]))
        browser.close()
    return {"drawings": len(milliseconds), "backend": "wasm", **percentiles(milliseconds, (50, 95))}


if __name__ == "__main__":
    main()
