// Starts the page's wasm. A file rather than trunk's inline script, so the page runs under a
// strict Content-Security-Policy (`script-src 'self' 'wasm-unsafe-eval'`) with no exception.
import './compute_threads.js';
import init from './app.js';
import { keepAppOffline, serviceWorkerOff, turnServiceWorkerOff } from './offline.js';

if (serviceWorkerOff()) {
  // Reloading without the service worker: starting the app now would be thrown away.
  if (await turnServiceWorkerOff()) await new Promise(() => {});
} else {
  keepAppOffline();
}
await init({ module_or_path: new URL('./app_bg.wasm', import.meta.url) });
