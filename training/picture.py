"""A picture of a drawing (a canvas PNG, as the original app posted it) to the model's 28x28 input.

    python -m training.picture sketch.png     # prints what the model sees

Strokes are the contract (training/raster.py); this path approximates the same geometry from pixels. The
ink is found by its contrast with the background (dark ink on light or transparent, or light ink on dark)
and cropped to its bounding box. The crop is brought down to the dataset's 256-unit drawing box by taking
the most ink of each block of pixels, so that a thin line stays a line and the work after it is bounded
whatever the picture's size. A canvas line is usually far thinner, relative to the drawing, than the
dataset's (16 of 255 units), and a thin line shrinks to a faint one at 28x28 that the model has never
seen. So the line's width is measured (twice the typical distance from the middle of a line to its edge,
by a distance transform) and the ink is thickened to the dataset's proportion; then it is scaled, aspect
kept, so that it spans what the stroke path's drawings span, and centred.
"""

import math
import sys

import numpy as np

from training.raster import IMAGE_SIZE, LINE_DIAMETER, ORIGINAL_SIDE, PADDING

WORKING_SIDE = 256  # pixels: the crop's longest side is brought down to at most this before measuring
INK_LEVEL = 16      # of 255: fainter pixels are background (antialiasing fringes, compression noise)
LINE_LEVEL = 64     # of 255: pixels at least this dark count when the line's width is measured


def ink_layer(image):
    """The picture's ink as a uint8 array, 0 = background: composited on white, inverted if light on dark."""
    if "A" in image.getbands() or "transparency" in image.info:
        # Composite on white as integers: Pillow's alpha_composite on RGBA costs four times as much.
        grey_alpha = np.asarray(image.convert("LA"), dtype=np.uint32)
        grey, alpha = grey_alpha[..., 0], grey_alpha[..., 1]
        grey = ((grey * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    else:
        grey = np.asarray(image.convert("L"))
    return 255 - grey if grey.mean() >= 128 else grey


def block_maximum(ink, factor):
    """Shrink by an integer factor, keeping the most ink of each factor x factor block."""
    if factor == 1:
        return ink
    height, width = ink.shape
    padded = np.zeros((math.ceil(height / factor) * factor, math.ceil(width / factor) * factor), dtype=ink.dtype)
    padded[:height, :width] = ink
    return padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).max(axis=(1, 3))


def disc_maximum(values, radius):
    """Each pixel's largest value within a disc of this radius (a round brush), on values padded by it.

    The disc is a stack of horizontal runs, one per row offset, so it is that many running maxima along
    rows: linear in the pixels times 2 * radius + 1, where a 2-D footprint would cost its area.
    """
    from scipy import ndimage

    padded = np.pad(values, ((2 * radius, 2 * radius), (radius, radius)))
    result = np.zeros((values.shape[0] + 2 * radius, padded.shape[1]))
    for offset in range(-radius, radius + 1):
        half_run = math.isqrt(radius * radius - offset * offset)
        runs = ndimage.maximum_filter1d(padded, size=2 * half_run + 1, axis=1, mode="constant")
        np.maximum(result, runs[radius + offset:radius + offset + result.shape[0]], out=result)
    return result


def image_to_bitmap(image):
    """A PIL image to a flat list of 784 values, 0..255, ink = 255; ValueError if it has no ink."""
    from PIL import Image
    from scipy import ndimage

    ink = ink_layer(image)
    rows = np.nonzero(ink.max(axis=1) > INK_LEVEL)[0]
    columns = np.nonzero(ink.max(axis=0) > INK_LEVEL)[0]
    if len(rows) == 0:
        raise ValueError("the image has no ink")
    crop = ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    crop = block_maximum(crop, math.ceil(max(crop.shape) / WORKING_SIDE)).astype(np.float64)
    inked = crop > LINE_LEVEL
    line_width = 1.0
    if inked.any():
        distances = ndimage.distance_transform_edt(np.pad(inked, 1))[1:-1, 1:-1][inked]
        line_width = max(1.0, 2 * float(np.percentile(distances, 90)))
    centre_extent = max(max(crop.shape) - line_width, 1.0)
    target_width = LINE_DIAMETER / (ORIGINAL_SIDE - 1) * centre_extent
    grow = int(round(target_width - line_width))
    if grow >= 1:
        crop = disc_maximum(crop, (grow + 1) // 2)
    scale = IMAGE_SIZE / (ORIGINAL_SIDE + 2 * PADDING + LINE_DIAMETER)
    span = (ORIGINAL_SIDE - 1 + LINE_DIAMETER) * scale
    factor = span / (centre_extent + max(target_width, line_width))
    height, width = crop.shape
    new_width = min(IMAGE_SIZE, max(1, round(width * factor)))
    new_height = min(IMAGE_SIZE, max(1, round(height * factor)))
    small = Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8)).resize((new_width, new_height),
                                                                           Image.Resampling.BOX)
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float64)
    top, left = (IMAGE_SIZE - new_height) // 2, (IMAGE_SIZE - new_width) // 2
    canvas[top:top + new_height, left:left + new_width] = np.asarray(small, dtype=np.float64)
    canvas *= 255.0 / max(canvas.max(), 1.0)
    return [int(value) for value in np.clip(np.floor(canvas + 0.5), 0, 255).reshape(-1)]


if __name__ == "__main__":
    from PIL import Image

    from training.ndjson import print_bitmap

    with Image.open(sys.argv[1]) as picture:
        print_bitmap(image_to_bitmap(picture))
