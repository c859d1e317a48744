/**
 * Strokes onto a 2D canvas context: the one place the page draws ink (the drawing canvas, the class
 * gallery and the PNG export). The caller sets the line style once; this only traces and strokes.
 */

/**
 * Stroke [xs, ys] in drawing units, mapped by x * scale + margin; from > 0 draws only the part from
 * point from - 1 on (the new segments of a stroke in progress, or of a replay's frame), and only up to
 * point `to` (excluded).
 */
export function traceStroke(context, [xs, ys], scale, margin = 0, from = 0, to = xs.length) {
  const start = Math.max(0, from - 1);
  const end = Math.min(to, xs.length);
  if (end <= start) return;
  context.beginPath();
  context.moveTo(xs[start] * scale + margin, ys[start] * scale + margin);
  // A single point still shows as a dot: a zero-length line with round caps.
  if (end - start === 1) context.lineTo(xs[start] * scale + margin + 0.01, ys[start] * scale + margin);
  for (let i = start + 1; i < end; i++) context.lineTo(xs[i] * scale + margin, ys[i] * scale + margin);
  context.stroke();
}

/** Round caps and joins, one colour and width: set once per context (resizing a canvas resets it). */
export function setInk(context, color, width) {
  context.lineCap = 'round';
  context.lineJoin = 'round';
  context.strokeStyle = color;
  context.lineWidth = width;
}
