"""Strokes to 28x28 bitmaps by the Quick, Draw! recipe; the Python twin of web/js/raster.js.

    python -m training.raster ../shared/data/quickdraw/strokes/eye.ndjson   # prints the first drawing

The dataset's bitmaps were made from stroke vectors (its README, "Preprocessing" and "numpy bitmaps",
and issue 19, https://github.com/googlecreativelab/quickdraw-dataset/issues/19):

1. normalize: shift to a minimum of 0, scale uniformly so the largest coordinate is 255, resample every
   stroke at 1-unit spacing, simplify with Ramer-Douglas-Peucker (epsilon 2), round to integers;
2. render: centre the bounding box in a 256 box, draw with line width 16, round caps and joins, with
   16 units of padding plus half the line on each side, antialiased, at 28x28.

Google rendered with cairo. We compute the antialiased coverage ourselves instead: each stroke with round
caps and joins is the union of "capsules" (a segment widened by the line's radius), and for 16 sample lines
per pixel row we intersect every capsule with the line, merge the intervals and add up the exact covered
length per pixel. Everything is plain float64 arithmetic in a fixed order, mirrored operation for operation
in raster.js (here vectorized with numpy, elementwise the same), so Python and the browser agree exactly.
"""

import json
import math
import sys

import numpy as np

IMAGE_SIZE = 28
ORIGINAL_SIDE = 256.0
LINE_DIAMETER = 16.0
PADDING = 16.0
RESAMPLE_SPACING = 1.0
RDP_EPSILON = 2.0
SUBSAMPLES = 16  # Sample lines per pixel row; 16 keeps the difference from cairo to about one grey level.

# One parameter table, written into web/model/metadata.json and documented in the README.
RASTER_PARAMETERS = {
    "image_size": IMAGE_SIZE,
    "original_side": ORIGINAL_SIDE,
    "line_diameter": LINE_DIAMETER,
    "padding": PADDING,
    "resample_spacing": RESAMPLE_SPACING,
    "rdp_epsilon": RDP_EPSILON,
    "subsamples": SUBSAMPLES,
}


def validate_drawing(drawing):
    """Check the dataset's stroke format [[xs, ys(, ts)], ...] and return it as lists of float pairs."""
    if not isinstance(drawing, (list, tuple)) or len(drawing) == 0:
        raise ValueError("a drawing must be a non-empty list of strokes")
    strokes = []
    for index, stroke in enumerate(drawing):
        if not isinstance(stroke, (list, tuple)) or len(stroke) not in (2, 3):
            raise ValueError(f"stroke {index} must be [xs, ys] or [xs, ys, ts]")
        xs, ys = stroke[0], stroke[1]
        if not isinstance(xs, (list, tuple)) or not isinstance(ys, (list, tuple)):
            raise ValueError(f"stroke {index}: xs and ys must be lists of numbers")
        if len(xs) != len(ys):
            raise ValueError(f"stroke {index}: {len(xs)} x values but {len(ys)} y values")
        if len(xs) == 0:
            raise ValueError(f"stroke {index} has no points")
        points = []
        for x, y in zip(xs, ys):
            if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) \
                    or not isinstance(y, (int, float)):
                raise ValueError(f"stroke {index}: every coordinate must be a number")
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(f"stroke {index}: coordinates must be finite")
            points.append((float(x), float(y)))
        strokes.append(points)
    return strokes


def resample(points, spacing=RESAMPLE_SPACING):
    """Insert points every `spacing` units along each segment, keeping the original vertices."""
    result = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        steps = max(1, math.ceil(length / spacing))
        for step in range(1, steps):
            fraction = step / steps
            result.append((x0 + (x1 - x0) * fraction, y0 + (y1 - y0) * fraction))
        result.append((x1, y1))
    return result


def rdp(points, epsilon=RDP_EPSILON):
    """Ramer-Douglas-Peucker simplification (https://en.wikipedia.org/wiki/Ramer-Douglas-Peucker_algorithm).

    Iterative, so long strokes cannot exhaust the recursion limit. The distance is to the line through the
    span's ends, or to the first end when both ends coincide (a closed stroke).
    """
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        max_distance, max_index = -1.0, first
        for index in range(first + 1, last):
            px, py = points[index]
            if length == 0:
                distance = math.hypot(px - x0, py - y0)
            else:
                distance = abs(dy * px - dx * py + x1 * y0 - y1 * x0) / length
            if distance > max_distance:
                max_distance, max_index = distance, index
        if max_distance > epsilon:
            keep[max_index] = True
            stack.append((max_index, last))
            stack.append((first, max_index))
    return [point for point, kept in zip(points, keep) if kept]


def round_half_up(value):
    # Python's round() rounds halves to even, JavaScript's Math.round up; floor(v + 0.5) is the same in both.
    return math.floor(value + 0.5)


def normalize(drawing):
    """Any-scale strokes to the dataset's simplified format: integer [[xs], [ys]] strokes in 0..255."""
    strokes = validate_drawing(drawing)
    min_x = min(x for stroke in strokes for x, _ in stroke)
    min_y = min(y for stroke in strokes for _, y in stroke)
    shifted = [[(x - min_x, y - min_y) for x, y in stroke] for stroke in strokes]
    largest = max(max(x, y) for stroke in shifted for x, y in stroke)
    if not math.isfinite(largest):
        raise ValueError("the coordinates span too large a range")
    scale = 255.0 / largest if largest > 0 else 1.0
    result = []
    for stroke in shifted:
        scaled = [(x * scale, y * scale) for x, y in stroke]
        simplified = rdp(resample(scaled))
        result.append([[round_half_up(x) for x, _ in simplified], [round_half_up(y) for _, y in simplified]])
    return result


def capsule_intervals(ax, ay, bx, by, radius, line_ys):
    """Where each line y = line_ys[i] crosses segment i widened by radius: (low, high) arrays of x.

    The capsule is the union of two discs and a rectangle; being convex, its crossing with a line is one
    interval, the hull of the pieces' crossings. low > high where a line misses its capsule. All (segment,
    line) pairs of a drawing go through at once; elementwise this is the very same float64 arithmetic as
    capsuleInterval in raster.js, so the two languages' bitmaps are bit-identical.
    """
    low = np.full(line_ys.shape, math.inf)
    high = np.full(line_ys.shape, -math.inf)
    for cx, cy in ((ax, ay), (bx, by)):
        offset = line_ys - cy
        inside = np.abs(offset) <= radius
        half = np.sqrt(np.where(inside, radius * radius - offset * offset, 0.0))
        low = np.where(inside, np.minimum(low, cx - half), low)
        high = np.where(inside, np.maximum(high, cx + half), high)
    dx, dy = bx - ax, by - ay
    length_squared = dx * dx + dy * dy
    segment = length_squared > 0
    safe_length_squared = np.where(segment, length_squared, 1.0)
    length = np.sqrt(safe_length_squared)
    start = np.full(line_ys.shape, -math.inf)
    end = np.full(line_ys.shape, math.inf)
    for slope, intercept, lower, upper in (
        (dx / safe_length_squared, ((-ax) * dx + (line_ys - ay) * dy) / safe_length_squared, 0.0, 1.0),
        (-dy / length, ((-ax) * (-dy) + (line_ys - ay) * dx) / length, -radius, radius),
    ):
        flat = slope == 0
        outside = flat & ((intercept < lower) | (intercept > upper))
        safe_slope = np.where(flat, 1.0, slope)
        first, second = (lower - intercept) / safe_slope, (upper - intercept) / safe_slope
        start = np.where(flat, np.where(outside, math.inf, start), np.maximum(start, np.minimum(first, second)))
        end = np.where(flat, np.where(outside, -math.inf, end), np.minimum(end, np.maximum(first, second)))
    crossed = segment & (start <= end)
    low = np.where(crossed, np.minimum(low, start), low)
    high = np.where(crossed, np.maximum(high, end), high)
    return low, high


def render(strokes):
    """Draw normalized strokes (0..255 integers) into a 28x28 list of rows of 0..255 values."""
    scale = IMAGE_SIZE / (ORIGINAL_SIDE + 2 * PADDING + LINE_DIAMETER)
    translate = PADDING + LINE_DIAMETER / 2
    radius = LINE_DIAMETER / 2 * scale
    max_x = max(x for xs, _ in strokes for x in xs)
    max_y = max(y for _, ys in strokes for y in ys)
    offset_x = (ORIGINAL_SIDE - max_x) / 2 + translate
    offset_y = (ORIGINAL_SIDE - max_y) / 2 + translate
    line_count = IMAGE_SIZE * SUBSAMPLES
    segments = []
    for xs, ys in strokes:
        points = [((x + offset_x) * scale, (y + offset_y) * scale) for x, y in zip(xs, ys)]
        # A one-point stroke is a dot: a zero-length segment, which round caps draw as a disc.
        pairs = zip(points, points[1:]) if len(points) > 1 else [(points[0], points[0])]
        for (ax, ay), (bx, by) in pairs:
            first_line = max(0, math.ceil((min(ay, by) - radius) * SUBSAMPLES - 0.5))
            last_line = min(line_count - 1, math.floor((max(ay, by) + radius) * SUBSAMPLES - 0.5))
            if first_line <= last_line:
                segments.append((ax, ay, bx, by, first_line, last_line - first_line + 1))
    if not segments:
        return [[0] * IMAGE_SIZE for _ in range(IMAGE_SIZE)]
    coverage = [[0.0] * IMAGE_SIZE for _ in range(IMAGE_SIZE)]
    table = np.array(segments, dtype=np.float64)
    counts = table[:, 5].astype(np.int64)
    owner = np.repeat(np.arange(len(segments)), counts)
    position_in_segment = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    lines = table[owner, 4].astype(np.int64) + position_in_segment
    low, high = capsule_intervals(table[owner, 0], table[owner, 1], table[owner, 2], table[owner, 3], radius,
                                  (lines + 0.5) / SUBSAMPLES)
    keep = low <= high
    lines, low, high = lines[keep], low[keep], high[keep]
    # Sorted by line, then by (start, end), as sorting each line's tuples would.
    order = np.lexsort((high, low, lines))
    lines, low, high = lines[order].tolist(), low[order].tolist(), high[order].tolist()
    index = 0
    while index < len(lines):
        line = lines[index]
        row = coverage[line // SUBSAMPLES]
        merged = []
        while index < len(lines) and lines[index] == line:
            start, end = low[index], high[index]
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
            index += 1
        for start, end in merged:
            start, end = max(start, 0.0), min(end, float(IMAGE_SIZE))
            if start >= end:
                continue
            for column in range(math.floor(start), min(IMAGE_SIZE, math.ceil(end))):
                covered = min(end, column + 1.0) - max(start, float(column))
                if covered > 0:
                    row[column] += covered / SUBSAMPLES
    return [[round_half_up(min(1.0, value) * 255.0) for value in row] for row in coverage]


def rasterize(drawing):
    """Any-scale strokes to the model's 28x28 input: a flat list of 784 values, 0..255, ink = 255."""
    return [value for row in render(normalize(drawing)) for value in row]


def image_to_bitmap(image):
    """A canvas picture (PIL image) to the model's 28x28 input: the original app's PNG path, made faithful.

    The ink is found by its contrast with the background (dark ink on light or transparent, or light ink
    on dark) and cropped to its bounding box. A canvas line is usually far thinner, relative to the
    drawing, than the dataset's (16 of 255 units), and a thin line shrinks to a faint one at 28x28 that the
    model has never seen. So the line's width is measured (twice the typical distance from the middle of a
    line to its edge, by a distance transform) and the ink is thickened to the dataset's proportion; then it
    is scaled, aspect kept, so that it spans what the stroke path's drawings span, and centred.
    """
    from PIL import Image
    from scipy import ndimage

    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    grey = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float64)
    ink = 255.0 - grey if grey.mean() >= 128 else grey
    rows = np.nonzero(ink.max(axis=1) > 16)[0]
    columns = np.nonzero(ink.max(axis=0) > 16)[0]
    if len(rows) == 0:
        raise ValueError("the image has no ink")
    crop = ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    inked = crop > 64
    line_width = 1.0
    if inked.any():
        distances = ndimage.distance_transform_edt(np.pad(inked, 1))[1:-1, 1:-1][inked]
        line_width = max(1.0, 2 * float(np.percentile(distances, 90)))
    centre_extent = max(max(crop.shape) - line_width, 1.0)
    target_width = LINE_DIAMETER / (ORIGINAL_SIDE - 1) * centre_extent
    grow = int(round(target_width - line_width))
    if grow >= 1:
        radius = (grow + 1) // 2
        yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
        crop = ndimage.grey_dilation(np.pad(crop, radius), footprint=(xx * xx + yy * yy) <= radius * radius)
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


def read_ndjson(path):
    """Yield the records of an ndjson file in the dataset's format."""
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: not JSON ({error.msg})") from None
            if not isinstance(record, dict) or "drawing" not in record:
                raise ValueError(f"{path}:{line_number}: no 'drawing' field")
            yield record


if __name__ == "__main__":
    record = next(read_ndjson(sys.argv[1]))
    image = rasterize(record["drawing"])
    for row in range(IMAGE_SIZE):
        print("".join(" .:-=+*#%@"[min(9, value * 10 // 256)] for value in image[row * 28:(row + 1) * 28]))
