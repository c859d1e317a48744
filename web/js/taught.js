/**
 * Classes a person teaches the page: a name and a few drawings, kept in this browser per model, in the
 * corrections' store (ndjson lines in localStorage). Pure (no DOM), so `node --test tests/js/` covers it.
 *
 * How a taught class is guessed (measured by `python -m bench.teach`, docs/experiments.md): a drawing's
 * features are the model's flattened layer scaled to length 1, a class is the mean of its drawings'
 * features, and similarity is their dot product. The model's softmax still picks among the built-in classes;
 * a taught class wins only when the drawing is more similar to its mean than to the mean of the built-in
 * class the softmax picked (those means ship with the model). Comparing with all means instead costs the
 * built-in classes nearly ten points before anything is taught.
 */

import { NdjsonStore } from './corrections.js';
import { parseNdjson, toNdjsonLine } from './share.js';

export const MAX_NAME_LENGTH = 40;
export const SUGGESTED_DRAWINGS = 5;

/** A vector scaled to length 1 (a zero vector stays zero). */
export function unitLength(values) {
  let sum = 0;
  for (const value of values) sum += value * value;
  const length = Math.sqrt(sum) || 1;
  return Float32Array.from(values, (value) => value / length);
}

function dot(a, b, offset = 0) {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[offset + i];
  return sum;
}

/** The mean of several feature vectors (each already of length 1). */
export function meanOf(vectors) {
  const mean = new Float32Array(vectors[0].length);
  for (const vector of vectors) for (let i = 0; i < mean.length; i++) mean[i] += vector[i] / vectors.length;
  return mean;
}

/**
 * Probabilities over the built-in classes and then the taught ones. The built-in class the softmax picks
 * keeps its place unless a taught class's mean is more similar to the drawing than that class's own mean;
 * then the taught class takes the picked class's probability and the rest is scaled to fit.
 * classMeans: { values: Float32Array (rows x columns), columns }; taughtMeans: Float32Array[].
 */
export function besideSoftmax(probabilities, features, classMeans, taughtMeans) {
  const count = probabilities.length;
  const result = new Float32Array(count + taughtMeans.length);
  result.set(probabilities);
  if (taughtMeans.length === 0) return result;
  let picked = 0;
  for (let i = 1; i < count; i++) if (probabilities[i] > probabilities[picked]) picked = i;
  const pickedSimilarity = dot(features, classMeans.values, picked * classMeans.columns);
  let best = -1;
  let bestSimilarity = pickedSimilarity;
  taughtMeans.forEach((mean, index) => {
    const similarity = dot(features, mean);
    if (similarity > bestSimilarity) {
      best = index;
      bestSimilarity = similarity;
    }
  });
  if (best < 0) return result;
  const share = probabilities[picked];
  for (let i = 0; i < count; i++) result[i] = probabilities[i] * (1 - share);
  result[count + best] = share;
  return result;
}

/** The taught classes of one model, as ndjson lines (`word` is the class) in an NdjsonStore. */
export class TaughtClasses {
  constructor(storage, modelId, builtInLabels = []) {
    this.store = new NdjsonStore(storage, `sketch.taught.${modelId}`);
    this.builtIn = new Set(builtInLabels);
  }

  /** Each class's drawings, by name, in the order the classes were first taught (one read of the store). */
  byName() {
    const classes = new Map();
    for (const { word, drawing } of this.store.records()) {
      if (!classes.has(word)) classes.set(word, []);
      classes.get(word).push(drawing);
    }
    return classes;
  }

  names() {
    return [...this.byName().keys()];
  }

  /** A usable new name, or an Error saying why not. */
  checkName(name, { renaming = null } = {}) {
    const trimmed = String(name ?? '').trim();
    if (!trimmed) return new Error('give it a name');
    if (trimmed.length > MAX_NAME_LENGTH) return new Error(`a name has at most ${MAX_NAME_LENGTH} characters`);
    if (this.builtIn.has(trimmed)) return new Error(`"${trimmed}" is a class the model already knows`);
    if (renaming !== null && trimmed !== renaming && this.names().includes(trimmed)) {
      return new Error(`"${trimmed}" is already taught`);
    }
    return trimmed;
  }

  /** Add one drawing of a class (a new class on its first drawing); returns the class's drawing count. */
  add(name, strokes) {
    const checked = this.checkName(name);
    if (checked instanceof Error) throw checked;
    this.store.save([...this.store.lines(), toNdjsonLine(strokes, checked)]);
    return this.byName().get(checked).length;
  }

  rename(name, newName) {
    const checked = this.checkName(newName, { renaming: name });
    if (checked instanceof Error) throw checked;
    this.store.save(this.store.records().map((record) => JSON.stringify(record.word === name ? { ...record, word: checked } : record)));
    return checked;
  }

  remove(name) {
    this.store.save(this.store.records().filter((record) => record.word !== name).map((record) => JSON.stringify(record)));
  }

  toNdjson() {
    return this.store.toNdjson();
  }

  /** Add every valid line of ndjson text; returns how many were added. Throws, adding nothing, if none is. */
  importNdjson(text) {
    const added = [];
    for (const line of String(text).split('\n')) {
      if (!line.trim()) continue;
      try {
        const { word, drawing } = parseNdjson(line);
        const checked = this.checkName(word);
        if (!(checked instanceof Error)) added.push(toNdjsonLine(drawing, checked));
      } catch {
        // A line that is not a drawing of a usable class is skipped; the count says how many were taken.
      }
    }
    if (added.length === 0) throw new Error('it holds no drawing of a new class');
    this.store.save([...this.store.lines(), ...added]);
    return added.length;
  }
}
