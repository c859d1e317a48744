/**
 * Wiring: canvas events -> drawing -> rasterizer (a worker) -> model -> ui. Loaded by index.html as an ES module.
 * Concerns with a module of their own: scheduling predictions (scheduler.js), keyboard shortcuts (keys.js),
 * the models on offer (models.js), words and numbers in sentences (words.js); replay, teaching and loading
 * a model are still here.
 *
 * Predictions run while a stroke is drawn and when it ends, at most once per animation frame, one at a
 * time; the newest input wins (scheduler.js). The rasterizer works in a worker (rasterizer.js), so a
 * long stroke or a replay never waits for one: the page's work per pointer move is the new points.
 * Every action a person takes reports its errors as a message (attempt), never as an uncaught exception. Each result fires a `sketch:prediction` event on window, which the
 * browser tests and benchmarks listen to; `window.sketch` exposes the same objects to them. With
 * `?measure` in the address, the event waits for the next frame to also report when the guess was on
 * screen (the benchmarks); otherwise no prediction pays for that frame.
 */

import { DRAWING_SIDE, DrawingCanvas } from './canvas.js';
import { Corrections } from './corrections.js';
import { Drawing } from './drawing.js';
import { bindKeys } from './keys.js';
import {
  chosenModel, listModels, modelTitle, rememberModel,
} from './models.js';
import {
  MAX_POINTS, MAX_STROKES, rasterize, tooManyPointsMessage, tooManyStrokesMessage, tooMuchInkMessage,
} from './raster.js';
import { Rasterizer, firstPoints } from './rasterizer.js';
import { createPlay } from './play.js';
import { placeOnCanvas, runReplay } from './replay.js';
import { Scheduler } from './scheduler.js';
import { createModelSwitcher } from './switching.js';
import { createTeachingPanel } from './teaching.js';
import { download, toNdjsonLine, toPngBlob } from './share.js';
import { besideSoftmax } from './taught.js';
import * as ui from './ui.js';

const params = new URLSearchParams(window.location.search);
const measure = params.has('measure');
const drawing = new Drawing();
// The rasterizer's limits hold for drawn strokes from the first one on: a stroke stops at the last point that fits.
const canvas = new DrawingCanvas(document.getElementById('canvas'), { pointBudget: MAX_POINTS, strokeBudget: MAX_STROKES });
const rasterizer = new Rasterizer();
const state = {
  predictor: null, modelId: '', backend: '', labels: [], threshold: 0.5, topLabel: '', replay: null, samples: {},
  // Below this top probability a guess of one of the model's outputCount classes reads "none of these" (the
  // model's metadata; null: never).
  noneBelow: null, outputCount: 0,
  // The means of classes taught before the model was saved ("Download as a model"): the model's own, named
  // in `labels` after its outputs, and compared first, before the classes taught in this browser.
  modelTaughtMeans: [],
  // Taught classes' names and means, and allLabels: the built-in classes, then the taught ones, the order of
  // every probability vector the page shows (kept, not rebuilt for each prediction).
  taught: null, taughtNames: [], taughtMeans: [], allLabels: [],
  // True while taught drawings are read into means (a first start after an update) or imported.
  taughtBusy: false,
  loadingModels: 0, // useModel calls under way (idle waits for them)
};
const corrections = new Corrections();

// The same bound as the server's request body: an ndjson line within the limits is far smaller.
const MAX_FILE_BYTES = 2 * 1024 * 1024;
// Taught drawings go through the model this many at a time, the page free for input between batches.
const FEATURE_BATCH = 16;

/** What the model should see now: the replay's frame, or the drawing plus the stroke being drawn. */
function currentStrokes() {
  return state.replay ? firstPoints(state.replay.loaded, state.replay.shown) : drawing.withStroke(canvas.stroke);
}

/**
 * Run a person's action; an error becomes a message (with what is kept) beside the control (`near`, see
 * ui.showMessage), never an uncaught exception.
 */
async function attempt(what, action, { after = '', near = 'canvas' } = {}) {
  try {
    return await action();
  } catch (error) {
    console.info(`could not ${what}:`, error);
    ui.showMessage(`Could not ${what}: ${error.message}.${after ? ` ${after}` : ''}`, { error: true, near });
    return undefined;
  }
}

const nextTask = () => new Promise((resolve) => { setTimeout(resolve, 0); });

/** The features of many bitmaps, FEATURE_BATCH at a time with a task boundary between, so input is served. */
async function featuresOf(predictor, bitmaps) {
  const features = [];
  for (let start = 0; start < bitmaps.length; start += FEATURE_BATCH) {
    features.push(...await predictor.features(bitmaps.slice(start, start + FEATURE_BATCH)));
    await nextTask();
  }
  return features;
}

// How many points of the stroke in progress the rasterizer has: a prediction sends only the ones after them.
let sentPoints = 0;

// At most one prediction per animation frame, one at a time, the newest input winning (scheduler.js).
const scheduler = new Scheduler(runPrediction, () => state.predictor !== null);

async function runPrediction(inputTime) {
  const strokes = currentStrokes();
  try {
    if (strokes.length === 0) {
      ui.clearPredictions();
      return;
    }
    if (!state.replay && canvas.stroke) {
      rasterizer.extend(drawing.strokes.length, sentPoints, canvas.stroke);
      sentPoints = canvas.stroke[0].length;
    }
    // Counted now: a stroke in progress grows while the guess is made.
    const points = pointCount(strokes);
    const { predictor, taughtMeans, allLabels: labels } = state;
    const started = performance.now();
    const last = strokes[strokes.length - 1]; // the stroke that a refusal for ink ends
    const { bitmap, cut } = await rasterizer.rasterize(state.replay ? state.replay.shown : undefined);
    if (currentStrokes().length === 0) return; // cleared while it was rasterized
    if (cut) {
      // A loaded drawing is refused as it is (the status says why); a drawn stroke ends where it fits, and
      // the drawing is guessed again (as it is when it changed otherwise meanwhile).
      if (state.replay) throw new Error(tooMuchInkMessage(cut.crossings));
      endStrokeForInk(last, cut);
      return;
    }
    ui.showPreview(bitmap);
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
    state.topLabel = ui.showPredictions(labels, probabilities, state.threshold,
      { builtIn: state.outputCount, noneBelow: state.noneBelow });
    ui.showInfo({
      backend: state.backend, milliseconds, where: state.predictor.where, threshold: state.threshold,
    });
    const detail = {
      probabilities: Array.from(probabilities),
      labels,
      strokes: strokes.length,
      points, // what the guess saw: a replay's frame or a stroke in progress is a prefix
      inProgress: canvas.stroke !== null,
      // Rasterizing (in the worker) and the model, from the request to the probabilities.
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

/**
 * The bound on ink (MAX_CROSSINGS), which only the worker counts, holds for drawn strokes as the point limit
 * does: the stroke ends at the last point that fits (the worker says which, inkCut), or is not kept, with the
 * point limit's message. The stroke may still be drawn, or may have ended while the worker counted; when
 * the drawing changed otherwise meanwhile (undone or cleared), nothing is ended.
 */
function endStrokeForInk(stroke, { keep, crossings }) {
  if (canvas.stroke === stroke) {
    canvas.endStroke(keep); // strokeend (or strokecancel) changes the drawing
  } else if (drawing.strokes[drawing.strokes.length - 1] === stroke) {
    drawing.trimLast(keep);
    drawingChanged();
  } else {
    return;
  }
  showLimit(tooMuchInkMessage(crossings));
}

function showLimit(reason) {
  ui.showMessage(`This drawing is at its limit: ${reason}. Undo or clear to draw more.`, { error: true });
}

function pointCount(strokes) {
  return strokes.reduce((total, [xs]) => total + xs.length, 0);
}

function drawingChanged(inputTime = performance.now()) {
  canvas.show(drawing.strokes);
  rasterizer.set(drawing.strokes);
  sentPoints = 0; // a stroke still in progress (an undo while drawing) is sent again whole
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
  // A message is about the last action; drawing is the next one (a message that outlived nine drawings
  // read as if it were about the latest).
  ui.showMessage('');
  sentPoints = 0;
  scheduler.request(event.detail.time);
});
canvas.addEventListener('strokemove', (event) => scheduler.request(event.detail.time));
canvas.addEventListener('strokeend', (event) => {
  drawing.add(event.detail.stroke);
  drawingChanged(event.detail.time);
});
canvas.addEventListener('strokecancel', () => drawingChanged());
canvas.addEventListener('limit', (event) => {
  showLimit(event.detail.strokes ? tooManyStrokesMessage(MAX_STROKES + 1) : tooManyPointsMessage());
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
document.getElementById('download-png').addEventListener('click', () => attempt('save the PNG', async () => {
  if (drawing.isEmpty) return;
  const blob = await toPngBlob(drawing.strokes);
  if (!blob) throw new Error('the browser could not make the image');
  download(blob, 'sketch.png');
}, { near: 'share' }));
document.getElementById('download-ndjson').addEventListener('click', () => attempt('save the ndjson', () => {
  if (drawing.isEmpty) return;
  const line = toNdjsonLine(drawing.strokes, state.topLabel);
  download(new Blob([`${line}\n`], { type: 'application/x-ndjson' }), 'sketch.ndjson');
}, { near: 'share' }));

/**
 * Draw a loaded drawing point by point, with live guesses, as if it were drawn now (replay.js paces it by
 * the clock). A frame costs the points it adds (the canvas draws only those; the rasterizer, in its worker,
 * has the whole drawing and is asked for the first `shown` points), and guesses follow at the rasterizer's
 * pace, the newest frame winning. The drawing itself changes once, at the end (one undoable step); until
 * then Undo, Clear, Escape or a new stroke stop the replay (see actions and strokestart). Resolves true
 * when it ran to its end.
 */
function replay(loaded) {
  const strokes = placeOnCanvas(loaded, DRAWING_SIDE);
  rasterizer.set(strokes);
  ui.showHint(false);
  return runReplay(strokes, {
    onStart: (current) => { state.replay = current; },
    isCurrent: (current) => state.replay === current,
    onFrame: (current) => {
      canvas.showPoints(strokes, current.shown);
      scheduler.request();
    },
    onEnd: () => stopReplay({ finish: true }),
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
    // Parsed and simplified in the worker: a long line costs the page nothing.
    loaded = await rasterizer.parseOne(text);
  } catch (error) {
    ui.showMessage(`Could not load ${source}: ${error.message}. Your drawing is unchanged.`, { error: true, near: 'load' });
    return;
  }
  if (state.replay) stopReplay();
  ui.showMessage(`Replaying ${loaded.word ? `a drawing of ${loaded.word}` : 'the drawing'} from ${source}.`, { near: 'load' });
  await replay(loaded.drawing);
}
document.getElementById('load-file').addEventListener('change', (event) => {
  const [file] = event.target.files;
  event.target.value = '';
  if (!file) return;
  attempt(`load ${file.name}`, async () => {
    // Read at most what a drawing within the limits can take, so a huge file cannot stall the page.
    if (file.size > MAX_FILE_BYTES) throw new Error(`it is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB`);
    await loadDrawing(await file.text(), file.name);
  }, { after: 'Your drawing is unchanged.', near: 'load' });
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
  attempt('save the correction', () => {
    corrections.add(drawing.strokes, label);
    ui.resetCorrectionChoice();
    ui.showCorrections(corrections.count, true);
    ui.showMessage(`Saved as ${label}. Thank you: download your corrections to train on them.`, { near: 'correction' });
  }, { near: 'correction' });
});
document.getElementById('correct-label').addEventListener('change', () => {
  ui.showCorrections(corrections.count, !drawing.isEmpty);
});
document.getElementById('download-corrections').addEventListener('click', () => attempt('download the corrections', () => {
  const { text, skipped } = corrections.toNdjson();
  download(new Blob([text], { type: 'application/x-ndjson' }), 'corrections.ndjson');
  if (skipped > 0) {
    ui.showMessage(`${unreadable(skipped)} left out of the download; kept in this browser as they are.`, { near: 'correction' });
  }
}, { near: 'correction' }));
document.getElementById('forget-corrections').addEventListener('click', () => attempt('forget the corrections', () => {
  corrections.clear();
  ui.showCorrections(0, !drawing.isEmpty);
  ui.showMessage('Your saved corrections were deleted from this browser.', { near: 'correction' });
}, { near: 'correction' }));

/** "3 stored lines that could not be read were": the start of a message about skipped lines. */
function unreadable(count) {
  return count === 1 ? '1 stored line that could not be read was' : `${count} stored lines that could not be read were`;
}
for (const [id, action] of Object.entries(actions)) {
  document.getElementById(id).addEventListener('click', action);
}
bindKeys(document, actions);

async function start() {
  ui.openGalleryOnWideScreens();
  ui.setHistoryButtons(drawing);
  ui.showCorrections(corrections.count, false);
  const { skipped } = corrections.counts();
  if (skipped > 0) {
    ui.showMessage(`${unreadable(skipped)} skipped among your saved corrections; they are kept in this browser as they are.`,
      { error: true, near: 'correction' });
  }
  ui.showPreview(null);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js')
      .catch((error) => console.info(`offline use is unavailable: ${error.message}`));
  }
  try {
    state.samples = Object.assign(Object.create(null), (await (await fetch('gallery.json')).json()).samples);
  } catch {
    state.samples = {}; // The gallery is decoration: without it the class names still show.
  }
  const models = await listModels();
  const { id, missing } = chosenModel(models, params.get('model'), globalThis.localStorage);
  const notes = missing ? [`There is no model "${missing.slice(0, 70)}" here; showing the shipped one.`] : [];
  if (missing) ui.showMessage(notes[0], { error: true });
  ui.showModels(models.map((model) => [model.id, modelTitle(model)]), id);
  if (!(await useModel(id))) return;
  document.body.dataset.ready = 'true';
  window.sketch.readyAt = performance.now(); // Navigation start is 0: this is the cold start.
  play.pageReady(notes); // `?play` in the address starts a game now, and says again what the page said
}

// Picking a model: remembered in this browser and in the address (so a link opens the same model).
document.getElementById('model-choice').addEventListener('change', async (event) => {
  const id = event.target.value;
  rememberModel(globalThis.localStorage, id);
  ui.showMessage(''); // messages were about the model before this one
  const url = new URL(window.location.href);
  url.searchParams.set('model', id);
  window.history.replaceState(null, '', url);
  document.body.dataset.ready = 'false';
  if (await useModel(id)) document.body.dataset.ready = 'true';
});

// The teaching panel and model switching, given what they share with the rest of the page.
const teaching = createTeachingPanel({
  state, drawing, rasterizer, attempt, featuresOf, unreadable, drawingChanged, currentStrokes, scheduler,
  maxFileBytes: MAX_FILE_BYTES,
});
const useModel = createModelSwitcher({
  state, teaching, unreadable, currentStrokes, backend: params.get('backend') || undefined,
});
// Play (play.js): a game of six rounds on this canvas, the free drawing set aside until it ends.
const play = createPlay({
  state, drawing, canvas, currentStrokes, drawingChanged, stopReplay, corrections, teaching, attempt, params,
});

window.sketch = {
  drawing,
  state,
  rasterize,
  corrections,
  play, // the game: play.game() is the one on screen, or null
  /** Probabilities for a whole drawing, bypassing the canvas (parity tests and benchmarks). */
  predictStrokes: (strokes) => state.predictor.predict({ bitmap: rasterize(strokes), strokes }),
  /**
   * Add a drawing (strokes) to the taught class `name`, as the panel's Add does, bypassing the canvas; resolves
   * to the class's count (bench.teach times how long the page takes to learn a drawing).
   */
  teach: (name, strokes) => teaching.addDrawing(name, strokes).then((count) => {
    teaching.taughtChanged();
    return count;
  }),
  /** The running replay's frame count so far, or null (tests check that replays are bounded). */
  replayFrames: () => state.replay?.frames ?? null,
  /** Where rasterizing runs: 'worker', or 'page' where a module worker could not start. */
  rasterizerWhere: () => rasterizer.where,
  /**
   * Resolves once no prediction is pending or running, no replay runs, no model is loading and no taught
   * drawings are being read or imported: the guesses on screen are final.
   */
  idle: () => new Promise((resolve) => {
    const check = () => {
      const pending = scheduler.pending || state.replay || state.taughtBusy || state.loadingModels > 0;
      if (pending) requestAnimationFrame(check);
      else resolve(true);
    };
    check();
  }),
  ready: start(),
};
