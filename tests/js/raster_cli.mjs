/**
 * Reads ndjson drawings (one per line, dataset format) on stdin and prints, per line, the JSON array of
 * 784 values that web/js/raster.js's rasterize() returns, or {"error": message} when it refuses the
 * drawing. Used by tests/test_raster.py to compare with Python.
 *
 *   node tests/js/raster_cli.mjs < ../shared/data/quickdraw/strokes/eye.ndjson
 */
import { createInterface } from 'node:readline';
import { rasterize } from '../../web/js/raster.js';

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === '') continue;
  let result;
  try {
    result = Array.from(rasterize(JSON.parse(line).drawing));
  } catch (error) {
    result = { error: error.message };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
