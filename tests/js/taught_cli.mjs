/**
 * Reads one JSON job on stdin ({probabilities, features, classMeans: {values, columns}, taughtMeans, below})
 * and prints what the page computes for each row: web/js/taught.js's besideSoftmax and web/js/words.js's
 * isNoneOfThese on its top probability. Used by tests/test_teaching_model.py to hold training/taught.py,
 * which the server and bench.teach use, to the page's own code.
 *
 *   echo '{"probabilities": [[0.7, 0.3]], ...}' | node tests/js/taught_cli.mjs
 */
import { besideSoftmax } from '../../web/js/taught.js';
import { isNoneOfThese } from '../../web/js/words.js';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const classMeans = { values: Float32Array.from(job.classMeans.values.flat()), columns: job.classMeans.columns };
const taughtMeans = job.taughtMeans.map((mean) => Float32Array.from(mean));
const rows = job.probabilities.map((probabilities, index) => {
  const result = besideSoftmax(Float32Array.from(probabilities), Float32Array.from(job.features[index]), classMeans, taughtMeans);
  return { probabilities: Array.from(result), none: isNoneOfThese(result, probabilities.length, job.below) };
});
process.stdout.write(JSON.stringify(rows));
