/**
 * The drawing canvas: pointer capture and ink, nothing else. Emits `strokestart`, `strokemove` and
 * `strokeend` events whose detail is the stroke being drawn, in the dataset's format [[xs], [ys]], and
 * `limit` when a stroke would take the drawing past the budget its owner sets (`pointBudget`,
 * `strokeBudget`, given at construction so that even the first stroke has one): the stroke is refused, or
 * ended at the last point that fits. The owner can also end a stroke early (endStroke: the bound on ink,
 * which only the rasterizer's worker can count); a stroke ended with no point left is `strokecancel`.
 *
 * Work per pointer move is the new samples and their segments only; a replay's frames likewise draw only
 * the points added since the last frame (showPoints).
 *
 * Coordinates are kept in drawing units: 0..255 across the (square) canvas, whatever its size on screen,
 * so a drawing survives resizing and rotating the device. Capture follows signature_pad
 * (https://github.com/szimek/signature_pad): Pointer Events for mouse, touch and pen, `touch-action: none`
 * in the CSS, move/up/cancel listened for on window while a stroke is active (so a stroke that leaves the
 * canvas still ends), one pointer at a time, and a backing store scaled by devicePixelRatio.
 */

import { setInk, traceStroke } from './ink.js';

export const DRAWING_SIDE = 255;
const LINE_WIDTH = 4; // CSS pixels at a 400-pixel canvas; scaled with the canvas.
// Samples closer than this to the last kept point add nothing the 28x28 input can show (RDP drops what
// lies within 2 units of a chord), only points: a pen at 240 events a second would fill the budget fast.
const MIN_DISTANCE = 0.5; // drawing units (as signature_pad's minDistance, in pixels there)

export class DrawingCanvas extends EventTarget {
  constructor(canvas, { pointBudget, strokeBudget }) {
    super();
    this.canvas = canvas;
    this.context = canvas.getContext('2d');
    this.activePointerId = null;
    this.stroke = null;
    this.strokes = [];
    this.shownPoints = Infinity; // how many of this.strokes' points are shown (a replay shows a prefix)
    this.pointBudget = pointBudget; // points the drawing may still take, over all its strokes
    this.strokeBudget = strokeBudget;
    this.onPointerDown = this.onPointerDown.bind(this);
    this.onPointerMove = this.onPointerMove.bind(this);
    this.onPointerUp = this.onPointerUp.bind(this);
    canvas.addEventListener('pointerdown', this.onPointerDown);
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  /** Match the backing store to the CSS size times devicePixelRatio, then redraw. */
  resize() {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(rect.width * ratio));
    const height = Math.max(1, Math.round(rect.height * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.scale = width / DRAWING_SIDE;
    // Read the ink colour here, not per pointer move: getComputedStyle forces a style recalculation.
    const color = getComputedStyle(this.canvas).getPropertyValue('--stroke').trim() || '#111';
    setInk(this.context, color, Math.max(2, (LINE_WIDTH * width) / 400));
    this.redraw();
  }

  /** Show these finished strokes (plus the one in progress, if any); a replay shows its frames this way. */
  show(strokes) {
    this.strokes = strokes;
    this.shownPoints = Infinity;
    this.redraw();
  }

  /**
   * Show the first `points` points of these strokes (a replay's frame). When they extend what is shown,
   * only the new segments are drawn, so a frame costs what it adds, not the whole drawing.
   */
  showPoints(strokes, points) {
    if (strokes !== this.strokes || points < this.shownPoints) {
      this.strokes = strokes;
      this.shownPoints = points;
      this.redraw();
      return;
    }
    if (points === this.shownPoints) return;
    this.tracePoints(this.shownPoints, points);
    this.shownPoints = points;
  }

  /** Trace the points from..to (excluded) of this.strokes, counted over all strokes. */
  tracePoints(from, to) {
    let first = 0;
    for (const stroke of this.strokes) {
      const count = stroke[0].length;
      if (first >= to) break;
      if (first + count > from) traceStroke(this.context, stroke, this.scale, 0, Math.max(0, from - first), to - first);
      first += count;
    }
  }

  redraw() {
    const { context, canvas } = this;
    context.clearRect(0, 0, canvas.width, canvas.height);
    this.tracePoints(0, this.shownPoints);
    if (this.stroke) traceStroke(context, this.stroke, this.scale);
  }

  /** A pointer event's position in drawing units, clamped to the canvas. */
  toDrawingUnits(event) {
    const rect = this.canvas.getBoundingClientRect();
    const clamp = (value) => Math.min(DRAWING_SIDE, Math.max(0, value));
    const round = (value) => Math.round(value * 100) / 100;
    return [
      round(clamp(((event.clientX - rect.left) / rect.width) * DRAWING_SIDE)),
      round(clamp(((event.clientY - rect.top) / rect.height) * DRAWING_SIDE)),
    ];
  }

  onPointerDown(event) {
    if (this.activePointerId !== null) return; // One pointer at a time: a second finger is ignored.
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    event.preventDefault();
    if (this.strokeBudget < 1 || this.pointBudget < 1) {
      this.dispatchEvent(new CustomEvent('limit', { detail: { strokes: this.strokeBudget < 1 } }));
      return;
    }
    this.activePointerId = event.pointerId;
    const [x, y] = this.toDrawingUnits(event);
    this.stroke = [[x], [y]];
    window.addEventListener('pointermove', this.onPointerMove);
    window.addEventListener('pointerup', this.onPointerUp);
    window.addEventListener('pointercancel', this.onPointerUp);
    traceStroke(this.context, this.stroke, this.scale);
    this.emit('strokestart', event);
  }

  /** Add a sample unless it is within MIN_DISTANCE of the last kept one; false when the budget is spent. */
  addSample(sample, minimumDistance = MIN_DISTANCE) {
    const [x, y] = this.toDrawingUnits(sample);
    const [xs, ys] = this.stroke;
    const last = xs.length - 1;
    const distance = Math.hypot(x - xs[last], y - ys[last]);
    if (distance === 0 || distance < minimumDistance) return true;
    if (xs.length >= this.pointBudget) return false;
    xs.push(x);
    ys.push(y);
    return true;
  }

  onPointerMove(event) {
    if (event.pointerId !== this.activePointerId) return;
    event.preventDefault();
    const before = this.stroke[0].length;
    // Coalesced events carry the points the browser merged into this one: smoother fast strokes.
    const events = event.getCoalescedEvents?.() ?? [];
    let full = false;
    for (const sample of events.length > 0 ? events : [event]) {
      if (!this.addSample(sample)) {
        full = true;
        break;
      }
    }
    if (this.stroke[0].length > before) {
      traceStroke(this.context, this.stroke, this.scale, 0, before);
      this.emit('strokemove', event);
    }
    if (full) {
      this.onPointerUp(event, { keepLastSample: false });
      this.dispatchEvent(new CustomEvent('limit', { detail: { strokes: false } }));
    }
  }

  onPointerUp(event, { keepLastSample = true } = {}) {
    if (event.pointerId !== this.activePointerId) return;
    // The stroke ends where the pen lifted, even within MIN_DISTANCE of the last kept sample.
    if (keepLastSample && event.type === 'pointerup') this.addSample(event, 0);
    const stroke = this.release();
    this.emit('strokeend', event, stroke);
  }

  /**
   * End the stroke in progress after its first `keep` points, the pen still down (the rest of its moves
   * are ignored): `strokeend` with what is kept, or `strokecancel` when nothing is. The owner redraws.
   */
  endStroke(keep) {
    if (this.activePointerId === null) return;
    const [xs, ys] = this.release();
    const time = performance.now();
    if (keep > 0) {
      this.dispatchEvent(new CustomEvent('strokeend', { detail: { stroke: [xs.slice(0, keep), ys.slice(0, keep)], time } }));
    } else {
      this.dispatchEvent(new CustomEvent('strokecancel', { detail: { time } }));
    }
  }

  /** Stop following the pointer; returns the stroke it drew. */
  release() {
    window.removeEventListener('pointermove', this.onPointerMove);
    window.removeEventListener('pointerup', this.onPointerUp);
    window.removeEventListener('pointercancel', this.onPointerUp);
    this.activePointerId = null;
    const stroke = this.stroke;
    this.stroke = null;
    return stroke;
  }

  /** Emit with the stroke and the pointer event's time, from which latency to the guess is measured. */
  emit(type, event, stroke = this.stroke) {
    this.dispatchEvent(new CustomEvent(type, { detail: { stroke, time: event.timeStamp } }));
  }
}
