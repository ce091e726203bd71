// The page's side of the service worker (sw.js): registers it so the app opens offline, and
// tells the app when a new release is installed and waiting (`data-update="ready"` on the
// root element, which the app checks every second and answers with its "new version" banner).
// The banner's Reload sends the window event `dialogpt-update-accept`: the waiting release
// takes over and the page reloads once it controls the page. `sw=0` in the page URL turns the
// service worker off and removes one registered earlier.
//
// The service worker's state is on the root element too (`data-sw`: off, unsupported, failed,
// registered, active), for bug reports and tests.

const root = document.documentElement;

/** True when the page URL says `sw=0`. */
export const serviceWorkerOff = () => new URLSearchParams(location.search).get('sw') === '0';

/**
 * `sw=0`: unregisters the app's service worker. A page it already controls stays controlled
 * until it is left, so that page is reloaded once (true: the reload is under way).
 */
export async function turnServiceWorkerOff() {
  root.dataset.sw = 'off';
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

/** Registers the service worker; the page starts beside it, never waiting for it. */
export async function keepAppOffline() {
  const container = navigator.serviceWorker;
  if (!container) return (root.dataset.sw = 'unsupported');
  try {
    const registration = await container.register('./sw.js', { scope: './' });
    root.dataset.sw = 'registered';
    container.ready.then(() => (root.dataset.sw = 'active'));
    watchForUpdates(container, registration);
  } catch (e) {
    // A sandboxed frame, a browser that refuses here, a private mode: the app works online.
    root.dataset.sw = 'failed';
    console.info(`the app is not kept for offline use: ${e && e.message ? e.message : e}`);
  }
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
