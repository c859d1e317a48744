/** Unit tests for web/js/taught.js: guessing beside the softmax, and the taught-classes store. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  MAX_IMPORT_DRAWINGS, MAX_TAUGHT_CLASSES, SUGGESTED_DRAWINGS, TaughtClasses, besideSoftmax, meanOf,
  nothingImported, unitLength,
} from '../../web/js/taught.js';
import { parseMany } from '../../web/js/rasterizer.js';
import { MemoryStorage } from './memory-storage.js';

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

test('the page suggests as many drawings a class as bench.teach teaches from and the README says', () => {
  // bench.teach measures teaching from EXAMPLES drawings; the page must ask a person for that many, and the
  // README's "about five drawings" must name the same number.
  const root = new URL('../../', import.meta.url);
  const bench = readFileSync(new URL('bench/teach.py', root), 'utf8');
  const examples = Number(bench.match(/^EXAMPLES = (\d+)/m)[1]);
  assert.equal(SUGGESTED_DRAWINGS, examples);
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
  const readme = readFileSync(new URL('docs/guide.md', root), 'utf8').replace(/\s+/g, ' ');
  assert.ok(readme.includes(`(about ${words[SUGGESTED_DRAWINGS]} drawings)`));
});

test('means and unit length', () => {
  assert.deepEqual(Array.from(unitLength([3, 4])), [0.6, 0.8].map(Math.fround));
  assert.deepEqual(Array.from(unitLength([0, 0])), [0, 0]);
  assert.deepEqual(Array.from(meanOf([Float32Array.from([1, 0]), Float32Array.from([0, 1])])), [0.5, 0.5]);
});

const stroke = (n) => [[[0, 10 + n, 20], [0, 15, n]]];
const features = (...values) => Float32Array.from(values);

test('taught classes are added, renamed, deleted, exported and imported per model', () => {
  const storage = new MemoryStorage();
  const taught = new TaughtClasses(storage, 'shipped', ['cat', 'dog'], 'hash');
  assert.equal(taught.add(' arm ', stroke(1), features(1, 0)), 1);
  assert.equal(taught.add('arm', stroke(2), features(0, 1)), 2);
  taught.add('leg', stroke(3), features(1, 0));
  assert.deepEqual(taught.names(), ['arm', 'leg']);
  assert.deepEqual(taught.meanFeatures().map((mean) => Array.from(mean)), [[0.5, 0.5], [1, 0]]);
  assert.equal(new TaughtClasses(storage, 'body-parts').names().length, 0); // kept per model
  assert.equal(taught.rename('arm', 'elbow'), 'elbow');
  assert.deepEqual(taught.names(), ['elbow', 'leg']);
  assert.throws(() => taught.rename('elbow', 'leg'), /already taught/);
  assert.throws(() => taught.add('cat', stroke(4), features(1, 0)), /already knows/);
  assert.throws(() => taught.add('   ', stroke(4), features(1, 0)), /give it a name/);
  assert.throws(() => taught.add('x'.repeat(41), stroke(4), features(1, 0)), /at most 40 characters/);
  const { text, skipped } = taught.toNdjson();
  assert.equal(skipped, 0);
  assert.deepEqual(text.trim().split('\n').map((line) => JSON.parse(line).word), ['elbow', 'elbow', 'leg']);
  taught.remove('elbow');
  assert.deepEqual(taught.names(), ['leg']);
  // A new page on the same store starts from the stored means: no drawing is read.
  const again = new TaughtClasses(storage, 'shipped', ['cat', 'dog'], 'hash');
  assert.equal(again.needsRebuild, false);
  assert.deepEqual(again.classes().map(({ name, count }) => [name, count]), [['leg', 1]]);
  assert.deepEqual(Array.from(again.meanFeatures()[0]), [1, 0]);
  assert.deepEqual(again.classes()[0].sample, stroke(3));
});

test('an import is bounded and checked: names, built-in classes, the number of classes', () => {
  const taught = new TaughtClasses(new MemoryStorage(), 'shipped', ['cat'], 'hash');
  const records = [{ word: 'elbow', drawing: stroke(1) }, { word: 'cat', drawing: stroke(2) }, { word: ' ', drawing: stroke(3) },
    { word: 'leg ', drawing: stroke(4) }];
  const { accepted, refused } = taught.acceptImport(records);
  assert.equal(refused, 2);
  assert.deepEqual(accepted.map(({ word, index }) => [word, index]), [['elbow', 0], ['leg', 3]]);
  assert.equal(taught.addMany(accepted, [features(1, 0), features(0, 1)]), 2);
  assert.deepEqual(taught.names(), ['elbow', 'leg']);
  const many = Array.from({ length: MAX_IMPORT_DRAWINGS + 10 }, (_, index) => ({ word: `thing ${index % (MAX_TAUGHT_CLASSES + 5)}`, drawing: stroke(1) }));
  const bounded = taught.acceptImport(many);
  assert.ok(bounded.accepted.length <= MAX_IMPORT_DRAWINGS);
  assert.equal(new Set([...taught.names(), ...bounded.accepted.map(({ word }) => word)]).size, MAX_TAUGHT_CLASSES);
});

test('damaged lines are skipped, reported and never written away', async () => {
  const storage = new MemoryStorage();
  const good = (word, n) => JSON.stringify({ word, drawing: stroke(n) });
  const tooManyStrokes = JSON.stringify({ word: 'many', drawing: Array.from({ length: 201 }, () => [[1], [1]]) });
  const damaged = ['{oops', 'null', '5', JSON.stringify({ word: 'bad', drawing: [[[1, 2], [3]]] }), tooManyStrokes];
  storage.setItem('sketch.taught.shipped', JSON.stringify([good('arm', 1), ...damaged, good('leg', 2), good('arm', 3)]));
  const taught = new TaughtClasses(storage, 'shipped', [], 'hash');
  assert.equal(taught.needsRebuild, true); // old data without means: rebuilt once
  const seen = [];
  const skipped = await taught.rebuild(async (drawings) => {
    seen.push(...drawings);
    return drawings.map(() => features(1, 0));
  });
  assert.equal(skipped, damaged.length);
  assert.equal(seen.length, 3);
  assert.deepEqual(taught.classes().map(({ name, count }) => [name, count]), [['arm', 2], ['leg', 1]]);
  taught.rename('arm', 'elbow');
  taught.remove('leg');
  const lines = JSON.parse(storage.getItem('sketch.taught.shipped'));
  assert.deepEqual(lines.filter((line) => damaged.includes(line)), damaged); // kept, in their order
  assert.equal(lines.length, damaged.length + 2);
  const again = new TaughtClasses(storage, 'shipped', [], 'hash');
  assert.equal(again.needsRebuild, false);
  assert.equal(again.skipped, damaged.length);
  assert.deepEqual(again.names(), ['elbow']);
  assert.equal(again.toNdjson().skipped, damaged.length);
});

test('means are rebuilt for another model version or when the drawings changed behind the page', () => {
  const storage = new MemoryStorage();
  new TaughtClasses(storage, 'shipped', [], 'one').add('arm', stroke(1), features(1, 0));
  assert.equal(new TaughtClasses(storage, 'shipped', [], 'one').needsRebuild, false);
  assert.equal(new TaughtClasses(storage, 'shipped', [], 'two').needsRebuild, true);
  const lines = JSON.parse(storage.getItem('sketch.taught.shipped'));
  storage.setItem('sketch.taught.shipped', JSON.stringify([...lines, JSON.stringify({ word: 'leg', drawing: stroke(2) })]));
  assert.equal(new TaughtClasses(storage, 'shipped', [], 'one').needsRebuild, true);
});

test('a hand-damaged means entry is rebuilt from the drawings, not trusted (issue 33, finding 5)', async () => {
  const damages = {
    'a sample of 5': (entry) => { entry.classes[0].sample = 5; },
    'a sample of {}': (entry) => { entry.classes[0].sample = {}; },
    'a sample of [["ab"]]': (entry) => { entry.classes[0].sample = [['ab']]; },
    'a name of 7': (entry) => { entry.classes[0].name = 7; },
    'a name of null': (entry) => { entry.classes[0].name = null; },
    'a name with a zero-width space': (entry) => { entry.classes[0].name = 'a\u200brm'; },
    'a count of "2"': (entry) => { entry.classes[0].count = '2'; },
    'a sum that is not base64': (entry) => { entry.classes[0].sum = '%%%'; },
    'classes that are not a list': (entry) => { entry.classes = {}; },
    'a class of null': (entry) => { entry.classes = [null]; },
    'two classes of one name': (entry) => { entry.classes.push(entry.classes[0]); },
  };
  for (const [what, damage] of Object.entries(damages)) {
    const storage = new MemoryStorage();
    new TaughtClasses(storage, 'shipped', [], 'hash').add('arm', stroke(1), features(1, 0));
    const entry = JSON.parse(storage.getItem('sketch.taught-means.shipped'));
    damage(entry);
    storage.setItem('sketch.taught-means.shipped', JSON.stringify(entry));
    const taught = new TaughtClasses(storage, 'shipped', [], 'hash');
    assert.equal(taught.needsRebuild, true, what);
    await taught.rebuild(async (drawings) => drawings.map(() => features(1, 0)));
    assert.deepEqual(taught.classes().map(({ name, count }) => [name, count]), [['arm', 1]], what);
  }
});

test("stored means of another size than the model's features, or beyond what unit vectors sum to, are rebuilt", async () => {
  for (const [what, sum] of [['a shorter sum', [1]], ['a longer sum', [1, 0, 0]], ['a sum beyond its count', [3e38, 0]]]) {
    const storage = new MemoryStorage();
    new TaughtClasses(storage, 'shipped', [], 'hash', 2).add('arm', stroke(1), features(1, 0));
    const entry = JSON.parse(storage.getItem('sketch.taught-means.shipped'));
    entry.classes[0].sum = Buffer.from(Float32Array.from(sum).buffer).toString('base64');
    storage.setItem('sketch.taught-means.shipped', JSON.stringify(entry));
    assert.equal(new TaughtClasses(storage, 'shipped', [], 'hash', 2).needsRebuild, true, what);
  }
});

test('a name must be printable: no lone surrogate, control, zero-width or direction character (issue 33)', () => {
  const taught = new TaughtClasses(new MemoryStorage(), 'shipped', ['cat'], 'hash');
  for (const name of ['\ud800x', 'c\u200bat', '\u202etac', 'ca\u200dt', 'a\u0007b', 'a\u2028b', '\ue000']) {
    assert.ok(taught.checkName(name) instanceof Error, JSON.stringify(name));
    assert.throws(() => taught.add(name, stroke(1), features(1, 0)), /characters you can see/);
  }
  const { accepted, refused } = taught.acceptImport([{ word: '\ud800x', drawing: stroke(1) }, { word: 'café 猫', drawing: stroke(2) }]);
  assert.deepEqual([accepted.map(({ word }) => word), refused], [['café 猫'], 1]);
});

test('a damaged store is kept whole and counts as one unreadable line', async () => {
  const storage = new MemoryStorage();
  storage.setItem('sketch.taught.shipped', '{oops');
  const taught = new TaughtClasses(storage, 'shipped', [], 'hash');
  assert.equal(await taught.rebuild(async () => []), 1);
  assert.deepEqual(taught.names(), []);
  taught.add('arm', stroke(1), features(1, 0));
  assert.deepEqual(JSON.parse(storage.getItem('sketch.taught.shipped'))[0], '{oops');
});

test('a full store adds nothing and keeps what was there', () => {
  const storage = new MemoryStorage();
  const taught = new TaughtClasses(storage, 'shipped', [], 'hash');
  taught.add('arm', stroke(1), features(1, 0));
  const before = storage.getItem('sketch.taught.shipped');
  storage.full = true;
  assert.throws(() => taught.add('arm', stroke(2), features(0, 1)), /full/);
  assert.equal(storage.getItem('sketch.taught.shipped'), before);
  assert.deepEqual(taught.classes().map(({ count }) => count), [1]);
});

test('an import that adds nothing says why: a file that is not ndjson is called that', () => {
  const reason = (text, refuse = []) => nothingImported(parseMany(text, MAX_IMPORT_DRAWINGS, refuse));
  assert.match(reason('%PDF-1.4\nstream\n\u0000'), /^it is not ndjson: none of its lines is JSON/);
  assert.equal(reason('\n\n'), 'it is empty');
  const cat = JSON.stringify({ word: 'cat', drawing: [[[0, 50], [0, 40]]] });
  assert.equal(reason(`${cat}\n`, ['cat']), 'it holds no drawing of a new class');
  assert.equal(reason(`${cat}\noops\n`, ['cat']), 'it holds no drawing of a new class (1 of its lines is not JSON)');
});
