/**
 * Runs the exported web model in Node with TF.js (cpu or wasm backend) on bitmaps given as JSON on stdin
 * ({"images": [[784 values 0..255], ...]}) and prints {"backend", "probabilities"}. Used by
 * tests/test_parity.py to compare TF.js with Keras and by bench/ for Node timings.
 *
 *   node tests/js/predict_cli.mjs web/model wasm < images.json
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const [modelDir = 'web/model', backend = 'cpu'] = process.argv.slice(2);

function loadArtifacts(folder) {
  const modelJson = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const buffers = modelJson.weightsManifest.flatMap((group) => group.paths)
    .map((path) => readFileSync(join(folder, path)));
  const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
  return { modelTopology: modelJson.modelTopology, weightSpecs, weightData, format: modelJson.format };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { images } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
await tf.ready();
const model = await tf.loadLayersModel(tf.io.fromMemory(loadArtifacts(modelDir)));
const input = tf.tensor(Float32Array.from(images.flat(), (value) => value / 255), [images.length, 28, 28, 1]);
const started = performance.now();
const output = model.predict(input);
const values = await output.array();
const milliseconds = performance.now() - started;
process.stdout.write(JSON.stringify({ backend: tf.getBackend(), milliseconds, probabilities: values }));
