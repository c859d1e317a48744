/**
 * Strokes to 28x28 bitmaps by the Quick, Draw! recipe; the JavaScript twin of training/raster.py.
 *
 * Pure functions, no DOM, so they run in the page and under `node --test tests/js/`. The two files hold
 * the same steps in the same order (each has a helper or two the other does without), and every float64
 * operation happens in the same order in both, so their bitmaps are bit-identical.
 *
 * The recipe (the dataset's README and issue 19,
 * https://github.com/googlecreativelab/quickdraw-dataset/issues/19): shift to 0, scale uniformly so the
 * largest coordinate is 255, resample at 1-unit spacing, Ramer-Douglas-Peucker with epsilon 2, round;
 * then centre the bounding box in a 256 box and draw with line width 16, round caps and joins, 16 units of
 * padding plus half the line on each side, antialiased, at 28x28.
 *
 * We skip the resampling: the distance that RDP maximizes is convex along a straight segment, so it peaks
 * at the segment's ends, and the points resampling adds are never kept (training/raster.py says more).
 * Cost is bounded by the limits below: RDP is at worst quadratic in one stroke's points, and rendering
 * costs one crossing per segment and sample line it reaches, which simplification does not bound (5,000
 * points alternating between the top and bottom edges keep every point), so the crossings are limited
 * too (MAX_CROSSINGS, counted before any is computed; training/raster.py says more).
 *
 * Coverage: each stroke is the union of capsules (segments widened by the line's radius); 16 sample lines
 * per pixel row are crossed with every capsule, the crossings merged, and the exact covered length added
 * to each pixel.
 */

export const IMAGE_SIZE = 28;
export const ORIGINAL_SIDE = 256;
export const LINE_DIAMETER = 16;
export const PADDING = 16;
export const RDP_EPSILON = 2;
export const SUBSAMPLES = 16;
// The limits that bound the cost of one drawing; the page applies them to drawn, pasted and loaded ones.
export const MAX_STROKES = 200;
export const MAX_POINTS = 5000; // over all strokes, as given (before normalization)
// Sample-line crossings after simplification: the rendering's work (training/raster.py explains the figure).
export const MAX_CROSSINGS = 150000;

export const tooManyPointsMessage = () => `too many points (at most ${MAX_POINTS} over all strokes)`;
export const tooManyStrokesMessage = (count) => `too many strokes: ${count} (at most ${MAX_STROKES})`;
export const tooMuchInkMessage = (crossings) => (
  `too much ink: the simplified strokes make ${crossings} sample-line crossings (at most ${MAX_CROSSINGS})`);

/** Check the dataset's stroke format [[xs, ys(, ts)], ...] and the limits; returns [xs, ys] arrays. */
export function validateDrawing(drawing) {
  if (!Array.isArray(drawing) || drawing.length === 0) {
    throw new Error('a drawing must be a non-empty list of strokes');
  }
  if (drawing.length > MAX_STROKES) throw new Error(tooManyStrokesMessage(drawing.length));
  let total = 0;
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
    total += xs.length;
    if (total > MAX_POINTS) throw new Error(tooManyPointsMessage());
    if (!xs.every((value) => typeof value === 'number') || !ys.every((value) => typeof value === 'number')) {
      throw new Error(`stroke ${index}: every coordinate must be a number`);
    }
    if (!xs.every(Number.isFinite) || !ys.every(Number.isFinite)) {
      throw new Error(`stroke ${index}: coordinates must be finite`);
    }
    return [xs, ys];
  });
}

/**
 * Ramer-Douglas-Peucker (https://en.wikipedia.org/wiki/Ramer-Douglas-Peucker_algorithm): kept indices.
 * Iterative. The distance is to the line through the span's ends, or to the first end when both
 * coincide (a closed stroke); ties go to the first point.
 */
export function rdp(xs, ys, epsilon = RDP_EPSILON) {
  const count = xs.length;
  const keep = new Uint8Array(count);
  keep[0] = keep[count - 1] = 1;
  const stack = [0, count - 1];
  while (stack.length > 0) {
    const last = stack.pop();
    const first = stack.pop();
    if (last - first < 2) continue;
    const x0 = xs[first];
    const y0 = ys[first];
    const x1 = xs[last];
    const y1 = ys[last];
    const dx = x1 - x0;
    const dy = y1 - y0;
    const length = Math.sqrt(dx * dx + dy * dy);
    let farthest = -1;
    let farthestDistance = -1;
    // At worst (every split at one end of its span) this loop runs n * n / 2 times, 12.5 million for
    // MAX_POINTS, so the branch and the products of the ends are taken out of it; the distance is the same
    // float64 expression, evaluated left to right: abs(dy * px - dx * py + x1 * y0 - y1 * x0) / length.
    if (length === 0) {
      for (let index = first + 1; index < last; index++) {
        const ex = xs[index] - x0;
        const ey = ys[index] - y0;
        const distance = Math.sqrt(ex * ex + ey * ey);
        if (distance > farthestDistance) {
          farthestDistance = distance;
          farthest = index;
        }
      }
    } else {
      const x1y0 = x1 * y0;
      const y1x0 = y1 * x0;
      for (let index = first + 1; index < last; index++) {
        const distance = Math.abs(dy * xs[index] - dx * ys[index] + x1y0 - y1x0) / length;
        if (distance > farthestDistance) {
          farthestDistance = distance;
          farthest = index;
        }
      }
    }
    if (farthestDistance > epsilon) {
      keep[farthest] = 1;
      stack.push(farthest, last, first, farthest);
    }
  }
  const kept = [];
  for (let index = 0; index < count; index++) if (keep[index]) kept.push(index);
  return kept;
}

// Math.round rounds halves up and Python's round() to even; floor(v + 0.5) is the same in both.
const roundHalfUp = (value) => Math.floor(value + 0.5);

/** Any-scale strokes to the dataset's simplified format: integer [[xs], [ys]] strokes in 0..255. */
export function normalize(drawing) {
  const strokes = validateDrawing(drawing);
  let minX = Infinity;
  let minY = Infinity;
  for (const [xs, ys] of strokes) {
    for (const x of xs) minX = Math.min(minX, x);
    for (const y of ys) minY = Math.min(minY, y);
  }
  const shifted = strokes.map(([xs, ys]) => [xs.map((x) => x - minX), ys.map((y) => y - minY)]);
  let largest = -Infinity;
  for (const [xs, ys] of shifted) {
    for (const x of xs) largest = Math.max(largest, x);
    for (const y of ys) largest = Math.max(largest, y);
  }
  if (!Number.isFinite(largest)) throw new Error('the coordinates span too large a range');
  const scale = largest > 0 ? 255 / largest : 1;
  if (!Number.isFinite(scale)) throw new Error('the coordinates span too small a range');
  return shifted.map(([xs, ys]) => {
    const scaledX = xs.map((x) => x * scale);
    const scaledY = ys.map((y) => y * scale);
    const kept = rdp(scaledX, scaledY);
    return [kept.map((i) => roundHalfUp(scaledX[i])), kept.map((i) => roundHalfUp(scaledY[i]))];
  });
}

/**
 * The x interval where the line y = lineY crosses segment AB widened by radius, or null.
 * The capsule is convex, so the crossing is the hull of its two discs' and its rectangle's crossings.
 */
export function capsuleInterval(ax, ay, bx, by, radius, lineY) {
  const crossing = new Float64Array(2);
  return capsuleCrossing(ax, ay, bx, by, radius, lineY, crossing) ? [crossing[0], crossing[1]] : null;
}

/**
 * capsuleInterval's work, writing [low, high] into `crossing` and returning whether the line crosses:
 * render() calls it once per crossing (up to MAX_CROSSINGS), where a new array each time cost a third.
 */
function capsuleCrossing(ax, ay, bx, by, radius, lineY, crossing) {
  let low = Infinity;
  let high = -Infinity;
  for (let end = 0; end < 2; end++) {
    const cx = end === 0 ? ax : bx;
    const offset = lineY - (end === 0 ? ay : by);
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
    for (let constraint = 0; constraint < 2; constraint++) {
      const along = constraint === 0;
      const slope = along ? dx / lengthSquared : -dy / length;
      const intercept = along
        ? ((-ax) * dx + (lineY - ay) * dy) / lengthSquared
        : ((-ax) * (-dy) + (lineY - ay) * dx) / length;
      const lower = along ? 0 : -radius;
      const upper = along ? 1 : radius;
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
  crossing[0] = low;
  crossing[1] = high;
  return low <= high;
}

/**
 * A drawing refused for its ink (MAX_CROSSINGS): `crossings` says by how much, so that the page can end a
 * stroke where the drawing still fits (rasterizer.js, inkCut).
 */
export class TooMuchInkError extends Error {
  constructor(crossings) {
    super(tooMuchInkMessage(crossings));
    this.name = 'TooMuchInkError';
    this.crossings = crossings;
  }
}

/**
 * Every segment of normalized strokes (a one-point stroke is a dot: a zero-length segment, which round caps
 * draw as a disc) with the first and last sample line its capsule can reach, and the crossings they make:
 * render's first step, apart so that the crossings can be counted without rendering.
 */
function reach(strokes) {
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
  const segments = [];
  let crossings = 0;
  for (const [xs, ys] of strokes) {
    const pointsX = xs.map((x) => (x + offsetX) * scale);
    const pointsY = ys.map((y) => (y + offsetY) * scale);
    const last = Math.max(1, pointsX.length - 1);
    for (let i = 0; i < last; i++) {
      const j = Math.min(i + 1, pointsX.length - 1);
      const [ax, ay, bx, by] = [pointsX[i], pointsY[i], pointsX[j], pointsY[j]];
      const firstLine = Math.max(0, Math.ceil((Math.min(ay, by) - radius) * SUBSAMPLES - 0.5));
      const lastLine = Math.min(lineCount - 1, Math.floor((Math.max(ay, by) + radius) * SUBSAMPLES - 0.5));
      if (firstLine <= lastLine) {
        segments.push([ax, ay, bx, by, firstLine, lastLine]);
        crossings += lastLine - firstLine + 1;
      }
    }
  }
  return { segments, crossings, radius, lineCount };
}

/** The sample-line crossings of normalized strokes: what MAX_CROSSINGS bounds. */
export function inkCrossings(strokes) {
  return reach(strokes).crossings;
}

/** Draw normalized strokes (0..255 integers) into a Uint8ClampedArray of 784 values, ink = 255. */
export function render(strokes) {
  const { segments, crossings, radius, lineCount } = reach(strokes);
  if (crossings > MAX_CROSSINGS) throw new TooMuchInkError(crossings);
  // Room for each line's crossings, from the lines each segment can reach (a difference array).
  const reaching = new Int32Array(lineCount + 1);
  for (const segment of segments) {
    reaching[segment[4]] += 1;
    reaching[segment[5] + 1] -= 1;
  }
  const offsets = new Int32Array(lineCount + 1);
  for (let line = 0, running = 0; line < lineCount; line++) {
    running += reaching[line];
    offsets[line + 1] = offsets[line] + running;
  }
  const lows = new Float64Array(offsets[lineCount]);
  const highs = new Float64Array(offsets[lineCount]);
  const filled = offsets.slice(0, lineCount);
  const crossing = new Float64Array(2);
  for (const [ax, ay, bx, by, firstLine, lastLine] of segments) {
    for (let line = firstLine; line <= lastLine; line++) {
      if (capsuleCrossing(ax, ay, bx, by, radius, (line + 0.5) / SUBSAMPLES, crossing)) {
        lows[filled[line]] = crossing[0];
        highs[filled[line]] = crossing[1];
        filled[line] += 1;
      }
    }
  }
  return cover(offsets, filled, lows, highs);
}

/**
 * Merge each sample line's crossings and add the covered length of every pixel, line by line, interval
 * by interval, column by column, in the same order as training/raster.py. The merged intervals are the
 * union's pieces, so they can be swept from the starts and the ends sorted apart (a native numeric sort,
 * several times faster than sorting pairs): a piece closes when as many crossings ended as began.
 */
function cover(offsets, filled, lows, highs) {
  const coverage = new Float64Array(IMAGE_SIZE * IMAGE_SIZE);
  for (let line = 0; line < filled.length; line++) {
    const first = offsets[line];
    const count = filled[line] - first;
    if (count === 0) continue;
    const rowStart = Math.floor(line / SUBSAMPLES) * IMAGE_SIZE;
    const starts = lows.subarray(first, first + count).sort();
    const ends = highs.subarray(first, first + count).sort();
    let began = 0;
    let ended = 0;
    while (began < count) {
      let start = starts[began];
      let end;
      do {
        // At a tie a crossing begins before one ends, so touching crossings merge.
        if (began < count && starts[began] <= ends[ended]) {
          began += 1;
        } else {
          end = ends[ended];
          ended += 1;
        }
      } while (began > ended);
      start = Math.max(start, 0);
      end = Math.min(end, IMAGE_SIZE);
      if (start >= end) continue;
      const lastColumn = Math.min(IMAGE_SIZE, Math.ceil(end));
      for (let column = Math.floor(start); column < lastColumn; column++) {
        const covered = Math.min(end, column + 1) - Math.max(start, column);
        if (covered > 0) coverage[rowStart + column] += covered / SUBSAMPLES;
      }
    }
  }
  const image = new Uint8ClampedArray(IMAGE_SIZE * IMAGE_SIZE);
  for (let i = 0; i < image.length; i++) image[i] = roundHalfUp(Math.min(1, coverage[i]) * 255);
  return image;
}

/** Any-scale strokes to the model's 28x28 input: 784 values, 0..255, ink = 255. */
export function rasterize(drawing) {
  return render(normalize(drawing));
}
