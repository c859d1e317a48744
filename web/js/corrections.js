/**
 * Corrections: drawings the person labelled when the guess was wrong, kept in this browser only
 * (localStorage), downloadable as ndjson for `python -m training.train --extra-strokes FILE`.
 */

import { toNdjsonLine } from './share.js';

const KEY = 'sketch.corrections';

export class Corrections {
  constructor(storage = globalThis.localStorage) {
    this.storage = storage;
    this.cachedCount = null;
  }

  /** The saved ndjson lines; a damaged store counts as empty rather than breaking the page. */
  lines() {
    try {
      const lines = JSON.parse(this.storage?.getItem(KEY) ?? '[]');
      return Array.isArray(lines) ? lines.filter((line) => typeof line === 'string') : [];
    } catch {
      return [];
    }
  }

  /** Asked at every stroke's end, so the store is parsed once and the count kept after that. */
  get count() {
    this.cachedCount ??= this.lines().length;
    return this.cachedCount;
  }

  add(strokes, word) {
    const lines = [...this.lines(), toNdjsonLine(strokes, word)];
    this.storage.setItem(KEY, JSON.stringify(lines));
    this.cachedCount = lines.length;
    return lines.length;
  }

  clear() {
    this.storage.removeItem(KEY);
    this.cachedCount = 0;
  }

  toNdjson() {
    return this.lines().map((line) => `${line}\n`).join('');
  }
}
