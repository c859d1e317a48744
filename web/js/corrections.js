/**
 * Corrections: drawings the person labelled when the guess was wrong, kept in this browser only (the
 * store, store.js) and downloadable as ndjson for `python -m training.train --extra-strokes FILE`.
 */

import { toNdjsonLine } from './share.js';
import { NdjsonStore, setItem } from './store.js';

export class Corrections extends NdjsonStore {
  constructor(storage = globalThis.localStorage) {
    super(storage, 'sketch.corrections');
    // The counts are kept beside the lines with the length of the value they were made from, so that a
    // start reads no line (reading 4.5 MB of them took 225 ms here); they are made again when that differs.
    this.countsKey = 'sketch.corrections-counts';
    this.counted = null;
  }

  /** Readable corrections and skipped (unreadable) lines: from the stored counts, or read once. */
  counts() {
    if (this.counted === null) {
      const raw = this.raw();
      let known = null;
      try {
        known = JSON.parse(this.storage?.getItem(this.countsKey) ?? 'null');
      } catch {
        known = null;
      }
      if (raw === null) {
        this.counted = { count: 0, skipped: 0 };
      } else if (known?.length === raw.length && Number.isInteger(known.count) && Number.isInteger(known.skipped)) {
        this.counted = { count: known.count, skipped: known.skipped };
      } else {
        const { records, skipped } = this.read();
        this.counted = { count: records.length, skipped };
        this.saveCounts();
      }
    }
    return this.counted;
  }

  saveCounts() {
    try {
      setItem(this.storage, this.countsKey, JSON.stringify({ length: this.raw()?.length ?? 0, ...this.counted }));
    } catch {
      this.storage?.removeItem(this.countsKey); // no room: counted again at the next start
    }
  }

  /** Asked at every stroke's end, so the store is read once and the count kept after that. */
  get count() {
    return this.counts().count;
  }

  /**
   * Add one correction; returns the count. Throws (nothing saved) when the drawing is over the limits or
   * the store is full (StoreFullError).
   */
  add(strokes, word) {
    const line = toNdjsonLine(strokes, word);
    const { count, skipped } = this.counts();
    this.append([line]);
    this.counted = { count: count + 1, skipped };
    this.saveCounts();
    return count + 1;
  }

  clear() {
    this.remove();
    this.storage?.removeItem(this.countsKey);
    this.counted = { count: 0, skipped: 0 };
  }
}
