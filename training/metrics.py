"""What a training run reports: test and real-stroke metrics, the confidence threshold, and the plots.

Not run directly; training/train.py writes these into each run's metrics.json and PNG files.
"""

import numpy as np


def top_k_accuracy(probabilities, labels, k):
    top = np.argsort(-probabilities, axis=1)[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def classification_metrics(probabilities, labels, class_names):
    """Top-1, top-3, per-class precision and recall and the confusion matrix (rows = true class)."""
    predicted = probabilities.argmax(axis=1)
    num_classes = len(class_names)
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {}
    for class_id, name in enumerate(class_names):
        true_positive = confusion[class_id, class_id]
        predicted_count = confusion[:, class_id].sum()
        actual_count = confusion[class_id].sum()
        per_class[name] = {
            "precision": float(true_positive / predicted_count) if predicted_count else 0.0,
            "recall": float(true_positive / actual_count) if actual_count else 0.0,
            "count": int(actual_count),
        }
    return {
        "top1": float(np.mean(predicted == labels)),
        "top3": top_k_accuracy(probabilities, labels, 3),
        "count": int(len(labels)),
        "per_class": per_class,
        "confusion_matrix": confusion.tolist(),
    }


def stroke_metrics(probabilities, labels, sources, class_names, noisy_classes):
    """Accuracy on real strokes, overall, per class, per source and for clean vs denoised classes."""
    predicted = probabilities.argmax(axis=1)
    correct = predicted == labels
    names = np.array(class_names)[labels]
    is_noisy = np.isin(names, list(noisy_classes))
    result = {
        "top1": float(correct.mean()),
        "top3": top_k_accuracy(probabilities, labels, 3),
        "count": int(len(labels)),
        "per_source": {source: float(correct[sources == source].mean()) for source in np.unique(sources)},
        "per_class": {name: float(correct[names == name].mean()) for name in np.unique(names)},
    }
    if is_noisy.any():
        result["denoised_classes_top1"] = float(correct[is_noisy].mean())
    if (~is_noisy).any():
        result["clean_classes_top1"] = float(correct[~is_noisy].mean())
    return result


def save_plots(out, history, metrics, test_images, test_labels, test_probabilities, class_names):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for key, axis in (("loss", axes[0]), ("accuracy", axes[1])):
        axis.plot(history.get(key, []), label="train")
        axis.plot(history.get(f"val_{key}", []), label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(key)
        axis.legend()
    figure.tight_layout()
    figure.savefig(out / "training_curves.png", dpi=90)
    plt.close(figure)

    confusion = np.array(metrics["test"]["confusion_matrix"], dtype=np.float64)
    normalized = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    size = max(6, len(class_names) * 0.32)
    figure, axis = plt.subplots(figsize=(size + 1.5, size))
    image = axis.imshow(normalized, cmap="Blues", vmin=0, vmax=1)
    axis.set_xticks(range(len(class_names)), class_names, rotation=90, fontsize=8)
    axis.set_yticks(range(len(class_names)), class_names, fontsize=8)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(f"test confusion (row-normalized), top-1 {metrics['test']['top1']:.3f}")
    figure.colorbar(image, fraction=0.04)
    figure.tight_layout()
    figure.savefig(out / "confusion_matrix.png", dpi=90)
    plt.close(figure)

    predicted = test_probabilities.argmax(axis=1)
    # A seeded sample of all the mistakes, sorted by true class, so every class's typical errors show.
    wrong = np.nonzero(predicted != test_labels)[0]
    wrong = np.sort(np.random.default_rng(0).choice(wrong, size=min(48, len(wrong)), replace=False))
    columns = 8
    rows = max(1, (len(wrong) + columns - 1) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.6, rows * 1.9), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, index in zip(axes.flat, wrong):
        axis.imshow(1 - test_images[index, :, :, 0], cmap="gray", vmin=0, vmax=1)
        axis.set_title(f"{class_names[test_labels[index]]}\n-> {class_names[predicted[index]]}", fontsize=7)
    figure.suptitle("test mistakes: true -> predicted")
    figure.tight_layout()
    figure.savefig(out / "misclassified.png", dpi=90)
    plt.close(figure)


def confidence_threshold(probabilities, labels, target_precision=0.95):
    """The lowest top probability above which the top guess is right at least target_precision of the time.

    The page says "not sure yet" below it instead of announcing a probably wrong guess.
    """
    top = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    order = np.argsort(-top)
    running_precision = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    good = np.nonzero(running_precision >= target_precision)[0]
    if len(good) == 0:
        return 1.0
    # Rounded to three decimals, as metadata.json states it; rounding down could let in guesses just below the
    # cutoff that break the target, so the rounded threshold is raised until the guesses it admits meet it.
    threshold = round(float(top[order][good[-1]]), 3)
    while threshold < 1 and np.mean(correct[top >= threshold]) < target_precision:
        threshold = round(threshold + 0.001, 3)
    return threshold
