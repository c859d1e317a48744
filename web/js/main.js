/**
 * Wiring: canvas events -> drawing -> raster -> model -> ui. Loaded by index.html as an ES module.
 *
 * Predictions run while a stroke is drawn and when it ends, at most once per animation frame; the newest
 * input wins (a prediction that is still running is never queued behind, it is simply followed by one
 * on the newest strokes). Each result fires a `sketch:prediction` event on window, which the browser
 * tests and benchmarks listen to; `window.sketch` exposes the same objects to them.
 */

import { DrawingCanvas } from './canvas.js';
import { Drawing } from './drawing.js';
import { createPredictor } from './model.js';
import { rasterize } from './raster.js';
import * as ui from './ui.js';

const params = new URLSearchParams(window.location.search);
const drawing = new Drawing();
const canvas = new DrawingCanvas(document.getElementById('canvas'));
const state = { predictor: null, labels: [], threshold: 0.5 };

// Prediction scheduling: one animation frame at a time, newest input wins.
let frameRequested = false;
let busy = false;
let dirty = false;
let oldestUnservedInput = null;

function requestPrediction(inputTime = performance.now()) {
  dirty = true;
  if (oldestUnservedInput === null) oldestUnservedInput = inputTime;
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(runPrediction);
  }
}

async function runPrediction() {
  frameRequested = false;
  if (busy || !dirty || !state.predictor) return; // When busy, the running prediction re-requests.
  dirty = false;
  busy = true;
  const inputTime = oldestUnservedInput;
  oldestUnservedInput = null;
  const strokes = drawing.withStroke(canvas.stroke);
  try {
    if (strokes.length === 0) {
      ui.clearPredictions();
      return;
    }
    const bitmap = rasterize(strokes);
    ui.showPreview(bitmap);
    const started = performance.now();
    const probabilities = await state.predictor.predict({ bitmap, strokes });
    const milliseconds = performance.now() - started;
    if (dirty && drawing.withStroke(canvas.stroke).length === 0) return; // Cleared meanwhile.
    ui.showPredictions(state.labels, probabilities, state.threshold);
    ui.showInfo({ backend: state.predictor.describe(), milliseconds, where: state.predictor.where });
    window.dispatchEvent(new CustomEvent('sketch:prediction', {
      detail: {
        probabilities: Array.from(probabilities),
        labels: state.labels,
        strokes: strokes.length,
        inProgress: canvas.stroke !== null,
        predictMilliseconds: milliseconds,
        inputToScreenMilliseconds: performance.now() - inputTime,
      },
    }));
  } catch (error) {
    ui.showStatus(`Could not guess: ${error.message}`, { unsure: true });
  } finally {
    busy = false;
    if (dirty) requestPrediction();
  }
}

function drawingChanged() {
  canvas.show(drawing.strokes);
  ui.setHistoryButtons(drawing);
  ui.showHint(drawing.isEmpty && canvas.stroke === null);
  if (drawing.isEmpty) {
    dirty = false;
    ui.clearPredictions();
  } else {
    requestPrediction();
  }
}

canvas.addEventListener('strokestart', () => {
  ui.showHint(false);
  requestPrediction();
});
canvas.addEventListener('strokemove', () => requestPrediction());
canvas.addEventListener('strokeend', (event) => {
  drawing.add(event.detail.stroke);
  drawingChanged();
});

const actions = {
  undo: () => drawing.undo() && drawingChanged(),
  redo: () => drawing.redo() && drawingChanged(),
  clear: () => drawing.clear() && drawingChanged(),
};
for (const [id, action] of Object.entries(actions)) {
  document.getElementById(id).addEventListener('click', action);
}
document.addEventListener('keydown', (event) => {
  if (event.target.closest?.('input, textarea, select')) return;
  const key = event.key.toLowerCase();
  const command = event.ctrlKey || event.metaKey;
  let action = null;
  if (command && key === 'z') action = event.shiftKey ? actions.redo : actions.undo;
  else if (command && key === 'y') action = actions.redo;
  else if (key === 'escape') action = actions.clear;
  if (action) {
    event.preventDefault();
    action();
  }
});

async function start() {
  ui.setHistoryButtons(drawing);
  ui.showPreview(null);
  let metadata;
  try {
    const response = await fetch('model/metadata.json');
    if (!response.ok) throw new Error(`model/metadata.json: ${response.status}`);
    metadata = await response.json();
  } catch (error) {
    ui.showStatus(`The model could not be loaded (${error.message}). Reload to try again.`);
    return;
  }
  state.labels = metadata.labels;
  state.threshold = metadata.confidence_threshold ?? 0.5;
  ui.showClasses(state.labels);
  state.predictor = await createPredictor({
    modelUrl: 'model/model.json',
    labels: state.labels,
    backend: params.get('backend') || undefined,
  });
  ui.showInfo({ backend: state.predictor.describe(), where: state.predictor.where });
  document.body.dataset.backend = state.predictor.backend;
  document.body.dataset.ready = 'true';
  if (drawing.isEmpty && canvas.stroke === null) ui.clearPredictions();
  else requestPrediction();
}

window.sketch = {
  drawing,
  state,
  rasterize,
  /** Probabilities for a whole drawing, bypassing the canvas (parity tests and benchmarks). */
  predictStrokes: (strokes) => state.predictor.predict({ bitmap: rasterize(strokes), strokes }),
  ready: start(),
};
