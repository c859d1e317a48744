/**
 * The "Teach it something new" panel: add the drawing to a taught class, rename or forget one, export and
 * import taught drawings, and read stored drawings into means once after an update. How taught classes are
 * kept and guessed is taught.js's; this is the panel's wiring, given the page's shared parts by main.js
 * (createTeachingPanel), so that it holds no state of its own beyond them.
 */

import { modelFolder } from './savemodel.js';
import { download } from './share.js';
import {
  MAX_IMPORT_DRAWINGS, MAX_TAUGHT_CLASSES, SUGGESTED_DRAWINGS, nothingImported,
} from './taught.js';
import * as ui from './ui.js';

/**
 * Wire the panel. `page`: the page's state, drawing and rasterizer; attempt (an action whose error becomes
 * a message), featuresOf (features in batches), unreadable (words for skipped lines), drawingChanged,
 * currentStrokes, scheduler; maxFileBytes, the largest file read. Returns what model loading calls:
 * taughtChanged (show the taught classes and guess again) and rebuildTaught.
 */
export function createTeachingPanel(page) {
  const {
    state, drawing, rasterizer, attempt, featuresOf, unreadable, drawingChanged, currentStrokes, scheduler,
    maxFileBytes,
  } = page;

  /**
   * Make the taught classes' means from their stored drawings: once, after an update of the page or the
   * model (the means name the model's hash) or when the drawings were changed outside the page. Rasterized
   * in the worker and run through the model in batches, so the page stays usable; until it ends, taught
   * classes are not guessed and cannot be changed.
   */
  async function rebuildTaught(taught) {
    const { predictor } = state;
    state.taughtBusy = true;
    ui.showMessage('Reading the things taught in this browser…', { near: 'taught' });
    try {
      const skipped = await taught.rebuild(async (drawings) => {
        const { bitmaps } = await rasterizer.prepare(drawings);
        const ready = bitmaps.filter(Boolean);
        const features = await featuresOf(predictor, ready);
        let next = 0;
        return bitmaps.map((bitmap) => (bitmap ? features[next++] : null));
      });
      if (state.taught !== taught) return; // another model was picked meanwhile
      if (skipped > 0) {
        ui.showMessage(`${unreadable(skipped)} skipped among the taught drawings; they are kept in this browser as they are.`,
          { error: true, near: 'taught' });
      } else {
        ui.showMessage('');
      }
    } catch (error) {
      ui.showMessage(`Could not read the things taught in this browser: ${error.message}.`, { error: true, near: 'taught' });
    } finally {
      if (state.taught === taught) {
        state.taughtBusy = false;
        taughtChanged();
      }
    }
  }

  /**
   * Show the taught classes from their stored means (no drawing is read or run through the model here, so
   * this costs the same however many are stored), and guess the drawing again.
   */
  function taughtChanged() {
    const { predictor, taught } = state;
    const classes = predictor.canBeTaught ? taught.classes() : []; // none while they are rebuilt
    state.taughtNames = classes.map(({ name }) => name);
    // The model's own taught classes (a saved model's) first, in the order of state.labels, then this browser's.
    state.taughtMeans = [...state.modelTaughtMeans, ...(classes.length > 0 ? taught.meanFeatures() : [])];
    state.allLabels = [...state.labels, ...state.taughtNames];
    // A map without a prototype: a taught name such as "__proto__" or "constructor" is just a key here.
    const samples = Object.assign(Object.create(null), state.samples);
    for (const { name, sample } of classes) if (sample) samples[name] = sample;
    ui.showClasses(state.allLabels, samples);
    ui.showTaught(classes.map(({ name, count }) => [name, count]), predictor.canBeTaught, SUGGESTED_DRAWINGS);
    ui.enableTaughtAdd(!drawing.isEmpty);
    if (currentStrokes().length > 0) scheduler.request();
  }

  // Teaching new classes: a name and a few drawings, kept in this browser for the model in use. While the
  // taught classes are being read or imported (taughtBusy), changing them waits.
  function taughtIdle() {
    if (state.taughtBusy) throw new Error('the taught things are still being read; try again in a moment');
  }

  /**
   * Add a drawing (strokes as drawn) to the taught class `name` of the model in use: rasterized in the
   * worker, its features from the model. Returns the class's count of drawings, or null when another model
   * was picked meanwhile (nothing is added). The panel's Add and the game's "Teach it" both come here.
   */
  async function addDrawing(name, strokes) {
    taughtIdle();
    const { taught, predictor } = state;
    const { drawings: [normalized], bitmaps: [bitmap] } = await rasterizer.prepare([strokes]);
    if (!normalized) throw new Error('the drawing is not within the limits');
    const [features] = await predictor.features([bitmap]);
    if (state.taught !== taught) return null;
    return taught.add(name, normalized, features);
  }

  document.getElementById('taught-add').addEventListener('click', () => attempt('teach it', async () => {
    const name = document.getElementById('taught-name').value;
    if (drawing.isEmpty) return;
    taughtIdle();
    const checked = state.taught.checkNew(name);
    if (checked instanceof Error) throw checked;
    const count = await addDrawing(checked, drawing.strokes);
    if (count === null) return; // another model was picked meanwhile
    const more = count < SUGGESTED_DRAWINGS ? ` Draw another one: about ${SUGGESTED_DRAWINGS} teach it well.` : '';
    ui.showMessage(`Added a drawing of ${checked} (${count} so far).${more}`, { near: 'taught' });
    drawing.clear();
    drawingChanged();
    taughtChanged();
  }, { near: 'taught' }));
  document.getElementById('taught-list').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const { name } = button.closest('li').dataset;
    if (button.dataset.action === 'delete') {
      attempt(`forget ${name}`, () => {
        taughtIdle();
        state.taught.remove(name);
        ui.showMessage(`Forgot ${name}.`, { near: 'taught' });
        taughtChanged();
      }, { near: 'taught' });
    } else {
      const newName = button.closest('li').querySelector('input').value;
      attempt(`rename ${name}`, () => {
        taughtIdle();
        ui.showMessage(`Renamed ${name} to ${state.taught.rename(name, newName)}.`, { near: 'taught' });
        taughtChanged();
      }, { near: 'taught' });
    }
  });
  document.getElementById('taught-export').addEventListener('click', () => attempt('export them', () => {
    const { text, skipped } = state.taught.toNdjson();
    download(new Blob([text], { type: 'application/x-ndjson' }), `taught-${state.modelId}.ndjson`);
    if (skipped > 0) {
      ui.showMessage(`${unreadable(skipped)} left out of the export; kept in this browser as they are.`, { near: 'taught-files' });
    }
  }, { near: 'taught-files' }));
  document.getElementById('taught-model').addEventListener('click', () => attempt('download the model', async () => {
    taughtIdle();
    const { name, bytes } = await savedModel();
    download(new Blob([bytes], { type: 'application/zip' }), name);
    ui.showMessage(`Saved ${name}: \`.venv/bin/python -m training.unpack ${name}\` puts it in web/, where \`make run\` `
      + 'serves it (docs/guide.md, "Download as a model").',
      { near: 'taught-files' });
  }, { near: 'taught-files' }));

  /**
   * The model in use with every class taught to it (a saved model's own, then this browser's), as savemodel.js
   * packs it. Its files are fetched again from where the model was loaded (the service worker has them offline).
   */
  async function savedModel() {
    const { predictor, taught, modelId } = state;
    if (!predictor.canBeTaught) throw new Error('the model runs on the server here, so it cannot be saved with taught things');
    const base = `models/${modelId}/`;
    const fetchBytes = async (name) => {
      const response = await fetch(`${base}${name}`);
      if (!response.ok) throw new Error(`${name}: ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    };
    const metadata = JSON.parse(new TextDecoder().decode(await fetchBytes('metadata.json')));
    // The files are fetched again: they must still be the model this page loaded (the server may have restarted).
    const own = metadata.taught ?? { labels: [], drawings: {} };
    if (metadata.model_hash !== taught.modelHash || own.labels.length !== predictor.taughtMeans.length) {
      throw new Error('the model on the server changed since this page loaded it; reload the page');
    }
    const modelJson = await fetchBytes('model.json');
    const shards = JSON.parse(new TextDecoder().decode(modelJson)).weightsManifest.flatMap((group) => group.paths);
    const files = { 'model.json': modelJson };
    for (const name of [...shards, metadata.class_means.file]) files[name] = await fetchBytes(name);
    // A saved model's own drawings come first in the new taught.ndjson, so that none is lost on saving again.
    let ownDrawings = own.drawings_file ? new TextDecoder().decode(await fetchBytes(own.drawings_file)) : '';
    if (ownDrawings && !ownDrawings.endsWith('\n')) ownDrawings += '\n';
    const local = taught.classes();
    const means = taught.meanFeatures();
    const classes = [
      ...own.labels.map((name, index) => ({ name, mean: predictor.taughtMeans[index], drawings: own.drawings?.[name] ?? 0 })),
      ...local.map(({ name, count }, index) => ({ name, mean: means[index], drawings: count })),
    ];
    if (classes.length > MAX_TAUGHT_CLASSES) throw new Error(`a model holds at most ${MAX_TAUGHT_CLASSES} taught things`);
    if (state.taught !== taught) throw new Error('another model was picked meanwhile');
    // metadata.taught (a saved model's) is replaced by one naming all of them.
    return modelFolder({
      metadata, files, classes, ndjson: ownDrawings + taught.toNdjson().text, savedFrom: modelId, date: new Date(),
    });
  }

  document.getElementById('taught-import').addEventListener('change', (event) => {
    const [file] = event.target.files;
    event.target.value = '';
    if (file) attempt(`import ${file.name}`, () => importTaught(file), { after: 'Nothing was added.', near: 'taught-files' });
  });

  /**
   * Import taught drawings from an ndjson file: at most MAX_IMPORT_DRAWINGS drawings (the lines after them
   * are counted, not read), parsed and rasterized in the worker, run through the model in batches, and
   * written in one step at the end, so that an import adds all it reports or nothing.
   */
  async function importTaught(file) {
    if (file.size > maxFileBytes) throw new Error(`it is larger than ${maxFileBytes / 1024 / 1024} MB`);
    taughtIdle();
    const { taught, predictor } = state;
    state.taughtBusy = true;
    try {
      ui.showMessage(`Importing ${file.name}…`, { near: 'taught-files' });
      const parsed = await rasterizer.parse(await file.text(), MAX_IMPORT_DRAWINGS, state.labels);
      const { accepted, refused } = taught.acceptImport(parsed.records);
      if (accepted.length === 0) throw new Error(nothingImported(parsed));
      const features = await featuresOf(predictor, accepted.map(({ index }) => parsed.bitmaps[index]));
      if (state.taught !== taught) throw new Error('another model was picked meanwhile');
      const added = taught.addMany(accepted, features);
      const notes = [];
      if (parsed.skipped + refused > 0) notes.push(`${parsed.skipped + refused} lines were not drawings of a new class`);
      if (parsed.more > 0) notes.push(`an import reads at most ${MAX_IMPORT_DRAWINGS} drawings, so the last ${parsed.more} lines were not read`);
      ui.showMessage(`Imported ${added} drawings from ${file.name}.${notes.length ? ` (${notes.join('; ')}.)` : ''}`,
        { near: 'taught-files' });
    } finally {
      if (state.taught === taught) state.taughtBusy = false;
      taughtChanged();
    }
  }

  return { taughtChanged, rebuildTaught, addDrawing };
}
