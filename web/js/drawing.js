/**
 * The drawing as data: finished strokes in the dataset's format [[xs], [ys]], with undo and redo.
 * Pure (no DOM), so `node --test tests/js/` covers it.
 *
 * History is a list of snapshots (stroke arrays are never mutated, only replaced), so every action,
 * clear included, undoes the same way.
 */

export class Drawing {
  constructor(strokes = []) {
    this.strokes = strokes;
    this.past = [];
    this.future = [];
  }

  get isEmpty() {
    return this.strokes.length === 0;
  }

  get canUndo() {
    return this.past.length > 0;
  }

  get canRedo() {
    return this.future.length > 0;
  }

  commit(strokes) {
    this.past.push(this.strokes);
    this.future = []; // A new action ends the redo history, as in every editor.
    this.strokes = strokes;
  }

  /** Add a finished stroke. */
  add(stroke) {
    this.commit([...this.strokes, stroke]);
  }

  /** Clear the drawing; one undo brings it back. Returns false when there was nothing to clear. */
  clear() {
    if (this.isEmpty) return false;
    this.commit([]);
    return true;
  }

  /** Replace the whole drawing (a loaded or replayed one), undoably. */
  replace(strokes) {
    this.commit(strokes);
  }

  /**
   * Shorten the last stroke to its first `keep` points, or take it back (0), as part of the step that added
   * it: no new undo step (a stroke cut for the rasterizer's limits after it ended).
   */
  trimLast(keep) {
    const before = this.strokes.slice(0, -1);
    const [xs, ys] = this.strokes[this.strokes.length - 1];
    if (keep > 0) {
      this.strokes = [...before, [xs.slice(0, keep), ys.slice(0, keep)]];
      return;
    }
    const previous = this.past[this.past.length - 1];
    const same = previous?.length === before.length && previous.every((stroke, index) => stroke === before[index]);
    this.strokes = same ? this.past.pop() : before;
  }

  undo() {
    if (!this.canUndo) return false;
    this.future.push(this.strokes);
    this.strokes = this.past.pop();
    return true;
  }

  redo() {
    if (!this.canRedo) return false;
    this.past.push(this.strokes);
    this.strokes = this.future.pop();
    return true;
  }

  /** The finished strokes plus an unfinished one: what the model sees while a stroke is drawn. */
  withStroke(stroke) {
    return stroke && stroke[0].length > 0 ? [...this.strokes, stroke] : this.strokes;
  }
}
