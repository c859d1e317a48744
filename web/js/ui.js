/**
 * Everything the page shows, and nothing else: the status line (a live region), the top-five bars, the
 * 28x28 "what the model sees" preview, messages, corrections, the small print and the class gallery.
 * No model, no pointer logic.
 */

import { setInk, traceStroke } from './ink.js';
import { IMAGE_SIZE } from './raster.js';
import {
  percentText, thresholdText, topGuesses, verdictText, withArticle,
} from './words.js';

const TOP = 5;

const byId = (id) => document.getElementById(id);

/** The status line; `verdict` ('sure', 'maybe', 'none') says which words a guess got (tests read it). */
export function showStatus(text, { unsure = false, verdict = null } = {}) {
  const status = byId('status');
  if (status.textContent !== text) status.textContent = text;
  status.classList.toggle('unsure', unsure);
  if (verdict) status.dataset.verdict = verdict;
  else delete status.dataset.verdict;
}

/** The six bar items (top five and "other things"), built once and then only updated. */
let bars = null;

function buildBars() {
  bars = Array.from({ length: TOP + 1 }, (_, position) => {
    const item = document.createElement('li');
    if (position === TOP) item.className = 'other';
    const name = document.createElement('span');
    name.className = 'name';
    const track = document.createElement('span');
    track.className = 'track';
    track.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.className = 'fill';
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'value';
    item.append(name, track, value);
    return { item, name, fill, value };
  });
}

/**
 * Top guesses as bars; the remainder goes to one "other things" bar, so the bars sum to 1. Runs for every
 * prediction, so it updates six existing items in place. The words say the top guess is sure (from
 * `threshold`), a maybe, or none of the classes the page knows (words.js isNoneOfThese: the first `builtIn`
 * labels are the model's outputs, the rest taught; `noneBelow` null: never). Returns the top label.
 */
export function showPredictions(labels, probabilities, threshold, { builtIn = labels.length, noneBelow = null } = {}) {
  const items = topGuesses(labels, probabilities, TOP);
  const shown = items.reduce((sum, [, probability]) => sum + probability, 0);
  items.push(['other things', Math.max(0, 1 - shown)]);
  if (!bars) buildBars();
  items.forEach(([label, probability], position) => {
    const bar = bars[position];
    bar.item.dataset.label = label;
    bar.item.dataset.probability = String(probability);
    bar.name.textContent = label;
    bar.fill.style.width = `${(probability * 100).toFixed(1)}%`;
    // The top guess's number is the one the words are about: as precise as it takes to agree with them.
    bar.value.textContent = percentText(probability, position === 0 ? threshold : null);
  });
  const list = byId('guesses');
  if (list.childElementCount === 0) list.append(...bars.map((bar) => bar.item));
  byId('teach-choice').hidden = false; // A correction needs a guess to correct.
  const [best, bestProbability] = items[0];
  const { text, verdict } = verdictText(best, bestProbability, probabilities, {
    builtIn, threshold, noneBelow,
  });
  showStatus(text, { unsure: verdict !== 'sure', verdict });
  return best;
}

export function clearPredictions(message = 'Draw something, and I will guess what it is.') {
  byId('guesses').replaceChildren();
  byId('teach-choice').hidden = true;
  showStatus(message, { unsure: true });
  showPreview(null);
}

let previewPixels = null;

/** The model's input, ink dark on white like the canvas (one reused buffer: it runs every prediction). */
export function showPreview(bitmap) {
  const context = byId('preview').getContext('2d');
  previewPixels ??= context.createImageData(IMAGE_SIZE, IMAGE_SIZE);
  const { data } = previewPixels;
  for (let i = 0; i < IMAGE_SIZE * IMAGE_SIZE; i++) {
    const shade = 255 - (bitmap ? bitmap[i] : 0);
    data[i * 4] = data[i * 4 + 1] = data[i * 4 + 2] = shade;
    data[i * 4 + 3] = 255;
  }
  context.putImageData(previewPixels, 0, 0);
}

/** The small print under the guesses: where the model runs, from what probability it is sure, how fast. */
export function showInfo({ backend, milliseconds, where, threshold }) {
  const timing = milliseconds === undefined ? '' : ` · last guess in ${milliseconds.toFixed(1)} ms`;
  const place = where === 'server' ? 'The server is predicting (TF.js could not run here)' : 'Runs in your browser';
  byId('info').textContent = `${place} · backend: ${backend} · sure from\u00a0${thresholdText(threshold)}${timing}`;
}

/** The classes as a small gallery: a real drawing of each (when there is one) and its name. */
/** The taught classes: [name, drawing count] pairs, each renamable and deletable; hidden where the model
 * cannot be taught (the server fallback). */
export function showTaught(classes, canTeach, suggested) {
  byId('taught-panel').hidden = !canTeach;
  byId('taught-export').disabled = classes.length === 0;
  byId('taught-model').disabled = classes.length === 0;
  byId('taught-list').replaceChildren(...classes.map(([name, count]) => {
    const item = document.createElement('li');
    item.dataset.name = name;
    const input = document.createElement('input');
    input.value = name;
    input.maxLength = 40;
    input.setAttribute('aria-label', `new name for ${name}`);
    const drawings = document.createElement('span');
    drawings.className = 'small';
    drawings.textContent = `${count} drawing${count === 1 ? '' : 's'}${count < suggested ? ` (about ${suggested} work best)` : ''}`;
    const rename = document.createElement('button');
    rename.type = 'button';
    rename.dataset.action = 'rename';
    rename.textContent = 'Rename';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.dataset.action = 'delete';
    remove.textContent = 'Delete';
    remove.setAttribute('aria-label', `delete ${name}`);
    item.append(input, drawings, rename, remove);
    return item;
  }));
}

export function enableTaughtAdd(hasDrawing) {
  byId('taught-add').disabled = !hasDrawing;
}

/** The model picker: [id, title] pairs, shown only when there is a choice. */
export function showModels(models, chosen) {
  const select = byId('model-choice');
  select.replaceChildren(...models.map(([id, title]) => new Option(title, id, false, id === chosen)));
  byId('model-picker').hidden = models.length < 2;
}

/** The class gallery starts open where it sits beside the canvas, closed where it would push the rest down. */
export function openGalleryOnWideScreens() {
  byId('classes').open = window.matchMedia('(min-width: 860px)').matches;
}

export function showClasses(labels, samples = {}) {
  byId('class-count').textContent = String(labels.length);
  byId('class-list').replaceChildren(...labels.map((label) => {
    const item = document.createElement('li');
    // Own keys only: a taught name such as "constructor" must not find Object's prototype (issue 33's review).
    const sample = Object.hasOwn(samples, label) ? samples[label] : undefined;
    if (sample) {
      const picture = document.createElement('canvas');
      picture.width = picture.height = 96;
      picture.setAttribute('role', 'img');
      picture.setAttribute('aria-label', `a drawing of ${withArticle(label)}`);
      drawSample(picture, sample);
      item.append(picture);
    }
    const name = document.createElement('span');
    name.textContent = label;
    item.append(name);
    return item;
  }));
  // A placeholder first: preselecting a class (even the runner-up) would let one careless click save a
  // wrong label, which later fine-tunes the model.
  const select = byId('correct-label');
  select.replaceChildren(new Option('choose…', ''), ...labels.map((label) => new Option(label, label)));
}

export function resetCorrectionChoice() {
  byId('correct-label').value = '';
}

/** Normalized strokes (0..255, as raster.js's normalize makes them) drawn to fit a square canvas, with a margin. */
export function drawSample(canvas, strokes) {
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  const margin = canvas.width * 0.12;
  setInk(context, '#1b1b1f', Math.max(2.5, canvas.width / 48)); // 2.5 px in the 96 px gallery, thicker on a sheet
  for (const stroke of strokes) traceStroke(context, stroke, (canvas.width - 2 * margin) / 255, margin);
}

/**
 * A one-line message about an action (saved, loaded, or what was wrong); empty hides it. It is shown in the
 * slot beside the control that caused it (`near`: canvas, share, load, correction, taught or taught-files; the slots are
 * in index.html), where the eyes are: at the bottom of a column it was below the fold. A slot in a closed
 * or hidden panel gives way to the canvas's. One element for all: a new message replaces the last.
 */
export function showMessage(text, { error = false, near = 'canvas' } = {}) {
  const message = byId('message');
  let slot = byId(`slot-${near}`);
  if (slot.closest('details:not([open]), [hidden]')) slot = byId('slot-canvas');
  if (message.parentElement !== slot) {
    message.textContent = ''; // moved empty, so that the alert is read once, in its new place
    slot.append(message);
  }
  message.textContent = text;
  message.classList.toggle('error', error);
}

export function showCorrections(count, hasDrawing) {
  const select = byId('correct-label');
  if (!hasDrawing) select.value = '';
  select.disabled = !hasDrawing;
  byId('save-correction').disabled = !hasDrawing || select.value === '';
  byId('download-corrections').disabled = count === 0;
  byId('forget-corrections').disabled = count === 0;
  byId('teach-status').textContent = count === 0
    ? 'Corrections stay in this browser; download them to train on them.'
    : `${count} correction${count === 1 ? '' : 's'} saved in this browser.`;
}

export function showHint(visible) {
  byId('hint').classList.toggle('hidden', !visible);
}

export function setHistoryButtons({ canUndo, canRedo, isEmpty }) {
  byId('undo').disabled = !canUndo;
  byId('redo').disabled = !canRedo;
  byId('clear').disabled = isEmpty;
  byId('download-png').disabled = isEmpty;
  byId('download-ndjson').disabled = isEmpty;
}
