// Starts the page's wasm. A file rather than trunk's inline script, so the page runs under a
// strict Content-Security-Policy (`script-src 'self' 'wasm-unsafe-eval'`) with no exception.
import './compute_threads.js';
import init from './app.js';
import { keepAppOffline, serviceWorkerOff, turnServiceWorkerOff } from './offline.js';

/**
 * The app could not start (no WebAssembly: turned off by a policy or by iOS/macOS Lockdown
 * Mode; its wasm not fetched; a browser too old to compile it): says so in the page, which
 * would otherwise stay blank.
 */
function showStartFailure(error) {
  const reason = error && error.message ? error.message : String(error);
  const box = document.createElement('div');
  box.className = 'app start-failure';
  box.setAttribute('role', 'alert');
  const title = document.createElement('h1');
  title.textContent = 'DialoGPT could not start in this browser';
  const why = document.createElement('p');
  why.textContent =
    typeof WebAssembly === 'object'
      ? `Its WebAssembly code did not load: ${reason}. Check the connection and reload the page.`
      : 'It runs on WebAssembly, which is turned off here (by a browser setting, a policy, or Lockdown Mode on an iPhone, iPad or Mac). Allow WebAssembly for this site, or use another browser.';
  box.append(title, why);
  document.body.append(box);
  document.documentElement.dataset.start = 'failed';
  console.error(`the app could not start: ${reason}`);
}

if (serviceWorkerOff()) {
  // Reloading without the service worker: starting the app now would be thrown away.
  if (await turnServiceWorkerOff()) await new Promise(() => {});
} else {
  keepAppOffline();
}
try {
  if (typeof WebAssembly !== 'object') throw new Error('this browser has no WebAssembly');
  await init({ module_or_path: new URL('./app_bg.wasm', import.meta.url) });
} catch (e) {
  showStartFailure(e);
}
