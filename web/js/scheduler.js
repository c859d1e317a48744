/**
 * Prediction scheduling: at most one prediction per animation frame, newest input wins. The first input
 * of a frame is predicted at once (waiting for the next frame would add up to 16 ms for nothing); more
 * input in the same frame waits for the next one; input during a running prediction is taken up when it
 * ends. Nothing queues: each prediction reads the strokes as they are when it starts.
 *
 * No DOM beyond requestAnimationFrame and performance.now, so `node --test tests/js/` covers it with a
 * stand-in for the frames.
 */

export class Scheduler {
  /**
   * run(inputTime): one prediction (a promise), given the time of the oldest input it serves;
   * canRun(): whether a prediction can start now (a model is loaded).
   */
  constructor(run, canRun = () => true) {
    this.run = run;
    this.canRun = canRun;
    this.frameRequested = false;
    this.predictedThisFrame = false;
    this.busy = false;
    this.dirty = false;
    this.oldestUnservedInput = null;
  }

  /** Whether a prediction is running or waiting (window.sketch.idle waits for none). */
  get pending() {
    return this.busy || this.dirty || this.frameRequested;
  }

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
  }

  /** Forget pending input (the drawing became empty). */
  reset() {
    this.dirty = false;
    this.oldestUnservedInput = null;
  }

  start() {
    if (this.busy || !this.dirty || !this.canRun()) return;
    this.predictedThisFrame = true;
    requestAnimationFrame(() => {
      this.predictedThisFrame = false;
    });
    this.dirty = false;
    this.busy = true;
    const inputTime = this.oldestUnservedInput;
    this.oldestUnservedInput = null;
    this.run(inputTime).finally(() => {
      this.busy = false;
      if (this.dirty) this.request();
    });
  }
}
