/**
 * Strokes to 28x28 bitmaps by the Quick, Draw! recipe; the JavaScript twin of training/raster.py.
 *
 * Pure functions, no DOM, so they run in the page and under `node --test tests/js/`.
 * The recipe (the dataset's README and issue 19,
 * https://github.com/googlecreativelab/quickdraw-dataset/issues/19): shift to 0, scale uniformly so the
 * largest coordinate is 255, resample at 1-unit spacing, Ramer-Douglas-Peucker with epsilon 2, round;
 * then centre the bounding box in a 256 box and draw with line width 16, round caps and joins, 16 units of
 * padding plus half the line on each side, antialiased, at 28x28.
 *
 * Coverage is computed in plain float64 arithmetic, in the same order as the Python version, so the two
 * agree to within 1/255 per pixel: each stroke is the union of capsules (segments widened by the line's
 * radius); 16 sample lines per pixel row are crossed with every capsule, the crossings merged, and the
 * exact covered length added to each pixel.
 */

export const IMAGE_SIZE = 28;
export const ORIGINAL_SIDE = 256;
export const LINE_DIAMETER = 16;
export const PADDING = 16;
export const RESAMPLE_SPACING = 1;
export const RDP_EPSILON = 2;
export const SUBSAMPLES = 16;

/** Check the dataset's stroke format [[xs, ys(, ts)], ...]; returns strokes as arrays of [x, y]. */
export function validateDrawing(drawing) {
  if (!Array.isArray(drawing) || drawing.length === 0) {
    throw new Error('a drawing must be a non-empty list of strokes');
  }
  return drawing.map((stroke, index) => {
    if (!Array.isArray(stroke) || (stroke.length !== 2 && stroke.length !== 3)) {
      throw new Error(`stroke ${index} must be [xs, ys] or [xs, ys, ts]`);
    }
    const [xs, ys] = stroke;
    if (!Array.isArray(xs) || !Array.isArray(ys)) {
      throw new Error(`stroke ${index}: xs and ys must be lists of numbers`);
    }
    if (xs.length !== ys.length) {
      throw new Error(`stroke ${index}: ${xs.length} x values but ${ys.length} y values`);
    }
    if (xs.length === 0) throw new Error(`stroke ${index} has no points`);
    return xs.map((x, i) => {
      const y = ys[i];
      if (typeof x !== 'number' || typeof y !== 'number') {
        throw new Error(`stroke ${index}: every coordinate must be a number`);
      }
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        throw new Error(`stroke ${index}: coordinates must be finite`);
      }
      return [x, y];
    });
  });
}

/** Insert points every `spacing` units along each segment, keeping the original vertices. */
export function resample(points, spacing = RESAMPLE_SPACING) {
  const result = [points[0]];
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    const length = Math.hypot(x1 - x0, y1 - y0);
    const steps = Math.max(1, Math.ceil(length / spacing));
    for (let step = 1; step < steps; step++) {
      const fraction = step / steps;
      result.push([x0 + (x1 - x0) * fraction, y0 + (y1 - y0) * fraction]);
    }
    result.push([x1, y1]);
  }
  return result;
}

/**
 * Ramer-Douglas-Peucker (https://en.wikipedia.org/wiki/Ramer-Douglas-Peucker_algorithm), iterative.
 * The distance is to the line through the span's ends, or to the first end when both coincide.
 */
export function rdp(points, epsilon = RDP_EPSILON) {
  if (points.length < 3) return points.slice();
  const keep = new Array(points.length).fill(false);
  keep[0] = keep[points.length - 1] = true;
  const stack = [[0, points.length - 1]];
  while (stack.length > 0) {
    const [first, last] = stack.pop();
    const [x0, y0] = points[first];
    const [x1, y1] = points[last];
    const dx = x1 - x0;
    const dy = y1 - y0;
    const length = Math.hypot(dx, dy);
    let maxDistance = -1;
    let maxIndex = first;
    for (let index = first + 1; index < last; index++) {
      const [px, py] = points[index];
      const distance = length === 0
        ? Math.hypot(px - x0, py - y0)
        : Math.abs(dy * px - dx * py + x1 * y0 - y1 * x0) / length;
      if (distance > maxDistance) {
        maxDistance = distance;
        maxIndex = index;
      }
    }
    if (maxDistance > epsilon) {
      keep[maxIndex] = true;
      stack.push([maxIndex, last]);
      stack.push([first, maxIndex]);
    }
  }
  return points.filter((_, index) => keep[index]);
}

// Math.round rounds halves up and Python's round() to even; floor(v + 0.5) is the same in both.
const roundHalfUp = (value) => Math.floor(value + 0.5);

/** Any-scale strokes to the dataset's simplified format: integer [[xs], [ys]] strokes in 0..255. */
export function normalize(drawing) {
  const strokes = validateDrawing(drawing);
  let minX = Infinity;
  let minY = Infinity;
  for (const stroke of strokes) {
    for (const [x, y] of stroke) {
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
    }
  }
  const shifted = strokes.map((stroke) => stroke.map(([x, y]) => [x - minX, y - minY]));
  let largest = -Infinity;
  for (const stroke of shifted) for (const [x, y] of stroke) largest = Math.max(largest, x, y);
  if (!Number.isFinite(largest)) throw new Error('the coordinates span too large a range');
  const scale = largest > 0 ? 255 / largest : 1;
  return shifted.map((stroke) => {
    const simplified = rdp(resample(stroke.map(([x, y]) => [x * scale, y * scale])));
    return [simplified.map(([x]) => roundHalfUp(x)), simplified.map(([, y]) => roundHalfUp(y))];
  });
}

/**
 * The x interval where the line y = lineY crosses segment AB widened by radius, or null.
 * The capsule is convex, so the crossing is the hull of its two discs' and its rectangle's crossings.
 */
export function capsuleInterval(ax, ay, bx, by, radius, lineY) {
  let low = Infinity;
  let high = -Infinity;
  for (const [cx, cy] of [[ax, ay], [bx, by]]) {
    const offset = lineY - cy;
    if (Math.abs(offset) <= radius) {
      const half = Math.sqrt(radius * radius - offset * offset);
      low = Math.min(low, cx - half);
      high = Math.max(high, cx + half);
    }
  }
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  if (lengthSquared > 0) {
    const length = Math.sqrt(lengthSquared);
    let start = -Infinity;
    let end = Infinity;
    // Along the segment: 0 <= t <= 1; across it: |d| <= radius. Both are linear in x on this line.
    const constraints = [
      [dx / lengthSquared, ((-ax) * dx + (lineY - ay) * dy) / lengthSquared, 0, 1],
      [-dy / length, ((-ax) * (-dy) + (lineY - ay) * dx) / length, -radius, radius],
    ];
    for (const [slope, intercept, lower, upper] of constraints) {
      if (slope === 0) {
        if (intercept < lower || intercept > upper) {
          start = Infinity;
          end = -Infinity;
        }
      } else {
        const first = (lower - intercept) / slope;
        const second = (upper - intercept) / slope;
        start = Math.max(start, Math.min(first, second));
        end = Math.min(end, Math.max(first, second));
      }
    }
    if (start <= end) {
      low = Math.min(low, start);
      high = Math.max(high, end);
    }
  }
  return low <= high ? [low, high] : null;
}

/** Draw normalized strokes (0..255 integers) into a Uint8ClampedArray of 784 values, ink = 255. */
export function render(strokes) {
  const scale = IMAGE_SIZE / (ORIGINAL_SIDE + 2 * PADDING + LINE_DIAMETER);
  const translate = PADDING + LINE_DIAMETER / 2;
  const radius = (LINE_DIAMETER / 2) * scale;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [xs, ys] of strokes) {
    for (const x of xs) maxX = Math.max(maxX, x);
    for (const y of ys) maxY = Math.max(maxY, y);
  }
  const offsetX = (ORIGINAL_SIDE - maxX) / 2 + translate;
  const offsetY = (ORIGINAL_SIDE - maxY) / 2 + translate;
  const lineCount = IMAGE_SIZE * SUBSAMPLES;
  const intervals = Array.from({ length: lineCount }, () => []);
  for (const [xs, ys] of strokes) {
    const points = xs.map((x, i) => [(x + offsetX) * scale, (ys[i] + offsetY) * scale]);
    // A one-point stroke is a dot: a zero-length segment, which round caps draw as a disc.
    const segments = points.length > 1
      ? points.slice(1).map((point, i) => [points[i], point])
      : [[points[0], points[0]]];
    for (const [[ax, ay], [bx, by]] of segments) {
      const firstLine = Math.max(0, Math.ceil((Math.min(ay, by) - radius) * SUBSAMPLES - 0.5));
      const lastLine = Math.min(lineCount - 1, Math.floor((Math.max(ay, by) + radius) * SUBSAMPLES - 0.5));
      for (let line = firstLine; line <= lastLine; line++) {
        const crossing = capsuleInterval(ax, ay, bx, by, radius, (line + 0.5) / SUBSAMPLES);
        if (crossing !== null) intervals[line].push(crossing);
      }
    }
  }
  const coverage = new Float64Array(IMAGE_SIZE * IMAGE_SIZE);
  intervals.forEach((lineIntervals, line) => {
    if (lineIntervals.length === 0) return;
    const rowStart = Math.floor(line / SUBSAMPLES) * IMAGE_SIZE;
    lineIntervals.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged = [];
    for (const [start, end] of lineIntervals) {
      if (merged.length > 0 && start <= merged[merged.length - 1][1]) {
        merged[merged.length - 1][1] = Math.max(merged[merged.length - 1][1], end);
      } else {
        merged.push([start, end]);
      }
    }
    for (let [start, end] of merged) {
      start = Math.max(start, 0);
      end = Math.min(end, IMAGE_SIZE);
      if (start >= end) continue;
      const lastColumn = Math.min(IMAGE_SIZE, Math.ceil(end));
      for (let column = Math.floor(start); column < lastColumn; column++) {
        const covered = Math.min(end, column + 1) - Math.max(start, column);
        if (covered > 0) coverage[rowStart + column] += covered / SUBSAMPLES;
      }
    }
  });
  const image = new Uint8ClampedArray(IMAGE_SIZE * IMAGE_SIZE);
  for (let i = 0; i < image.length; i++) image[i] = roundHalfUp(Math.min(1, coverage[i]) * 255);
  return image;
}

/** Any-scale strokes to the model's 28x28 input: 784 values, 0..255, ink = 255. */
export function rasterize(drawing) {
  return render(normalize(drawing));
}
