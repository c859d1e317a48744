/**
 * Drawings in and out of the page: one line of the Quick, Draw! ndjson format, and a PNG.
 * Parsing is pure (tested under node --test); the PNG and download helpers use the DOM.
 */

import { setInk, traceStroke } from './ink.js';
import {
  MAX_CROSSINGS, inkCrossings, normalize, tooMuchInkMessage, validateDrawing,
} from './raster.js';

/** One ndjson line in the dataset's simplified format: strokes normalized to 0..255 integers. */
export function toNdjsonLine(strokes, word = '', now = new Date()) {
  return recordLine(normalize(strokes), word, now);
}

/** One ndjson line of a drawing already normalized (taught drawings: the features were made from it). */
export function recordLine(drawing, word = '', now = new Date()) {
  const record = {
    word,
    countrycode: '',
    timestamp: now.toISOString().replace('T', ' ').replace('Z', ' UTC'),
    recognized: false,
    key_id: String(Math.floor(Math.random() * 1e16)),
    drawing,
  };
  return JSON.stringify(record);
}

/**
 * The drawing of the first record in ndjson text (a file or a pasted line). Throws an Error that says
 * what is wrong, so the caller can show it and leave the current drawing as it is.
 */
export function parseNdjson(text) {
  const line = String(text).split('\n').map((part) => part.trim()).find((part) => part !== '');
  if (!line) throw new Error('there is no drawing in it: it is empty');
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    throw new Error('its first line is not JSON');
  }
  if (record === null || typeof record !== 'object' || !('drawing' in record)) {
    throw new Error('its first line has no "drawing" field');
  }
  try {
    validateDrawing(record.drawing);
  } catch (error) {
    throw new Error(`its drawing is not valid: ${error.message}`);
  }
  const drawing = normalize(record.drawing);
  // The bound on ink holds for a loaded drawing as the limits on points and strokes do: refused on loading,
  // not first when it is guessed.
  const crossings = inkCrossings(drawing);
  if (crossings > MAX_CROSSINGS) throw new Error(`its drawing is not valid: ${tooMuchInkMessage(crossings)}`);
  return { word: typeof record.word === 'string' ? record.word : '', drawing };
}

/** The drawing as a PNG: dark ink on white, at `size` pixels square. */
export function toPngBlob(strokes, size = 512) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, size, size);
  setInk(context, '#111111', Math.max(2, size / 100));
  for (const stroke of strokes) traceStroke(context, stroke, size / 255);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

export function download(blob, fileName) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
