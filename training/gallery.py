"""Build the page's static assets from the shared stroke data: the class gallery and the app icons.

    python -m training.gallery [--strokes-dir ../shared/data/quickdraw/strokes] [--model web/model]

Writes web/gallery.json ({"samples": {class: drawing}}: the first official drawing of each class the model
knows, normalized like every drawing) and web/icons/icon-192.png, icon-512.png (a drawn cat). Run it after
exporting a model with new classes; classes without stroke data are left out of the gallery.
"""

import argparse
import json
from pathlib import Path

from PIL import Image, ImageDraw

from training import ndjson, raster
from training.data import DEFAULT_DATA_DIR, REPO_ROOT


def first_official(path):
    records = list(ndjson.read_ndjson(path))
    official = [record for record in records if not record.get("simplified_from_raw")]
    return (official or records)[0]["drawing"]


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
    parser.add_argument("--model", default=str(REPO_ROOT / "web" / "model"))
    parser.add_argument("--web", default=str(REPO_ROOT / "web"))
    args = parser.parse_args(argv)
    labels = json.loads((Path(args.model) / "metadata.json").read_text())["labels"]
    samples = {}
    for label in labels:
        path = Path(args.strokes_dir) / f"{label}.ndjson"
        if path.is_file():
            samples[label] = raster.normalize(first_official(path))
    web = Path(args.web)
    (web / "gallery.json").write_text(json.dumps({"samples": samples}, separators=(",", ":")) + "\n")
    (web / "icons").mkdir(exist_ok=True)
    icon_drawing = first_official(Path(args.strokes_dir) / "cat.ndjson")
    for size in (192, 512):
        draw_icon(icon_drawing, size).save(web / "icons" / f"icon-{size}.png", optimize=True)
    print(json.dumps({"gallery_classes": len(samples), "labels": len(labels)}))


if __name__ == "__main__":
    main()
