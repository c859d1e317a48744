"""Build the page's static assets from the shared stroke data: the class gallery and the app icons.

    python -m training.gallery [--strokes-dir ../shared/data/quickdraw/strokes] [--models web/model web/model-*]

Writes web/gallery.json ({"samples": {class: drawing}}: for each class a served model knows, the official drawing
that the first model knowing the class recognizes most confidently, normalized like every drawing, so that a
sample looks like the thing rather than a stray dot or a tick) and web/icons/icon-192.png, icon-512.png (a drawn
cat). `make gallery` runs it, and `make train` after exporting; classes without stroke data are left out of the
gallery.
"""

import argparse
import json
from pathlib import Path

from PIL import Image, ImageDraw

from training import ndjson, raster
from training.data import DEFAULT_DATA_DIR, REPO_ROOT


def official_drawings(path):
    """The official drawings of a stroke file (all of them if it has none marked official)."""
    records = list(ndjson.read_ndjson(path))
    official = [record for record in records if not record.get("simplified_from_raw")]
    return [record["drawing"] for record in official or records]


def first_official(path):
    return official_drawings(path)[0]


def most_confident(drawings, class_index, model, metadata):
    """The drawing whose rasterized bitmap the model gives the highest probability of its class, as the
    page guesses."""
    import numpy as np

    from training.data import drawings_input
    from training.webmodel import guess_probabilities

    probabilities = guess_probabilities(model, metadata, drawings_input(drawings))
    return drawings[int(np.argmax(probabilities[:, class_index]))]


def draw_icon(drawing, size):
    """A drawing as a square icon: dark ink on a light rounded tile, with a margin for maskable icons."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle([0, 0, size - 1, size - 1], radius=size // 5, fill=(246, 245, 241, 255))
    margin, scale = size * 0.2, size * 0.6 / 255
    for xs, ys in raster.normalize(drawing):
        points = [(margin + x * scale, margin + y * scale) for x, y in zip(xs, ys)]
        pen.line(points if len(points) > 1 else points * 2, fill=(31, 95, 191, 255), width=max(2, size // 28),
                 joint="curve")
    return image


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes-dir", default=str(DEFAULT_DATA_DIR / "strokes"))
    parser.add_argument("--models", nargs="+", default=[str(REPO_ROOT / "web" / "model")] + sorted(
        str(path) for path in (REPO_ROOT / "web").glob("model-*") if path.is_dir()))
    parser.add_argument("--web", default=str(REPO_ROOT / "web"))
    args = parser.parse_args(argv)
    from training.cli import start_tensorflow_quietly
    from training.webmodel import load_web_model

    start_tensorflow_quietly()
    samples, labels = {}, []
    for folder in args.models:
        model, metadata = load_web_model(folder)
        for index, label in enumerate(metadata["labels"]):
            path = Path(args.strokes_dir) / f"{label}.ndjson"
            if label not in samples and path.is_file():
                samples[label] = raster.normalize(most_confident(official_drawings(path), index, model, metadata))
        labels += [label for label in metadata["labels"] if label not in labels]
    web = Path(args.web)
    (web / "gallery.json").write_text(json.dumps({"samples": samples}, separators=(",", ":")) + "\n")
    (web / "icons").mkdir(exist_ok=True)
    icon_drawing = first_official(Path(args.strokes_dir) / "cat.ndjson")
    for size in (192, 512):
        draw_icon(icon_drawing, size).save(web / "icons" / f"icon-{size}.png", optimize=True)
    print(json.dumps({"gallery_classes": len(samples), "labels": len(labels)}))


if __name__ == "__main__":
    main()
