/** Unit tests for web/js/models.js: which model the page opens with, and the models' names. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  MODEL_ID, chosenModel, listModels, modelTitle, rememberModel,
} from '../../web/js/models.js';

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

test("the server's list: an entry whose id the gate would not admit is left out (issue 33, findings 4 and 7)", async () => {
  const listed = [{ id: 'shipped', classes: 34 }, { id: '', classes: 3 }, { id: 'a#b', classes: 3 }, { id: 7 }, null,
    { id: 'body-parts', classes: 9 }, { id: 'x', classes: '9' }];
  const { fetch } = globalThis;
  globalThis.fetch = async () => ({ ok: true, json: async () => ({ models: listed }) });
  try {
    assert.deepEqual((await listModels()).map(({ id }) => id), ['shipped', 'body-parts']);
    globalThis.fetch = async () => ({ ok: true, json: async () => ({ models: [{ id: '' }] }) });
    assert.deepEqual(await listModels(), [{ id: 'shipped', classes: null, default: true }]);
  } finally {
    globalThis.fetch = fetch;
  }
});

test('MODEL_ID is the gate\'s, in models.js, sw.js and training/modelfolder.py alike', () => {
  const root = new URL('../../', import.meta.url);
  const python = readFileSync(new URL('training/modelfolder.py', root), 'utf8').match(/^MODEL_ID = re\.compile\(r"(.+)"\)$/m)[1];
  const worker = readFileSync(new URL('web/sw.js', root), 'utf8').match(/^const MODEL_ID = \/\^(.+)\$\/;$/m)[1];
  assert.equal(MODEL_ID.source, `^${python}$`);
  assert.equal(worker, python);
});
