/*
 * Spectroscope's service worker.
 *
 * 1. Offline: precaches the built app (HTML, scripts, workers, icons, the demo model) at
 *    install, so after one visit the page loads and scans with the network off. The list below
 *    is filled in by the build (vite.config.ts, plugin "spectroscope-sw"); in this template it is
 *    empty and the worker only caches what it serves.
 * 2. Cross-origin isolation on static hosts: adds COOP/COEP/CORP headers to every same-origin
 *    response it serves, as coi-serviceworker does, for hosts such as GitHub Pages that cannot
 *    send headers. (The preview server sends them itself.)
 *
 * It never touches requests to other origins (the page makes none).
 */
/* eslint-disable */
const VERSION = 'dev'; // @spectroscope-version
const PRECACHE = []; // @spectroscope-precache
const CACHE = `spectroscope-${VERSION}`;

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

self.addEventListener('install', (event) => {
  self.skipWaiting();
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((path) => new Request(new URL(path, self.registration.scope), { cache: 'reload' })))),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith('spectroscope-') && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.headers.has('range')) return;
  event.respondWith(respond(req, url));
});

async function respond(req, url) {
  const cache = await caches.open(CACHE);
  if (req.mode === 'navigate') {
    // The page itself: fresh when online, the cached copy when not.
    try {
      const res = await fetch(req);
      if (res.ok && url.pathname.startsWith(new URL(self.registration.scope).pathname)) {
        cache.put(new URL('index.html', self.registration.scope), res.clone()).catch(() => {});
      }
      return isolate(res);
    } catch (e) {
      const hit =
        (await cache.match(req, { ignoreSearch: true, ignoreVary: true })) ||
        (await cache.match(new URL('index.html', self.registration.scope), { ignoreVary: true }));
      if (hit) return isolate(hit);
      throw e;
    }
  }
  // Hashed assets and the demo: cache first, they never change under the same name.
  const hit = await cache.match(req, { ignoreSearch: true, ignoreVary: true });
  if (hit) return isolate(hit);
  const res = await fetch(req);
  if (res.ok && res.type === 'basic') cache.put(req, res.clone()).catch(() => {});
  return isolate(res);
}

function isolate(res) {
  if (!res || res.status === 0 || res.type === 'opaque' || res.type === 'opaqueredirect') return res;
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(ISOLATION)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
