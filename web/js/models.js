/**
 * The models on offer and which one the page opens with: the server's list (GET models), their names for
 * people, and the choice, from the address's ?model= or the one picked last time in this browser.
 * Loading one is main.js's useModel; this holds no state.
 */

const MODEL_KEY = 'sketch.model';
export const DEFAULT_MODEL = 'shipped';
// A model's id, as the server's gate admits it (training/modelfolder.py MODEL_ID; sw.js holds the same): safe
// in a URL path and in a cache name, never empty.
export const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Whether the server's list entry is a model the page can load: an id MODEL_ID admits, a count or null. */
function isListedModel(model) {
  return model !== null && typeof model === 'object' && typeof model.id === 'string' && MODEL_ID.test(model.id)
    && (model.classes === null || model.classes === undefined || Number.isSafeInteger(model.classes));
}

/** The models the server offers (cached by the service worker, so the list works offline too). */
export async function listModels() {
  try {
    const response = await fetch('models');
    if (!response.ok) throw new Error(`models: ${response.status}`);
    const { models } = await response.json();
    const usable = models.filter(isListedModel);
    if (!usable.some(({ id }) => id === DEFAULT_MODEL)) throw new Error('models: the shipped model is not listed');
    return usable;
  } catch {
    return [{ id: DEFAULT_MODEL, classes: null, default: true }];
  }
}

/** A model's name for people: "Body parts", or the shipped model's "Quick, Draw! things". */
export function modelTitle({ id, classes }) {
  const name = id === DEFAULT_MODEL ? 'Quick, Draw! things' : id[0].toUpperCase() + id.slice(1).replaceAll('-', ' ');
  return classes ? `${name} (${classes})` : name;
}

/**
 * {id, missing}: the address's ?model= (`asked`), else the one chosen last time in this browser, else the
 * shipped one; `missing` names an asked-for model that is not on offer, for the page to say so.
 */
export function chosenModel(models, asked, storage) {
  const known = new Set(models.map(({ id }) => id));
  if (asked && known.has(asked)) return { id: asked, missing: null };
  const missing = asked || null;
  const remembered = storage?.getItem(MODEL_KEY);
  return { id: remembered && known.has(remembered) ? remembered : DEFAULT_MODEL, missing };
}

/** Remember the choice in this browser for the next visit without ?model=. */
export function rememberModel(storage, id) {
  try {
    storage?.setItem(MODEL_KEY, id);
  } catch {
    // A full store: the choice still holds in the address, just not for the next visit without it.
  }
}
