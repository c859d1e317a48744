/**
 * How names and numbers read in the page's sentences: "an eye", "eyeglasses" (no article for plural and
 * mass names), and percentages that agree with the words beside them. Pure (no DOM), so `node --test
 * tests/js/` covers it.
 */

// Names that take no article although nothing in their spelling says so (the shipped classes, the body
// parts and the Quick, Draw! names a person is likely to teach).
const MASS_NAMES = new Set(['asparagus', 'broccoli', 'camouflage', 'grass', 'hair', 'lightning', 'popcorn', 'rain',
  'snow', 'underwear']);

/** A plural name: its last word ends in -s but not in -ss, -us or -is (glass, cactus, tennis are singular). */
function isPlural(name) {
  const last = name.split(/\s+/).pop();
  return /s$/.test(last) && !/(ss|us|is)$/.test(last);
}

/** "an" before a vowel sound: "an eye", "an hourglass", but "a unicorn", "a one-armed bandit". */
function takesAn(name) {
  if (/^(hour|honest|honou?r|heir)/.test(name)) return true;
  return /^[aeiou]/.test(name) && !/^(uni|use|usu|uten|ute|uk|eu|one\b|once)/.test(name);
}

/** "a cat", "an eye", "eyeglasses", "the Eiffel Tower": a name as the object of "It's …" or "maybe …". */
export function withArticle(name) {
  const lower = name.trim().toLowerCase();
  if (/^(the|a|an)\s/.test(lower) || isPlural(lower) || MASS_NAMES.has(lower)) return name;
  return `${takesAn(lower) ? 'an' : 'a'} ${name}`;
}

/** A share in percent to one decimal, as a number: what the words are decided on and what is shown near the threshold. */
const tenths = (share) => Number((share * 100).toFixed(1));

/**
 * Whether the top guess is sure: its probability as shown (one decimal) against the threshold as shown. Compared
 * exactly, 94.85 % under a threshold of 94.9 % read "Not sure yet" beside a bar reading 95 % (issue 23).
 */
export function isSure(probability, threshold) {
  return tenths(probability) >= tenths(threshold);
}

/**
 * "None of these": the top guess is one of the model's own classes (index under `builtIn`), and even it is
 * less likely than `below`, the model's metadata.none_of_these.below (export.py chooses it on the validation
 * split; null: the model has none, and the page never says so). A taught class on top is never "none of
 * these": it won by being nearer the drawing than the softmax's pick (taught.js besideSoftmax), and takes
 * that pick's probability, often a low one. The same rule as training.taught.is_none_of_these.
 */
export function isNoneOfThese(probabilities, builtIn, below) {
  if (typeof below !== 'number' || probabilities.length === 0) return false;
  let top = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[top]) top = i;
  return top < builtIn && probabilities[top] < below;
}

/**
 * What the status line says of a guess, and its verdict (`sure`, `maybe` or `none`, #status[data-verdict]):
 * "It's a cat! (97.1%)" at or above the threshold, "None of these, I think (closest: a harp)." when
 * isNoneOfThese, else "Not sure yet… maybe a harp?". `best` is the top label, `bestProbability` its
 * probability, `probabilities` all of them (the model's own `builtIn` first).
 */
export function verdictText(best, bestProbability, probabilities, { builtIn, threshold, noneBelow }) {
  if (isSure(bestProbability, threshold)) {
    return { text: `It's ${withArticle(best)}! (${percentText(bestProbability, threshold)})`, verdict: 'sure' };
  }
  if (isNoneOfThese(probabilities, builtIn, noneBelow)) {
    return { text: `None of these, I think (closest: ${withArticle(best)}).`, verdict: 'none' };
  }
  return { text: `Not sure yet… maybe ${withArticle(best)}?`, verdict: 'maybe' };
}

/** The threshold as the page states it: "94.9%", "43.2%". */
export function thresholdText(threshold) {
  return `${tenths(threshold)}%`;
}

/**
 * A probability as the page shows it: whole percent, and one decimal within a point of the threshold, where
 * whole percent could read on the other side of it (94.8 % is not sure at 94.9 %; "95%" would say it is).
 */
export function percentText(probability, threshold = null) {
  if (threshold !== null && Math.abs(probability * 100 - tenths(threshold)) < 1) return `${tenths(probability).toFixed(1)}%`;
  return `${Math.round(probability * 100)}%`;
}

/** The top `count` guesses as [label, probability] pairs, most probable first (the bars, the game). */
export function topGuesses(labels, probabilities, count = 3) {
  const order = Array.from(probabilities, (_, index) => index).sort((a, b) => probabilities[b] - probabilities[a]);
  return order.slice(0, count).map((index) => [labels[index], probabilities[index]]);
}
