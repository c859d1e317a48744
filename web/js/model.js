/**
 * The model: TF.js in the page when it can run, POST /predict on the server when it cannot.
 *
 * TF.js comes from this origin (/vendor/, the pinned npm packages). Backends are tried in the order wasm
 * (SIMD, and threads when the page is cross-origin isolated), webgl, cpu; `?backend=NAME` in the page's
 * address picks one (tests and benchmarks use it). The model is warmed up with one prediction at load, so
 * the first stroke is not slow. Both predictors answer the same thing: probabilities in label order.
 */

import { IMAGE_SIZE } from './raster.js';
import { unitLength } from './taught.js';

const VENDOR = 'vendor/';
const BACKENDS = ['wasm', 'webgl', 'cpu'];

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = false;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

async function loadTf() {
  if (!globalThis.tf) await loadScript(`${VENDOR}tf.es2017.min.js`);
  if (!globalThis.tf?.wasm) await loadScript(`${VENDOR}tf-backend-wasm.es2017.min.js`);
  return globalThis.tf;
}

async function selectBackend(tf, requested) {
  const order = requested ? [requested] : BACKENDS;
  tf.wasm?.setWasmPaths(VENDOR);
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch (error) {
      console.info(`TF.js backend ${name} is not available here: ${error.message}`);
    }
  }
  throw new Error(`no TF.js backend could start (tried ${order.join(', ')})`);
}

/** Means saved as uint8 (value = q / 255, as export.py writes class_means.bin): rows x columns floats. */
async function fetchMeans(url, rows, columns) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== rows * columns) throw new Error(`${url} has ${bytes.length} values, not ${rows * columns}`);
  return Float32Array.from(bytes, (q) => q / 255);
}

/** The exported model running in this page. */
export class LocalPredictor {
  static async create({ modelUrl, backend, mirrorAverage = false }) {
    const tf = await loadTf();
    const name = await selectBackend(tf, backend);
    const model = await tf.loadLayersModel(modelUrl);
    const predictor = new LocalPredictor(tf, model, name, mirrorAverage);
    await predictor.predict({ bitmap: new Uint8ClampedArray(IMAGE_SIZE * IMAGE_SIZE) }); // Warm-up: compile kernels now.
    return predictor;
  }

  constructor(tf, model, backend, mirrorAverage = false) {
    this.tf = tf;
    this.model = model;
    this.backend = backend;
    this.mirrorAverage = mirrorAverage;
    this.where = 'browser';
    this.classMeans = null;
    this.taughtMeans = [];
    this.withFeatures = null;
  }

  /**
   * The model's input for a 0..255 bitmap: one image, or, when the export says guesses average the drawing
   * with its mirror image (metadata.mirror_average, as training.model.mirror_average does), a batch of the
   * image and its mirror image, so that both go through the model in one run.
   */
  input(bitmap) {
    const { tf } = this;
    const image = tf.tensor(Float32Array.from(bitmap, (value) => value / 255), [1, IMAGE_SIZE, IMAGE_SIZE, 1]);
    return this.mirrorAverage ? tf.concat([image, tf.reverse(image, 2)], 0) : image;
  }

  /** One row of probabilities from the model's output: the mean of the two rows when mirroring. */
  guess(probabilities) {
    return this.mirrorAverage ? probabilities.mean(0, true) : probabilities;
  }

  /**
   * Fetch the class means the model ships (metadata.class_means), and the means of the classes taught before
   * it was saved (metadata.taught, a model saved by "Download as a model"), and prepare one model with two
   * outputs, the features and the probabilities, so that a drawing is compared with taught classes at no
   * extra run.
   */
  async enableTeaching(baseUrl, { file, layer, shape: [rows, columns] }, taught = null) {
    const { tf, model } = this;
    const values = await fetchMeans(`${baseUrl}${file}`, rows, columns);
    this.classMeans = { values, columns };
    if (taught) {
      const taughtValues = await fetchMeans(`${baseUrl}${taught.file}`, taught.labels.length, columns);
      this.taughtMeans = taught.labels.map((_, row) => taughtValues.subarray(row * columns, (row + 1) * columns));
    }
    this.withFeatures = tf.model({ inputs: model.inputs, outputs: [model.getLayer(layer).output, model.outputs[0]] });
  }

  get canBeTaught() {
    return this.withFeatures !== null;
  }

  /**
   * The features (each scaled to length 1) of several 0..255 bitmaps, in one run of the model and without
   * their mirror images: what a taught class's mean is made of, like the shipped class means.
   */
  async features(bitmaps) {
    const { tf } = this;
    const pixels = IMAGE_SIZE * IMAGE_SIZE;
    const values = new Float32Array(bitmaps.length * pixels);
    bitmaps.forEach((bitmap, index) => values.set(Float32Array.from(bitmap, (value) => value / 255), index * pixels));
    const output = tf.tidy(() => {
      const [features] = this.withFeatures.predict(tf.tensor(values, [bitmaps.length, IMAGE_SIZE, IMAGE_SIZE, 1]));
      return features;
    });
    try {
      const flat = await output.data();
      const columns = flat.length / bitmaps.length;
      return bitmaps.map((_, index) => unitLength(flat.subarray(index * columns, (index + 1) * columns)));
    } finally {
      output.dispose();
    }
  }

  /** The drawing's features (scaled to length 1) and the probabilities, from one run of the model. */
  async predictWithFeatures({ bitmap }) {
    const { tf } = this;
    // The features of the drawing itself (row 0): the class means were made from unmirrored drawings.
    const outputs = tf.tidy(() => {
      const [features, probabilities] = this.withFeatures.predict(this.input(bitmap));
      return [features.slice(0, 1), this.guess(probabilities)];
    });
    try {
      const [features, probabilities] = await Promise.all(outputs.map((output) => output.data()));
      return { features: unitLength(features), probabilities };
    } finally {
      outputs.forEach((output) => output.dispose());
    }
  }

  /** Free the model's weights (a model loaded for a choice that a later one overtook). */
  dispose() {
    this.model.dispose();
  }

  describe() {
    const { tf } = this;
    if (this.backend !== 'wasm') return this.backend;
    // Both flags were resolved when the backend started, so reading them synchronously is safe.
    const simd = tf.env().get('WASM_HAS_SIMD_SUPPORT');
    const threads = tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT');
    const features = [simd && 'SIMD', threads && 'threads'].filter(Boolean);
    return features.length ? `wasm (${features.join(', ')})` : 'wasm';
  }

  /** Probabilities (label order) for a 28x28 (IMAGE_SIZE squared) 0..255 bitmap, ink = 255. */
  async predict({ bitmap }) {
    const { tf } = this;
    const output = tf.tidy(() => this.guess(this.model.predict(this.input(bitmap))));
    try {
      return await output.data();
    } finally {
      output.dispose();
    }
  }
}

/** POST /predict: the server runs the same model (by its id) on the same rasterizer. */
export class ServerPredictor {
  constructor(labels, modelId) {
    this.labels = labels;
    this.modelId = modelId;
    this.backend = 'server';
    this.where = 'server';
  }

  describe() {
    return 'server (POST /predict)';
  }

  dispose() {} // nothing is held in the page

  get canBeTaught() {
    return false; // the server knows only the classes it was trained on
  }

  async predict({ strokes }) {
    const response = await fetch('predict', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ strokes, model: this.modelId }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
    const probabilities = new Float32Array(this.labels.length);
    for (const { label, probability } of body.predictions) {
      const index = this.labels.indexOf(label);
      // A class the page does not know (the server's model changed since the page loaded): indexOf's -1 would
      // drop its probability silently and show the rest as if they were the whole answer.
      if (index < 0) throw new Error(`the server answered a class this page does not know ("${label}"); reload the page`);
      probabilities[index] = probability;
    }
    return probabilities;
  }
}

/** TF.js when it loads; otherwise the server, with the reason logged for the curious. */
export async function createPredictor({ modelUrl, modelId, labels, backend, mirrorAverage }) {
  if (backend !== 'server') {
    try {
      return await LocalPredictor.create({ modelUrl, backend, mirrorAverage });
    } catch (error) {
      console.warn(`TF.js could not run here, so the server will predict: ${error.message}`);
    }
  }
  return new ServerPredictor(labels, modelId);
}
