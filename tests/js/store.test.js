/** Unit tests for web/js/store.js: reading what can be read, never writing away what could not be. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NdjsonStore, StoreFullError, readLine } from '../../web/js/store.js';
import { MemoryStorage } from './memory-storage.js';

const good = (word) => JSON.stringify({ word, drawing: [[[0, 10], [0, 10]]] });

test('each line is read on its own: null, numbers, bad drawings and drawings over the limits are skipped', () => {
  assert.equal(readLine(good('cat')).word, 'cat');
  for (const line of ['null', '5', '[]', '"text"', '{oops', '{"word": 3, "drawing": [[[1], [1]]]}',
    '{"word": "cat", "drawing": [[[1, 2], [3]]]}', '{"word": "cat"}',
    JSON.stringify({ word: 'cat', drawing: Array.from({ length: 201 }, () => [[1], [1]]) }),
    JSON.stringify({ word: 'cat', drawing: [[Array(5001).fill(1), Array(5001).fill(1)]] })]) {
    assert.equal(readLine(line), null, line.slice(0, 60));
  }
  const storage = new MemoryStorage();
  storage.setItem('key', JSON.stringify([good('cat'), 'null', 5, null, good('dog')]));
  const { records, skipped } = new NdjsonStore(storage, 'key').read();
  assert.deepEqual(records.map(({ word, index }) => [word, index]), [['cat', 0], ['dog', 4]]);
  assert.equal(skipped, 3);
});

test('rewrites keep unreadable lines as they were', () => {
  const storage = new MemoryStorage();
  storage.setItem('key', JSON.stringify([good('cat'), '{oops', good('dog')]));
  const store = new NdjsonStore(storage, 'key');
  store.rewrite((record) => (record.word === 'cat' ? null : { ...record, word: 'wolf' }));
  const lines = store.lines();
  assert.equal(lines[0], '{oops');
  assert.equal(JSON.parse(lines[1]).word, 'wolf');
  assert.equal(lines.length, 2);
});

test('a value that is not a list is kept whole', () => {
  const storage = new MemoryStorage();
  storage.setItem('key', '{"not": "a list"}');
  const store = new NdjsonStore(storage, 'key');
  assert.deepEqual(store.read(), { records: [], skipped: 1 });
  store.append([good('cat')]);
  assert.deepEqual(store.lines(), ['{"not": "a list"}', good('cat')]);
});

test('a full store throws StoreFullError and changes nothing', () => {
  const storage = new MemoryStorage();
  const store = new NdjsonStore(storage, 'key');
  store.append([good('cat')]);
  const before = storage.getItem('key');
  storage.full = true;
  assert.throws(() => store.append([good('dog')]), StoreFullError);
  assert.throws(() => store.rewrite(() => null), StoreFullError);
  assert.equal(storage.getItem('key'), before);
});
