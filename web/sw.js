/**
 * Service worker: after one visit the page, TF.js, the wasm binaries and the model are cached, so the app
 * loads and predicts with the network off.
 *
 * Requests go to the network first (an online visit always gets the newest files; ETags make that cheap)
 * and fall back to the cache. The model lives in a cache named by its hash (`sketch-model-<model_hash>`):
 * when metadata.json announces a new hash, the new model is cached under the new name and the old model
 * caches are deleted once its weights are in.
 */

const SHELL_CACHE = 'sketch-shell-v1';
const MODEL_PREFIX = 'sketch-model-';
const SHELL = [
  './', 'css/app.css', 'manifest.webmanifest', 'gallery.json', 'icons/icon-192.png', 'icons/icon-512.png',
  'js/main.js', 'js/canvas.js', 'js/drawing.js', 'js/ink.js', 'js/model.js', 'js/raster.js', 'js/ui.js',
  'js/share.js', 'js/corrections.js',
  'vendor/tf.es2017.min.js', 'vendor/tf-backend-wasm.es2017.min.js', 'vendor/tfjs-backend-wasm.wasm',
  'vendor/tfjs-backend-wasm-simd.wasm', 'vendor/tfjs-backend-wasm-threaded-simd.wasm',
];

let modelCacheName = null;

async function currentModelCache() {
  if (!modelCacheName) {
    const names = await caches.keys();
    modelCacheName = names.find((name) => name.startsWith(MODEL_PREFIX)) ?? null;
  }
  return modelCacheName;
}

async function removeOtherModelCaches(keep) {
  for (const name of await caches.keys()) {
    if (name.startsWith(MODEL_PREFIX) && name !== keep) await caches.delete(name);
  }
}

/** Cache the model named by the server's metadata.json, under its hash. */
async function cacheModel() {
  const metadataResponse = await fetch('model/metadata.json', { cache: 'no-cache' });
  const metadata = await metadataResponse.clone().json();
  const modelResponse = await fetch('model/model.json', { cache: 'no-cache' });
  const shards = (await modelResponse.clone().json()).weightsManifest.flatMap((group) => group.paths);
  const name = MODEL_PREFIX + metadata.model_hash;
  const cache = await caches.open(name);
  await cache.put('model/metadata.json', metadataResponse);
  await cache.put('model/model.json', modelResponse);
  await cache.addAll(shards.map((path) => `model/${path}`));
  modelCacheName = name;
  return name;
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    await (await caches.open(SHELL_CACHE)).addAll(SHELL);
    await cacheModel();
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = await currentModelCache();
    for (const name of await caches.keys()) {
      if (name !== SHELL_CACHE && name !== keep) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function remember(request, response) {
  const path = new URL(request.url).pathname;
  if (!path.includes('/model/')) {
    await (await caches.open(SHELL_CACHE)).put(request, response);
    return;
  }
  if (path.endsWith('/metadata.json')) {
    const { model_hash: hash } = await response.clone().json();
    if (MODEL_PREFIX + hash !== (await currentModelCache())) modelCacheName = MODEL_PREFIX + hash;
  }
  const name = (await currentModelCache()) ?? `${MODEL_PREFIX}unknown`;
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
