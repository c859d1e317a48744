/**
 * A localStorage stand-in for the Node tests (tests/js/*.test.js): strings by key, and `full`, which makes
 * every write fail the way a browser's full store does (QuotaExceededError, code 22).
 */
export class MemoryStorage {
  constructor() {
    this.items = new Map();
    this.full = false;
  }

  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }

  setItem(key, value) {
    if (this.full) throw Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError', code: 22 });
    this.items.set(key, String(value));
  }

  removeItem(key) { this.items.delete(key); }
}
