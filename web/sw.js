/**
 * Service worker: after one visit the page, TF.js, the wasm binaries and the model are cached, so the app
 * loads and predicts with the network off.
 *
 * Requests go to the network first (an online visit always gets the newest files; ETags make that cheap)
 * and fall back to the cache. Every model the server lists (GET models) is cached at install, each in a
 * cache named by its id and hash (`sketch-model-<id>-<model_hash>`), so any of them works offline: when a
 * model's metadata.json announces a new hash, that model is cached under the new name and its old cache is
 * deleted once the new weights are in. A model that cannot be cached (an id the gate would not admit, a file
 * that will not come) is left out of offline use with a note in the console; the others are cached all the same.
 */

const SHELL_CACHE = 'sketch-shell-v3';
// A model's id, as the server's gate admits it (training/modelfolder.py MODEL_ID, web/js/models.js MODEL_ID).
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const MODEL_PREFIX = 'sketch-model-';
const SHELL = [
  './', 'models', 'css/app.css', 'manifest.webmanifest', 'gallery.json', 'icons/icon-192.png', 'icons/icon-512.png',
  'js/main.js', 'js/canvas.js', 'js/drawing.js', 'js/ink.js', 'js/model.js', 'js/raster.js', 'js/ui.js',
  'js/share.js', 'js/corrections.js', 'js/taught.js', 'js/store.js', 'js/rasterizer.js', 'js/raster-worker.js',
  'js/words.js', 'js/scheduler.js', 'js/keys.js', 'js/models.js', 'js/replay.js', 'js/teaching.js', 'js/switching.js',
  'js/game.js', 'js/speech.js', 'js/play.js', 'js/zip.js', 'js/savemodel.js',
  'vendor/tf.es2017.min.js', 'vendor/tf-backend-wasm.es2017.min.js', 'vendor/tfjs-backend-wasm.wasm',
  'vendor/tfjs-backend-wasm-simd.wasm', 'vendor/tfjs-backend-wasm-threaded-simd.wasm',
];

// Each served model's files live in a cache named by its id and hash: `sketch-model-<id>-<hash>`.
const modelCacheNames = new Map();

const cacheNameOf = (id, hash) => `${MODEL_PREFIX}${id}-${hash}`;
const idOfCache = (name) => name.slice(MODEL_PREFIX.length, name.lastIndexOf('-'));

async function currentModelCache(id) {
  if (!modelCacheNames.has(id)) {
    const names = await caches.keys();
    modelCacheNames.set(id, names.find((name) => name.startsWith(MODEL_PREFIX) && idOfCache(name) === id) ?? null);
  }
  return modelCacheNames.get(id);
}

async function removeOtherModelCaches(keep) {
  for (const name of await caches.keys()) {
    if (name.startsWith(MODEL_PREFIX) && idOfCache(name) === idOfCache(keep) && name !== keep) await caches.delete(name);
  }
}

/** Cache one model named by the server's list, under its id and hash. */
async function cacheModel(id) {
  const base = `models/${id}/`;
  const metadataResponse = await fetch(`${base}metadata.json`, { cache: 'no-cache' });
  const metadata = await metadataResponse.clone().json();
  const modelResponse = await fetch(`${base}model.json`, { cache: 'no-cache' });
  if (!metadataResponse.ok || !modelResponse.ok) throw new Error(`model ${id}: its files are not served`);
  const files = (await modelResponse.clone().json()).weightsManifest.flatMap((group) => group.paths);
  if (metadata.class_means) files.push(metadata.class_means.file); // for teaching it new classes
  if (metadata.taught) files.push(metadata.taught.file, metadata.taught.drawings_file); // taught before it was saved
  // Each file once, and only names (cache.addAll refuses a request listed twice, and the whole batch with it).
  const names = [...new Set(files.filter((file) => typeof file === 'string'))];
  const name = cacheNameOf(id, metadata.model_hash);
  const cache = await caches.open(name);
  await cache.put(`${base}metadata.json`, metadataResponse);
  await cache.put(`${base}model.json`, modelResponse);
  await cache.addAll(names.map((file) => `${base}${encodeURIComponent(file)}`));
  modelCacheNames.set(id, name);
  return name;
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL_CACHE);
    await shell.addAll(SHELL);
    const { models } = await (await shell.match('models')).json();
    for (const model of models) {
      const id = model?.id;
      try {
        if (typeof id !== 'string' || !MODEL_ID.test(id)) throw new Error('its id is not one the server admits');
        await cacheModel(id);
      } catch (error) {
        // One model that cannot be cached must not keep every other one from working offline.
        console.info(`model ${String(id).slice(0, 70)} will not work offline: ${error.message}`);
      }
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL_CACHE]);
    for (const name of await caches.keys()) {
      if (name.startsWith(MODEL_PREFIX) && (await currentModelCache(idOfCache(name))) === name) keep.add(name);
    }
    for (const name of await caches.keys()) {
      if (!keep.has(name)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function remember(request, response) {
  const path = new URL(request.url).pathname;
  const match = path.match(/\/models\/([^/]+)\//);
  if (!match) {
    await (await caches.open(SHELL_CACHE)).put(request, response);
    return;
  }
  const id = match[1];
  if (path.endsWith('/metadata.json')) {
    const { model_hash: hash } = await response.clone().json();
    modelCacheNames.set(id, cacheNameOf(id, hash));
  }
  const name = (await currentModelCache(id)) ?? cacheNameOf(id, 'unknown');
  await (await caches.open(name)).put(request, response);
  if (path.endsWith('.bin')) await removeOtherModelCaches(name); // The new weights are in.
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      if (response.ok) event.waitUntil(remember(request, response.clone()));
      return response;
    } catch (error) {
      const cached = await caches.match(request, { ignoreSearch: true });
      if (cached) return cached;
      throw error;
    }
  })());
});
