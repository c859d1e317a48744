/**
 * "Download as a model": the model in use, with the classes taught in this browser, as a TF.js model folder
 * in one ZIP archive. The folder is the model's own files (model.json, its weight shards, class_means.bin)
 * unchanged, and beside them taught_means.bin (each taught class's mean features, uint8 as the class means),
 * taught.ndjson (the drawings taught in this browser) and a metadata.json like export.py's with a "taught"
 * entry (training/taught.py documents it). Unpacked under web/ by `python -m training.unpack` (which checks it
 * as training/modelfolder.py checks every model folder), `make run` serves it (serve.py --also), the
 * page guesses with it, and `training.webmodel` loads it, taught classes included.
 *
 * modelFolder is pure, so `node --test tests/js/` covers it; teaching.js fetches the files and downloads it.
 */

import { zipStored } from './zip.js';

export const TAUGHT_MEANS_FILE = 'taught_means.bin';
export const TAUGHT_DRAWINGS_FILE = 'taught.ndjson';

/** Means in [0, 1] as uint8 (value = q / 255), rows one after another: how export.py writes class_means.bin. */
export function quantizeMeans(means) {
  const columns = means.length > 0 ? means[0].length : 0;
  const bytes = new Uint8Array(means.length * columns);
  means.forEach((mean, row) => {
    for (let i = 0; i < columns; i++) bytes[row * columns + i] = Math.round(Math.min(1, Math.max(0, mean[i])) * 255);
  });
  return bytes;
}

/** The folder's name: `model-taught-` and the time it was saved (to the second), so that saves never collide. */
export function folderName(date) {
  const pad = (value) => String(value).padStart(2, '0');
  return `model-taught-${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-`
    + `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/**
 * The archive's bytes. `metadata`: the model's metadata.json (parsed); `files`: {name: Uint8Array} of its
 * model.json, shards and class means; `classes`: [{name, mean (Float32Array), drawings}] of every taught
 * class, the model's own first; `ndjson`: their drawings (a saved model's own taught.ndjson, then those taught
 * in this browser); `savedFrom`: the model's id.
 */
export function modelFolder({
  metadata, files, classes, ndjson, savedFrom, date,
}) {
  if (classes.length === 0) throw new Error('nothing has been taught to this model yet');
  const names = classes.map(({ name }) => name);
  const twice = names.find((name, index) => names.indexOf(name) !== index || metadata.labels.includes(name));
  if (twice !== undefined) throw new Error(`"${twice}" would name two classes of the model; rename one first`);
  const [, columns] = metadata.class_means.shape;
  if (classes.some(({ mean }) => mean.length !== columns)) throw new Error('a taught mean does not match the model');
  const taught = {
    labels: classes.map(({ name }) => name),
    file: TAUGHT_MEANS_FILE,
    shape: [classes.length, columns],
    dtype: 'uint8',
    scale: 'value = q / 255',
    rule: 'beside_softmax',
    drawings: Object.fromEntries(classes.map(({ name, drawings }) => [name, drawings])),
    drawings_file: TAUGHT_DRAWINGS_FILE,
  };
  const saved = {
    ...metadata,
    taught,
    saved_from: { model: savedFrom, date: date.toISOString() },
  };
  const encoder = new TextEncoder();
  const folder = folderName(date);
  const entries = [
    ...Object.entries(files).map(([name, bytes]) => ({ name: `${folder}/${name}`, bytes })),
    { name: `${folder}/${TAUGHT_MEANS_FILE}`, bytes: quantizeMeans(classes.map(({ mean }) => mean)) },
    { name: `${folder}/${TAUGHT_DRAWINGS_FILE}`, bytes: encoder.encode(ndjson) },
    { name: `${folder}/metadata.json`, bytes: encoder.encode(`${JSON.stringify(saved, null, 2)}\n`) },
  ];
  return { name: `${folder}.zip`, bytes: zipStored(entries) };
}
