/**
 * Play: the game on the page. Six rounds on the drawing canvas, each a prompt with a countdown; the
 * page's own guesses (the `sketch:prediction` event) are judged by game.js's win rule and said aloud by
 * speech.js; the end screen shows the six drawings, keeps a miss as a correction or a taught drawing in one
 * click, downloads them, and links to the same prompts. The free drawing (strokes and undo history) is set
 * aside while a game runs and comes back as it was when the person leaves Play (Escape, Leave, another
 * model). Given the page's shared parts by main.js (createPlay); the rules themselves are game.js's.
 */

import {
  Game, Scores, gameOptions, newSeed, pickPrompts, secondsText, shareQuery,
} from './game.js';
import { normalize } from './raster.js';
import { download, toNdjsonLine } from './share.js';
import {
  MISS_WORDS, Speaker, guessWords, winWords,
} from './speech.js';
import * as ui from './ui.js';
import { percentText, withArticle } from './words.js';

// How often the countdown is redrawn and the clock looked at: often enough for a smooth bar, cheap enough
// to cost nothing beside the guesses.
const TICK_MILLISECONDS = 100;
// The countdown pulses (where motion is welcome) in a round's last seconds.
const HURRY_SECONDS = 5;
// The PNG sheet: each drawing in a square cell with a caption under it, three to a row.
const SHEET_CELL = 256;
const SHEET_CAPTION = 44;
const SHEET_COLUMNS = 3;

const byId = (id) => document.getElementById(id);

/** Strokes as drawn (any scale) onto a small canvas, as the gallery draws its samples. */
function drawThumbnail(canvas, strokes) {
  ui.drawSample(canvas, strokes.length > 0 ? normalize(strokes) : []);
}

function thumbnail(strokes, label, size = 96) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  drawThumbnail(canvas, strokes);
  return canvas;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "Recognized in 4.2 s", "Missed", "Skipped after 3.0 s": a finished round in a few words. */
function resultText(round) {
  if (round.result === 'recognized') return `Recognized in ${secondsText(round.milliseconds)}`;
  return round.skipped ? `Skipped after ${secondsText(round.milliseconds)}` : 'Missed: time ran out';
}

/** The six drawings on one sheet, dark ink on white, each captioned with its prompt and result. */
function sheetBlob(rounds) {
  const rows = Math.ceil(rounds.length / SHEET_COLUMNS);
  const canvas = document.createElement('canvas');
  canvas.width = SHEET_COLUMNS * SHEET_CELL;
  canvas.height = rows * (SHEET_CELL + SHEET_CAPTION);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  const cell = document.createElement('canvas');
  cell.width = cell.height = SHEET_CELL;
  rounds.forEach((round, index) => {
    const x = (index % SHEET_COLUMNS) * SHEET_CELL;
    const y = Math.floor(index / SHEET_COLUMNS) * (SHEET_CELL + SHEET_CAPTION);
    drawThumbnail(cell, round.strokes);
    context.drawImage(cell, x, y);
    context.strokeStyle = '#d9d7d0';
    context.lineWidth = 1;
    context.strokeRect(x + 0.5, y + 0.5, SHEET_CELL - 1, SHEET_CELL + SHEET_CAPTION - 1);
    context.fillStyle = '#1b1b1f';
    context.font = '600 17px system-ui, sans-serif';
    context.textAlign = 'center';
    context.fillText(`${round.label}: ${resultText(round).toLowerCase()}`, x + SHEET_CELL / 2, y + SHEET_CELL + 26, SHEET_CELL - 12);
  });
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

/**
 * Wire Play. `page`: the page's state, drawing, canvas, currentStrokes, drawingChanged, stopReplay,
 * corrections, teaching (its addDrawing and taughtChanged), attempt and the address's params. Returns
 * { pageReady, start, leave, game() } for main.js and the tests.
 */
export function createPlay(page) {
  const {
    state, drawing, canvas, currentStrokes, drawingChanged, stopReplay, corrections, teaching, attempt,
    params,
  } = page;
  const clock = { now: () => performance.now() };
  const speaker = new Speaker({
    synth: globalThis.speechSynthesis ?? null,
    makeUtterance: globalThis.SpeechSynthesisUtterance ? (text) => new SpeechSynthesisUtterance(text) : null,
    storage: globalThis.localStorage,
    clock,
  });
  const scores = new Scores(globalThis.localStorage);
  const asked = gameOptions(params);
  let game = null;
  let options = null; // { seed, seconds, modelId } of the game on screen
  let kept = null; // the free drawing, set aside while Play is on: { strokes, past, future }
  let timer = null;
  let roundStartedAt = 0; // performance.now() when the round began: older input is the last round's
  let shownSeconds = null;

  function setPhase(phase) {
    if (phase) document.body.dataset.play = phase;
    else delete document.body.dataset.play;
  }

  function say(words) {
    if (words !== null) byId('game-words').textContent = words;
  }

  function showMute() {
    const button = byId('mute');
    button.hidden = !speaker.canSpeak; // without a voice the game plays silently: nothing to mute
    button.setAttribute('aria-pressed', String(speaker.muted));
  }

  function toggleMute() {
    speaker.setMuted(!speaker.muted);
    showMute();
  }

  /** Freeze the canvas (a round's result is showing) or let it be drawn on again. */
  function freeze(frozen) {
    if (frozen && canvas.stroke) canvas.endStroke(canvas.stroke[0].length); // the pen is still down
    byId('canvas').closest('.canvas-frame').classList.toggle('frozen', frozen);
  }

  function showResult(text) {
    const result = byId('round-result');
    result.textContent = text;
    result.hidden = text === '';
  }

  function showCountdown() {
    // While a round's result shows, the countdown stays where the round ended (a win's time left).
    if (game?.phase === 'showing') return;
    const left = game && game.phase === 'drawing' ? game.remaining() : 0;
    const seconds = Math.ceil(left / 1000);
    if (seconds !== shownSeconds) {
      byId('countdown-text').textContent = `${seconds} s left`;
      shownSeconds = seconds;
    }
    byId('countdown-fill').style.width = `${game ? (game.remainingShare() * 100).toFixed(1) : 0}%`;
    byId('countdown').classList.toggle('hurry', game?.phase === 'drawing' && seconds <= HURRY_SECONDS);
  }

  /** An empty drawing for a round: no strokes and no history (the free drawing is in `kept`). */
  function emptyDrawing() {
    if (canvas.stroke) canvas.endStroke(0);
    Object.assign(drawing, { strokes: [], past: [], future: [] });
    drawingChanged();
  }

  function startRound() {
    freeze(false);
    showResult('');
    emptyDrawing();
    roundStartedAt = performance.now();
    speaker.reset();
    byId('prompt').textContent = game.prompt;
    byId('round-count').textContent = `Round ${game.index + 1} of ${game.prompts.length}`;
    byId('game-words').textContent = '';
    setPhase('drawing');
    showCountdown();
  }

  /** A round won or timed out: the drawing freezes and the result shows until the game's clock moves on. */
  function roundEnded(round) {
    freeze(true);
    addRound(round);
    const won = round.result === 'recognized';
    showResult(won ? `You drew ${withArticle(round.label)} in ${secondsText(round.milliseconds)}`
      : `Time's up: it was ${withArticle(round.label)}`);
    say(speaker.final(won ? winWords(round.label) : MISS_WORDS));
    setPhase('showing');
    showCountdown();
  }

  function tick() {
    if (!game) return;
    const change = game.tick(currentStrokes());
    if (change === 'missed') roundEnded(game.rounds[game.rounds.length - 1]);
    else if (change === 'next') startRound();
    else if (change === 'over') gameOver();
    else showCountdown();
  }

  function skip() {
    if (game?.phase !== 'drawing') return;
    const round = game.skip(currentStrokes());
    round.skipped = true;
    speaker.stop();
    addRound(round);
    if (game.isOver) gameOver();
    else startRound();
  }

  function onPrediction({ detail }) {
    if (game?.phase !== 'drawing') return;
    // A guess of input made before this round began is about the last round's drawing.
    if (performance.now() - detail.inputToScreenMilliseconds < roundStartedAt) return;
    const round = game.judge(detail.labels, detail.probabilities, state.threshold, currentStrokes());
    if (round) {
      roundEnded(round);
      return;
    }
    // judge() ranked the guesses already (game.lastTop): the voice reads the first two from there.
    say(speaker.guess(guessWords(game.lastTop.slice(0, 2).map(([label]) => label))));
  }

  /** One finished round in #rounds; a miss also gets its top three, the gallery's drawing and a way to keep it. */
  function addRound(round) {
    const item = element('li', `round ${round.result}`);
    item.dataset.label = round.label;
    item.dataset.result = round.result;
    const drawn = round.strokes.length > 0;
    item.append(
      thumbnail(round.strokes, drawn ? `your drawing of ${withArticle(round.label)}` : 'nothing drawn'),
      element('p', 'round-name', round.label),
      element('p', 'small round-result-text', resultText(round)),
    );
    if (round.result === 'missed') item.append(missDetails(round));
    byId('rounds').append(item);
  }

  function missDetails(round) {
    const details = element('div', 'round-more');
    const top = round.top.length > 0
      ? `It thought: ${round.top.map(([label, probability]) => `${label} ${percentText(probability)}`).join(', ')}.`
      : 'It had no guess yet.';
    details.append(element('p', 'small', top));
    const sample = (Object.hasOwn(state.samples, round.label) ? state.samples[round.label] : undefined) ?? state.taught?.classes().find(({ name }) => name === round.label)?.sample;
    if (sample) {
      const figure = element('figure', 'how-it-knows');
      figure.append(thumbnail(sample, `the gallery's drawing of ${withArticle(round.label)}`, 72),
        element('figcaption', 'small', `How it knows ${withArticle(round.label)}`));
      details.append(figure);
    }
    if (round.strokes.length > 0 && state.predictor) {
      const taught = state.taughtNames.includes(round.label);
      const button = element('button', 'keep-miss', taught ? `Teach it: this is ${withArticle(round.label)}`
        : `Save as a correction: ${round.label}`);
      button.type = 'button';
      button.addEventListener('click', () => keepMiss(round, button, taught));
      details.append(button);
    }
    return details;
  }

  /** One click: a missed drawing becomes a correction (a built-in class) or a taught drawing (a taught one). */
  async function keepMiss(round, button, taught) {
    button.disabled = true; // one click keeps it once
    const kept = await attempt(`keep the drawing of ${round.label}`, async () => {
      if (!taught) {
        corrections.add(round.strokes, round.label);
        ui.showCorrections(corrections.count, !drawing.isEmpty);
        return `Saved as a correction: ${round.label}`;
      }
      if (await teaching.addDrawing(round.label, round.strokes) === null) {
        throw new Error('another model was picked meanwhile');
      }
      teaching.taughtChanged();
      return `Taught as ${withArticle(round.label)}`;
    }, { near: 'game' });
    if (kept) button.textContent = kept;
    else button.disabled = false;
  }

  function gameOver() {
    clearInterval(timer);
    timer = null;
    freeze(false);
    showResult('');
    speaker.stop();
    setPhase('over');
    showCountdown();
    // The last round's drawing is on the end screen; the guesses' column says where to look.
    emptyDrawing();
    ui.clearPredictions('The game is over: your drawings are with the game.');
    const score = { ...game.score(), seed: options.seed, when: new Date().toISOString() };
    const { best, history, isBest } = scores.record(options.modelId, score);
    const time = score.recognized > 0 ? ` in ${secondsText(score.milliseconds)}` : '';
    byId('game-summary').textContent = `It recognized ${score.recognized} of your ${score.rounds} drawings${time}.`;
    byId('game-best').textContent = isBest
      ? 'Your best game with this model so far (kept in this browser only).'
      : `Your best with this model: ${best.recognized} of ${best.rounds}${best.recognized > 0 ? ` in ${secondsText(best.milliseconds)}` : ''}.`;
    byId('game-history').replaceChildren(...history.slice(1, 6).map((past) => element('li', '',
      `${past.recognized} of ${past.rounds}${past.recognized > 0 ? ` in ${secondsText(past.milliseconds)}` : ''}`
      + ` (${new Date(past.when).toLocaleDateString()})`)));
    byId('game-history-title').hidden = history.length < 2;
    const link = byId('share-link');
    link.href = shareQuery(options);
    link.textContent = new URL(link.href, window.location.href).href;
    byId('play-again').focus();
  }

  /** Start a game: the address's seed for the first one it asks for, else a new seed. */
  function start({ seed = null } = {}) {
    if (!state.predictor) return;
    if (state.replay) stopReplay();
    if (!kept) {
      if (canvas.stroke) canvas.endStroke(canvas.stroke[0].length); // a stroke being drawn is kept too
      kept = { strokes: drawing.strokes, past: drawing.past, future: drawing.future };
    }
    clearInterval(timer);
    options = { seed: seed ?? newSeed(), seconds: asked.seconds, modelId: state.modelId };
    const labels = state.allLabels.length > 0 ? state.allLabels : state.labels;
    game = new Game({ prompts: pickPrompts(labels, options.seed), seconds: options.seconds, clock });
    byId('rounds').replaceChildren();
    ui.showMessage('');
    byId('game').hidden = false;
    byId('game-results').hidden = false;
    byId('status').setAttribute('aria-live', 'off'); // the game's own words are the live region now
    const url = new URL(window.location.href);
    url.search = shareQuery(options);
    window.history.replaceState(null, '', url);
    showMute();
    startRound();
    timer = setInterval(tick, TICK_MILLISECONDS);
    byId('game').focus();
  }

  /** Leave Play: the game is abandoned and the free drawing comes back as it was, history and all. */
  function leave() {
    if (!game && !kept) return;
    // Focus goes back to Play when it was in the game (or nowhere): the keyboard carries on from there.
    const { activeElement } = document;
    const hadFocus = activeElement === document.body || byId('game').contains(activeElement)
      || byId('game-results').contains(activeElement);
    clearInterval(timer);
    timer = null;
    game = null;
    speaker.stop();
    freeze(false);
    showResult('');
    setPhase(null);
    byId('game').hidden = true;
    byId('game-results').hidden = true;
    byId('status').setAttribute('aria-live', 'polite');
    if (canvas.stroke) canvas.endStroke(0);
    Object.assign(drawing, kept);
    kept = null;
    drawingChanged();
    const url = new URL(window.location.href);
    for (const name of ['play', 'seed', 'seconds']) url.searchParams.delete(name);
    window.history.replaceState(null, '', url);
    if (hadFocus) byId('play').focus();
  }

  async function downloadSheet() {
    const blob = await sheetBlob(game.rounds);
    if (!blob) throw new Error('the browser could not make the image');
    download(blob, `sketch-game-${options.seed}.png`);
  }

  function downloadRounds() {
    const lines = game.rounds.filter((round) => round.strokes.length > 0).map((round) => {
      const record = JSON.parse(toNdjsonLine(round.strokes, round.label));
      record.recognized = round.result === 'recognized';
      return `${JSON.stringify(record)}\n`;
    });
    if (lines.length === 0) throw new Error('nothing was drawn in this game');
    download(new Blob(lines, { type: 'application/x-ndjson' }), `sketch-game-${options.seed}.ndjson`);
    const empty = game.rounds.length - lines.length;
    if (empty > 0) ui.showMessage(`${empty} round${empty === 1 ? '' : 's'} with nothing drawn left out.`, { near: 'game' });
  }

  window.addEventListener('sketch:prediction', onPrediction);
  byId('play').addEventListener('click', () => start());
  byId('play-again').addEventListener('click', () => start());
  byId('skip').addEventListener('click', skip);
  byId('mute').addEventListener('click', toggleMute);
  byId('leave-play').addEventListener('click', leave);
  byId('leave-game').addEventListener('click', leave);
  byId('download-sheet').addEventListener('click', () => attempt('save the PNG sheet', downloadSheet, { near: 'game' }));
  byId('download-rounds').addEventListener('click', () => attempt('save the ndjson', downloadRounds, { near: 'game' }));
  // Another model: its classes are other prompts, so the game is left (the switch itself is main.js's).
  byId('model-choice').addEventListener('change', () => leave());
  // In a game, Escape leaves Play (not Clear), S skips and M mutes; captured before keys.js sees them.
  document.addEventListener('keydown', (event) => {
    if (!game || event.target.closest?.('input, textarea, select')) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    const action = { escape: leave, s: skip, m: toggleMute }[key];
    if (!action) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    action();
  }, true);

  /**
   * The page is ready (a model guesses): Play can start, and starts now when the address says `?play`.
   * `notes`: what the page said of the address before (a model that is not here), said again after start.
   */
  function pageReady(notes = []) {
    byId('play').disabled = false;
    showMute();
    if (!params.has('play')) return;
    start({ seed: asked.seed });
    // After start, which clears the message line: a mistyped link plays, and says what it did instead.
    const problems = [...notes, ...asked.problems];
    if (problems.length > 0) ui.showMessage(problems.join(' '), { error: true });
  }

  return {
    pageReady, start, leave, skip, game: () => game, speaker,
  };
}
