"""Strokes to 28x28 bitmaps by the Quick, Draw! recipe; the Python twin of web/js/raster.js.

    python -m training.ndjson ../shared/data/quickdraw/strokes/eye.ndjson   # prints the first drawing

The two files hold the same steps in the same order, so they can be read side by side (each has a helper
or two the other does without), and every float64 operation happens in the same order in both, so their
bitmaps are bit-identical.

The dataset's bitmaps were made from stroke vectors (its README, "Preprocessing" and "numpy bitmaps",
and issue 19, https://github.com/googlecreativelab/quickdraw-dataset/issues/19):

1. normalize: shift to a minimum of 0, scale uniformly so the largest coordinate is 255, resample every
   stroke at 1-unit spacing, simplify with Ramer-Douglas-Peucker (epsilon 2), round to integers;
2. render: centre the bounding box in a 256 box, draw with line width 16, round caps and joins, with
   16 units of padding plus half the line on each side, antialiased, at 28x28.

We skip the resampling: it cannot change what RDP keeps. RDP keeps the point farthest from a chord, and
the distance to a line (or to a point) is convex along a straight segment, so its largest value on a
segment's resampled points is at one of the segment's ends, which are the original vertices. Resampling
only adds points that RDP drops, and it would turn cost in points into cost in ink length (a zig-zag of
a few kilobytes becomes millions of points). tests/test_raster.py checks this on real and random drawings.

Cost is bounded by the limits below. RDP is at worst quadratic in one stroke's points (MAX_POINTS bounds
it: 12.5 million distances). Rendering costs one capsule crossing per segment and sample line it reaches,
which simplification does not bound: 5,000 points alternating between the top and the bottom edge keep
every point and make two million crossings (over a second). So the crossings themselves are limited
(MAX_CROSSINGS, counted before any is computed); bench/shapes.py searches for the costliest drawing
within all the limits, and bench/hostile.py times it. The search finds zig-zags: quadratic RDP (about
0.1 s here) with over 100,000 crossings, about 0.2 s of CPU in all in Python and under 0.1 s in JavaScript.

Google rendered with cairo. We compute the antialiased coverage ourselves instead: each stroke with round
caps and joins is the union of "capsules" (a segment widened by the line's radius), and for 16 sample lines
per pixel row we intersect every capsule with the line, merge the intervals and add up the exact covered
length per pixel.
"""

import math

import numpy as np

IMAGE_SIZE = 28
ORIGINAL_SIDE = 256.0
LINE_DIAMETER = 16.0
PADDING = 16.0
RDP_EPSILON = 2.0
SUBSAMPLES = 16  # Sample lines per pixel row; 16 keeps the difference from cairo to about one grey level.
# The limits that bound the cost of one drawing (bench/hostile.py times the worst shapes at them). A
# person drawing on the page stays far below: the shared real drawings have at most a tenth of MAX_POINTS
# and a fifth of MAX_STROKES (bench/results/fidelity.json; tests/test_raster.py).
MAX_STROKES = 200
MAX_POINTS = 5000  # over all strokes, as given (before normalization)
# Sample-line crossings after simplification: each segment's capsule crosses about 24 sample lines plus
# 1.47 per unit of height (0..255 units), so this is about 370 full-height strokes of ink. The shared real
# drawings make at most 5,709 (bench/results/fidelity.json; tests/test_raster.py), 26 times fewer; at the
# limit, rendering takes about 60 ms of CPU in Python (bench/shapes.py's comb).
MAX_CROSSINGS = 150_000

# One parameter table, written into web/model/metadata.json, documented in the README, and compared with
# raster.js's constants by tests/js/raster.test.js.
RASTER_PARAMETERS = {
    "image_size": IMAGE_SIZE,
    "original_side": ORIGINAL_SIDE,
    "line_diameter": LINE_DIAMETER,
    "padding": PADDING,
    "rdp_epsilon": RDP_EPSILON,
    "subsamples": SUBSAMPLES,
    "max_strokes": MAX_STROKES,
    "max_points": MAX_POINTS,
}


def as_coordinate(value):
    """A JSON number as a float; an integer too large for a float is infinite, as JSON.parse reads it."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def too_much_ink_message(crossings):
    return f"too much ink: the simplified strokes make {crossings} sample-line crossings (at most {MAX_CROSSINGS})"


def validate_drawing(drawing):
    """Check the dataset's stroke format [[xs, ys(, ts)], ...] and the limits; return (xs, ys) arrays."""
    if not isinstance(drawing, (list, tuple)) or len(drawing) == 0:
        raise ValueError("a drawing must be a non-empty list of strokes")
    if len(drawing) > MAX_STROKES:
        raise ValueError(f"too many strokes: {len(drawing)} (at most {MAX_STROKES})")
    strokes = []
    total = 0
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
        total += len(xs)
        if total > MAX_POINTS:
            raise ValueError(f"too many points (at most {MAX_POINTS} over all strokes)")
        for value in (*xs, *ys):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"stroke {index}: every coordinate must be a number")
        x_values = np.array([as_coordinate(x) for x in xs], dtype=np.float64)
        y_values = np.array([as_coordinate(y) for y in ys], dtype=np.float64)
        if not (np.isfinite(x_values).all() and np.isfinite(y_values).all()):
            raise ValueError(f"stroke {index}: coordinates must be finite")
        strokes.append((x_values, y_values))
    return strokes


def rdp(xs, ys, epsilon=RDP_EPSILON):
    """Ramer-Douglas-Peucker (https://en.wikipedia.org/wiki/Ramer-Douglas-Peucker_algorithm): kept indices.

    Iterative, so long strokes cannot exhaust the recursion limit. The distance is to the line through the
    span's ends, or to the first end when both ends coincide (a closed stroke); ties go to the first point.
    """
    count = len(xs)
    keep = np.zeros(count, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, count - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        x0, y0, x1, y1 = float(xs[first]), float(ys[first]), float(xs[last]), float(ys[last])
        dx, dy = x1 - x0, y1 - y0
        length = math.sqrt(dx * dx + dy * dy)
        px, py = xs[first + 1:last], ys[first + 1:last]
        if length == 0:
            ex, ey = px - x0, py - y0
            distances = np.sqrt(ex * ex + ey * ey)
        else:
            distances = np.abs(dy * px - dx * py + x1 * y0 - y1 * x0) / length
        farthest = int(np.argmax(distances))
        if distances[farthest] > epsilon:
            split = first + 1 + farthest
            keep[split] = True
            stack.append((split, last))
            stack.append((first, split))
    return np.flatnonzero(keep)


def round_half_up(values):
    # Python's round() rounds halves to even, JavaScript's Math.round up; floor(v + 0.5) is the same in both.
    return np.floor(values + 0.5)


def normalize(drawing):
    """Any-scale strokes to the dataset's simplified format: integer [[xs], [ys]] strokes in 0..255."""
    strokes = validate_drawing(drawing)
    min_x = min(float(xs.min()) for xs, _ in strokes)
    min_y = min(float(ys.min()) for _, ys in strokes)
    with np.errstate(over="ignore"):  # an overflowing span is refused just below
        shifted = [(xs - min_x, ys - min_y) for xs, ys in strokes]
    largest = max(max(float(xs.max()), float(ys.max())) for xs, ys in shifted)
    if not math.isfinite(largest):
        raise ValueError("the coordinates span too large a range")
    scale = 255.0 / largest if largest > 0 else 1.0
    if not math.isfinite(scale):
        raise ValueError("the coordinates span too small a range")
    result = []
    for xs, ys in shifted:
        scaled_x, scaled_y = xs * scale, ys * scale
        kept = rdp(scaled_x, scaled_y)
        result.append([round_half_up(scaled_x[kept]).astype(int).tolist(),
                       round_half_up(scaled_y[kept]).astype(int).tolist()])
    return result


def capsule_intervals(ax, ay, bx, by, radius, line_ys):
    """Where each line y = line_ys[i] crosses segment i widened by radius: (low, high) arrays of x.

    The capsule is the union of two discs and a rectangle; being convex, its crossing with a line is one
    interval, the hull of the pieces' crossings. low > high where a line misses its capsule. Elementwise
    this is the very same float64 arithmetic as capsuleInterval in raster.js.
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
    # Along the segment: 0 <= t <= 1; across it: |d| <= radius. Both are linear in x on this line.
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


def capsule_table(strokes):
    """Every segment of normalized strokes in pixels, with the first and last sample line its capsule can
    reach: (ax, ay, bx, by, first_line, last_line, radius). A one-point stroke is a dot: a zero-length
    segment, which round caps draw as a disc."""
    scale = IMAGE_SIZE / (ORIGINAL_SIDE + 2 * PADDING + LINE_DIAMETER)
    translate = PADDING + LINE_DIAMETER / 2
    radius = LINE_DIAMETER / 2 * scale
    max_x = max(max(xs) for xs, _ in strokes)
    max_y = max(max(ys) for _, ys in strokes)
    offset_x = (ORIGINAL_SIDE - max_x) / 2 + translate
    offset_y = (ORIGINAL_SIDE - max_y) / 2 + translate
    line_count = IMAGE_SIZE * SUBSAMPLES
    segments = []
    for xs, ys in strokes:
        points_x = (np.asarray(xs, dtype=np.float64) + offset_x) * scale
        points_y = (np.asarray(ys, dtype=np.float64) + offset_y) * scale
        if len(points_x) == 1:
            points_x, points_y = np.repeat(points_x, 2), np.repeat(points_y, 2)
        segments.append(np.stack([points_x[:-1], points_y[:-1], points_x[1:], points_y[1:]], axis=1))
    ax, ay, bx, by = np.concatenate(segments).T
    first_line = np.maximum(0, np.ceil((np.minimum(ay, by) - radius) * SUBSAMPLES - 0.5)).astype(np.int64)
    last_line = np.minimum(line_count - 1, np.floor((np.maximum(ay, by) + radius) * SUBSAMPLES - 0.5)).astype(np.int64)
    return ax, ay, bx, by, first_line, last_line, radius


def sample_line_crossings(strokes):
    """How many (segment, sample line) pairs render() computes for normalized strokes: its work."""
    _, _, _, _, first_line, last_line, _ = capsule_table(strokes)
    return int(np.maximum(0, last_line - first_line + 1).sum())


def render(strokes):
    """Draw normalized strokes (0..255 integers) into a flat list of 784 values, 0..255, ink = 255."""
    ax, ay, bx, by, first_line, last_line, radius = capsule_table(strokes)
    counts = np.maximum(0, last_line - first_line + 1)
    crossings = int(counts.sum())
    if crossings > MAX_CROSSINGS:
        raise ValueError(too_much_ink_message(crossings))
    # Crossings of every (segment, line) pair, at most MAX_CROSSINGS (about 30 MB of temporaries).
    owner = np.repeat(np.arange(len(counts)), counts)
    line = first_line[owner] + np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    low, high = capsule_intervals(ax[owner], ay[owner], bx[owner], by[owner], radius, (line + 0.5) / SUBSAMPLES)
    hit = low <= high
    return cover(line[hit], low[hit], high[hit])


def sorted_within_lines(lines, values):
    """values grouped by line (ascending) and ascending within each line.

    Sorting by value and then, stably, by line groups each line's values in order; numpy sorts 16-bit
    integers stably with a radix sort, so this is much cheaper than a lexicographic sort of the pairs.
    """
    by_value = np.argsort(values)
    return values[by_value][np.argsort(lines[by_value], kind="stable")]


def cover(lines, lows, highs):
    """Merge each sample line's crossings and add the covered length of every pixel; 784 values 0..255.

    The merged intervals are the union's pieces, so the starts and the ends can be sorted apart, each
    within its line, as raster.js does: with both sorted, a piece closes at the k-th smallest end exactly
    when the next start lies beyond it (the k smallest ends then belong to the k earliest starts). At a tie
    a crossing begins before one ends, so touching crossings merge. Coverage is added line by line,
    interval by interval, column by column, in that order (np.add.at is unbuffered and in order), exactly
    as raster.js adds it.
    """
    lines = lines.astype(np.int16)
    starts = sorted_within_lines(lines, lows)
    ends = sorted_within_lines(lines, highs)
    lines = np.sort(lines, kind="stable")
    # A piece closes at crossing k when the next crossing is on another line or starts after k's end.
    closes = np.ones(len(lines), dtype=bool)
    closes[:-1] = (lines[1:] != lines[:-1]) | (starts[1:] > ends[:-1])
    begins = np.ones(len(lines), dtype=bool)
    begins[1:] = closes[:-1]
    rows = lines[begins].astype(np.int64) // SUBSAMPLES
    merged_starts = np.maximum(starts[begins], 0.0)
    merged_ends = np.minimum(ends[closes], float(IMAGE_SIZE))
    first_columns = np.floor(merged_starts).astype(np.int64)
    column_counts = np.where(merged_starts < merged_ends,
                             np.minimum(IMAGE_SIZE, np.ceil(merged_ends).astype(np.int64)) - first_columns, 0)
    owner = np.repeat(np.arange(len(rows)), column_counts)
    columns = first_columns[owner] + np.arange(len(owner)) - np.repeat(np.cumsum(column_counts) - column_counts,
                                                                       column_counts)
    covered = np.minimum(merged_ends[owner], columns + 1.0) - np.maximum(merged_starts[owner], columns * 1.0)
    inside = covered > 0
    coverage = np.zeros(IMAGE_SIZE * IMAGE_SIZE)
    np.add.at(coverage, rows[owner][inside] * IMAGE_SIZE + columns[inside], covered[inside] / SUBSAMPLES)
    return round_half_up(np.minimum(1.0, coverage) * 255.0).astype(int).tolist()


def rasterize(drawing):
    """Any-scale strokes to the model's 28x28 input: a flat list of 784 values, 0..255, ink = 255."""
    return render(normalize(drawing))
