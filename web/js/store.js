/**
 * The browser's store for drawings: ndjson lines (one drawing each) as a JSON list under one localStorage
 * key. Corrections (corrections.js) and taught classes (taught.js) keep their drawings in it. Pure (no DOM:
 * the storage is passed in), so `node --test tests/js/` covers it.
 *
 * Read what can be read: each line is checked on its own, and a line that is not a drawing (damaged, `null`,
 * `5`, a drawing over the rasterizer's limits) is skipped and counted, never dropped: rewrites keep it as it
 * was, so a damaged line costs that line alone, and nothing is ever written away unread. A value that is not
 * a JSON list at all is kept whole, as one unreadable line.
 *
 * A full store (QuotaExceededError) leaves what was there: setItem writes the whole value or nothing, and
 * save() turns the browser's error into a StoreFullError that says what to do.
 *
 * Why localStorage and not IndexedDB (measured by `python -m bench.page_hostile`, bench/results/): what made
 * big stores slow was the page's own work, not the storage: every start rasterized and ran every taught
 * drawing through the model, and imports did it all in one task. Now a start reads no drawing (taught
 * classes start from their stored means, corrections from their stored counts: a start with 4.5 MB of
 * corrections took no longer than with none), imports are bounded and done in a worker and in batches,
 * and the one synchronous cost left, rewriting the whole value when a person saves, was 45-75 ms at 4.5 MB,
 * near the quota. IndexedDB would lift the quota (a full store is reported, see StoreFullError) at the
 * price of making every read and write asynchronous; that trade is left for game history, if it comes.
 */

import { validateDrawing } from './raster.js';

export class StoreFullError extends Error {
  constructor() {
    super("this browser's storage for the page is full, so nothing was saved (what was there is kept). "
      + 'Download your corrections and forget them, or delete taught things, to make room');
    this.name = 'StoreFullError';
  }
}

/** A stored line as a record {word, drawing}, or null when it is not one (a damaged or hostile line). */
export function readLine(line) {
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    return null;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return null;
  if (typeof record.word !== 'string') return null;
  try {
    validateDrawing(record.drawing);
  } catch {
    return null;
  }
  return record;
}

/** ndjson lines, one drawing each, under one localStorage key. */
export class NdjsonStore {
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
  }

  /** The stored value as it is (null when there is none). */
  raw() {
    return this.storage?.getItem(this.key) ?? null;
  }

  /** Every stored line, readable or not, as strings in their order. */
  lines() {
    const raw = this.raw();
    if (raw === null) return [];
    let lines;
    try {
      lines = JSON.parse(raw);
    } catch {
      return [raw]; // Not JSON: kept whole, so that no write loses it.
    }
    if (!Array.isArray(lines)) return [raw];
    return lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)));
  }

  /**
   * The readable lines as records ({word, drawing, ...}) with their line's position (`index`), and how many
   * lines were skipped because they could not be read.
   */
  read() {
    const records = [];
    let skipped = 0;
    this.lines().forEach((line, index) => {
      const record = readLine(line);
      if (record === null) skipped += 1;
      else records.push({ ...record, index });
    });
    return { records, skipped };
  }

  /** The readable lines as records. */
  records() {
    return this.read().records;
  }

  /** Write these lines; throws StoreFullError, changing nothing, when the browser's quota is reached. */
  save(lines) {
    setItem(this.storage, this.key, JSON.stringify(lines));
  }

  /** Add lines at the end; returns the number of lines stored. */
  append(newLines) {
    const lines = [...this.lines(), ...newLines];
    this.save(lines);
    return lines.length;
  }

  /**
   * Rewrite the readable lines: change(record) returns the record to keep (changed or not) or null to drop
   * it. Unreadable lines are kept as they were: a line that could not be read is never written away.
   */
  rewrite(change) {
    const kept = [];
    for (const line of this.lines()) {
      const record = readLine(line);
      if (record === null) {
        kept.push(line);
        continue;
      }
      const changed = change(record);
      if (changed === record) kept.push(line);
      else if (changed !== null) kept.push(JSON.stringify(changed));
    }
    this.save(kept);
  }

  remove() {
    this.storage?.removeItem(this.key);
  }

  /** The readable lines as ndjson text, and how many were left out. */
  toNdjson() {
    const lines = this.lines();
    const readable = lines.filter((line) => readLine(line) !== null);
    return { text: readable.map((line) => `${line}\n`).join(''), skipped: lines.length - readable.length };
  }
}

/** Whether a storage error means the quota is reached (its name differs between browsers). */
export function isQuotaError(error) {
  return error?.name === 'QuotaExceededError' || error?.name === 'NS_ERROR_DOM_QUOTA_REACHED' || error?.code === 22;
}

/** Write one value, turning a full store into a StoreFullError (changing nothing). */
export function setItem(storage, key, value) {
  try {
    storage.setItem(key, value);
  } catch (error) {
    if (isQuotaError(error)) throw new StoreFullError();
    throw error;
  }
}
