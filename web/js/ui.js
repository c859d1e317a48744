/**
 * Everything the page shows, and nothing else: the status line (a live region), the top-five bars, the
 * 28x28 "what the model sees" preview, messages, corrections, the small print and the class gallery.
 * No model, no pointer logic.
 */

const TOP = 5;

const byId = (id) => document.getElementById(id);
const percent = (probability) => `${Math.round(probability * 100)}%`;

export function showStatus(text, { unsure = false } = {}) {
  const status = byId('status');
  if (status.textContent !== text) status.textContent = text;
  status.classList.toggle('unsure', unsure);
}

/** Top guesses as bars; the remainder goes to one "other things" bar, so the bars sum to 1. */
export function showPredictions(labels, probabilities, threshold) {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a]);
  const top = order.slice(0, TOP);
  const items = top.map((index) => [labels[index], probabilities[index]]);
  const shown = items.reduce((sum, [, probability]) => sum + probability, 0);
  items.push(['other things', Math.max(0, 1 - shown)]);
  const list = byId('guesses');
  list.replaceChildren(...items.map(([label, probability], position) => {
    const item = document.createElement('li');
    item.dataset.label = label;
    item.dataset.probability = String(probability);
    if (position === items.length - 1) item.className = 'other';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = label;
    const track = document.createElement('span');
    track.className = 'track';
    track.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.className = 'fill';
    fill.style.width = `${(probability * 100).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'value';
    value.textContent = percent(probability);
    item.append(name, track, value);
    return item;
  }));
  // If the top guess is wrong, the runner-up is the likeliest right answer: offer it for the correction.
  const select = byId('correct-label');
  if (document.activeElement !== select && items.length > 2) select.value = items[1][0];
  const [best, bestProbability] = items[0];
  if (bestProbability >= threshold) {
    showStatus(`It's ${withArticle(best)}! (${percent(bestProbability)})`);
  } else {
    showStatus(`Not sure yet… maybe ${withArticle(best)}?`, { unsure: true });
  }
}

function withArticle(label) {
  return `${/^[aeiou]/i.test(label) ? 'an' : 'a'} ${label}`;
}

export function clearPredictions(message = 'Draw something, and I will guess what it is.') {
  byId('guesses').replaceChildren();
  showStatus(message, { unsure: true });
  showPreview(null);
}

/** The model's input, ink dark on white like the canvas. */
export function showPreview(bitmap) {
  const preview = byId('preview');
  const context = preview.getContext('2d');
  const pixels = context.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const shade = 255 - (bitmap ? bitmap[i] : 0);
    pixels.data.set([shade, shade, shade, 255], i * 4);
  }
  context.putImageData(pixels, 0, 0);
}

export function showInfo({ backend, milliseconds, where }) {
  const timing = milliseconds === undefined ? '' : ` · last guess in ${milliseconds.toFixed(1)} ms`;
  const place = where === 'server' ? 'The server is predicting (TF.js could not run here)' : 'Runs in your browser';
  byId('info').textContent = `${place} · backend: ${backend}${timing}`;
}

/** The classes as a small gallery: a real drawing of each (when there is one) and its name. */
export function showClasses(labels, samples = {}) {
  byId('class-count').textContent = String(labels.length);
  byId('class-list').replaceChildren(...labels.map((label) => {
    const item = document.createElement('li');
    const sample = samples[label];
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
  const select = byId('correct-label');
  select.replaceChildren(...labels.map((label) => new Option(label, label)));
}

function drawSample(canvas, strokes) {
  const context = canvas.getContext('2d');
  const margin = canvas.width * 0.12;
  const scale = (canvas.width - 2 * margin) / 255;
  context.strokeStyle = '#1b1b1f';
  context.lineWidth = 2.5;
  context.lineCap = context.lineJoin = 'round';
  for (const [xs, ys] of strokes) {
    context.beginPath();
    context.moveTo(margin + xs[0] * scale, margin + ys[0] * scale);
    for (let i = 1; i < xs.length; i++) context.lineTo(margin + xs[i] * scale, margin + ys[i] * scale);
    context.stroke();
  }
}

/** A one-line message about an action (saved, loaded, or what was wrong); empty hides it. */
export function showMessage(text, { error = false } = {}) {
  const message = byId('message');
  message.textContent = text;
  message.classList.toggle('error', error);
}

export function showCorrections(count, hasDrawing) {
  byId('save-correction').disabled = !hasDrawing;
  byId('correct-label').disabled = !hasDrawing;
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
