// Browser storage checks of the e2e suite: each way of keeping a model (the Origin Private
// File System, IndexedDB, the Cache API, none) forced with `storage=` and followed through a
// visit: stored → listed → reloaded with no weight download → deleted → downloaded again.
import { button } from './app.mjs';
import { assertEq } from './harness.mjs';
import { hubLog, TEST_REPO, weightGets } from './servers.mjs';

export const STORE_NAME = 'dialogpt-models-v1';
export const IDB_NAME = 'dialogpt-models';

/**
 * What this engine offers the page: { opfs, idb, cache }. Asked of the app's own page once it is
 * there: OPFS and the Cache API exist only in a secure context, so a probe of a blank document
 * between two loads would say no to both.
 */
export function storageSupport(tab) {
  return tab.waitFor(() => {
    if (!self.isSecureContext || !/^https?:/.test(location.protocol) || !document.querySelector('script[src*="start.js"]')) return null;
    return { opfs: !!(navigator.storage && navigator.storage.getDirectory), idb: !!self.indexedDB, cache: !!self.caches };
  }, null, { what: "the app's page in a secure context, to probe its storage" });
}

/**
 * Whether the Cache API keeps an entry across a page load here: this WebKit keeps entries
 * only in memory, so a reload loses them (and the app does not rely on it there).
 */
export async function cacheApiKeepsEntries(tab) {
  await tab.evaluate(async () => (await caches.open('e2e-probe')).put('https://probe.invalid/x', new Response('kept')));
  await tab.reload();
  return tab.evaluate(async () => {
    const kept = !!(await (await caches.open('e2e-probe')).match('https://probe.invalid/x'));
    await caches.delete('e2e-probe');
    return kept;
  });
}

/** What the page sees in each store: OPFS file names, IndexedDB entry keys, Cache API entry names. */
export function storedFiles(tab) {
  return tab.evaluate(async ([name, idbName]) => {
    const out = { opfs: [], idb: [], cache: [] };
    if (navigator.storage && navigator.storage.getDirectory) {
      const root = await navigator.storage.getDirectory();
      const dir = await root.getDirectoryHandle(name).catch(() => null);
      if (dir) for await (const k of dir.keys()) out.opfs.push(k);
    }
    if (self.indexedDB) {
      const db = await new Promise((resolve) => {
        const r = indexedDB.open(idbName);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => resolve(null);
      });
      if (db && db.objectStoreNames.contains('meta')) {
        out.idb = await new Promise((resolve) => {
          const r = db.transaction('meta').objectStore('meta').getAllKeys();
          r.onsuccess = () => resolve(r.result.map(String));
          r.onerror = () => resolve([]);
        });
      }
      if (db) db.close();
    }
    if (self.caches) out.cache = (await (await caches.open(name)).keys()).map((r) => r.url.split('/').pop());
    for (const k of Object.keys(out)) out[k].sort();
    return out;
  }, [STORE_NAME, IDB_NAME]);
}

export const countStored = (files) => files.opfs.length + files.idb.length + files.cache.length;

/** Empties every store. */
export function clearStores(tab) {
  return tab.evaluate(async ([name, idbName]) => {
    if (self.caches) await caches.delete(name);
    if (navigator.storage && navigator.storage.getDirectory) {
      const root = await navigator.storage.getDirectory();
      await root.removeEntry(name, { recursive: true }).catch(() => {});
    }
    if (self.indexedDB) {
      // The worker closes its connection when asked (versionchange); a delete that stays
      // blocked is reported rather than waited for forever.
      const outcome = await new Promise((resolve) => {
        const r = indexedDB.deleteDatabase(idbName);
        r.onsuccess = () => resolve('deleted');
        r.onerror = () => resolve(`not deleted: ${r.error}`);
        setTimeout(() => resolve('still blocked after 10 s'), 10_000);
      });
      if (outcome !== 'deleted') throw new Error(`IndexedDB ${idbName}: ${outcome}`);
    }
  }, [STORE_NAME, IDB_NAME]);
}

export async function storageChecks({ suite, tab, app, base, hub }) {
  const support = await storageSupport(tab);
  const query = (storage) => `?model=${TEST_REPO}&hub=${encodeURIComponent(hub.url)}&quant=q8_0&max_new_tokens=12&storage=${storage}`;
  const entry = `${TEST_REPO} (q8_0)`;
  const place = { opfs: 'the Origin Private File System', idb: 'IndexedDB', cache: 'the Cache API' };
  suite.note('storage_support', support);
  const cacheKeeps = support.cache && (await cacheApiKeepsEntries(tab));
  suite.note('cache_api_keeps_entries', cacheKeeps);

  for (const backend of ['opfs', 'idb', 'cache']) {
    if (backend === 'cache' && support.cache && !cacheKeeps) {
      const why = 'probed: a Cache API entry written before a reload is gone after it in this engine, so nothing can be reloaded from it (the app prefers OPFS, then IndexedDB)';
      suite.notRun('storage=cache: kept in the Cache API, reloaded with no weight download', why);
      continue;
    }
    if (!support[backend]) {
      await suite.check(`storage=${backend} where this browser has no ${place[backend]}: the page says the model is not kept`, async () => {
        await clearStores(tab);
        await app.goto(base + query(backend));
        await app.ready();
        const status = await app.status();
        if (!/not kept|not saved/i.test(status) || !/download again/i.test(status)) throw new Error(`no notice: ${status}`);
        assertEq(countStored(await storedFiles(tab)), 0, 'stored entries');
        console.log(`       ${status}`);
      });
      continue;
    }
    await suite.check(`storage=${backend}: kept in ${place[backend]}, listed, reloaded with no weight download, deleted, downloaded again`, async () => {
      await clearStores(tab);
      let from = hubLog.length;
      await app.goto(base + query(backend));
      await app.ready();
      assertEq(weightGets(from).length, 1, 'weight downloads on the first visit');
      let files = await storedFiles(tab);
      if (files[backend].length === 0 || countStored(files) !== files[backend].length) throw new Error(`not stored in ${backend} alone: ${JSON.stringify(files)}`);
      const listed = await app.stored();
      const row = listed.find((m) => m.name === entry);
      if (!row) throw new Error(`not listed: ${JSON.stringify(listed)}`);
      assertEq(await tab.attr(`.stored-model[data-store]`, 'data-store'), backend, 'the list says where it is kept');
      from = hubLog.length;
      await tab.reload();
      await app.ready();
      const status = await app.status();
      assertEq(weightGets(from).length, 0, 'weight downloads on the second visit');
      if (!/from storage/.test(status)) throw new Error(`status: ${status}`);
      await app.stored();
      await tab.clickOn(button(`Delete ${entry}`));
      await tab.waitFor((n) => ![...document.querySelectorAll('.stored-model .name')].some((e) => e.textContent === n), entry, { what: 'the entry to go' });
      files = await storedFiles(tab);
      assertEq(countStored(files), 0, `entries left after Delete (${JSON.stringify(files)})`);
      from = hubLog.length;
      await tab.reload();
      await app.ready();
      assertEq(weightGets(from).length, 1, 'weight downloads after Delete');
      suite.note(`storage_${backend}`, `${row.size}; second visit: ${status}`);
      console.log(`       ${row.size}; second visit: "${status}"`);
    });
  }

  await suite.check('storage=none: nothing is kept, the page says so, the next visit downloads again', async () => {
    await clearStores(tab);
    let from = hubLog.length;
    await app.goto(base + query('none'));
    await app.ready();
    const status = await app.status();
    if (!/not kept/i.test(status)) throw new Error(`no notice: ${status}`);
    assertEq(countStored(await storedFiles(tab)), 0, 'stored entries');
    from = hubLog.length;
    await tab.reload();
    await app.ready();
    assertEq(weightGets(from).length, 1, 'weight downloads on the second visit');
    console.log(`       ${status}`);
  });

  await suite.check('a downloaded model is ready before it is kept, then kept whole: the next visit reads it back', async () => {
    await clearStores(tab);
    let from = hubLog.length;
    await app.goto(base + query('auto'));
    assertEq(await app.kept(), 'kept', 'data-keep once written');
    // The page's root as it changed: Ready must come while the model is still being written.
    const states = await tab.evaluate(() => window.__e2e.states);
    const ready = states.findIndex(([status]) => status === 'ready');
    const kept = states.findIndex(([, keep]) => keep === 'kept');
    if (ready < 0 || states[ready][1] !== 'writing' || kept < ready) throw new Error(`status, keep changes: ${JSON.stringify(states)}`);
    const status = await app.status();
    if (!/kept on this device/.test(status)) throw new Error(`the ready line does not say it is kept: ${status}`);
    assertEq(weightGets(from).length, 1, 'weight downloads on the first visit');
    from = hubLog.length;
    await tab.reload();
    await app.ready();
    assertEq(weightGets(from).length, 0, 'weight downloads on the second visit');
    if (!/from storage/.test(await app.status())) throw new Error(`second visit: ${await app.status()}`);
    console.log(`       ${states.map(([s, k, , t]) => `${s}/${k || '-'}@${Math.round(t)}`).join(' → ')}`);
  });

  await suite.check('storage=auto keeps the model in the best store this browser has', async () => {
    await clearStores(tab);
    await app.goto(base + query('auto'));
    await app.ready();
    const files = await storedFiles(tab);
    const used = ['opfs', 'idb', 'cache'].find((k) => files[k].length) || 'none';
    assertEq(used, ['opfs', 'idb', 'cache'].find((k) => support[k]) || 'none', 'store used');
    suite.note('storage_auto', used);
    console.log(`       ${tab.engine}: ${used}`);
  });
}
