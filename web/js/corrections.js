/**
 * Corrections: drawings the person labelled when the guess was wrong, kept in this browser only
 * (localStorage), downloadable as ndjson for `python -m training.train --extra-strokes FILE`.
 */

import { toNdjsonLine } from './share.js';

const KEY = 'sketch.corrections';

export class Corrections {
  constructor(storage = globalThis.localStorage) {
    this.storage = storage;
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

  get count() {
    return this.lines().length;
  }

  add(strokes, word) {
    const lines = [...this.lines(), toNdjsonLine(strokes, word)];
    this.storage.setItem(KEY, JSON.stringify(lines));
    return lines.length;
  }

  clear() {
    this.storage.removeItem(KEY);
  }

  toNdjson() {
    return this.lines().map((line) => `${line}\n`).join('');
  }
}
