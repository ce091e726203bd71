// Offline and update checks of the e2e suite, each on a site of its own (a new origin, so a
// service worker of its own): the app opens and chats with the network cut after one visit
// (from dist/ and from the sub-path build); a new release installs in the background, is
// offered, and replaces the old one whole when the user accepts; Chromium's installability
// check finds nothing missing; `sw=0` turns the service worker off. "The network cut" is the
// site and the Hub refusing every connection (the test hooks' own endpoints still answer, so
// errors in the page are still seen).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { button } from './app.mjs';
import { assertEq } from './harness.mjs';
import { dist, hubFaults, hubLog, root, staticHost, SUB, subDist, TEST_REPO } from './servers.mjs';

/** The app's precache names (sw.js: `dialogpt-app-<build id>`). */
const APP_CACHE = 'dialogpt-app-';

/** A copy of a built site in a temporary folder. */
function copySite(from) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialogpt-offline-'));
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

/**
 * Makes the site in `dir` another release: appends `marks[file]` to each file, updates the
 * file's Subresource Integrity hash in index.html and writes the release's sw.js.
 */
function markRelease(dir, marks) {
  const index = path.join(dir, 'index.html');
  let html = fs.readFileSync(index, 'utf8');
  for (const [file, text] of Object.entries(marks)) {
    const at = path.join(dir, file);
    const old = `sha384-${crypto.createHash('sha384').update(fs.readFileSync(at)).digest('base64')}`;
    fs.appendFileSync(at, text);
    const now = `sha384-${crypto.createHash('sha384').update(fs.readFileSync(at)).digest('base64')}`;
    if (!html.includes(old)) throw new Error(`index.html names no integrity hash of ${file}`);
    html = html.replace(old, now);
  }
  fs.writeFileSync(index, html);
  execFileSync('node', [path.join(root, 'scripts/precache.mjs'), dir]);
}

/** The build id scripts/precache.mjs wrote into DIR/sw.js. */
function buildId(dir) {
  return /"id": "([0-9a-f]+)"/.exec(fs.readFileSync(path.join(dir, 'sw.js'), 'utf8'))[1];
}

/**
 * Waits until the page is controlled by the app's service worker (its install, which fills
 * the precache, is then over); the service-worker state the page reached when it is not.
 */
async function serviceWorkerRuns(tab) {
  try {
    await tab.waitFor(() => !!(navigator.serviceWorker && navigator.serviceWorker.controller) && document.documentElement.dataset.sw === 'active', null, {
      timeout: 30_000, what: 'the service worker to control the page',
    });
    return null;
  } catch (e) {
    return tab.evaluate(() => `data-sw=${document.documentElement.dataset.sw}, serviceWorker ${navigator.serviceWorker ? 'present' : 'absent'}`);
  }
}

/** The app caches this origin holds. */
function appCaches(tab) {
  return tab.evaluate(async (prefix) => (await caches.keys()).filter((k) => k.startsWith(prefix)).sort(), APP_CACHE);
}

export async function offlineChecks({ suite, tab, app, hub, conversation }) {
  const check = suite.check.bind(suite);
  const first = conversation[0];
  const query = (extra = '') => `?model=${TEST_REPO}&hub=${encodeURIComponent(hub.url)}&quant=f32&max_new_tokens=12${extra}`;
  let swMissing = null; // why this engine runs no service worker, once seen

  /** `fn(host)` on a new site serving `dir` at `prefix`, after a first visit that loaded the model. */
  const onNewSite = async (dir, fn, prefix = '/') => {
    const host = await staticHost(dir, { prefix });
    try {
      await app.goto(host.base + query());
      await app.ready();
      return await fn(host);
    } finally {
      host.down = false;
      hubFaults.down = false;
      host.server.close();
    }
  };

  /** One visit online (model stored), then the network cut: reload, load, reply. */
  const offlineVisit = (site, name) =>
    onNewSite(site.dir, async (host) => {
      const missing = await serviceWorkerRuns(tab);
      if (missing) {
        swMissing = missing;
        return { missing };
      }
      // A first visit that loads a model registers the service worker after the load: its
      // install (every file of the app) would hold the download back.
      const states = await tab.evaluate(() => window.__e2e.states);
      const readyAt = states.findIndex(([status]) => status === 'ready');
      const deferred = states.findIndex(([status, , sw]) => status === 'loading' && sw === 'deferred');
      const registered = states.findIndex(([, , sw]) => sw === 'registered' || sw === 'active');
      if (deferred < 0 || readyAt < 0 || registered < readyAt) throw new Error(`service worker registered during the load: [status, keep, sw, ms] ${JSON.stringify(states)}`);
      const files = await tab.evaluate(async (prefix) => {
        const name = (await caches.keys()).find((k) => k.startsWith(prefix));
        return (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname.split('/').pop()).sort();
      }, APP_CACHE);
      host.down = true;
      hubFaults.down = true;
      const weightsBefore = hubLog.length;
      const t0 = Date.now();
      await tab.reload();
      await app.ready();
      const startMs = Date.now() - t0;
      const status = await app.status();
      if (!/from (this device|storage|browser storage)/i.test(status)) throw new Error(`not loaded from storage: ${status}`);
      await app.newChat();
      await app.say(first.user);
      assertEq((await app.waitReply(0)).text, first.reply.trim(), `offline reply (${name})`);
      assertEq(hubLog.length, weightsBefore, 'requests that reached the Hub while it was down');
      // A model never stored here: the page says so instead of a bare failed fetch.
      await app.goto(host.base + query().replace('quant=f32', 'quant=q4_k'));
      assertEq(await app.settled(), 'error', 'status of a model not on this device');
      const alert = await app.alert();
      if (!/not stored on this device/.test(alert)) throw new Error(`unclear offline error: ${alert}`);
      return { files, startMs, status, alert };
    }, site.prefix);

  const noServiceWorker = () => ({ notRun: `this engine runs no service worker here (${swMissing}); the app works online as before` });

  let precached = null;
  await check('offline after one visit (its service worker registered once the model had loaded): with the site and the Hub unreachable, a reload opens the app, loads the stored model and replies like transformers; a model not stored says so', async () => {
    const r = await offlineVisit({ dir: dist, prefix: '/' }, 'dist');
    if (r.missing) return noServiceWorker();
    precached = r.files;
    suite.note('offline_start_ms', r.startMs);
    suite.note('precached_files', r.files);
    console.log(`       precached: ${r.files.join(', ')}`);
    console.log(`       offline reload -> ready in ${r.startMs} ms: ${r.status}`);
    console.log(`       ${r.alert.slice(0, 200)}`);
    for (const f of ['index.html', 'start.js', 'offline.js', 'app.js', 'app_bg.wasm', 'worker_loader.js', 'worker.js', 'worker_bg.wasm', 'style.css', 'manifest.webmanifest', 'icon-192.png']) {
      if (!r.files.includes(f)) throw new Error(`${f} is not precached (${r.files.join(', ')})`);
    }
  });

  await check('offline from the sub-path build (/sub/path/): the same, under that path', async () => {
    if (swMissing) return noServiceWorker();
    const r = await offlineVisit({ dir: subDist, prefix: SUB }, 'sub-path');
    if (r.missing) throw new Error(`no service worker under the sub-path: ${r.missing}`);
    console.log(`       offline reload -> ready in ${r.startMs} ms`);
  });

  await check('a new release installs in the background, the page keeps the old one and offers Reload; then the new one runs whole, the old cache is gone, the conversation and stored model kept', async () => {
    if (swMissing) return noServiceWorker();
    const [a, b] = [copySite(dist), copySite(dist)];
    // Release B: a visible mark in its stylesheet and its start script, their integrity
    // hashes in its index.html (as trunk writes them), and its own sw.js.
    markRelease(b, { 'style.css': '\n:root { --release: "B"; }\n', 'start.js': '\ndocument.documentElement.dataset.release = "B";\n' });
    const [idA, idB] = [buildId(a), buildId(b)];
    if (idA === idB) throw new Error('the two releases have the same build id');
    const release = () => tab.evaluate(() => [getComputedStyle(document.documentElement).getPropertyValue('--release').trim() || 'A', document.documentElement.dataset.release || 'A'].join('/'));
    await onNewSite(a, async (host) => {
      const missing = await serviceWorkerRuns(tab);
      if (missing) throw new Error(`no service worker: ${missing}`);
      await app.newChat();
      await app.say(first.user);
      await app.waitReply(0);
      assertEq((await appCaches(tab)).join(), APP_CACHE + idA, 'caches of release A');
      // B is published. The next visit finds it, installs it beside A, and keeps running A.
      host.dir = b;
      await tab.reload();
      await app.ready();
      await tab.waitFor(() => !!document.querySelector('.update button'), null, { timeout: 30_000, what: 'the "new version" banner' });
      assertEq(await release(), 'A/A', 'the release running while B waits');
      assertEq((await appCaches(tab)).join(), [APP_CACHE + idA, APP_CACHE + idB].sort().join(), 'caches while B waits');
      const weights = hubLog.filter((r) => r.path.endsWith('/pytorch_model.bin') && r.method === 'GET').length;
      await tab.clickOn(button('Reload'));
      await tab.waitFor(() => document.documentElement.dataset.release === 'B', null, { timeout: 30_000, what: 'release B to run' });
      await app.ready();
      assertEq(await release(), '"B"/B', 'the release running after Reload');
      assertEq((await appCaches(tab)).join(), APP_CACHE + idB, 'caches after the switch (A deleted)');
      assertEq(await app.userCount(), 1, 'messages of the conversation kept');
      assertEq(hubLog.filter((r) => r.path.endsWith('/pytorch_model.bin') && r.method === 'GET').length, weights, 'weight downloads after the switch (the stored model is used)');
      console.log(`       release A ${idA} -> B ${idB}; ${await app.status()}`);
    }).finally(() => [a, b].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  });

  await check('sw=0 unregisters the service worker: the page then runs from the network, uncontrolled', async () => {
    return onNewSite(dist, async (host) => {
      const missing = await serviceWorkerRuns(tab);
      if (missing) {
        swMissing = missing;
        return noServiceWorker();
      }
      await app.goto(host.base + query('&sw=0'));
      await tab.waitFor(() => document.documentElement.dataset.sw === 'off' && !navigator.serviceWorker.controller, null, { what: 'an uncontrolled page' });
      await app.ready();
      const registered = await tab.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
      assertEq(registered, 0, 'service worker registrations after sw=0');
    });
  });

  await check("Chromium's installability check lists no error; the manifest parses clean", async () => {
    await onNewSite(dist, async () => {
      const session = await tab.cdp();
      const { installabilityErrors } = await session.send('Page.getInstallabilityErrors');
      const manifest = await session.send('Page.getAppManifest');
      if (manifest.errors.length) throw new Error(`manifest errors: ${JSON.stringify(manifest.errors)}`);
      if (installabilityErrors.length) throw new Error(`installability errors: ${JSON.stringify(installabilityErrors)}`);
      console.log(`       ${manifest.url}: no installability error`);
    });
  }, { needs: { facility: 'cdp', why: 'the installability check is a Chrome DevTools Protocol command' } });
  return precached;
}
