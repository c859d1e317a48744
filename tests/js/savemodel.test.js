/**
 * Unit tests for web/js/zip.js and web/js/savemodel.js: the archive "Download as a model" saves. Python's
 * zipfile opens a real one in tests/test_teaching_model.py; here, the bytes the format fixes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  TAUGHT_DRAWINGS_FILE, TAUGHT_MEANS_FILE, folderName, modelFolder, quantizeMeans,
} from '../../web/js/savemodel.js';
import { crc32, zipStored } from '../../web/js/zip.js';

const text = (value) => new TextEncoder().encode(value);

/** The files of a stored archive, read by its central directory: {name: Uint8Array}. */
function unzip(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 22;
  const files = {};
  let entry = view.getUint32(end + 16, true);
  for (let index = 0; index < view.getUint16(end + 10, true); index++) {
    const nameLength = view.getUint16(entry + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(entry + 46, entry + 46 + nameLength));
    const local = view.getUint32(entry + 42, true);
    const start = local + 30 + view.getUint16(local + 26, true);
    files[name] = bytes.subarray(start, start + view.getUint32(entry + 24, true));
    assert.equal(crc32(files[name]), view.getUint32(entry + 16, true), name);
    entry += 46 + nameLength;
  }
  return files;
}

test('CRC-32 is the check value of ZIP and PNG', () => {
  assert.equal(crc32(text('123456789')), 0xcbf43926); // the standard check value of CRC-32/ISO-HDLC
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('a stored archive has a header per file, a central directory and its end, at the offsets it states', () => {
  const bytes = zipStored([{ name: 'a/one.txt', bytes: text('one') }, { name: 'a/two.bin', bytes: new Uint8Array([0, 255]) }]);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0, true), 0x04034b50);
  const end = bytes.length - 22;
  assert.equal(view.getUint32(end, true), 0x06054b50);
  assert.equal(view.getUint16(end + 10, true), 2);
  const directoryStart = view.getUint32(end + 16, true);
  assert.equal(view.getUint32(directoryStart, true), 0x02014b50);
  assert.equal(directoryStart + view.getUint32(end + 12, true), end);
  // The second file's local header, where the directory says it is, holds its CRC and size.
  const secondEntry = directoryStart + 46 + 'a/one.txt'.length;
  const secondLocal = view.getUint32(secondEntry + 42, true);
  assert.equal(view.getUint32(secondLocal, true), 0x04034b50);
  assert.equal(view.getUint32(secondLocal + 14, true), crc32(new Uint8Array([0, 255])));
  assert.equal(view.getUint32(secondLocal + 22, true), 2);
  // Made on Unix, each entry a regular file of mode 0644, so that unzip reads UTF-8 names and sets permissions.
  assert.equal(view.getUint16(directoryStart + 4, true), (3 << 8) | 20);
  assert.equal(view.getUint32(directoryStart + 38, true) >>> 16, 0o100644);
  // The same files make the same bytes (no clock in the archive).
  assert.deepEqual(zipStored([{ name: 'x', bytes: text('y') }]), zipStored([{ name: 'x', bytes: text('y') }]));
});

test('means are saved as export.py saves class means: q = round(value * 255), clipped to [0, 1]', () => {
  assert.deepEqual(Array.from(quantizeMeans([Float32Array.from([0, 0.5, 1]), Float32Array.from([-0.1, 1.2, 0.2])])),
    [0, 128, 255, 0, 255, 51]);
});

test('the saved folder holds the model, its taught means and drawings, and metadata naming the taught classes', () => {
  const date = new Date(2026, 10, 30, 17, 5, 9);
  assert.equal(folderName(date), 'model-taught-20261130-170509');
  const metadata = {
    labels: ['cat', 'dog'], model_hash: 'abc', class_means: { file: 'class_means.bin', shape: [2, 3] }, taught: { labels: ['old'] },
  };
  const files = { 'model.json': text('{}'), 'group1-shard1of1.bin': new Uint8Array([1, 2]), 'class_means.bin': new Uint8Array(6) };
  const classes = [{ name: 'arm', mean: Float32Array.from([1, 0, 0]), drawings: 5 }, { name: 'leg', mean: Float32Array.from([0, 1, 0]), drawings: 6 }];
  const { name, bytes } = modelFolder({
    metadata, files, classes, ndjson: '{"word":"arm"}\n', savedFrom: 'shipped', date,
  });
  assert.equal(name, 'model-taught-20261130-170509.zip');
  const folder = unzip(bytes);
  const inside = (file) => folder[`model-taught-20261130-170509/${file}`];
  assert.deepEqual(Object.keys(folder).map((path) => path.split('/')[1]).sort(),
    ['class_means.bin', 'group1-shard1of1.bin', 'metadata.json', 'model.json', TAUGHT_DRAWINGS_FILE, TAUGHT_MEANS_FILE].sort());
  assert.deepEqual(Array.from(inside('group1-shard1of1.bin')), [1, 2]); // the model's files as they were
  assert.deepEqual(Array.from(inside(TAUGHT_MEANS_FILE)), [255, 0, 0, 0, 255, 0]);
  assert.equal(new TextDecoder().decode(inside(TAUGHT_DRAWINGS_FILE)), '{"word":"arm"}\n');
  const saved = JSON.parse(new TextDecoder().decode(inside('metadata.json')));
  assert.deepEqual(saved.labels, ['cat', 'dog']); // the network's outputs, unchanged
  assert.deepEqual(saved.taught.labels, ['arm', 'leg']); // the old entry replaced by one naming all of them
  assert.deepEqual(saved.taught.shape, [2, 3]);
  assert.deepEqual(saved.taught.drawings, { arm: 5, leg: 6 });
  assert.equal(saved.saved_from.model, 'shipped');
  assert.throws(() => modelFolder({
    metadata, files, classes: [], ndjson: '', savedFrom: 'shipped', date,
  }), /nothing has been taught/);
  // Two classes of one name (a saved model's and this browser's) would make a folder no loader accepts.
  for (const name of ['arm', 'cat']) {
    assert.throws(() => modelFolder({
      metadata, files, classes: [...classes, { name, mean: new Float32Array(3), drawings: 1 }], ndjson: '', savedFrom: 'shipped', date,
    }), new RegExp(`"${name}" would name two classes`));
  }
  assert.throws(() => modelFolder({
    metadata, files, classes: [{ name: 'x', mean: new Float32Array(4), drawings: 1 }], ndjson: '', savedFrom: 'shipped', date,
  }), /does not match/);
});
