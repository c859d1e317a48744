/**
 * Wiring: canvas events -> drawing -> raster -> model -> ui. Loaded by index.html as an ES module.
 *
 * Predictions run while a stroke is drawn and when it ends, at most once per animation frame; the newest
 * input wins (see the scheduler). Each result fires a `sketch:prediction` event on window, which the
 * browser tests and benchmarks listen to; `window.sketch` exposes the same objects to them. With
 * `?measure` in the address, the event waits for the next frame to also report when the guess was on
 * screen (the benchmarks); otherwise no prediction pays for that frame.
 */

import { DRAWING_SIDE, DrawingCanvas } from './canvas.js';
import { Corrections } from './corrections.js';
import { Drawing } from './drawing.js';
import { createPredictor } from './model.js';
import {
  MAX_POINTS, MAX_STROKES, rasterize, tooManyPointsMessage, tooManyStrokesMessage,
} from './raster.js';
import { download, parseNdjson, toNdjsonLine, toPngBlob } from './share.js';
import { SUGGESTED_DRAWINGS, TaughtClasses, besideSoftmax, meanOf } from './taught.js';
import * as ui from './ui.js';

const params = new URLSearchParams(window.location.search);
const measure = params.has('measure');
const drawing = new Drawing();
const canvas = new DrawingCanvas(document.getElementById('canvas'));
const state = {
  predictor: null, modelId: '', backend: '', labels: [], threshold: 0.5, topLabel: '', replay: null, samples: {},
  // Taught classes' names and means, and allLabels: the built-in classes, then the taught ones, the order of
  // every probability vector the page shows (kept, not rebuilt for each prediction).
  taught: null, taughtNames: [], taughtMeans: [], allLabels: [],
};
const corrections = new Corrections();

// A replay draws the whole loaded drawing in this long, however many points it has.
const REPLAY_MILLISECONDS = 2000;
// A loaded drawing is in the dataset's 0..255 units; it is shown with this margin (in drawing units) on
// each side of the canvas, as a person leaves one.
const REPLAY_MARGIN = 12;
// The same bound as the server's request body: an ndjson line within the limits is far smaller.
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** What the model should see now: the replay's frame, or the drawing plus the stroke being drawn. */
function currentStrokes() {
  return state.replay ? state.replay.strokes : drawing.withStroke(canvas.stroke);
}

/**
 * Prediction scheduling: at most one prediction per animation frame, newest input wins. The first input
 * of a frame is predicted at once (waiting for the next frame would add up to 16 ms for nothing); more
 * input in the same frame waits for the next one; input during a running prediction is taken up when it
 * ends. Nothing queues: each prediction reads the strokes as they are when it starts.
 */
const scheduler = {
  frameRequested: false,
  predictedThisFrame: false,
  busy: false,
  dirty: false,
  oldestUnservedInput: null,

  request(inputTime = performance.now()) {
    this.dirty = true;
    this.oldestUnservedInput ??= inputTime;
    if (this.busy) return; // The running prediction requests again when it ends.
    if (!this.predictedThisFrame) {
      this.start();
    } else if (!this.frameRequested) {
      this.frameRequested = true;
      requestAnimationFrame(() => {
        this.frameRequested = false;
        this.start();
      });
    }
  },

  /** Forget pending input (the drawing became empty). */
  reset() {
    this.dirty = false;
    this.oldestUnservedInput = null;
  },

  start() {
    if (this.busy || !this.dirty || !state.predictor) return;
    this.predictedThisFrame = true;
    requestAnimationFrame(() => {
      this.predictedThisFrame = false;
    });
    this.dirty = false;
    this.busy = true;
    const inputTime = this.oldestUnservedInput;
    this.oldestUnservedInput = null;
    runPrediction(inputTime).finally(() => {
      this.busy = false;
      if (this.dirty) this.request();
    });
  },
};

async function runPrediction(inputTime) {
  const strokes = currentStrokes();
  try {
    if (strokes.length === 0) {
      ui.clearPredictions();
      return;
    }
    const bitmap = rasterize(strokes);
    ui.showPreview(bitmap);
    const { predictor, taughtMeans, allLabels: labels } = state;
    const started = performance.now();
    let probabilities;
    if (taughtMeans.length > 0 && predictor.canBeTaught) {
      const output = await predictor.predictWithFeatures({ bitmap });
      probabilities = besideSoftmax(output.probabilities, output.features, predictor.classMeans, taughtMeans);
    } else {
      probabilities = await predictor.predict({ bitmap, strokes });
    }
    const milliseconds = performance.now() - started;
    // Cleared (or undone to nothing), another model picked or the taught classes changed while this
    // prediction ran: it is stale.
    if (currentStrokes().length === 0 || predictor !== state.predictor || taughtMeans !== state.taughtMeans) return;
    state.topLabel = ui.showPredictions(labels, probabilities, state.threshold);
    ui.showInfo({ backend: state.backend, milliseconds, where: state.predictor.where });
    const detail = {
      probabilities: Array.from(probabilities),
      labels,
      strokes: strokes.length,
      inProgress: canvas.stroke !== null,
      predictMilliseconds: milliseconds,
      // From the pointer event to the guess written into the page, which is painted in the coming frame.
      inputToScreenMilliseconds: performance.now() - inputTime,
    };
    const announce = () => window.dispatchEvent(new CustomEvent('sketch:prediction', { detail }));
    if (!measure) {
      announce();
      return;
    }
    requestAnimationFrame(() => {
      // The next frame's start: an upper bound on when the guess was on screen.
      detail.inputToNextFrameMilliseconds = performance.now() - inputTime;
      announce();
    });
  } catch (error) {
    ui.showStatus(`Could not guess: ${error.message}`, { unsure: true });
  }
}

function pointCount(strokes) {
  return strokes.reduce((total, [xs]) => total + xs.length, 0);
}

function drawingChanged(inputTime = performance.now()) {
  canvas.show(drawing.strokes);
  // The rasterizer's limits hold for drawn strokes too: the canvas stops a stroke at the last point that fits.
  canvas.pointBudget = MAX_POINTS - pointCount(drawing.strokes);
  canvas.strokeBudget = MAX_STROKES - drawing.strokes.length;
  ui.setHistoryButtons(drawing);
  ui.showCorrections(corrections.count, !drawing.isEmpty);
  ui.showHint(drawing.isEmpty && canvas.stroke === null);
  ui.enableTaughtAdd(!drawing.isEmpty);
  if (drawing.isEmpty) {
    scheduler.reset();
    ui.clearPredictions();
  } else {
    scheduler.request(inputTime);
  }
}

canvas.addEventListener('strokestart', (event) => {
  // A new stroke during a replay skips to its end: the stroke is drawn on the whole loaded drawing.
  if (state.replay) stopReplay({ finish: true });
  ui.showHint(false);
  scheduler.request(event.detail.time);
});
canvas.addEventListener('strokemove', (event) => scheduler.request(event.detail.time));
canvas.addEventListener('strokeend', (event) => {
  drawing.add(event.detail.stroke);
  drawingChanged(event.detail.time);
});
canvas.addEventListener('limit', (event) => {
  const reason = event.detail.strokes ? tooManyStrokesMessage(MAX_STROKES + 1) : tooManyPointsMessage();
  ui.showMessage(`This drawing is at its limit: ${reason}. Undo or clear to draw more.`, { error: true });
});

const actions = {
  // During a replay, Undo stops it and leaves the drawing as it was before; Clear (and Escape) stop it and clear.
  undo: () => (state.replay ? stopReplay() : drawing.undo() && drawingChanged()),
  redo: () => !state.replay && drawing.redo() && drawingChanged(),
  clear: () => {
    if (state.replay) stopReplay();
    if (drawing.clear()) drawingChanged();
  },
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

/** The first `count` points of a drawing, stroke by stroke. */
function firstPoints(strokes, count) {
  const result = [];
  let left = count;
  for (const [xs, ys] of strokes) {
    if (left <= 0) break;
    result.push(left >= xs.length ? [xs, ys] : [xs.slice(0, left), ys.slice(0, left)]);
    left -= xs.length;
  }
  return result;
}

/**
 * Draw a loaded drawing point by point, with live guesses, as if it were drawn now, in REPLAY_MILLISECONDS
 * whatever its size: each frame shows the share of points that the elapsed time calls for. The drawing
 * itself changes once, at the end (one undoable step); until then Undo, Clear, Escape or a new stroke stop
 * the replay (see actions and strokestart). Resolves true when it ran to its end.
 */
function replay(loaded) {
  const scale = (DRAWING_SIDE - 2 * REPLAY_MARGIN) / 255;
  const place = (value) => Math.round((REPLAY_MARGIN + value * scale) * 100) / 100;
  const strokes = loaded.map(([xs, ys]) => [xs.map(place), ys.map(place)]);
  const total = pointCount(strokes);
  return new Promise((resolve) => {
    const started = performance.now();
    let frames = 0;
    const current = {
      strokes: [], loaded: strokes, frames: 0, started, resolve,
    };
    state.replay = current;
    ui.showHint(false);
    const step = () => {
      if (state.replay !== current) return; // Stopped: stopReplay resolved it.
      frames += 1;
      current.frames = frames;
      const shown = Math.min(total, Math.max(1, Math.ceil((total * (performance.now() - started)) / REPLAY_MILLISECONDS)));
      current.strokes = firstPoints(strokes, shown);
      canvas.show(current.strokes);
      scheduler.request();
      if (shown < total) {
        requestAnimationFrame(step);
      } else {
        stopReplay({ finish: true });
      }
    };
    requestAnimationFrame(step);
  });
}

/** End the running replay: with finish, the loaded drawing becomes the drawing; else nothing changes. */
function stopReplay({ finish = false } = {}) {
  const current = state.replay;
  if (!current) return;
  state.replay = null;
  if (finish) {
    drawing.replace(current.loaded);
  } else {
    ui.showMessage('Replay stopped. Your drawing is as it was before it.');
  }
  drawingChanged();
  const detail = { finished: finish, frames: current.frames, milliseconds: performance.now() - current.started };
  window.dispatchEvent(new CustomEvent('sketch:replayed', { detail }));
  current.resolve(finish);
}

async function loadDrawing(text, source) {
  let loaded;
  try {
    loaded = parseNdjson(text);
  } catch (error) {
    ui.showMessage(`Could not load ${source}: ${error.message}. Your drawing is unchanged.`, { error: true });
    return;
  }
  if (state.replay) stopReplay();
  ui.showMessage(`Replaying ${loaded.word ? `a drawing of ${loaded.word}` : 'the drawing'} from ${source}.`);
  await replay(loaded.drawing);
}
document.getElementById('load-file').addEventListener('change', async (event) => {
  const [file] = event.target.files;
  event.target.value = '';
  if (!file) return;
  // Read at most what a drawing within the limits can take, so a huge file cannot stall the page.
  if (file.size > MAX_FILE_BYTES) {
    ui.showMessage(`Could not load ${file.name}: it is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB. `
      + 'Your drawing is unchanged.', { error: true });
    return;
  }
  await loadDrawing(await file.text(), file.name);
});
document.getElementById('replay').addEventListener('click', () => {
  loadDrawing(document.getElementById('load-text').value, 'the pasted text');
});

// Teaching: a wrong guess can be corrected; corrections stay in this browser until downloaded.
// Nothing is preselected: Save stays disabled until the person picks what the drawing is.
document.getElementById('teach').addEventListener('submit', (event) => {
  event.preventDefault();
  const label = document.getElementById('correct-label').value;
  if (drawing.isEmpty || !label) return;
  corrections.add(drawing.strokes, label);
  ui.resetCorrectionChoice();
  ui.showCorrections(corrections.count, true);
  ui.showMessage(`Saved as ${label}. Thank you: download your corrections to train on them.`);
});
document.getElementById('correct-label').addEventListener('change', () => {
  ui.showCorrections(corrections.count, !drawing.isEmpty);
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

const MODEL_KEY = 'sketch.model';
const DEFAULT_MODEL = 'shipped';

/** The models the server offers (cached by the service worker, so the list works offline too). */
async function listModels() {
  try {
    const response = await fetch('models');
    if (!response.ok) throw new Error(`models: ${response.status}`);
    return (await response.json()).models;
  } catch {
    return [{ id: DEFAULT_MODEL, classes: null, default: true }];
  }
}

/** A model's name for people: "Body parts", or the shipped model's "Quick, Draw! things". */
function modelTitle({ id, classes }) {
  const name = id === DEFAULT_MODEL ? 'Quick, Draw! things' : id[0].toUpperCase() + id.slice(1).replaceAll('-', ' ');
  return classes ? `${name} (${classes})` : name;
}

/** Load a model by id and make it the one that guesses; the drawing stays, and is guessed again. */
async function useModel(id) {
  const base = `models/${id}/`;
  let metadata;
  try {
    const response = await fetch(`${base}metadata.json`);
    if (!response.ok) throw new Error(`${base}metadata.json: ${response.status}`);
    metadata = await response.json();
  } catch (error) {
    ui.showStatus(`The model could not be loaded (${error.message}). Reload to try again.`);
    return false;
  }
  const predictor = await createPredictor({
    modelUrl: `${base}model.json`,
    modelId: id,
    labels: metadata.labels,
    backend: params.get('backend') || undefined,
    mirrorAverage: metadata.mirror_average === true,
  });
  if (metadata.class_means && predictor.enableTeaching) {
    try {
      await predictor.enableTeaching(base, metadata.class_means);
    } catch (error) {
      console.info(`teaching new classes is unavailable: ${error.message}`);
    }
  }
  state.predictor = predictor;
  state.modelId = id;
  state.labels = metadata.labels;
  state.threshold = metadata.confidence_threshold ?? 0.5;
  state.taught = new TaughtClasses(globalThis.localStorage, id, metadata.labels);
  state.backend = state.predictor.describe(); // Once: the backend does not change after loading.
  ui.showInfo({ backend: state.backend, where: state.predictor.where });
  document.body.dataset.backend = state.predictor.backend;
  document.body.dataset.model = id;
  if (currentStrokes().length === 0) ui.clearPredictions();
  await taughtChanged(); // which guesses the drawing again, if there is one, with the new model
  return true;
}

/** The address's ?model=, else the one chosen last time in this browser, else the shipped one. */
function chosenModel(models) {
  const known = new Set(models.map(({ id }) => id));
  for (const candidate of [params.get('model'), globalThis.localStorage?.getItem(MODEL_KEY)]) {
    if (candidate && known.has(candidate)) return candidate;
    if (candidate && candidate === params.get('model')) {
      ui.showMessage(`There is no model "${candidate}" here; showing the shipped one.`, { error: true });
    }
  }
  return DEFAULT_MODEL;
}

/** Recompute the taught classes' means (the model's features of their drawings) and show them. */
async function taughtChanged() {
  const { predictor, taught } = state;
  const classes = predictor.canBeTaught ? taught.byName() : new Map();
  // Every taught drawing in one run of the model, then each class's mean of its own drawings' rows.
  const drawings = [...classes.values()].flat();
  const features = drawings.length > 0 ? await predictor.features(drawings.map((strokes) => rasterize(strokes))) : [];
  const means = [];
  let start = 0;
  for (const { length } of classes.values()) {
    means.push(meanOf(features.slice(start, start + length)));
    start += length;
  }
  state.taughtNames = [...classes.keys()];
  state.taughtMeans = means;
  state.allLabels = [...state.labels, ...state.taughtNames];
  const samples = { ...state.samples };
  for (const [name, [first]] of classes) samples[name] = first;
  ui.showClasses(state.allLabels, samples);
  ui.showTaught([...classes].map(([name, drawings]) => [name, drawings.length]), predictor.canBeTaught, SUGGESTED_DRAWINGS);
  ui.enableTaughtAdd(!drawing.isEmpty);
  if (currentStrokes().length > 0) scheduler.request();
}

async function start() {
  ui.openGalleryOnWideScreens();
  ui.setHistoryButtons(drawing);
  ui.showCorrections(corrections.count, false);
  ui.showPreview(null);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js')
      .catch((error) => console.info(`offline use is unavailable: ${error.message}`));
  }
  try {
    state.samples = (await (await fetch('gallery.json')).json()).samples ?? {};
  } catch {
    state.samples = {}; // The gallery is decoration: without it the class names still show.
  }
  const models = await listModels();
  const id = chosenModel(models);
  ui.showModels(models.map((model) => [model.id, modelTitle(model)]), id);
  if (!(await useModel(id))) return;
  document.body.dataset.ready = 'true';
  window.sketch.readyAt = performance.now(); // Navigation start is 0: this is the cold start.
}

// Teaching new classes: a name and a few drawings, kept in this browser for the model in use.
document.getElementById('taught-add').addEventListener('click', async () => {
  const name = document.getElementById('taught-name').value;
  if (drawing.isEmpty) return;
  let count;
  try {
    count = state.taught.add(name, drawing.strokes);
  } catch (error) {
    ui.showMessage(`Could not teach it: ${error.message}.`, { error: true });
    return;
  }
  const more = count < SUGGESTED_DRAWINGS ? ` Draw another one: about ${SUGGESTED_DRAWINGS} teach it well.` : '';
  ui.showMessage(`Added a drawing of ${name.trim()} (${count} so far).${more}`);
  drawing.clear();
  drawingChanged();
  await taughtChanged();
});
document.getElementById('taught-list').addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const { name } = button.closest('li').dataset;
  if (button.dataset.action === 'delete') {
    state.taught.remove(name);
    ui.showMessage(`Forgot ${name}.`);
  } else {
    const newName = button.closest('li').querySelector('input').value;
    try {
      ui.showMessage(`Renamed ${name} to ${state.taught.rename(name, newName)}.`);
    } catch (error) {
      ui.showMessage(`Could not rename ${name}: ${error.message}.`, { error: true });
      return;
    }
  }
  await taughtChanged();
});
document.getElementById('taught-export').addEventListener('click', () => {
  download(new Blob([state.taught.toNdjson()], { type: 'application/x-ndjson' }), `taught-${state.modelId}.ndjson`);
});
document.getElementById('taught-import').addEventListener('change', async (event) => {
  const [file] = event.target.files;
  event.target.value = '';
  if (!file) return;
  try {
    if (file.size > MAX_FILE_BYTES) throw new Error(`it is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB`);
    ui.showMessage(`Imported ${state.taught.importNdjson(await file.text())} drawings from ${file.name}.`);
  } catch (error) {
    ui.showMessage(`Could not import ${file.name}: ${error.message}. Nothing was added.`, { error: true });
    return;
  }
  await taughtChanged();
});

// Picking a model: remembered in this browser and in the address (so a link opens the same model).
document.getElementById('model-choice').addEventListener('change', async (event) => {
  const id = event.target.value;
  globalThis.localStorage?.setItem(MODEL_KEY, id);
  const url = new URL(window.location.href);
  url.searchParams.set('model', id);
  window.history.replaceState(null, '', url);
  document.body.dataset.ready = 'false';
  if (await useModel(id)) document.body.dataset.ready = 'true';
});

window.sketch = {
  drawing,
  state,
  rasterize,
  corrections,
  /** Probabilities for a whole drawing, bypassing the canvas (parity tests and benchmarks). */
  predictStrokes: (strokes) => state.predictor.predict({ bitmap: rasterize(strokes), strokes }),
  /** The running replay's frame count so far, or null (tests check that replays are bounded). */
  replayFrames: () => state.replay?.frames ?? null,
  /** Resolves once no prediction is pending or running and no replay runs: the guesses on screen are final. */
  idle: () => new Promise((resolve) => {
    const check = () => {
      const pending = scheduler.busy || scheduler.dirty || scheduler.frameRequested || state.replay;
      if (pending) requestAnimationFrame(check);
      else resolve(true);
    };
    check();
  }),
  ready: start(),
};
