/** Unit tests for web/js/words.js: articles for names, and percentages that agree with the words. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isNoneOfThese, isSure, percentText, verdictText, thresholdText, withArticle,
} from '../../web/js/words.js';

test('names take the article their sound and number call for', () => {
  assert.equal(withArticle('cat'), 'a cat');
  assert.equal(withArticle('eye'), 'an eye');
  assert.equal(withArticle('alarm clock'), 'an alarm clock');
  assert.equal(withArticle('hourglass'), 'an hourglass');
  assert.equal(withArticle('unicorn'), 'a unicorn');
  // Plural and mass names take none: "It's eyeglasses!", not "It's an eyeglasses!".
  for (const name of ['eyeglasses', 'pants', 'scissors', 'flip flops', 'headphones', 'grass', 'rain']) {
    assert.equal(withArticle(name), name);
  }
  // Singular names that end in -s keep theirs.
  assert.equal(withArticle('bus'), 'a bus');
  assert.equal(withArticle('cactus'), 'a cactus');
  assert.equal(withArticle('compass'), 'a compass');
  assert.equal(withArticle('The Eiffel Tower'), 'The Eiffel Tower');
});

test('the number shown beside the words agrees with them, whatever the threshold', () => {
  // The body-parts model's threshold as stored (a float32), and the shipped one.
  for (const threshold of [0.9490000009536743, 0.4320000112056732, 0.5]) {
    const bar = Number.parseFloat(thresholdText(threshold));
    for (let step = -300; step <= 300; step++) {
      const probability = threshold + step / 20000;
      if (probability < 0 || probability > 1) continue;
      const shown = Number.parseFloat(percentText(probability, threshold));
      assert.equal(isSure(probability, threshold), shown >= bar, `${probability} against ${threshold}: ${shown} vs ${bar}`);
    }
  }
  assert.equal(thresholdText(0.9490000009536743), '94.9%');
  assert.equal(percentText(0.9487, 0.949), '94.9%'); // read as sure, and said to be
  assert.ok(isSure(0.9487, 0.949));
  assert.equal(percentText(0.944, 0.949), '94.4%');
  assert.equal(percentText(0.97, 0.949), '97%');
  assert.equal(percentText(0.5), '50%');
});

test('"none of these" is a built-in top guess under the model\'s bound, never a taught one, never without a bound', () => {
  assert.equal(isNoneOfThese([0.2, 0.15, 0.1], 3, 0.244), true);
  assert.equal(isNoneOfThese([0.244, 0.1], 2, 0.244), false); // at the bound it names the guess, as is_none_of_these
  assert.equal(isNoneOfThese([0.9, 0.1], 2, 0.244), false);
  assert.equal(isNoneOfThese([0.1, 0.05, 0.2], 2, 0.244), false); // a taught class (index 2) on top
  assert.equal(isNoneOfThese([0.2, 0.1], 2, null), false); // a model without metadata.none_of_these
  assert.equal(isNoneOfThese([0.2, 0.1], 2, undefined), false);
});

test("the status line's words and verdict: sure, none of these, or maybe", () => {
  const rule = { builtIn: 2, threshold: 0.443, noneBelow: 0.244 };
  assert.deepEqual(verdictText('cat', 0.9, [0.9, 0.1], rule), { text: "It's a cat! (90%)", verdict: 'sure' });
  assert.deepEqual(verdictText('harp', 0.2, [0.2, 0.1, 0.05], rule),
    { text: 'None of these, I think (closest: a harp).', verdict: 'none' });
  assert.deepEqual(verdictText('arm', 0.2, [0.1, 0.05, 0.2], rule), { text: 'Not sure yet… maybe an arm?', verdict: 'maybe' });
});
