/** Unit tests for web/js/model.js's server fallback: the answer mapped onto the page's labels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerPredictor } from '../../web/js/model.js';

function answering(predictions) {
  globalThis.fetch = async () => ({ ok: true, json: async () => ({ predictions }) });
}

test("the server's probabilities land on the page's labels", async () => {
  answering([{ label: 'dog', probability: 0.75 }, { label: 'cat', probability: 0.25 }]);
  const probabilities = await new ServerPredictor(['cat', 'dog'], 'shipped').predict({ strokes: [] });
  assert.deepEqual(Array.from(probabilities), [0.25, 0.75]);
});

test('a class the page does not know is an error, not a write to index -1', async () => {
  answering([{ label: 'cat', probability: 0.6 }, { label: 'unicorn', probability: 0.4 }]);
  await assert.rejects(new ServerPredictor(['cat', 'dog'], 'shipped').predict({ strokes: [] }), /does not know \("unicorn"\)/);
});
