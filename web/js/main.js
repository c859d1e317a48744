/**
 * Wiring: canvas events -> drawing -> raster -> model -> ui. Loaded by index.html as an ES module.
 *
 * Predictions run while a stroke is drawn and when it ends, at most once per animation frame; the newest
 * input wins (see requestPrediction). Each result fires a `sketch:prediction` event on window, which the browser
 * tests and benchmarks listen to; `window.sketch` exposes the same objects to them.
 */

import { DrawingCanvas } from './canvas.js';
import { Corrections } from './corrections.js';
import { Drawing } from './drawing.js';
import { createPredictor } from './model.js';
import { rasterize } from './raster.js';
import { download, parseNdjson, toNdjsonLine, toPngBlob } from './share.js';
import * as ui from './ui.js';

const params = new URLSearchParams(window.location.search);
const drawing = new Drawing();
const canvas = new DrawingCanvas(document.getElementById('canvas'));
const state = {
  predictor: null, backend: '', labels: [], threshold: 0.5, topLabel: '', replaying: false,
};
const corrections = new Corrections();

// Prediction scheduling: at most one prediction per animation frame, newest input wins. The first input
// of a frame is predicted at once (waiting for the next frame would add up to 16 ms for nothing); more
// input in the same frame waits for the next one; input during a running prediction is taken up when it
// ends. Nothing queues: each prediction reads the strokes as they are when it starts.
let frameRequested = false;
let predictedThisFrame = false;
let busy = false;
let dirty = false;
let oldestUnservedInput = null;

function requestPrediction(inputTime = performance.now()) {
  dirty = true;
  if (oldestUnservedInput === null) oldestUnservedInput = inputTime;
  if (busy) return; // The running prediction requests again when it ends.
  if (!predictedThisFrame) {
    startPrediction();
  } else if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      startPrediction();
    });
  }
}

function startPrediction() {
  if (busy || !dirty || !state.predictor) return;
  predictedThisFrame = true;
  requestAnimationFrame(() => {
    predictedThisFrame = false;
  });
  runPrediction();
}

async function runPrediction() {
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
    // Cleared (or undone to nothing) while this prediction ran: its result is stale, show nothing.
    if (drawing.isEmpty && canvas.stroke === null) return;
    state.topLabel = ui.showPredictions(state.labels, probabilities, state.threshold);
    ui.showInfo({ backend: state.backend, milliseconds, where: state.predictor.where });
    const detail = {
      probabilities: Array.from(probabilities),
      labels: state.labels,
      strokes: strokes.length,
      inProgress: canvas.stroke !== null,
      predictMilliseconds: milliseconds,
      // From the pointer event to the guess written into the page, which is painted in the coming frame.
      inputToScreenMilliseconds: performance.now() - inputTime,
    };
    requestAnimationFrame(() => {
      // The next frame's start: an upper bound on when the guess was on screen.
      detail.inputToNextFrameMilliseconds = performance.now() - inputTime;
      window.dispatchEvent(new CustomEvent('sketch:prediction', { detail }));
    });
  } catch (error) {
    ui.showStatus(`Could not guess: ${error.message}`, { unsure: true });
  } finally {
    busy = false;
    if (dirty) requestPrediction();
  }
}

function drawingChanged(inputTime = performance.now()) {
  canvas.show(drawing.strokes);
  ui.setHistoryButtons(drawing);
  ui.showCorrections(corrections.count, !drawing.isEmpty);
  ui.showHint(drawing.isEmpty && canvas.stroke === null);
  if (drawing.isEmpty) {
    dirty = false;
    oldestUnservedInput = null;
    ui.clearPredictions();
  } else {
    requestPrediction(inputTime);
  }
}

canvas.addEventListener('strokestart', (event) => {
  ui.showHint(false);
  requestPrediction(event.detail.time);
});
canvas.addEventListener('strokemove', (event) => requestPrediction(event.detail.time));
canvas.addEventListener('strokeend', (event) => {
  drawing.add(event.detail.stroke);
  drawingChanged(event.detail.time);
});

const actions = {
  undo: () => !state.replaying && drawing.undo() && drawingChanged(),
  redo: () => !state.replaying && drawing.redo() && drawingChanged(),
  clear: () => !state.replaying && drawing.clear() && drawingChanged(),
};

// Sharing: the drawing as a PNG or as one line of the dataset's ndjson format.
document.getElementById('download-png').addEventListener('click', async () => {
  if (drawing.isEmpty) return;
  download(await toPngBlob(drawing.strokes), 'sketch.png');
});
document.getElementById('download-ndjson').addEventListener('click', () => {
  if (drawing.isEmpty) return;
  const line = toNdjsonLine(drawing.strokes, state.topLabel);
  download(new Blob([`${line}\n`], { type: 'application/x-ndjson' }), 'sketch.ndjson');
});

/** Draw a loaded drawing stroke by stroke, point by point, with live guesses, as if it were drawn now. */
async function replay(loaded) {
  state.replaying = true;
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  // Drawing units span the canvas; leave a margin as a person would.
  const place = (value) => Math.round((12 + value * (231 / 255)) * 100) / 100;
  try {
    drawing.clear();
    drawingChanged();
    for (const [xs, ys] of loaded) {
      canvas.stroke = [[place(xs[0])], [place(ys[0])]];
      for (let i = 1; i < xs.length; i++) {
        canvas.stroke[0].push(place(xs[i]));
        canvas.stroke[1].push(place(ys[i]));
        canvas.redraw();
        requestPrediction();
        if (i % 2 === 0) await frame();
      }
      const stroke = canvas.stroke;
      canvas.stroke = null;
      drawing.add(stroke);
      drawingChanged();
      await frame();
    }
  } finally {
    state.replaying = false;
  }
}

async function loadDrawing(text, source) {
  let loaded;
  try {
    loaded = parseNdjson(text);
  } catch (error) {
    ui.showMessage(`Could not load ${source}: ${error.message}. Your drawing is unchanged.`, { error: true });
    return;
  }
  ui.showMessage(`Replaying ${loaded.word ? `a drawing of ${loaded.word}` : 'the drawing'} from ${source}.`);
  await replay(loaded.drawing);
  window.dispatchEvent(new CustomEvent('sketch:replayed'));
}
document.getElementById('load-file').addEventListener('change', async (event) => {
  const [file] = event.target.files;
  if (file) await loadDrawing(await file.text(), file.name);
  event.target.value = '';
});
document.getElementById('replay').addEventListener('click', () => {
  loadDrawing(document.getElementById('load-text').value, 'the pasted text');
});

// Teaching: a wrong guess can be corrected; corrections stay in this browser until downloaded.
document.getElementById('teach').addEventListener('submit', (event) => {
  event.preventDefault();
  if (drawing.isEmpty) return;
  const label = document.getElementById('correct-label').value;
  corrections.add(drawing.strokes, label);
  ui.showCorrections(corrections.count, true);
  ui.showMessage(`Saved as ${label}. Thank you: download your corrections to train on them.`);
});
document.getElementById('download-corrections').addEventListener('click', () => {
  download(new Blob([corrections.toNdjson()], { type: 'application/x-ndjson' }), 'corrections.ndjson');
});
document.getElementById('forget-corrections').addEventListener('click', () => {
  corrections.clear();
  ui.showCorrections(0, !drawing.isEmpty);
  ui.showMessage('Your saved corrections were deleted from this browser.');
});
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
  ui.showCorrections(corrections.count, false);
  ui.showPreview(null);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js')
      .catch((error) => console.info(`offline use is unavailable: ${error.message}`));
  }
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
  let samples = {};
  try {
    samples = (await (await fetch('gallery.json')).json()).samples ?? {};
  } catch {
    // The gallery is decoration: without it the class names still show.
  }
  ui.showClasses(state.labels, samples);
  state.predictor = await createPredictor({
    modelUrl: 'model/model.json',
    labels: state.labels,
    backend: params.get('backend') || undefined,
  });
  state.backend = state.predictor.describe(); // Once: the backend does not change after loading.
  ui.showInfo({ backend: state.backend, where: state.predictor.where });
  document.body.dataset.backend = state.predictor.backend;
  document.body.dataset.ready = 'true';
  window.sketch.readyAt = performance.now(); // Navigation start is 0: this is the cold start.
  if (drawing.isEmpty && canvas.stroke === null) ui.clearPredictions();
  else requestPrediction();
}

window.sketch = {
  drawing,
  state,
  rasterize,
  corrections,
  /** Probabilities for a whole drawing, bypassing the canvas (parity tests and benchmarks). */
  predictStrokes: (strokes) => state.predictor.predict({ bitmap: rasterize(strokes), strokes }),
  ready: start(),
};
