/** Unit tests for web/js/drawing.js: strokes with undo, redo and clear (run: node --test tests/js/). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Drawing } from '../../web/js/drawing.js';

const stroke = (n) => [[n, n + 1], [n, n + 2]];

test('undo and redo walk the history', () => {
  const drawing = new Drawing();
  assert.equal(drawing.isEmpty, true);
  assert.equal(drawing.undo(), false);
  drawing.add(stroke(1));
  drawing.add(stroke(2));
  assert.equal(drawing.undo(), true);
  assert.deepEqual(drawing.strokes, [stroke(1)]);
  assert.equal(drawing.redo(), true);
  assert.deepEqual(drawing.strokes, [stroke(1), stroke(2)]);
  assert.equal(drawing.redo(), false);
});

test('a new stroke ends the redo history', () => {
  const drawing = new Drawing();
  drawing.add(stroke(1));
  drawing.undo();
  drawing.add(stroke(3));
  assert.equal(drawing.canRedo, false);
  assert.deepEqual(drawing.strokes, [stroke(3)]);
});

test('clear is undoable and a no-op on an empty drawing', () => {
  const drawing = new Drawing();
  assert.equal(drawing.clear(), false);
  drawing.add(stroke(1));
  drawing.add(stroke(2));
  assert.equal(drawing.clear(), true);
  assert.equal(drawing.isEmpty, true);
  drawing.undo();
  assert.deepEqual(drawing.strokes, [stroke(1), stroke(2)]);
  drawing.redo();
  assert.equal(drawing.isEmpty, true);
});

test('withStroke adds the stroke in progress without changing the drawing', () => {
  const drawing = new Drawing();
  drawing.add(stroke(1));
  assert.deepEqual(drawing.withStroke(stroke(5)), [stroke(1), stroke(5)]);
  assert.deepEqual(drawing.withStroke(null), [stroke(1)]);
  assert.deepEqual(drawing.strokes, [stroke(1)]);
});

test('a stroke cut after it ended takes no undo step of its own', () => {
  const drawing = new Drawing();
  drawing.add(stroke(1));
  drawing.add([[1, 2, 3, 4], [5, 6, 7, 8]]);
  drawing.trimLast(2);
  assert.deepEqual(drawing.strokes, [stroke(1), [[1, 2], [5, 6]]]);
  drawing.undo();
  assert.deepEqual(drawing.strokes, [stroke(1)]);
  drawing.redo();
  // Cut to nothing: the step that added the stroke is taken back whole, so undo goes further back.
  drawing.trimLast(0);
  assert.deepEqual(drawing.strokes, [stroke(1)]);
  drawing.undo();
  assert.deepEqual(drawing.strokes, []);
});
