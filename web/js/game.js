/**
 * The game's rules, without the DOM: six rounds, each one prompt drawn without repeats from the model's
 * classes by a seeded shuffle (so a link with the seed gives the same prompts), a countdown kept on an
 * injected clock, the win rule, and the scores kept in an injected storage. play.js shows it and feeds it
 * the page's guesses; `node --test tests/js/game.test.js` runs it on a fake clock.
 */

import { isSure, topGuesses } from './words.js';

export const ROUNDS = 6;
// A round's length; the address may ask for another (`&seconds=3`, tests' short rounds), within the bounds below.
export const ROUND_SECONDS = 20;
export const MIN_SECONDS = 1;
export const MAX_SECONDS = 600;
// How long a round's result ("You drew a cat in 4.2 s") stays before the next round starts.
export const RESULT_MILLISECONDS = 1500;
// Seeds are 32-bit: the generator's state. A new game picks one below RANDOM_SEEDS, so that its link stays short.
export const MAX_SEED = 2 ** 32 - 1;
const RANDOM_SEEDS = 1_000_000;
// Games kept per model in this browser's history.
export const HISTORY_LENGTH = 10;
const SCORES_KEY = 'sketch.games';

/** A seeded generator of numbers in [0, 1) (mulberry32): the same seed, the same sequence, in every browser. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for a new game, from `random` (Math.random unless a test gives its own). */
export function newSeed(random = Math.random) {
  return Math.floor(random() * RANDOM_SEEDS);
}

/**
 * The game's prompts: `count` of the labels (all of them when there are fewer), without repeats, by a
 * Fisher-Yates shuffle driven by the seed. The labels' order matters, so a shared seed gives the same
 * prompts for the same model and the same taught classes.
 */
export function pickPrompts(labels, seed, count = ROUNDS) {
  const random = seededRandom(seed);
  const pool = [...labels];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, Math.min(count, pool.length));
}

/**
 * The game's options from the address (a URLSearchParams): seed (null: pick one) and seconds per round.
 * A value that cannot be used falls back to the default, and `problems` says so in a sentence each, for
 * the page to show: a mistyped link still plays.
 */
export function gameOptions(params) {
  const problems = [];
  let seed = null;
  const seedText = params.get('seed');
  if (seedText !== null && seedText !== '') {
    if (/^\d{1,10}$/.test(seedText.trim()) && Number(seedText) <= MAX_SEED) {
      seed = Number(seedText);
    } else {
      problems.push(`The seed "${seedText.slice(0, 20)}" is not a whole number from 0 to ${MAX_SEED}, so these prompts are picked at random.`);
    }
  }
  let seconds = ROUND_SECONDS;
  const secondsText = params.get('seconds');
  if (secondsText !== null && secondsText !== '') {
    const asked = Number(secondsText);
    // Plain decimal numbers only: Number() also reads "0x10" as 16 and "1e1" as 10.
    if (/^\d{1,4}(\.\d{1,3})?$/.test(secondsText) && asked >= MIN_SECONDS && asked <= MAX_SECONDS) {
      seconds = asked;
    } else {
      problems.push(`The round length "${secondsText.slice(0, 20)}" is not a number of seconds from ${MIN_SECONDS} to ${MAX_SECONDS}, so rounds last ${ROUND_SECONDS} s.`);
    }
  }
  return { seed, seconds, problems };
}

/**
 * The address that replays a game: `?play&seed=N`, plus the model when it is not the shipped one and the
 * round length when it is not the default (the prompts come from the model's classes).
 */
export function shareQuery({ seed, seconds = ROUND_SECONDS, modelId = 'shipped' }) {
  let query = `?play&seed=${seed}`;
  if (modelId && modelId !== 'shipped') query += `&model=${encodeURIComponent(modelId)}`;
  if (seconds !== ROUND_SECONDS) query += `&seconds=${seconds}`;
  return query;
}

/**
 * The win rule: the model's top guess is the prompt, and it is sure of it (the page's own decision,
 * words.js's isSure against the model's shipped threshold), so the game wins exactly when the page says
 * "It's a cat!".
 */
export function isWin(prompt, labels, probabilities, threshold) {
  if (probabilities.length === 0) return false;
  let top = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[top]) top = i;
  return labels[top] === prompt && isSure(probabilities[top], threshold);
}

/** "4.2 s": a round's time as the page says it. */
export function secondsText(milliseconds) {
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

/**
 * One game. Phases: 'drawing' (a round runs: its prompt, its countdown), 'showing' (a round ended by a
 * win or the time running out; its result shows for RESULT_MILLISECONDS) and 'over'. Each finished round
 * is { label, result: 'recognized' | 'missed', milliseconds, top (the last guess's top three), strokes }.
 * The clock ({ now() } in milliseconds) is injected; nothing here waits: the page calls tick() often and
 * judge() with each guess, and reads what changed from their results.
 */
export class Game {
  constructor({
    prompts, seconds = ROUND_SECONDS, resultMilliseconds = RESULT_MILLISECONDS, clock,
  }) {
    if (prompts.length === 0) throw new Error('there is nothing to draw: the model has no classes');
    this.prompts = prompts;
    this.roundMilliseconds = seconds * 1000;
    this.resultMilliseconds = resultMilliseconds;
    this.clock = clock;
    this.rounds = [];
    this.index = 0;
    this.phase = 'drawing';
    this.lastTop = [];
    this.startedAt = clock.now();
    this.shownAt = 0;
  }

  get prompt() {
    return this.phase === 'over' ? null : this.prompts[this.index];
  }

  get isOver() {
    return this.phase === 'over';
  }

  /** Milliseconds left in the round being drawn; 0 while a result shows and when the game is over. */
  remaining() {
    if (this.phase !== 'drawing') return 0;
    return Math.max(0, this.roundMilliseconds - (this.clock.now() - this.startedAt));
  }

  /** The share of the round left, 1 at its start and 0 at its end. */
  remainingShare() {
    return this.remaining() / this.roundMilliseconds;
  }

  /**
   * A guess of the drawing: the finished round when it wins (the drawing, `strokes`, is the one the guess
   * saw), else null. A guess after the round's time is up cannot win it: the next tick() misses the round.
   */
  judge(labels, probabilities, threshold, strokes) {
    if (this.phase !== 'drawing' || this.remaining() <= 0) return null;
    this.lastTop = topGuesses(labels, probabilities);
    if (!isWin(this.prompt, labels, probabilities, threshold)) return null;
    return this.finish('recognized', strokes, 'showing');
  }

  /** The round ends as missed and the next one starts at once; returns the finished round. */
  skip(strokes) {
    if (this.phase !== 'drawing') return null;
    return this.finish('missed', strokes, 'drawing');
  }

  /**
   * Move the game on by the clock: 'missed' when the round's time ran out (its result now shows), 'next'
   * when a result has shown long enough and the next round started, 'over' when that was the last round,
   * or null when nothing changed. `strokes`: the drawing now, kept with a round that runs out.
   */
  tick(strokes = []) {
    const now = this.clock.now();
    if (this.phase === 'drawing' && now - this.startedAt >= this.roundMilliseconds) {
      this.finish('missed', strokes, 'showing');
      return 'missed';
    }
    if (this.phase === 'showing' && now - this.shownAt >= this.resultMilliseconds) {
      this.nextRound();
      return this.phase === 'over' ? 'over' : 'next';
    }
    return null;
  }

  /** Record the round; then show its result (`then` 'showing') or go straight on to the next ('drawing'). */
  finish(result, strokes, then) {
    const now = this.clock.now();
    const round = {
      label: this.prompt,
      result,
      milliseconds: Math.min(this.roundMilliseconds, now - this.startedAt),
      top: this.lastTop,
      strokes: strokes ?? [],
    };
    this.rounds.push(round);
    if (then === 'showing') {
      this.phase = 'showing';
      this.shownAt = now;
    } else {
      this.nextRound();
    }
    return round;
  }

  nextRound() {
    if (this.rounds.length >= this.prompts.length) {
      this.phase = 'over';
      return;
    }
    this.index = this.rounds.length;
    this.phase = 'drawing';
    this.lastTop = [];
    this.startedAt = this.clock.now();
  }

  /** The game's score: rounds recognized, and the time they took (less is better among equal counts). */
  score() {
    const recognized = this.rounds.filter((round) => round.result === 'recognized');
    return {
      recognized: recognized.length,
      rounds: this.prompts.length,
      milliseconds: recognized.reduce((total, round) => total + round.milliseconds, 0),
    };
  }
}

/** Whether score `a` beats score `b`: more rounds recognized, or as many in less time. */
export function beats(a, b) {
  if (!b) return true;
  if (a.recognized !== b.recognized) return a.recognized > b.recognized;
  return a.milliseconds < b.milliseconds;
}

/**
 * Scores kept in this browser only: per model, the best game and the last HISTORY_LENGTH games, as one
 * JSON value under one key. A damaged value reads as no scores (and is replaced by the next game's), and
 * a full store keeps what was there: a score is never worth an error in the middle of a game.
 */
export class Scores {
  constructor(storage = globalThis.localStorage, key = SCORES_KEY) {
    this.storage = storage;
    this.key = key;
  }

  read() {
    let value = null;
    try {
      value = JSON.parse(this.storage?.getItem(this.key) ?? 'null');
    } catch {
      value = null;
    }
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
  }

  /** { best, history } for a model; best is null and history empty before its first game. */
  of(modelId) {
    const entry = this.read()[modelId];
    const valid = (score) => score !== null && typeof score === 'object'
      && Number.isInteger(score.recognized) && Number.isFinite(score.milliseconds);
    return {
      best: valid(entry?.best) ? entry.best : null,
      history: Array.isArray(entry?.history) ? entry.history.filter(valid) : [],
    };
  }

  /**
   * Record a finished game's score ({ recognized, rounds, milliseconds, seed, when }); returns
   * { best, history, isBest, saved } (saved is false when the browser's store is full or missing).
   */
  record(modelId, score) {
    const all = this.read();
    const { best, history } = this.of(modelId);
    const isBest = beats(score, best);
    const entry = { best: isBest ? score : best, history: [score, ...history].slice(0, HISTORY_LENGTH) };
    all[modelId] = entry;
    let saved = true;
    try {
      this.storage.setItem(this.key, JSON.stringify(all));
    } catch {
      saved = false;
    }
    return { ...entry, isBest, saved };
  }
}
