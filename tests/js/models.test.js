/** Unit tests for web/js/models.js: which model the page opens with, and the models' names. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chosenModel, modelTitle, rememberModel } from '../../web/js/models.js';

const models = [{ id: 'shipped' }, { id: 'body-parts' }];
const storage = (items = {}) => ({
  getItem: (key) => items[key] ?? null,
  setItem: (key, value) => { items[key] = value; },
});

test('the address wins, then the choice remembered in this browser, then the shipped model', () => {
  const remembered = storage();
  rememberModel(remembered, 'body-parts');
  assert.deepEqual(chosenModel(models, 'shipped', remembered), { id: 'shipped', missing: null });
  assert.deepEqual(chosenModel(models, null, remembered), { id: 'body-parts', missing: null });
  assert.deepEqual(chosenModel(models, null, storage()), { id: 'shipped', missing: null });
  // An unknown ?model= is named, so the page can say so, and the remembered one is opened.
  assert.deepEqual(chosenModel(models, 'nope', remembered), { id: 'body-parts', missing: 'nope' });
});

test('a full store does not stop a choice', () => {
  const full = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); } };
  assert.doesNotThrow(() => rememberModel(full, 'body-parts'));
});

test("models' names for people", () => {
  assert.equal(modelTitle({ id: 'shipped', classes: 34 }), 'Quick, Draw! things (34)');
  assert.equal(modelTitle({ id: 'body-parts', classes: 9 }), 'Body parts (9)');
});
