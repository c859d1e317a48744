/**
 * Everything the page shows, and nothing else: the status line (a live region), the top-five bars, the
 * 28x28 "what the model sees" preview, the small print and the class list. No model, no pointer logic.
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

export function showClasses(labels) {
  byId('class-count').textContent = String(labels.length);
  byId('class-list').replaceChildren(...labels.map((label) => {
    const item = document.createElement('li');
    item.textContent = label;
    return item;
  }));
}

export function showHint(visible) {
  byId('hint').classList.toggle('hidden', !visible);
}

export function setHistoryButtons({ canUndo, canRedo, isEmpty }) {
  byId('undo').disabled = !canUndo;
  byId('redo').disabled = !canRedo;
  byId('clear').disabled = isEmpty;
}
