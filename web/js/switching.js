/**
 * Switching models: load one by id (its metadata, its TF.js model, its class means for teaching) and make
 * it the one that guesses, the drawing kept and guessed again. Overlapping choices resolve to the last one
 * made. Given the page's shared parts by main.js (createModelSwitcher); which models exist and which one
 * opens is models.js's.
 */

import { createPredictor } from './model.js';
import { TaughtClasses } from './taught.js';
import * as ui from './ui.js';

/**
 * `page`: the page's state, the teaching panel (taughtChanged, rebuildTaught), unreadable (words for
 * skipped lines), currentStrokes, and backend (a TF.js backend asked for in the address, or undefined).
 * Returns useModel(id): resolves true once the model guesses, false when it failed or a later choice won.
 */
export function createModelSwitcher(page) {
  const {
    state, teaching, unreadable, currentStrokes, backend,
  } = page;

  // Each useModel call's number: only the latest may make its model the one that guesses.
  let latestModelChoice = 0;

  /**
   * Load a model by id and make it the one that guesses; the drawing stays, and is guessed again. Calls may
   * overlap (a person picks A, then B while A loads): the last choice wins, whichever loads first, and an
   * overtaken call returns false having changed nothing (its model freed), so that A never runs with B selected.
   */
  async function useModel(id) {
    latestModelChoice += 1;
    const choice = latestModelChoice;
    state.loadingModels += 1;
    try {
      return await loadModel(id, () => choice !== latestModelChoice);
    } finally {
      state.loadingModels -= 1;
    }
  }

  async function loadModel(id, overtaken) {
    const base = `models/${id}/`;
    let metadata;
    try {
      const response = await fetch(`${base}metadata.json`);
      if (!response.ok) throw new Error(`${base}metadata.json: ${response.status}`);
      metadata = await response.json();
    } catch (error) {
      if (overtaken()) return false;
      ui.showStatus(`The model could not be loaded (${error.message}). Reload to try again.`);
      return false;
    }
    if (overtaken()) return false;
    // A model saved by "Download as a model" names the classes taught before it was saved after its outputs.
    const taught = metadata.taught ?? null;
    const labels = [...metadata.labels, ...(taught ? taught.labels : [])];
    const predictor = await createPredictor({
      modelUrl: `${base}model.json`,
      modelId: id,
      labels,
      backend,
      mirrorAverage: metadata.mirror_average === true,
    });
    if (metadata.class_means && predictor.enableTeaching) {
      try {
        await predictor.enableTeaching(base, metadata.class_means, taught);
      } catch (error) {
        if (taught) {
          // Without them the page would name only some of the model's classes.
          predictor.dispose();
          if (overtaken()) return false;
          ui.showStatus(`The model could not be loaded (${error.message}). Reload to try again.`);
          return false;
        }
        console.info(`teaching new classes is unavailable: ${error.message}`);
      }
    }
    if (overtaken()) {
      predictor.dispose();
      return false;
    }
    state.predictor = predictor;
    state.modelId = id;
    state.labels = labels;
    state.modelTaughtMeans = predictor.canBeTaught ? predictor.taughtMeans : []; // the server compares them itself
    state.threshold = metadata.confidence_threshold ?? 0.5;
    state.noneBelow = metadata.none_of_these?.below ?? null;
    state.outputCount = metadata.labels.length;
    state.taught = new TaughtClasses(globalThis.localStorage, id, labels, metadata.model_hash ?? '',
      metadata.class_means?.shape?.[1] ?? null);
    state.taughtBusy = false; // a rebuild or import for the model before this one ends on its own
    state.backend = state.predictor.describe(); // Once: the backend does not change after loading.
    ui.showInfo({ backend: state.backend, where: state.predictor.where, threshold: state.threshold });
    document.body.dataset.backend = state.predictor.backend;
    document.body.dataset.model = id;
    if (currentStrokes().length === 0) ui.clearPredictions();
    teaching.taughtChanged(); // which guesses the drawing again, if there is one, with the new model
    if (state.taught.needsRebuild && predictor.canBeTaught) {
      teaching.rebuildTaught(state.taught); // in the background: the page is ready meanwhile
    } else if (state.taught.skipped > 0) {
      ui.showMessage(`${unreadable(state.taught.skipped)} skipped among the taught drawings; `
        + 'they are kept in this browser as they are.', { error: true, near: 'taught' });
    }
    return true;
  }

  return useModel;
}
