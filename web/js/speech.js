/**
 * The game's voice: its words ("I see… a house, or a barn?") and when to say them. A guess is said only
 * when the last utterance has finished and the guess has changed, so the voice never queues up behind the
 * drawing; the round's last words (a win, a time-out) cut in. Pure: the speech synthesizer, the utterance
 * maker, the storage (for the mute switch) and the clock are injected, so `node --test` covers it; without
 * a synthesizer (or muted) the same words are still returned, for the page's live region, paced by the clock.
 */

import { withArticle } from './words.js';

// Without a voice, a new guess is written at most this often: a screen reader reads every change of a live region.
export const QUIET_MILLISECONDS = 1500;
// An utterance that never reports its end (some engines drop the event) stops holding the voice after this long.
export const LONGEST_UTTERANCE_MILLISECONDS = 8000;
export const MISS_WORDS = "Sorry, I couldn't guess it.";
const MUTE_KEY = 'sketch.muted';

/** "I see… a house, or a barn?": the top two guesses (or the one there is). */
export function guessWords([first, second]) {
  return second ? `I see… ${withArticle(first)}, or ${withArticle(second)}?` : `I see… ${withArticle(first)}?`;
}

/** "Oh, I know, it's a cat!": a round won. */
export function winWords(label) {
  return `Oh, I know, it's ${withArticle(label)}!`;
}

export class Speaker {
  /**
   * synth: a SpeechSynthesis (speak, cancel) or null; makeUtterance(text): a SpeechSynthesisUtterance;
   * storage: where the mute switch is remembered; clock: { now() } in milliseconds.
   */
  constructor({
    synth = null, makeUtterance = null, storage = null, clock = { now: () => Date.now() },
  } = {}) {
    this.synth = synth && makeUtterance ? synth : null;
    this.makeUtterance = makeUtterance;
    this.storage = storage;
    this.clock = clock;
    this.current = null; // the utterance being spoken: { utterance, since }
    this.lastGuess = '';
    this.saidAt = -Infinity;
    let remembered = null;
    try {
      remembered = storage?.getItem(MUTE_KEY) ?? null;
    } catch {
      remembered = null;
    }
    this.muted = remembered === 'true';
  }

  /** Whether this browser can speak at all (the mute switch aside). */
  get canSpeak() {
    return this.synth !== null;
  }

  get voiced() {
    return this.synth !== null && !this.muted;
  }

  /** Mute or unmute, remembered in this browser; muting silences what is being said. */
  setMuted(muted) {
    this.muted = muted;
    try {
      this.storage?.setItem(MUTE_KEY, String(muted));
    } catch {
      // A full store: the switch holds for this visit, not the next.
    }
    if (muted) this.stop();
  }

  /** Whether an utterance is still being spoken. */
  get speaking() {
    if (this.current && this.clock.now() - this.current.since > LONGEST_UTTERANCE_MILLISECONDS) this.current = null;
    return this.current !== null;
  }

  /** Forget the last guess (a new round): the first guess of a round is always said. */
  reset() {
    this.lastGuess = '';
  }

  /**
   * A live guess's words: returns them when they are said now (spoken, or only written where there is no
   * voice), or null when they are held back: the guess has not changed, or the voice is still busy.
   */
  guess(words) {
    if (words === this.lastGuess) return null;
    if (this.voiced ? this.speaking : this.clock.now() - this.saidAt < QUIET_MILLISECONDS) return null;
    this.lastGuess = words;
    this.say(words);
    return words;
  }

  /** The round's last words: said at once, cutting off a guess being spoken. Returns them. */
  final(words) {
    this.stop();
    this.lastGuess = '';
    this.say(words);
    return words;
  }

  /** Stop speaking (leaving the game, muting). */
  stop() {
    if (this.current && this.synth) this.synth.cancel();
    this.current = null;
  }

  say(words) {
    this.saidAt = this.clock.now();
    if (!this.voiced) return;
    const utterance = this.makeUtterance(words);
    const entry = { utterance, since: this.clock.now() };
    // Only the utterance still current may free the voice: a cancelled one reports its end later.
    const ended = () => {
      if (this.current === entry) this.current = null;
    };
    utterance.addEventListener('end', ended);
    utterance.addEventListener('error', ended);
    this.current = entry;
    this.synth.speak(utterance);
  }
}
