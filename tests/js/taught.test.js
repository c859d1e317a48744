/** Unit tests for web/js/taught.js: guessing beside the softmax, and the taught-classes store. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  SUGGESTED_DRAWINGS, TaughtClasses, besideSoftmax, meanOf, unitLength,
} from '../../web/js/taught.js';

class MemoryStorage {
  constructor() { this.items = new Map(); }
  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  setItem(key, value) { this.items.set(key, String(value)); }
}

const classMeans = { values: Float32Array.from([1, 0, 0, 0, 1, 0]), columns: 3 }; // two built-in classes

test('without taught classes the probabilities are the softmax', () => {
  assert.deepEqual(Array.from(besideSoftmax([0.7, 0.3], unitLength([1, 0, 0]), classMeans, [])), [0.7, 0.3].map(Math.fround));
});

test('a taught class wins only when more similar than the picked class mean', () => {
  const taught = [Float32Array.from([0, 0, 1])];
  const near = besideSoftmax([0.8, 0.2], unitLength([0.2, 0, 1]), classMeans, taught);
  assert.equal(near.length, 3);
  assert.ok(Math.abs(near[2] - 0.8) < 1e-6 && Math.abs(near.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  const far = besideSoftmax([0.8, 0.2], unitLength([1, 0, 0.2]), classMeans, taught);
  assert.equal(far[2], 0);
  assert.ok(Math.abs(far[0] - 0.8) < 1e-6);
});

test('the page suggests five drawings a class, as the README and bench.teach say', () => {
  assert.equal(SUGGESTED_DRAWINGS, 5);
});

test('means and unit length', () => {
  assert.deepEqual(Array.from(unitLength([3, 4])), [0.6, 0.8].map(Math.fround));
  assert.deepEqual(Array.from(unitLength([0, 0])), [0, 0]);
  assert.deepEqual(Array.from(meanOf([Float32Array.from([1, 0]), Float32Array.from([0, 1])])), [0.5, 0.5]);
});

const stroke = (n) => [[[0, 10 + n, 20], [0, 15, n]]];

test('taught classes are added, renamed, deleted, exported and imported per model', () => {
  const storage = new MemoryStorage();
  const taught = new TaughtClasses(storage, 'shipped', ['cat', 'dog']);
  assert.equal(taught.add(' arm ', stroke(1)), 1);
  assert.equal(taught.add('arm', stroke(2)), 2);
  taught.add('leg', stroke(3));
  assert.deepEqual(taught.names(), ['arm', 'leg']);
  assert.equal(new TaughtClasses(storage, 'body-parts').names().length, 0); // kept per model
  assert.equal(taught.rename('arm', 'elbow'), 'elbow');
  assert.deepEqual(taught.names(), ['elbow', 'leg']);
  assert.throws(() => taught.rename('elbow', 'leg'), /already taught/);
  assert.throws(() => taught.add('cat', stroke(4)), /already knows/);
  assert.throws(() => taught.add('   ', stroke(4)), /give it a name/);
  assert.throws(() => taught.add('x'.repeat(41), stroke(4)), /at most 40 characters/);
  const exported = taught.toNdjson();
  assert.equal(exported.trim().split('\n').length, 3);
  taught.remove('elbow');
  assert.deepEqual(taught.names(), ['leg']);
  const other = new TaughtClasses(new MemoryStorage(), 'shipped', ['cat']);
  assert.equal(other.importNdjson(`${exported}not json\n{"word": "cat", "drawing": [[[1], [1]]]}\n`), 3);
  assert.deepEqual(other.names(), ['elbow', 'leg']);
  assert.equal(other.byName().get('elbow').length, 2);
  assert.throws(() => other.importNdjson('{"word": "cat", "drawing": [[[1], [1]]]}'), /no drawing of a new class/);
});

test('a damaged store counts as empty', () => {
  const storage = new MemoryStorage();
  storage.setItem('sketch.taught.shipped', '{oops');
  assert.deepEqual(new TaughtClasses(storage, 'shipped').names(), []);
});
