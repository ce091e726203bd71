// The page's side of the service worker (sw.js): registers it so the app opens offline, and
// tells the app when a new release is installed and waiting (`data-update="ready"` on the
// root element, which the app checks every second and answers with its "new version" banner).
// The banner's Reload sends the window event `dialogpt-update-accept`: the waiting release
// takes over and the page reloads once it controls the page. `sw=0` in the page URL turns the
// service worker off and removes one registered earlier.
//
// The service worker's state is on the root element too (`data-sw`: off, unsupported, deferred
// (until the model loading is over), failed, registered, active), for bug reports and tests.
//
// Cross-origin isolation, which the page's threads need, on hosts that cannot send its
// headers: the service worker adds them (sw.js), so every visit it answers is isolated
// (`coi=0` in the page URL turns that off: the host's headers are kept). On the first visit it takes over a page already open, and
// isolation needs a new load of it: the page reloads once then if the app is idle (no model
// loading or loaded; the conversation and the draft are kept in localStorage anyway), else the
// next visit is isolated. Not in a frame (only the embedding page can isolate one). `data-coi` on the
// root: isolated, pending (a reload may come), reloading, next-visit, off, unavailable.

const root = document.documentElement;

/** True when the page URL says `sw=0`. */
export const serviceWorkerOff = () => new URLSearchParams(location.search).get('sw') === '0';

// Isolation by the service worker is on unless the page URL says `coi=0` (README, "Threads").
const isolationOff = () => new URLSearchParams(location.search).get('coi') === '0';
const RELOADED_TO_ISOLATE = 'dialogpt-coi-reload';

/**
 * `sw=0`: unregisters the app's service worker. A page it already controls stays controlled
 * until it is left, so that page is reloaded once (true: the reload is under way).
 */
export async function turnServiceWorkerOff() {
  root.dataset.sw = 'off';
  root.dataset.coi = self.crossOriginIsolated ? 'isolated' : 'off';
  try {
    return await unregisterAndReload();
  } catch (e) {
    // Where a frame may not use service workers or storage, there is none to turn off.
    return false;
  }
}

async function unregisterAndReload() {
  const container = navigator.serviceWorker;
  const mine = container && (await container.getRegistration('./').catch(() => null));
  if (mine) await mine.unregister();
  // Once only: should a browser still hand the reloaded page to the old worker, it runs so.
  const RELOADED = 'dialogpt-sw-off-reload';
  if (!container || !container.controller || sessionStorage.getItem(RELOADED)) {
    sessionStorage.removeItem(RELOADED);
    return false;
  }
  sessionStorage.setItem(RELOADED, '1');
  location.reload();
  return true;
}

/** The app's load status (`data-status`) once it matches `accept`; `failed` if the app never starts. */
function appStatus(accept) {
  const now = () => (root.dataset.start === 'failed' ? 'failed' : document.querySelector('.app')?.dataset.status);
  return new Promise((resolve) => {
    const check = () => {
      const status = now();
      if (status === undefined || !accept(status)) return false;
      resolve(status);
      return true;
    };
    if (check()) return;
    const watch = new MutationObserver(() => check() && watch.disconnect());
    watch.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status', 'data-start'] });
  });
}

/**
 * Registers the service worker; the page starts beside it, never waiting for it. Not while
 * the page loads a model: installing fetches and stores every file of the app (all the worker
 * builds), which on a first visit competes with the model's download for the same cores and
 * holds it back (measured in bench/BROWSER.md). Registered once that load is over; that visit
 * is not reloaded to be isolated (the next one is).
 */
export async function keepAppOffline() {
  const container = navigator.serviceWorker;
  root.dataset.coi = self.crossOriginIsolated ? 'isolated' : isolationOff() ? 'off' : 'unavailable';
  if (!container) return (root.dataset.sw = 'unsupported');
  const wouldIsolate = !self.crossOriginIsolated && !isolationOff() && window.top === window && !container.controller;
  // Until the app says whether it loads a model, a reload to isolate it may come.
  if (wouldIsolate) root.dataset.coi = 'pending';
  if ((await appStatus(() => true)) === 'loading') {
    if (wouldIsolate) root.dataset.coi = 'next-visit';
    root.dataset.sw = 'deferred';
    await appStatus((status) => status !== 'loading');
  } else if (wouldIsolate) {
    container.addEventListener('controllerchange', isolateOnTakeover, { once: true });
  }
  try {
    // Where frames have a `credentialless` attribute, so has COEP (Chromium): it also lets in
    // cross-origin files that do not opt in. Elsewhere `require-corp`, which the app's own
    // files and its CORS model downloads satisfy.
    const coep = 'credentialless' in HTMLIFrameElement.prototype ? 'credentialless' : 'require-corp';
    const registration = await container.register(`./sw.js?coep=${coep}`, { scope: './' });
    root.dataset.sw = 'registered';
    container.ready.then(() => (root.dataset.sw = 'active'));
    // An install that fails (the precache could not be filled) takes nothing over.
    const installing = registration.installing;
    installing?.addEventListener('statechange', () => {
      if (installing.state === 'redundant' && root.dataset.coi === 'pending') root.dataset.coi = 'unavailable';
    });
    watchForUpdates(container, registration);
  } catch (e) {
    // A sandboxed frame, a browser that refuses here, a private mode: the app works online.
    root.dataset.sw = 'failed';
    if (root.dataset.coi === 'pending') root.dataset.coi = 'unavailable';
    console.info(`the app is not kept for offline use: ${e && e.message ? e.message : e}`);
  }
}

/** The first visit's service worker has taken over: reloads once to be isolated, if idle. */
function isolateOnTakeover() {
  const status = document.querySelector('.app')?.dataset.status;
  const idle = status === undefined || status === 'idle' || status === 'error' || status === 'cancelled';
  if (!idle || sessionStorage.getItem(RELOADED_TO_ISOLATE)) {
    root.dataset.coi = 'next-visit';
    return;
  }
  sessionStorage.setItem(RELOADED_TO_ISOLATE, '1');
  root.dataset.coi = 'reloading';
  location.reload();
}

function watchForUpdates(container, registration) {
  // Only a page already run by a service worker has something to update from; on the first
  // visit the new worker simply takes over.
  const offer = () => {
    if (!container.controller || !registration.waiting) return;
    root.dataset.update = 'ready';
  };
  // A release found before this script listened may be installing already.
  const track = (incoming) => incoming && incoming.addEventListener('statechange', () => incoming.state === 'installed' && offer());
  track(registration.installing);
  registration.addEventListener('updatefound', () => track(registration.installing));
  offer();
  // Registering an unchanged URL checks nothing: ask at every start, and hourly for a page
  // left open. Offline the check just fails.
  const check = () => registration.update().catch(() => {});
  check();
  setInterval(check, 3_600_000);
  let accepted = false;
  window.addEventListener('dialogpt-update-accept', () => {
    if (!registration.waiting) return location.reload();
    accepted = true;
    registration.waiting.postMessage({ type: 'activate-update' });
  });
  container.addEventListener('controllerchange', () => accepted && location.reload());
}
