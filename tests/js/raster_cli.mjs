/**
 * Reads ndjson drawings (one per line, dataset format) on stdin and prints one JSON array of 784 values
 * per line: web/js/raster.js's rasterize(). Used by tests/test_raster.py to compare with Python.
 *
 *   node tests/js/raster_cli.mjs < ../shared/data/quickdraw/strokes/eye.ndjson
 */
import { createInterface } from 'node:readline';
import { rasterize } from '../../web/js/raster.js';

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === '') continue;
  process.stdout.write(`${JSON.stringify(Array.from(rasterize(JSON.parse(line).drawing)))}\n`);
}
