/**
 * ESLint (pinned in package.json), run by `make test` (make lint) over the page's modules, the service worker,
 * the Node tests and the benches' scripts: the recommended rules, with the globals each place has.
 */
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['node_modules/', '.venv/', 'web/model*/'] },
  js.configs.recommended,
  {
    files: ['web/js/**/*.js'],
    languageOptions: { globals: { ...globals.browser, tf: 'readonly' } },
  },
  {
    files: ['web/sw.js'],
    languageOptions: { globals: globals.serviceworker },
  },
  {
    files: ['tests/js/**/*.js', 'tests/js/**/*.mjs', 'bench/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: globals.node },
  },
];
