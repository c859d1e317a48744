/**
 * Rasterizing off the main thread: the page's side of raster-worker.js, and the pure pieces both sides run.
 *
 * Why a worker: rasterizing grows with a drawing's points (web/js/raster.js states the bounds), and a
 * drawing within the limits can take a good part of a second. On the main thread that stalled every
 * pointer move of a long stroke and every frame of a replay. The worker keeps a copy of the drawing that
 * the page updates with small messages: `set` (the finished strokes, once per change), `extend` (a stroke
 * in progress, by its new points only) and `rasterize` (the first `points` points, or all), so the page's
 * work per pointer move stays the new points and the canvas segment, however long the stroke. A drawing
 * over the bound on ink is answered with where its last stroke must end to fit (inkCut), so the page ends a
 * stroke there without rasterizing on the main thread.
 *
 * Where module workers cannot start, the same code runs in the page (the page's mirror of the drawing is
 * kept for that), so results never depend on which side ran them.
 */

import {
  MAX_CROSSINGS, TooMuchInkError, inkCrossings, normalize, rasterize,
} from './raster.js';
import { parseNdjson } from './share.js';

/** The drawing as the worker holds it: finished strokes, and the stroke in progress as the last one. */
export class DrawingState {
  constructor() {
    this.strokes = [];
    this.ownStroke = -1; // the stroke whose arrays `extend` made, so they may grow in place
  }

  apply(message) {
    if (message.type === 'set') {
      this.strokes = [...message.strokes]; // finished strokes are never changed, only replaced
      this.ownStroke = -1;
    } else if (message.type === 'extend') {
      // The stroke at `index` from point `from` on is these points; strokes after it are dropped.
      const { index, from, xs, ys } = message;
      this.strokes.length = Math.min(this.strokes.length, index + 1);
      const stroke = this.strokes[index];
      if (from === 0 || !stroke || this.ownStroke !== index) {
        const [oldXs, oldYs] = stroke ?? [[], []];
        this.strokes[index] = [[...oldXs.slice(0, from), ...xs], [...oldYs.slice(0, from), ...ys]];
        this.ownStroke = index;
      } else {
        stroke[0].length = from;
        stroke[1].length = from;
        stroke[0].push(...xs);
        stroke[1].push(...ys);
      }
    }
  }

  /** The first `points` points of the drawing (all when undefined). */
  firstPoints(points) {
    return points === undefined ? this.strokes : firstPoints(this.strokes, points);
  }

  /**
   * {bitmap} of the first `points` points (all when undefined), or, when their ink is over MAX_CROSSINGS,
   * {bitmap: null, cut: {keep, crossings}}: where the last stroke must end for the drawing to fit (inkCut).
   * The worker answers a refusal this way so that the page can end a stroke in progress without rasterizing
   * anything itself.
   */
  rasterize(points) {
    const strokes = this.firstPoints(points);
    try {
      return { bitmap: rasterize(strokes) };
    } catch (error) {
      if (!(error instanceof TooMuchInkError)) throw error;
      return { bitmap: null, cut: { keep: inkCut(strokes), crossings: error.crossings } };
    }
  }
}

/**
 * How many points of the last stroke the drawing can keep within MAX_CROSSINGS (0: the stroke is dropped),
 * given that the other strokes fit. A binary search over the stroke's prefixes, counting crossings without
 * rendering: about 13 normalizations at MAX_POINTS, run once, when a stroke passes the limit. (A longer
 * prefix almost always has more ink; where rescaling makes it not so, the search still ends on a prefix
 * that fits, next to one that does not.)
 */
export function inkCut(strokes) {
  const rest = strokes.slice(0, -1);
  const [xs, ys] = strokes[strokes.length - 1];
  const fits = (count) => count === 0
    || inkCrossings(normalize([...rest, [xs.slice(0, count), ys.slice(0, count)]])) <= MAX_CROSSINGS;
  let keep = 0;
  let over = xs.length;
  if (fits(over)) return over;
  while (over - keep > 1) {
    const middle = Math.floor((keep + over) / 2);
    if (fits(middle)) keep = middle;
    else over = middle;
  }
  return keep;
}

/** The first `count` points of a drawing, stroke by stroke (a replay's frame). */
export function firstPoints(strokes, count) {
  const result = [];
  let left = count;
  for (const [xs, ys] of strokes) {
    if (left <= 0) break;
    result.push(left >= xs.length ? [xs, ys] : [xs.slice(0, left), ys.slice(0, left)]);
    left -= xs.length;
  }
  return result;
}

/** Drawings (any scale) to {drawings: normalized, bitmaps}; a drawing that fails is null in both. */
export function prepareMany(drawings) {
  const prepared = { drawings: [], bitmaps: [] };
  for (const drawing of drawings) {
    try {
      const normalized = normalize(drawing);
      // The bitmap of the stored (normalized) drawing, as a rebuild from the store would make it.
      prepared.bitmaps.push(rasterize(normalized));
      prepared.drawings.push(normalized);
    } catch {
      prepared.drawings.push(null);
      prepared.bitmaps.push(null);
    }
  }
  return prepared;
}

/**
 * ndjson text to {records: [{word, drawing}], bitmaps, skipped, notJson, more}: at most `limit` drawings
 * are read (the lines after them are only counted, in `more`), and lines that are not drawings within the
 * limits are counted in `skipped`, those of them that are not JSON at all also in `notJson` (so that a file
 * of another kind is called that). `refuse`: words that are not taken (counted as skipped).
 */
export function parseMany(text, limit, refuse = [], onProgress = () => {}) {
  const refused = new Set(refuse);
  const result = {
    records: [], bitmaps: [], skipped: 0, notJson: 0, more: 0,
  };
  for (const line of String(text).split('\n')) {
    if (!line.trim()) continue;
    if (result.records.length >= limit) {
      result.more += 1;
      continue;
    }
    try {
      const { word, drawing } = parseNdjson(line);
      if (!word.trim() || refused.has(word.trim())) throw new Error('not a usable name');
      result.bitmaps.push(rasterize(drawing));
      result.records.push({ word, drawing });
      onProgress(result.records.length);
    } catch {
      result.skipped += 1;
      if (!isJson(line)) result.notJson += 1;
    }
  }
  return result;
}

function isJson(text) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The answer to one request ({type: 'rasterize' | 'rasterize-many' | 'parse-one' | 'parse-many', ...}), or
 * {error}: what the worker posts back and what the page computes itself where no worker runs.
 */
export function answer(state, message) {
  try {
    if (message.type === 'rasterize') return state.rasterize(message.points);
    if (message.type === 'rasterize-many') return prepareMany(message.drawings);
    if (message.type === 'parse-one') return parseNdjson(message.text);
    if (message.type === 'parse-many') return parseMany(message.text, message.limit, message.refuse);
    return { error: `unknown request ${message.type}` };
  } catch (error) {
    return { error: error.message };
  }
}

/** The page's handle on the worker (or, where it cannot start, on the same work done in the page). */
export class Rasterizer {
  constructor() {
    this.mirror = new DrawingState();
    this.pending = new Map();
    this.nextId = 0;
    this.worker = null;
    try {
      this.worker = new Worker(new URL('./raster-worker.js', import.meta.url), { type: 'module' });
      this.worker.addEventListener('message', ({ data }) => this.settle(data));
      this.worker.addEventListener('error', (event) => this.fallBack(event.message || 'the worker failed'));
    } catch (error) {
      this.fallBack(error.message);
    }
  }

  get where() {
    return this.worker ? 'worker' : 'page';
  }

  fallBack(reason) {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    console.info(`rasterizing in the page (no worker: ${reason})`);
    // What was sent to the worker and not answered is done here instead.
    for (const [id, { message }] of this.pending) this.settle({ id, ...answer(this.mirror, message) });
  }

  post(message) {
    this.mirror.apply(message);
    this.worker?.postMessage(message);
  }

  /** The drawing's finished strokes (never changed in place: a change replaces the list). */
  set(strokes) {
    this.post({ type: 'set', strokes });
  }

  /** The stroke at `index` holds `stroke`'s points; those from `from` on are new. */
  extend(index, from, [xs, ys]) {
    this.post({ type: 'extend', index, from, xs: xs.slice(from), ys: ys.slice(from) });
  }

  /** {bitmap} of the drawing's first `points` points (all when undefined), or {cut} (DrawingState.rasterize). */
  rasterize(points) {
    return this.request({ type: 'rasterize', points });
  }

  /** Normalized drawings and their bitmaps (taught drawings); a drawing that fails is null in both. */
  prepare(drawings) {
    return this.request({ type: 'rasterize-many', drawings });
  }

  /** The first drawing of ndjson text as {word, drawing (normalized)}; rejects with what is wrong. */
  parseOne(text) {
    return this.request({ type: 'parse-one', text });
  }

  /** See parseMany. */
  parse(text, limit, refuse) {
    return this.request({ type: 'parse-many', text, limit, refuse });
  }

  request(message) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { message, resolve, reject });
      if (this.worker) this.worker.postMessage({ ...message, id });
      else this.settle({ id, ...answer(this.mirror, message) });
    });
  }

  settle({ id, error, ...result }) {
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    if (error) waiting.reject(new Error(error));
    else waiting.resolve(result);
  }
}
