/**
 * Unit tests for web/js/raster.js (run: node --test tests/js/). Python agreement on real drawings is
 * tested in tests/test_raster.py, which runs raster_cli.mjs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as raster from '../../web/js/raster.js';

const {
  IMAGE_SIZE, MAX_CROSSINGS, MAX_POINTS, MAX_STROKES, capsuleInterval, normalize, rasterize, rdp, render,
} = raster;

const sharedStrokes = new URL('../../../shared/data/quickdraw/strokes/eye.ndjson', import.meta.url);
const metadata = JSON.parse(readFileSync(new URL('../../web/model/metadata.json', import.meta.url), 'utf8'));

test('the constants are the raster parameters the model was exported with', () => {
  const constants = {
    image_size: raster.IMAGE_SIZE,
    original_side: raster.ORIGINAL_SIDE,
    line_diameter: raster.LINE_DIAMETER,
    padding: raster.PADDING,
    rdp_epsilon: raster.RDP_EPSILON,
    subsamples: raster.SUBSAMPLES,
    max_strokes: raster.MAX_STROKES,
    max_points: raster.MAX_POINTS,
  };
  assert.deepEqual(constants, metadata.raster);
});

test('normalize shifts to 0, scales the largest coordinate to 255 and rounds', () => {
  const normalized = normalize([[[10, 20, 30, 40, 50], [100, 101, 100, 101, 100]], [[1000], [500]]]);
  assert.deepEqual(normalized, [[[0, 10], [0, 0]], [[255], [103]]]);
});

test('scale, offset and a time row do not change the bitmap', () => {
  const drawing = [[[0, 30, 60], [0, 50, 10]], [[10, 50], [40, 45]]];
  const bigger = drawing.map(([xs, ys]) => [xs.map((x) => x * 7.5 + 100), ys.map((y) => y * 7.5 - 30)]);
  const timed = drawing.map(([xs, ys]) => [xs, ys, xs.map((_, i) => i * 10)]);
  assert.deepEqual(rasterize(bigger), rasterize(drawing));
  assert.deepEqual(rasterize(timed), rasterize(drawing));
});

test('rdp keeps the indices of corners and drops points within epsilon', () => {
  assert.deepEqual(rdp([0, 5, 10, 10], [0, 1, 0, 10], 2), [0, 2, 3]);
  assert.deepEqual(rdp([0, 5, 10], [0, 3, 0], 2), [0, 1, 2]);
  assert.deepEqual(rdp([0, 5, 0], [0, 5, 0], 2), [0, 1, 2]); // closed stroke
  assert.deepEqual(rdp([0, 5, 10, 15], [0, 3, 3, 0], 2), [0, 1, 3]); // a tie goes to the first point
});

/** RDP as written before its loop was hoisted (the distance computed per point, with the branch inside). */
function referenceRdp(xs, ys, epsilon) {
  const keep = new Set([0, xs.length - 1]);
  const stack = [[0, xs.length - 1]];
  while (stack.length > 0) {
    const [first, last] = stack.pop();
    const [x0, y0, x1, y1] = [xs[first], ys[first], xs[last], ys[last]];
    const [dx, dy] = [x1 - x0, y1 - y0];
    const length = Math.sqrt(dx * dx + dy * dy);
    let [farthest, farthestDistance] = [-1, -1];
    for (let index = first + 1; index < last; index++) {
      const distance = length === 0
        ? Math.sqrt((xs[index] - x0) ** 2 + (ys[index] - y0) ** 2)
        : Math.abs(dy * xs[index] - dx * ys[index] + x1 * y0 - y1 * x0) / length;
      if (distance > farthestDistance) [farthest, farthestDistance] = [index, distance];
    }
    if (farthestDistance > epsilon) {
      keep.add(farthest);
      stack.push([farthest, last], [first, farthest]);
    }
  }
  return [...keep].sort((a, b) => a - b);
}

test('rdp keeps what the plain algorithm keeps, on random, closed and zig-zag strokes', () => {
  let seed = 1;
  const random = () => {
    seed = (seed * 16807) % 2147483647; // Park and Miller's minimal standard generator: seeded, portable
    return seed / 2147483647;
  };
  for (let trial = 0; trial < 200; trial++) {
    const count = 2 + Math.floor(random() * 60);
    const xs = Array.from({ length: count }, () => Math.round(random() * 2550) / 10);
    const ys = Array.from({ length: count }, () => Math.round(random() * 2550) / 10);
    if (trial % 4 === 0) [xs[count - 1], ys[count - 1]] = [xs[0], ys[0]]; // closed
    assert.deepEqual(rdp(xs, ys, 2), referenceRdp(xs, ys, 2));
  }
  const zigzagX = Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? 0 : 13));
  const zigzagY = Array.from({ length: 2000 }, (_, i) => (i * 255) / 1999);
  assert.deepEqual(rdp(zigzagX, zigzagY, 2), referenceRdp(zigzagX, zigzagY, 2));
});

test('capsuleInterval covers discs and the body of a segment', () => {
  assert.deepEqual(capsuleInterval(0, 0, 10, 0, 1, 0), [-1, 11]);
  assert.equal(capsuleInterval(0, 0, 10, 0, 1, 1.5), null);
  const [low, high] = capsuleInterval(0, 0, 0, 10, 1, 5);
  assert.ok(Math.abs(low + 1) < 1e-12 && Math.abs(high - 1) < 1e-12);
});

test('a real drawing becomes a centred 28x28 ink image', () => {
  const line = readFileSync(sharedStrokes, 'utf8').split('\n')[0];
  const image = rasterize(JSON.parse(line).drawing);
  assert.equal(image.length, IMAGE_SIZE * IMAGE_SIZE);
  assert.equal(Math.max(...image), 255);
  for (let i = 0; i < IMAGE_SIZE; i++) {
    // The padding (16 + 8 of 304 units, about 2.2 pixels) stays empty on every side.
    assert.equal(image[i], 0);
    assert.equal(image[i * IMAGE_SIZE], 0);
    assert.equal(image[(IMAGE_SIZE - 1) * IMAGE_SIZE + i], 0);
    assert.equal(image[i * IMAGE_SIZE + IMAGE_SIZE - 1], 0);
  }
});

test('a dot is a small disc at the centre', () => {
  const image = render([[[0], [0]]]);
  const inked = [...image.keys()].filter((i) => image[i] > 0);
  assert.deepEqual(inked, [13 * 28 + 13, 13 * 28 + 14, 14 * 28 + 13, 14 * 28 + 14]);
});

const badDrawings = [
  [[], /non-empty/],
  [[[[1, 2], [3]]], /2 x values but 1 y values/],
  [[[[], []]], /no points/],
  [[[['a'], [1]]], /must be a number/],
  [[[[NaN], [1]]], /finite/],
  [[[[1e308, -1e308], [0, 0]]], /too large a range/],
  ['strokes', /non-empty list/],
  [[[[0, 1e-320], [0, 1e-320]]], /too small a range/],
  [Array.from({ length: MAX_STROKES + 1 }, () => [[1], [1]]), /too many strokes: 201 \(at most 200\)/],
  [[[Array(MAX_POINTS + 1).fill(1), Array(MAX_POINTS + 1).fill(1)]], /too many points \(at most 5000 over all strokes\)/],
  [[[[true], [1]]], /must be a number/],
  // Issue 24's comb: 5,000 points between the top and bottom edges at random x survive simplification.
  [[[Array.from({ length: MAX_POINTS }, (_, i) => (i * 7919) % 256), Array.from({ length: MAX_POINTS }, (_, i) => (i % 2) * 255)]],
    new RegExp(`too much ink: the simplified strokes make \\d+ sample-line crossings \\(at most ${MAX_CROSSINGS}\\)`)],
];
for (const [drawing, message] of badDrawings) {
  test(`bad drawing ${JSON.stringify(drawing)} is refused`, () => {
    assert.throws(() => rasterize(drawing), message);
  });
}
