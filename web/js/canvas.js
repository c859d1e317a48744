/**
 * The drawing canvas: pointer capture and ink, nothing else. Emits `strokestart`, `strokemove` and
 * `strokeend` events whose detail is the stroke being drawn, in the dataset's format [[xs], [ys]].
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

export class DrawingCanvas extends EventTarget {
  constructor(canvas) {
    super();
    this.canvas = canvas;
    this.context = canvas.getContext('2d');
    this.activePointerId = null;
    this.stroke = null;
    this.strokes = [];
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

  /** Show these finished strokes (plus the one in progress, if any). */
  show(strokes) {
    this.strokes = strokes;
    this.redraw();
  }

  redraw() {
    const { context, canvas } = this;
    context.clearRect(0, 0, canvas.width, canvas.height);
    for (const stroke of this.strokes) traceStroke(context, stroke, this.scale);
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
    this.activePointerId = event.pointerId;
    const [x, y] = this.toDrawingUnits(event);
    this.stroke = [[x], [y]];
    window.addEventListener('pointermove', this.onPointerMove);
    window.addEventListener('pointerup', this.onPointerUp);
    window.addEventListener('pointercancel', this.onPointerUp);
    traceStroke(this.context, this.stroke, this.scale);
    this.emit('strokestart', event);
  }

  onPointerMove(event) {
    if (event.pointerId !== this.activePointerId) return;
    event.preventDefault();
    const before = this.stroke[0].length;
    // Coalesced events carry the points the browser merged into this one: smoother fast strokes.
    const events = event.getCoalescedEvents?.() ?? [];
    for (const sample of events.length > 0 ? events : [event]) {
      const [x, y] = this.toDrawingUnits(sample);
      const last = this.stroke[0].length - 1;
      if (x === this.stroke[0][last] && y === this.stroke[1][last]) continue;
      this.stroke[0].push(x);
      this.stroke[1].push(y);
    }
    if (this.stroke[0].length === before) return;
    traceStroke(this.context, this.stroke, this.scale, 0, before);
    this.emit('strokemove', event);
  }

  onPointerUp(event) {
    if (event.pointerId !== this.activePointerId) return;
    window.removeEventListener('pointermove', this.onPointerMove);
    window.removeEventListener('pointerup', this.onPointerUp);
    window.removeEventListener('pointercancel', this.onPointerUp);
    this.activePointerId = null;
    const stroke = this.stroke;
    this.stroke = null;
    this.emit('strokeend', event, stroke);
  }

  /** Emit with the stroke and the pointer event's time, from which latency to the guess is measured. */
  emit(type, event, stroke = this.stroke) {
    this.dispatchEvent(new CustomEvent(type, { detail: { stroke, time: event.timeStamp } }));
  }
}
