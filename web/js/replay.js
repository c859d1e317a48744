/**
 * Replaying a loaded drawing as if it were drawn now: point by point, with live guesses, over
 * REPLAY_MILLISECONDS whatever its size. Each animation frame shows the share of the points that the
 * elapsed time calls for, so a replay's frames do not grow with its points. Pure apart from the clock and
 * the frame callback, which are injected (tests/js/replay.test.js runs a replay on a fake clock); main.js
 * wires it to the canvas, the rasterizer and the guesses.
 */

// A replay draws the whole loaded drawing in this long, however many points it has.
export const REPLAY_MILLISECONDS = 2000;
// A loaded drawing is in the dataset's 0..255 units; it is shown with this margin (in drawing units) on
// each side of the canvas, as a person leaves one.
export const REPLAY_MARGIN = 12;

const browserClock = {
  now: () => performance.now(),
  nextFrame: (callback) => requestAnimationFrame(callback),
};

function pointCount(strokes) {
  return strokes.reduce((total, [xs]) => total + xs.length, 0);
}

/** A loaded drawing (0..255 units) placed on a canvas of `side` drawing units, with REPLAY_MARGIN around it. */
export function placeOnCanvas(loaded, side) {
  const scale = (side - 2 * REPLAY_MARGIN) / 255;
  const place = (value) => Math.round((REPLAY_MARGIN + value * scale) * 100) / 100;
  return loaded.map(([xs, ys]) => [xs.map(place), ys.map(place)]);
}

/** Points shown `elapsed` ms into a replay of `total` points: at least one, all of them at the end. */
export function pointsShown(total, elapsed, duration = REPLAY_MILLISECONDS) {
  return Math.min(total, Math.max(1, Math.ceil((total * elapsed) / duration)));
}

/**
 * Run a replay of `strokes`. The replay is an object { loaded, shown, frames, started, resolve } handed to
 * onStart; each frame updates `shown` and `frames` and calls onFrame, as long as isCurrent says the replay
 * was not stopped; after the last point, onEnd. The returned promise resolves with what the owner passes
 * to replay.resolve (true when it ran to its end), so the owner decides how a replay stops.
 */
export function runReplay(strokes, { onStart, isCurrent, onFrame, onEnd }, clock = browserClock) {
  const total = pointCount(strokes);
  return new Promise((resolve) => {
    const replay = { loaded: strokes, shown: 0, frames: 0, started: clock.now(), resolve };
    onStart(replay);
    const step = () => {
      if (!isCurrent(replay)) return; // stopped: its owner resolved it
      replay.frames += 1;
      replay.shown = pointsShown(total, clock.now() - replay.started);
      onFrame(replay);
      if (replay.shown < total) {
        clock.nextFrame(step);
      } else {
        onEnd(replay);
      }
    };
    clock.nextFrame(step);
  });
}
