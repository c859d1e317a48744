/** Unit tests for web/js/scheduler.js: one prediction a frame, one at a time, the newest input winning. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheduler } from '../../web/js/scheduler.js';

// Frames by hand: requestAnimationFrame callbacks wait until the test runs the next frame.
let frameCallbacks = [];
globalThis.requestAnimationFrame = (callback) => frameCallbacks.push(callback);
const nextFrame = () => {
  const callbacks = frameCallbacks;
  frameCallbacks = [];
  callbacks.forEach((callback) => callback());
};

test('the first input of a frame is predicted at once, the rest of the frame in the next one', () => {
  frameCallbacks = [];
  const runs = [];
  const scheduler = new Scheduler((time) => { runs.push(time); return Promise.resolve(); });
  scheduler.request(1);
  assert.deepEqual(runs, [1]);
  return Promise.resolve().then(() => {
    scheduler.request(2);
    scheduler.request(3);
    assert.deepEqual(runs, [1]); // same frame: waits
    assert.ok(scheduler.pending);
    nextFrame();
    assert.deepEqual(runs, [1, 2]); // one prediction for both, timed from the oldest input
  });
});

test('input during a running prediction is taken up once when it ends; nothing queues', async () => {
  frameCallbacks = [];
  const runs = [];
  let finish;
  const scheduler = new Scheduler((time) => {
    runs.push(time);
    return new Promise((resolve) => { finish = resolve; });
  });
  scheduler.request(1);
  scheduler.request(2);
  scheduler.request(3);
  assert.deepEqual(runs, [1]);
  nextFrame();
  finish();
  await new Promise((resolve) => { setImmediate(resolve); });
  assert.deepEqual(runs, [1, 2]);
  finish();
  await new Promise((resolve) => { setImmediate(resolve); });
  assert.equal(scheduler.pending, false);
});

test('nothing runs before it can, and a reset forgets the input', () => {
  frameCallbacks = [];
  let ready = false;
  const runs = [];
  const scheduler = new Scheduler((time) => { runs.push(time); return Promise.resolve(); }, () => ready);
  scheduler.request(1);
  assert.deepEqual(runs, []);
  scheduler.reset();
  ready = true;
  scheduler.start();
  assert.deepEqual(runs, []);
});
