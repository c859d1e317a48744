/**
 * The rasterizer's worker: strokes to the model's 28x28 input off the main thread, so that a long stroke
 * or a big import never holds up drawing, replays or the rest of the page. Started by rasterizer.js, which
 * describes the messages; it keeps its own copy of the drawing, which the page updates by small messages
 * (a stroke in progress grows by its new points only), so no message grows with the drawing.
 */

import { DrawingState, prepareMany, parseMany } from './rasterizer.js';
import { parseNdjson } from './share.js';

const state = new DrawingState();

self.addEventListener('message', ({ data }) => {
  const { id, type } = data;
  try {
    if (type === 'rasterize-many') {
      self.postMessage({ id, ...prepareMany(data.drawings) });
    } else if (type === 'parse-one') {
      self.postMessage({ id, ...parseNdjson(data.text) });
    } else if (type === 'parse-many') {
      self.postMessage({ id, ...parseMany(data.text, data.limit, data.refuse) });
    } else if (type === 'rasterize') {
      const result = state.rasterize(data.points);
      self.postMessage({ id, ...result }, result.bitmap ? [result.bitmap.buffer] : []);
    } else {
      state.apply(data);
    }
  } catch (error) {
    if (id !== undefined) self.postMessage({ id, error: error.message });
  }
});
