/** Unit tests for web/js/rasterizer.js's pure pieces: the worker's copy of the drawing, and bounded parsing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_CROSSINGS, inkCrossings, normalize, rasterize,
} from '../../web/js/raster.js';
import {
  DrawingState, inkCut, parseMany, prepareMany,
} from '../../web/js/rasterizer.js';

const finished = [[[10, 60, 110], [20, 80, 20]], [[30, 31], [30, 90]]];

test('a stroke sent in pieces rasterizes as the whole drawing does', () => {
  const state = new DrawingState();
  state.apply({ type: 'set', strokes: finished });
  const xs = Array.from({ length: 300 }, (_, i) => i % 250);
  const ys = Array.from({ length: 300 }, (_, i) => (i * 7) % 250);
  for (let from = 0; from < xs.length; from += 37) {
    state.apply({ type: 'extend', index: 2, from, xs: xs.slice(from, from + 37), ys: ys.slice(from, from + 37) });
  }
  assert.deepEqual(state.rasterize().bitmap, rasterize([...finished, [xs, ys]]));
  assert.deepEqual(finished[1][0], [30, 31]); // the finished strokes are never changed in place
  // A new stroke at the same place starts over; `set` replaces everything.
  state.apply({ type: 'extend', index: 2, from: 0, xs: [5], ys: [5] });
  assert.deepEqual(state.strokes[2], [[5], [5]]);
  state.apply({ type: 'set', strokes: [finished[0]] });
  assert.deepEqual(state.rasterize().bitmap, rasterize([finished[0]]));
});

test('a replay frame is the first points of the drawing', () => {
  const state = new DrawingState();
  state.apply({ type: 'set', strokes: finished });
  assert.deepEqual(state.firstPoints(4), [finished[0], [[30], [30]]]);
  assert.deepEqual(state.rasterize(2).bitmap, rasterize([[[10, 60], [20, 80]]]));
});

test('parsing many lines reads at most the limit and counts the rest', () => {
  const line = (word) => JSON.stringify({ word, drawing: [[[0, 50, 100], [0, 40, 0]]] });
  const text = [line('arm'), 'oops', line('cat'), line(''), line('leg'), line('ear'), ''].join('\n');
  const parsed = parseMany(text, 2, ['cat']);
  assert.deepEqual(parsed.records.map(({ word }) => word), ['arm', 'leg']);
  assert.equal(parsed.bitmaps.length, 2);
  assert.equal(parsed.skipped, 3);
  assert.equal(parsed.notJson, 1); // 'oops'; the other two are JSON, just not drawings of a new class
  assert.equal(parsed.more, 1);
});

test('prepared drawings are normalized, with the bitmap a rebuild from the store makes', () => {
  const { drawings, bitmaps } = prepareMany([finished, [[[1, 2], [3]]]]);
  assert.deepEqual(bitmaps[0], rasterize(drawings[0]));
  assert.equal(drawings[1], null);
  assert.equal(bitmaps[1], null);
});

/** A zig-zag between two rows (0..255 units): every point is kept by the simplification, so ink grows with it. */
function zigzag(count, low = 60, high = 190) {
  const xs = Array.from({ length: count }, (_, i) => 5 + ((i * 7) % 245));
  const ys = Array.from({ length: count }, (_, i) => (i % 2 ? low : high));
  return [xs, ys];
}

const fits = (strokes) => inkCrossings(normalize(strokes)) <= MAX_CROSSINGS;

test('a drawing over the bound on ink is answered with where its last stroke must end', () => {
  const state = new DrawingState();
  state.apply({ type: 'set', strokes: finished });
  const [xs, ys] = zigzag(3000);
  state.apply({ type: 'extend', index: 2, from: 0, xs, ys });
  assert.ok(!fits(state.strokes), 'the test drawing must be over the bound');
  const { bitmap, cut } = state.rasterize();
  assert.equal(bitmap, null);
  assert.ok(cut.crossings > MAX_CROSSINGS);
  // The kept part fits, and one more point would not: the stroke ends at the last point that fits.
  assert.ok(cut.keep > 0 && cut.keep < xs.length);
  assert.ok(fits([...finished, [xs.slice(0, cut.keep), ys.slice(0, cut.keep)]]));
  assert.ok(!fits([...finished, [xs.slice(0, cut.keep + 1), ys.slice(0, cut.keep + 1)]]));
  assert.equal(inkCut([...finished, [xs, ys]]), cut.keep);
});

test('a stroke whose first point already passes the bound is not kept', () => {
  // A zig-zag cut at the bound, then dots (the same ink each, inside it) until one more would pass it.
  const [xs, ys] = zigzag(5000);
  const keep = inkCut([[xs, ys]]);
  const full = [[xs.slice(0, keep), ys.slice(0, keep)]];
  const dot = [[100], [120]];
  while (fits([...full, dot])) full.push(dot);
  const next = [...full, [[100, 140, 180], [120, 60, 190]]];
  assert.ok(!fits(next));
  assert.equal(inkCut(next), 0);
  // A drawing within the bound keeps all of its last stroke.
  assert.equal(inkCut(finished), finished[1][0].length);
});
