#!/usr/bin/env node
// Diagnosis, not a test (it prints, never asserts): how often a load goes wrong in an engine —
// the worker trapped and the page replaced it (the visit then downloads the weights twice), or
// the load failed — with the page's log and the requests of each such visit. RUNS visits of the
// tiny Hub model converted to q8_0 and kept nowhere, alternately by navigation and by reload.
//   RUNS=200 node tests/e2e/diag-traps.mjs --browser webkit
// EXTRA= adds URL parameters (e.g. '&coi=0'); DIST= serves another build (e.g. an older dist/).
// WebKitGTK reads JavaScriptCore options from the environment (e.g. JSC_useOMGJIT=0).
import { ChatPage } from './app.mjs';
import { engineFromArgs, openTab } from './browsers/index.mjs';
import { dist, hubLog, hubRequestsSince, listen, serveHub, staticHost, TEST_REPO, pageErrors, weightGets } from './servers.mjs';

const engine = engineFromArgs();
const runs = Number(process.env.RUNS || 20);
const hub = await listen(serveHub);
const site = await staticHost(process.env.DIST || dist);
const tab = await openTab(engine);
const app = new ChatPage(tab);
const q = `?model=${TEST_REPO}&hub=${encodeURIComponent(hub.url)}&quant=q8_0&max_new_tokens=12&storage=none${process.env.EXTRA || ''}`;
let odd = 0;
try {
  for (let i = 0; i < runs; i++) {
    const [from, siteFrom, errorsFrom] = [hubLog.length, site.log.length, pageErrors.length];
    const t0 = Date.now();
    if (i % 2) await tab.reload();
    else await app.goto(site.base + q);
    let state = 'ok';
    try {
      await app.ready();
    } catch (e) {
      state = `ERR ${e.message.slice(0, 200)}`;
    }
    const gets = weightGets(from).length;
    const page = await tab.evaluate(() => ({
      navigation: performance.getEntriesByType('navigation')[0]?.type,
      workers: window.__e2e.workers.length,
      log: window.__e2e.console.filter((l) => l.startsWith('error')),
    }));
    const wrong = gets !== 1 || state !== 'ok';
    if (wrong) odd++;
    console.log(`${i}: ${state} weight GETs ${gets}, ${page.navigation}, ${page.workers} worker(s), ${Date.now() - t0} ms`);
    if (wrong || process.env.VERBOSE) {
      for (const line of page.log) console.log(`   page ${line.slice(0, 300)}`);
      console.log(`   hub: ${hubRequestsSince(from)}`);
      console.log(`   site: ${site.log.slice(siteFrom).map((r) => r.path).join(', ')}`);
      for (const e of pageErrors.slice(errorsFrom)) console.log(`   ${e.kind}: ${e.text.slice(0, 200)}`);
    }
  }
} finally {
  console.log(`${odd} of ${runs} visits went wrong`);
  await tab.close?.();
  process.exit(0);
}
