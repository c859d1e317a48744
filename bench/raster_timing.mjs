/**
 * Times web/js/raster.js's rasterize() on the drawings in a JSON file ({name: drawing}) and prints JSON:
 * per drawing, the median and the largest of `repeats` runs in milliseconds, and the message of a drawing
 * it refuses (a refusal after simplification costs time too). Used by bench/hostile.py and bench/shapes.py.
 *
 *   node bench/raster_timing.mjs drawings.json [repeats]
 */
import { readFileSync } from 'node:fs';
import { rasterize } from '../web/js/raster.js';

const drawings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const repeats = Number(process.argv[3] ?? 5);
const result = {};
const attempt = (drawing) => {
  try {
    rasterize(drawing);
    return null;
  } catch (error) {
    return error.message;
  }
};
for (const [name, drawing] of Object.entries(drawings)) {
  const refused = attempt(drawing); // Warm-up: let V8 compile before timing.
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    attempt(drawing);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  result[name] = { median_ms: Number(times[Math.floor(times.length / 2)].toFixed(2)), max_ms: Number(times.at(-1).toFixed(2)) };
  if (refused !== null) result[name].refused = refused;
}
process.stdout.write(`${JSON.stringify(result)}\n`);
