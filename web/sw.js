// The app's service worker. `scripts/precache.mjs` writes dist/sw.js as `const BUILD = {…}`
// (this build's id and files, with their SHA-256) followed by this file, so every release has
// a service worker of different bytes, which is how the browser notices an update.
//
// - Offline: the install keeps every file the page needs to start in a cache named after the
//   build; the page and its workers are then answered from it, network or not.
// - Never two builds in one page: a new release installs beside the running one and waits.
//   It takes over only when the page asks (the user pressed Reload) or when no page of the
//   old build is open any more; the old build's cache is deleted then. Files are fetched past
//   every HTTP cache, and a wasm file must hash to the build's figure with its JS glue, so a
//   CDN still holding a file of the last release fails the install instead of mixing builds.
// - Only the app's own files are answered: model downloads (the Hub, or any URL) and the model
//   store are never touched here.
// - Threads on hosts that cannot send headers: the page computes on several threads only when
//   it is cross-origin isolated, so the app's own responses get the two headers that isolate
//   it (COOP same-origin on the page; COEP, with `credentialless` where the page found it
//   supported — `?coep=` of this script's URL — else `require-corp`, on every file), unless the
//   page URL says `coi=0` (or `sw=0`): those pages keep the host's headers. Model downloads
//   keep working isolated: they are CORS requests.

const PREFIX = 'dialogpt-app-';
const CACHE = PREFIX + BUILD.id;
// Absolute URL of each file of the build (the service worker sits beside them).
const FILES = new Map(BUILD.files.map((f) => [new URL(f.path, self.location).href, f]));
const INDEX = new URL('./', self.location).href;
const COEP = new URL(self.location).searchParams.get('coep') === 'credentialless' ? 'credentialless' : 'require-corp';

self.addEventListener('install', (event) => event.waitUntil(precache()));

self.addEventListener('activate', (event) => event.waitUntil(dropOldBuilds().then(() => self.clients.claim())));

self.addEventListener('message', (event) => {
  // The page's "Reload" on the update banner.
  if (event.data && event.data.type === 'activate-update') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  // Navigations inside the app's folder open the build's index.html (the query is the
  // page's settings); anything that is not one of the build's files goes to the network.
  const key = request.mode === 'navigate' && (url.href === INDEX || url.href === INDEX + 'index.html') ? INDEX + 'index.html' : url.href;
  if (!FILES.has(key)) return;
  const page = request.mode === 'navigate';
  // Every page is isolated but one asked with `coi=0`, or with `sw=0` (which turns this worker off).
  const asked = new URL(request.url).searchParams;
  const isolate = page && asked.get('coi') !== '0' && asked.get('sw') !== '0';
  event.respondWith(fromBuild(key, request).then((response) => isolating(response, isolate, page)));
});

async function fromBuild(key, request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(key);
  if (kept) return kept;
  // Not kept (storage evicted, or the install is still running): the network, as without us.
  return fetch(request);
}

/**
 * The response with the cross-origin isolation headers: the embedder policy on every file
 * (a worker's script must carry it for the worker to start in an isolated page), the opener
 * policy too on a page that is to be isolated. A page that is not keeps the host's headers.
 */
function isolating(response, isolate, page) {
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || (page && !isolate)) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Embedder-Policy', COEP);
  if (isolate) headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function precache() {
  try {
    await fill(await caches.open(CACHE));
  } catch (e) {
    // The browser tries the install again later; nothing of this attempt is left behind.
    await caches.delete(CACHE);
    throw e;
  }
}

async function fill(cache) {
  const fetched = await Promise.all(
    BUILD.files.map(async (file) => {
      const url = new URL(file.path, self.location);
      // The revision in the query gets past caches keyed by URL; `reload` past the browser's.
      const revisioned = new URL(url);
      revisioned.searchParams.set('__rev', file.sha256.slice(0, 16));
      const response = await fetch(revisioned, { cache: 'reload' });
      if (!response.ok) throw new Error(`${file.path}: HTTP ${response.status}`);
      const body = await response.arrayBuffer();
      if (file.verify && (await sha256(body)) !== file.sha256) {
        throw new Error(`${file.path} is not this build's file (a cache between may hold another release)`);
      }
      // The body is kept decoded: the size and encoding the server sent no longer apply.
      const headers = new Headers(response.headers);
      headers.delete('Content-Encoding');
      headers.delete('Content-Length');
      return [url.href, new Response(body, { status: 200, headers })];
    }),
  );
  // Only once every file has arrived whole: a half-filled cache is never used.
  await Promise.all(fetched.map(([href, response]) => cache.put(href, response)));
}

async function dropOldBuilds() {
  for (const name of await caches.keys()) {
    if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
  }
}

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
