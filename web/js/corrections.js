/**
 * Drawings kept in this browser only (localStorage), as ndjson lines: the store, and the corrections made
 * with it (drawings the person labelled when the guess was wrong), downloadable as ndjson for
 * `python -m training.train --extra-strokes FILE`. web/js/taught.js keeps taught classes in the same store.
 */

import { toNdjsonLine } from './share.js';

/** ndjson lines, one drawing each, under one localStorage key; a damaged store counts as empty. */
export class NdjsonStore {
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
  }

  lines() {
    try {
      const lines = JSON.parse(this.storage?.getItem(this.key) ?? '[]');
      return Array.isArray(lines) ? lines.filter((line) => typeof line === 'string') : [];
    } catch {
      return [];
    }
  }

  /** The lines as records ({word, drawing, ...}). */
  records() {
    try {
      return this.lines().map((line) => JSON.parse(line));
    } catch {
      return [];
    }
  }

  save(lines) {
    this.storage.setItem(this.key, JSON.stringify(lines));
  }

  toNdjson() {
    return this.lines().map((line) => `${line}\n`).join('');
  }
}

export class Corrections extends NdjsonStore {
  constructor(storage = globalThis.localStorage) {
    super(storage, 'sketch.corrections');
    this.cachedCount = null;
  }

  /** Asked at every stroke's end, so the store is parsed once and the count kept after that. */
  get count() {
    this.cachedCount ??= this.lines().length;
    return this.cachedCount;
  }

  add(strokes, word) {
    const lines = [...this.lines(), toNdjsonLine(strokes, word)];
    this.save(lines);
    this.cachedCount = lines.length;
    return lines.length;
  }

  clear() {
    this.storage.removeItem(this.key);
    this.cachedCount = 0;
  }
}
