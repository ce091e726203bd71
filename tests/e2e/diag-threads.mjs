#!/usr/bin/env node
// Diagnosis, not a test (it prints, never asserts): how often a threaded worker fails to start in
// an engine, and how far it got. A copy of dist/ whose worker loader reports each start step
// (loader start, glue imported, wasm init, compute threads asked of the page, messages received; for each
// compute thread the same) to the test server; then RUNS loads of the tiny model, each with the
// steps of the workers that did not start (all of them with VERBOSE=1).
//   RUNS=12 node tests/e2e/diag-threads.mjs --browser firefox        isolated by the service worker
//   HEADERS=1 EXTRA='&sw=0' RUNS=25 node tests/e2e/diag-threads.mjs --browser firefox   by headers
// STORAGE= (default none) and EXTRA= (more URL parameters) shape the page.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { ChatPage } from './app.mjs';
import { engineFromArgs, openTab } from './browsers/index.mjs';
import { dist, listen, serveHub, staticHost, TEST_REPO, pageErrors } from './servers.mjs';
import { ISOLATION_HEADERS } from './threads.mjs';

const engine = engineFromArgs();
const runs = Number(process.env.RUNS || 20);
const diag = '/tmp/diag/dist';
fs.rmSync(diag, { recursive: true, force: true });
fs.cpSync(dist, diag, { recursive: true });
const loader = fs.readFileSync(`${diag}/worker_loader.js`, 'utf8');
const mark = `const __mark = (t) => fetch('/__e2e/error', { method: 'POST', body: JSON.stringify({ kind: 'stage', text: t, url: self.location.href, at: Date.now() }) }).catch(() => {});\n__mark('loader start');\nself.addEventListener('message', (e) => __mark('got message ' + (e.data && e.data.constructor && e.data.constructor.name)));\n`;
let patched = mark + loader
  .replace("importScripts(`./${build}.js`);", "importScripts(`./${build}.js`);\n__mark('glue imported');")
  .replace(".then(() => wasm_bindgen.serveAsComputeThread())", ".then(() => { __mark('compute init'); wasm_bindgen.serveAsComputeThread(); })")
  .replace("self.onmessage = ({ data }) => {", "self.onmessage = ({ data }) => {\n    __mark('compute got module');")
  .replace("    .then(() => {\n      if (!build.startsWith", "    .then(() => {\n      __mark('wasm init');\n      if (!build.startsWith")
  .replace("count: threads - 1, module, memory } });", "count: threads - 1, module, memory } });\n      __mark('asked the page for compute threads');")
  .replace(/console\.error\(`the inference worker could not start: \$\{e\}`\)/, "(__mark(`START FAILED ${e}`), console.error(e))")
  .replace(/console\.error\(`a compute thread could not start: \$\{e\}`\)/, "(__mark(`COMPUTE FAILED ${e}`), console.error(e))");
fs.writeFileSync(`${diag}/worker_loader.js`, patched);
execFileSync('node', ['scripts/precache.mjs', diag], { stdio: 'inherit' });
const hub = await listen(serveHub);
const headers = process.env.HEADERS ? ISOLATION_HEADERS : {};
const site = await staticHost(diag, { headers });
const tab = await openTab(engine);
const app = new ChatPage(tab);
const storage = process.env.STORAGE || 'none';
const q = `?model=${TEST_REPO}&hub=${encodeURIComponent(hub.url)}&quant=f32&max_new_tokens=12&storage=${storage}${process.env.EXTRA || ''}`;
let bad = 0;
try {
  for (let i = 0; i < runs; i++) {
    const from = pageErrors.length;
    const t0 = Date.now();
    await app.goto(site.base + q);
    let state;
    try {
      await app.ready();
      state = (await tab.attr('html', 'data-thread-fallback')) || 'ok';
    } catch (e) {
      state = `ERR ${e.message.slice(0, 200)}`;
    }
    const threads = await tab.attr('html', 'data-threads');
    const stages = pageErrors.slice(from).map((e) => `${e.at - t0}ms ${e.kind === 'stage' ? '' : e.kind + ' '}${e.text.slice(0, 160)} [${(e.url || '').split('/').pop().slice(0, 60)}]`);
    if (state !== 'ok') bad++;
    console.log(`${i}: ${state} threads=${threads} coi=${await tab.attr('html', 'data-coi')} ${Date.now() - t0} ms`);
    if (state !== 'ok' || process.env.VERBOSE) for (const s of stages) console.log(`    ${s}`);
  }
} finally {
  console.log(`${bad} of ${runs} not ok`);
  await tab.close?.();
  process.exit(0);
}
