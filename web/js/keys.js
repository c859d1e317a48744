/**
 * Keyboard shortcuts for the drawing: Ctrl (or Cmd) + Z undo, Ctrl + Shift + Z and Ctrl + Y redo, Escape
 * clear (index.html names them in aria-keyshortcuts). Not while typing in a field, where they belong to it.
 */

/** Listen on `target` (the document) and run actions.undo, actions.redo or actions.clear. */
export function bindKeys(target, actions) {
  target.addEventListener('keydown', (event) => {
    if (event.target.closest?.('input, textarea, select')) return;
    const key = event.key.toLowerCase();
    const command = event.ctrlKey || event.metaKey;
    let action = null;
    if (command && key === 'z') action = event.shiftKey ? actions.redo : actions.undo;
    else if (command && key === 'y') action = actions.redo;
    else if (key === 'escape') action = actions.clear;
    if (action) {
      event.preventDefault();
      action();
    }
  });
}
