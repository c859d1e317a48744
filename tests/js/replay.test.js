/** Unit tests for web/js/replay.js: a replay paced by the clock, run on a fake clock and fake frames. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  REPLAY_MARGIN, REPLAY_MILLISECONDS, placeOnCanvas, pointsShown, runReplay,
} from '../../web/js/replay.js';

/** A clock whose time moves only when the test says, with animation frames every 16 ms. */
function fakeClock() {
  const clock = { time: 1000, frames: [] };
  clock.now = () => clock.time;
  clock.nextFrame = (callback) => clock.frames.push(callback);
  clock.runFrame = () => {
    clock.time += 16;
    const due = clock.frames.splice(0);
    due.forEach((callback) => callback());
  };
  return clock;
}

function drawingOf(points) {
  return [[Array.from({ length: points }, (_, i) => i % 256), Array.from({ length: points }, (_, i) => i % 2)]];
}

for (const points of [12, 5000]) {
  test(`a replay of ${points} points takes two seconds of clock, in frames that do not grow with its points`, async () => {
    const clock = fakeClock();
    let current = null;
    const shownPerFrame = [];
    const ended = runReplay(drawingOf(points), {
      onStart: (replay) => { current = replay; },
      isCurrent: (replay) => replay === current,
      onFrame: (replay) => shownPerFrame.push(replay.shown),
      onEnd: (replay) => replay.resolve(true),
    }, clock);
    let frames = 0;
    while (clock.frames.length > 0) {
      clock.runFrame();
      frames += 1;
      assert.ok(frames <= 200, 'the replay never ends');
    }
    assert.equal(await ended, true);
    const lastPointAt = (REPLAY_MILLISECONDS * (points - 1)) / points; // ms after the start, at the earliest
    // Never ends sooner than its last point is due, and takes at most one frame past two seconds.
    assert.ok(frames * 16 >= lastPointAt && frames <= REPLAY_MILLISECONDS / 16 + 1);
    assert.equal(shownPerFrame.at(-1), points);
    assert.ok(shownPerFrame.every((shown, i) => i === 0 || shown >= shownPerFrame[i - 1]), 'points only grow');
  });
}

test('a stopped replay draws no further frame', () => {
  const clock = fakeClock();
  let current = null;
  let drawn = 0;
  runReplay(drawingOf(100), {
    onStart: (replay) => { current = replay; },
    isCurrent: (replay) => replay === current,
    onFrame: () => { drawn += 1; },
    onEnd: () => assert.fail('a stopped replay must not end'),
  }, clock);
  clock.runFrame();
  clock.runFrame();
  current = null; // stopped by its owner
  clock.runFrame();
  assert.equal(drawn, 2);
  assert.equal(clock.frames.length, 0);
});

test('points shown: at least one, all at the end, never more', () => {
  assert.equal(pointsShown(10, 0), 1);
  assert.equal(pointsShown(10, REPLAY_MILLISECONDS / 2), 5);
  assert.equal(pointsShown(10, REPLAY_MILLISECONDS), 10);
  assert.equal(pointsShown(10, 10 * REPLAY_MILLISECONDS), 10);
});

test('a loaded drawing is placed inside the canvas with its margin', () => {
  const [[xs, ys]] = placeOnCanvas([[[0, 255], [0, 255]]], 300);
  assert.deepEqual(xs, [REPLAY_MARGIN, 300 - REPLAY_MARGIN]);
  assert.deepEqual(ys, [REPLAY_MARGIN, 300 - REPLAY_MARGIN]);
});
