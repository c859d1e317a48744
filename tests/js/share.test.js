/** Unit tests for web/js/share.js and web/js/corrections.js (run: node --test tests/js/*.test.js). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Corrections } from '../../web/js/corrections.js';
import { parseNdjson, toNdjsonLine } from '../../web/js/share.js';
import { MemoryStorage } from './memory-storage.js';

const strokes = [[[10, 60, 110], [20, 80, 20]], [[30], [30]]];

test('an exported line parses back to the same normalized drawing', () => {
  const line = toNdjsonLine(strokes, 'cat', new Date('2026-11-25T10:00:00Z'));
  const record = JSON.parse(line);
  assert.equal(record.word, 'cat');
  assert.equal(record.timestamp, '2026-11-25 10:00:00.000 UTC');
  assert.deepEqual(parseNdjson(`${line}\n`), { word: 'cat', drawing: record.drawing });
  assert.deepEqual(record.drawing[0][0], [0, 127, 255]);
});

for (const [text, message] of [
  ['', /empty/],
  ['   \n  ', /empty/],
  ['{not json', /not JSON/],
  ['{"word": "cat"}', /no "drawing"/],
  ['[1, 2]', /no "drawing"/],
  ['{"drawing": [[[1, 2], [3]]]}', /not valid: stroke 0: 2 x values but 1 y values/],
  ['{"drawing": []}', /not valid/],
  // A comb kept whole by the simplification: over the bound on ink, refused on loading as too many points are.
  [JSON.stringify({ drawing: [[Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256),
    Array.from({ length: 5000 }, (_, i) => (i % 2) * 255)]] }), /not valid: too much ink: .* \(at most 150000\)/],
]) {
  test(`bad ndjson ${JSON.stringify(text)} says what is wrong`, () => {
    assert.throws(() => parseNdjson(text), message);
  });
}

test('corrections are stored as ndjson lines and survive a damaged store', () => {
  const storage = new MemoryStorage();
  const memory = storage.items;
  const corrections = new Corrections(storage);
  assert.equal(corrections.count, 0);
  corrections.add(strokes, 'cat');
  corrections.add(strokes, 'dog');
  assert.equal(corrections.count, 2);
  assert.deepEqual(corrections.toNdjson().text.trim().split('\n').map((line) => JSON.parse(line).word), ['cat', 'dog']);
  // A damaged store: nothing readable, and the next correction is added beside it, not over it.
  memory.set('sketch.corrections', '{broken');
  const damaged = new Corrections(storage);
  assert.deepEqual(damaged.counts(), { count: 0, skipped: 1 });
  damaged.add(strokes, 'cow');
  assert.deepEqual(damaged.lines()[0], '{broken');
  assert.deepEqual(new Corrections(storage).counts(), { count: 1, skipped: 1 });
  assert.equal(damaged.toNdjson().skipped, 1);
  corrections.clear();
  assert.equal(corrections.count, 0);
});

test('a correction over the limits or into a full store throws and keeps what was there', () => {
  const storage = new MemoryStorage();
  const memory = storage.items;
  const corrections = new Corrections(storage);
  corrections.add(strokes, 'cat');
  const before = memory.get('sketch.corrections');
  assert.throws(() => corrections.add([[Array(5001).fill(1), Array(5001).fill(2)]], 'cat'), /too many points/);
  storage.full = true;
  assert.throws(() => corrections.add(strokes, 'dog'), (error) => error.name === 'StoreFullError' && /full/.test(error.message));
  assert.equal(memory.get('sketch.corrections'), before);
  assert.equal(corrections.count, 1);
});

test('the corrections are counted from their stored counts, and again when the lines changed behind the page', () => {
  const storage = new MemoryStorage();
  const memory = storage.items;
  const corrections = new Corrections(storage);
  corrections.add(strokes, 'cat');
  corrections.add(strokes, 'dog');
  const counts = JSON.parse(memory.get('sketch.corrections-counts'));
  memory.set('sketch.corrections-counts', JSON.stringify({ ...counts, count: 7 }));
  assert.equal(new Corrections(storage).count, 7); // no line was read
  memory.set('sketch.corrections', JSON.stringify([...JSON.parse(memory.get('sketch.corrections')), 'null']));
  assert.deepEqual(new Corrections(storage).counts(), { count: 2, skipped: 1 });
});
