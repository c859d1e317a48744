/**
 * The rasterizer's worker: strokes to the model's 28x28 input off the main thread, so that a long stroke
 * or a big import never holds up drawing, replays or the rest of the page. Started by rasterizer.js, which
 * describes the messages; it keeps its own copy of the drawing, which the page updates by small messages
 * (a stroke in progress grows by its new points only), so no message grows with the drawing.
 */

import { DrawingState, answer } from './rasterizer.js';

const state = new DrawingState();

self.addEventListener('message', ({ data }) => {
  const { id, ...message } = data;
  if (id === undefined) {
    state.apply(message); // set or extend: the drawing changes, nothing is answered
    return;
  }
  const result = answer(state, message);
  self.postMessage({ id, ...result }, result.bitmap ? [result.bitmap.buffer] : []);
});
