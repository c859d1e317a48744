/**
 * Classes a person teaches the page: a name and a few drawings, kept in this browser per model, in the
 * browser's store (store.js: ndjson lines in localStorage), with their means beside them. Pure (no DOM), so `node --test tests/js/` covers it.
 *
 * How a taught class is guessed (measured by `python -m bench.teach`, docs/experiments.md): a drawing's
 * features are the model's flattened layer scaled to length 1, a class is the mean of its drawings'
 * features, and similarity is their dot product. The model's softmax still picks among the built-in classes;
 * a taught class wins only when the drawing is more similar to its mean than to the mean of the built-in
 * class the softmax picked (those means ship with the model). Comparing with all means instead costs the
 * built-in classes nearly ten points before anything is taught.
 */

import { validateDrawing } from './raster.js';
import { recordLine } from './share.js';
import { NdjsonStore, setItem } from './store.js';

export const MAX_NAME_LENGTH = 40;
export const SUGGESTED_DRAWINGS = 5;
// What an import may add, and how many classes a model may be taught: the page compares every guess with
// each taught mean, and keeps the means beside the drawings in the browser's store.
export const MAX_IMPORT_DRAWINGS = 500;
export const MAX_TAUGHT_CLASSES = 100;
// Characters a name may not hold (training/taught.py UNPRINTABLE_CATEGORIES, the same categories): controls,
// format characters (zero-width spaces and joiners, right-to-left marks and overrides, which can make a name
// display as a built-in class's), lone surrogates (which no server or file can hold), private use, and line
// and paragraph separators.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;
// A class's gallery picture is kept beside its means only if it has at most this many points.
const SAMPLE_POINTS = 500;

/**
 * Why an import added nothing, for "Could not import FILE: …" (parsed: rasterizer.js's parseMany). A file that
 * is not ndjson at all says so, as the paste box does, rather than that it holds no drawing of a new class.
 */
export function nothingImported({ records, skipped, notJson }) {
  if (records.length === 0 && skipped === 0) return 'it is empty';
  if (records.length === 0 && notJson === skipped) {
    return 'it is not ndjson: none of its lines is JSON (an ndjson file holds one drawing a line)';
  }
  const notJsonNote = notJson > 0 ? ` (${notJson} of its lines ${notJson === 1 ? 'is' : 'are'} not JSON)` : '';
  return `it holds no drawing of a new class${notJsonNote}`;
}

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

/**
 * The taught classes of one model: their drawings as ndjson lines (`word` is the class) in an NdjsonStore,
 * and beside them each class's sum of features, count and a small sample drawing (the "means", under their
 * own key). The page starts from the means alone, so start-up does not depend on how many drawings are
 * stored; the drawings are read only when a person renames, deletes or exports. The means name the model's
 * hash and the length of the stored lines they were made from: when either differs (another model version,
 * or the lines were changed behind the page's back) they are rebuilt from the drawings, once.
 *
 * Features are computed by the caller (the model runs in the page), so this stays pure and Node-tested.
 */
export class TaughtClasses {
  /** `columns`: the model's feature size (its class means' columns), which stored means must have; null: any. */
  constructor(storage, modelId, builtInLabels = [], modelHash = '', columns = null) {
    this.storage = storage;
    this.columns = columns;
    this.store = new NdjsonStore(storage, `sketch.taught.${modelId}`);
    this.meansKey = `sketch.taught-means.${modelId}`;
    this.builtIn = new Set(builtInLabels);
    this.modelHash = modelHash;
    this.means = this.loadMeans();
  }

  /** The stored means if they match the stored lines and the model, an empty set for an empty store, else null. */
  loadMeans() {
    const raw = this.store.raw();
    if (raw === null) return { skipped: 0, classes: [] };
    try {
      const stored = JSON.parse(this.storage.getItem(this.meansKey));
      if (stored?.version !== 1 || stored.modelHash !== this.modelHash || stored.length !== raw.length) return null;
      return readMeans(stored, (name) => this.checkName(name) === name, this.columns);
    } catch {
      return null;
    }
  }

  saveMeans() {
    const { skipped, classes } = this.means;
    const value = JSON.stringify({
      version: 1,
      modelHash: this.modelHash,
      length: this.store.raw()?.length ?? 0,
      skipped,
      classes: classes.map(({ name, count, sum, sample }) => ({ name, count, sum: toBase64(sum), sample })),
    });
    try {
      setItem(this.storage, this.meansKey, value);
    } catch {
      // The drawings are saved; without room for their means, they are rebuilt from them at the next start.
      this.storage.removeItem(this.meansKey);
    }
  }

  /** Whether the means must be rebuilt from the stored drawings (see rebuild). */
  get needsRebuild() {
    return this.means === null;
  }

  /**
   * Rebuild the means from every readable stored drawing. featuresOf(drawings) resolves to their features
   * (the caller slices the work); returns how many lines could not be read (kept as they are).
   */
  async rebuild(featuresOf) {
    const { records, skipped } = this.store.read();
    const usable = records.filter((record) => !(this.checkName(record.word) instanceof Error));
    const features = usable.length > 0 ? await featuresOf(usable.map((record) => record.drawing)) : [];
    this.means = { skipped: skipped + records.length - usable.length, classes: [] };
    usable.forEach((record, index) => {
      // A drawing the rasterizer refuses has no features (null): skipped like an unreadable line.
      if (features[index]) this.addToMeans(record.word.trim(), record.drawing, features[index]);
      else this.means.skipped += 1;
    });
    this.saveMeans();
    return this.means.skipped;
  }

  /** Lines of the store that could not be read (kept as they are), as of the last rebuild. */
  get skipped() {
    return this.means?.skipped ?? 0;
  }

  /** [{name, count, sample}] in the order the classes were first taught. */
  classes() {
    return (this.means?.classes ?? []).map(({ name, count, sample }) => ({ name, count, sample }));
  }

  names() {
    return this.classes().map(({ name }) => name);
  }

  /** Each class's mean of its drawings' features, in the order of names(). */
  meanFeatures() {
    return (this.means?.classes ?? []).map(({ count, sum }) => Float32Array.from(sum, (value) => value / count));
  }

  addToMeans(name, drawing, features) {
    let entry = this.means.classes.find((known) => known.name === name);
    if (!entry) {
      entry = { name, count: 0, sum: new Float32Array(features.length), sample: null };
      this.means.classes.push(entry);
    }
    entry.count += 1;
    for (let i = 0; i < features.length; i++) entry.sum[i] += features[i];
    // The gallery's picture: the class's smallest drawing, if small enough to keep beside the means.
    const points = drawing.reduce((total, [xs]) => total + xs.length, 0);
    const samplePoints = entry.sample?.reduce((total, [xs]) => total + xs.length, 0) ?? Infinity;
    if (points <= SAMPLE_POINTS && points < samplePoints) entry.sample = drawing;
  }

  /** A usable new name, or an Error saying why not. */
  checkName(name, { renaming = null } = {}) {
    const trimmed = String(name ?? '').trim();
    if (!trimmed) return new Error('give it a name');
    if (trimmed.length > MAX_NAME_LENGTH) return new Error(`a name has at most ${MAX_NAME_LENGTH} characters`);
    if (UNPRINTABLE.test(trimmed)) {
      return new Error('a name holds only characters you can see (no control, zero-width or direction characters)');
    }
    if (this.builtIn.has(trimmed)) return new Error(`"${trimmed}" is a class the model already knows`);
    if (renaming !== null && trimmed !== renaming && this.names().includes(trimmed)) {
      return new Error(`"${trimmed}" is already taught`);
    }
    return trimmed;
  }

  /** A name for a drawing to add, or an Error: a usable name, and room for it if it is a new class. */
  checkNew(name, newNames = new Set()) {
    const checked = this.checkName(name);
    if (checked instanceof Error) return checked;
    if (!this.names().includes(checked) && !newNames.has(checked) && this.names().length + newNames.size >= MAX_TAUGHT_CLASSES) {
      return new Error(`at most ${MAX_TAUGHT_CLASSES} things can be taught to one model`);
    }
    return checked;
  }

  /**
   * Add one drawing of a class (a new class on its first drawing); returns the class's drawing count.
   * drawing: already normalized (the stored line holds it as it is); features: those of its bitmap.
   * Throws, adding nothing, for an unusable name or a full store.
   */
  add(name, drawing, features) {
    const checked = this.checkNew(name);
    if (checked instanceof Error) throw checked;
    this.store.append([recordLine(drawing, checked)]);
    this.addToMeans(checked, drawing, features);
    this.saveMeans();
    return this.means.classes.find((entry) => entry.name === checked).count;
  }

  /**
   * Keep the records a person may import (usable names, within MAX_TAUGHT_CLASSES and MAX_IMPORT_DRAWINGS),
   * with their names trimmed and their position among the records (`index`): {accepted, refused}.
   */
  acceptImport(records) {
    const accepted = [];
    const newNames = new Set();
    let refused = 0;
    for (const record of records) {
      const checked = accepted.length < MAX_IMPORT_DRAWINGS ? this.checkNew(record.word, newNames) : null;
      if (typeof checked !== 'string') {
        refused += 1;
        continue;
      }
      if (!this.names().includes(checked)) newNames.add(checked);
      accepted.push({ word: checked, drawing: record.drawing, index: accepted.length + refused });
    }
    return { accepted, refused };
  }

  /** Add accepted records (see acceptImport) with their features, in one write; returns how many. */
  addMany(records, features) {
    if (records.length === 0) return 0;
    this.store.append(records.map(({ word, drawing }) => recordLine(drawing, word)));
    records.forEach(({ word, drawing }, index) => this.addToMeans(word, drawing, features[index]));
    this.saveMeans();
    return records.length;
  }

  rename(name, newName) {
    const checked = this.checkName(newName, { renaming: name });
    if (checked instanceof Error) throw checked;
    this.store.rewrite((record) => (record.word.trim() === name ? { ...record, word: checked } : record));
    const entry = this.means.classes.find((known) => known.name === name);
    if (entry) entry.name = checked;
    this.saveMeans();
    return checked;
  }

  remove(name) {
    this.store.rewrite((record) => (record.word.trim() === name ? null : record));
    this.means.classes = this.means.classes.filter((entry) => entry.name !== name);
    this.saveMeans();
  }

  /** {text, skipped}: the readable drawings as ndjson, and how many lines could not be read. */
  toNdjson() {
    return this.store.toNdjson();
  }
}

/**
 * The stored means ({skipped, classes: [{name, count, sum, sample}]}) as the page uses them, or null when any
 * part is not what saveMeans writes (a hand-edited or damaged entry): the page then rebuilds them from the
 * stored drawings, as it does for an entry that is not JSON, instead of failing on it later.
 */
export function readMeans(stored, isUsableName, columns = null) {
  const { skipped, classes } = stored;
  if (!Number.isSafeInteger(skipped) || skipped < 0 || !Array.isArray(classes)) return null;
  if (classes.length > MAX_TAUGHT_CLASSES) return null;
  const read = [];
  for (const entry of classes) {
    if (entry === null || typeof entry !== 'object') return null;
    const {
      name, count, sum, sample,
    } = entry;
    if (typeof name !== 'string' || !isUsableName(name) || read.some((known) => known.name === name)) return null;
    if (!Number.isSafeInteger(count) || count < 1 || typeof sum !== 'string') return null;
    const values = fromBase64(sum); // throws for text that is not base64 or not whole float32 values
    if (values.length === 0 || (read.length > 0 && values.length !== read[0].sum.length)) return null;
    if (columns !== null && values.length !== columns) return null;
    // A sum of `count` unit-length feature vectors: no component beyond count in size.
    if (!values.every((value) => Number.isFinite(value) && Math.abs(value) <= count * 1.001)) return null;
    if (sample !== null) {
      try {
        validateDrawing(sample);
      } catch {
        return null;
      }
    }
    read.push({
      name, count, sum: values, sample,
    });
  }
  return { skipped, classes: read };
}

function toBase64(values) {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 4096) binary += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return btoa(binary);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}
