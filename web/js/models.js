/**
 * The models on offer and which one the page opens with: the server's list (GET models), their names for
 * people, and the choice, from the address's ?model= or the one picked last time in this browser.
 * Loading one is main.js's useModel; this holds no state.
 */

const MODEL_KEY = 'sketch.model';
export const DEFAULT_MODEL = 'shipped';

/** The models the server offers (cached by the service worker, so the list works offline too). */
export async function listModels() {
  try {
    const response = await fetch('models');
    if (!response.ok) throw new Error(`models: ${response.status}`);
    return (await response.json()).models;
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
