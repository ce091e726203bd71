// Threads checks of the e2e suite, on a site of its own that sends the cross-origin isolation
// headers (COOP same-origin, COEP require-corp) as a host that can set headers does: the
// threaded worker runs with its compute threads, the page says how many, and the replies are
// transformers' exactly, as on one thread. `threads=1` keeps the one-thread worker there.
// Then on a site that sends no such headers (as GitHub Pages): the app's service worker isolates
// it (the first, idle visit reloads once); with `coi=0` the page stays unisolated.
// A threaded worker that never starts is replaced by a one-thread one.
// Where an engine cannot run wasm threads in an isolated page, the page runs one thread with
// the same replies, and the check says that threads were not run.
import { assertEq } from './harness.mjs';
import { dist, staticHost } from './servers.mjs';

export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Why this page cannot run wasm threads, or null when it can. */
function threadsMissing(tab) {
  return tab.evaluate(() => {
    if (!self.crossOriginIsolated) return 'the page is not cross-origin isolated';
    if (typeof SharedArrayBuffer !== 'function') return 'no SharedArrayBuffer';
    try {
      new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    } catch (e) {
      return `no shared wasm memory of 4 GiB (${e.message})`;
    }
    return null;
  });
}

/** The threaded worker's wasm this page starts: relaxed SIMD where the engine validates it. */
async function threadedWasm(app) {
  return (await app.relaxedSimd()) ? 'worker_threads_relaxed_bg.wasm' : 'worker_threads_bg.wasm';
}

export async function threadsChecks({ suite, tab, app, hub, query, conversation, ggufReply }) {
  const check = suite.check.bind(suite);
  const site = await staticHost(dist, { headers: ISOLATION_HEADERS });
  // sw=0: the files come from the site, so its log shows which worker the page started.
  const workerWasm = site.workerWasm;
  const gguf = `?model=${encodeURIComponent(`${hub.url}/files/model-q8_0.gguf`)}&max_new_tokens=12&sw=0`;
  try {
    await check("a cross-origin-isolated page computes on as many threads as cores (up to 8): data-threads, the ready line; replies equal transformers'", async () => {
      const from = site.log.length;
      await app.goto(site.base + query + '&sw=0');
      await app.ready();
      const missing = await threadsMissing(tab);
      const threads = missing ? '1' : String(Math.min(8, await tab.evaluate(() => navigator.hardwareConcurrency || 1)));
      assertEq(await tab.attr('html', 'data-threads'), threads, 'data-threads');
      const status = await app.status();
      if (!status.includes(` · ${threads} thread${threads === '1' ? '' : 's'}`)) throw new Error(`the ready line does not say ${threads} threads: ${status}`);
      assertEq(workerWasm(from).join(','), threads === '1' ? workerWasm(from)[0] : await threadedWasm(app), 'worker wasm fetched');
      await app.newChat();
      for (const [i, turn] of conversation.slice(0, 2).entries()) {
        await app.send(turn.user);
        const reply = await app.waitReply(i);
        assertEq(reply.state, 'done', `turn ${i + 1} state`);
        assertEq(reply.text, turn.reply.trim(), `turn ${i + 1} reply`);
      }
      console.log(`       ${status}`);
      // Stored models are read straight into the worker's memory, here a shared one.
      await tab.reload();
      await app.ready();
      let again = await app.status();
      if (!again.includes(` · ${threads} thread`)) {
        // Chromium once refused the page's 4 GiB shared-memory probe right after a reload (the
        // last page's memories not yet freed), and the page rightly ran one thread: said, then
        // tried once more after a pause.
        console.log(`       note: after a reload the page ran on fewer threads: ${again}; reloading once more`);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await tab.reload();
        await app.ready();
        again = await app.status();
      }
      if (!again.includes('loaded from storage') || !again.includes(` · ${threads} thread`)) throw new Error(`after a reload: ${again}`);
      await app.send(conversation[2].user);
      const reply = await app.waitReply(2);
      assertEq(reply.text, conversation[2].reply.trim(), 'turn 3 reply, after the reload');
      console.log(`       ${again}`);
      if (missing) return { notRun: `wasm threads in this engine: ${missing}; one thread ran, replies exact` };
    });

    await check('the same page runs the q8_0 GGUF on its threads with the one-thread reply, relaxed SIMD or not (simd=baseline); threads=1 keeps one thread', async () => {
      if (await threadsMissing(tab)) return { notRun: `wasm threads in this engine: ${await threadsMissing(tab)}` };
      const runs = [['2', '', await threadedWasm(app)], ['2', '&simd=baseline', 'worker_threads_bg.wasm'], ['1', '', null]];
      for (const [threads, extra, wasm] of runs) {
        const from = site.log.length;
        await app.goto(site.base + gguf + `&threads=${threads}${extra}`);
        await app.ready();
        assertEq(await tab.attr('html', 'data-threads'), threads, `data-threads with threads=${threads}${extra}`);
        const fetched = workerWasm(from).join(',');
        if (wasm ? fetched !== wasm : fetched.startsWith('worker_threads') || !fetched) throw new Error(`threads=${threads}${extra}: worker wasm fetched: ${fetched}`);
        await app.newChat();
        await app.send(conversation[0].user);
        const reply = await app.waitReply(0);
        assertEq(reply.state, 'done', 'state');
        assertEq(reply.text, ggufReply, `the q8_0 reply with threads=${threads}${extra}`);
      }
    });

    await check('a threaded worker that never starts (its wasm never arrives): the page goes on with one thread and says why; the reply is the one-thread reply', async () => {
      if (await threadsMissing(tab)) return { notRun: `wasm threads in this engine: ${await threadsMissing(tab)}` };
      site.stall = /^\/worker_threads(_relaxed)?_bg\.wasm$/;
      try {
        const from = site.log.length;
        const started = Date.now();
        await app.goto(site.base + gguf);
        await app.ready();
        const waited = Date.now() - started;
        assertEq(await tab.attr('html', 'data-threads'), '1', 'data-threads after the fallback');
        assertEq(await tab.attr('html', 'data-thread-fallback'), 'not-started', 'data-thread-fallback');
        const status = await app.status();
        if (!status.includes('1 thread (the threaded worker did not start)')) throw new Error(`the ready line does not say why: ${status}`);
        const fetched = workerWasm(from);
        if (!fetched[0]?.startsWith('worker_threads') || fetched.length !== 2 || fetched[1].startsWith('worker_threads')) throw new Error(`worker wasm asked for: ${fetched}`);
        if (waited < 30_000) throw new Error(`the page gave up on the threaded worker after ${waited} ms, before its 30 s`);
        await app.newChat();
        await app.send(conversation[0].user);
        const reply = await app.waitReply(0);
        assertEq(reply.text, ggufReply, 'the q8_0 reply on the fallback thread');
        console.log(`       after ${(waited / 1000).toFixed(1)} s: ${status}`);
      } finally {
        site.unstall();
      }
    });

    await check("on a host without the headers: the service worker isolates the app (one reload on the first visit); with coi=0 it does not; replies equal transformers'", async () => {
      const plain = await staticHost(dist);
      try {
        await app.goto(plain.base);
        const state = await app.isolationSettled();
        const isolated = await tab.evaluate(() => self.crossOriginIsolated);
        if (state === 'isolated' !== isolated) throw new Error(`data-coi says ${state}, crossOriginIsolated is ${isolated}`);
        if (!isolated) return { notRun: `isolation by the service worker in this engine (data-coi ${state}, data-sw ${await tab.attr('html', 'data-sw')})` };
        const reloads = plain.log.filter((r) => r.path === '/' || r.path === '/index.html').length;
        if (reloads < 2) throw new Error(`the first visit was isolated without a reload (${reloads} page requests)`);
        await app.goto(plain.base + query);
        await app.ready();
        assertEq(await tab.evaluate(() => self.crossOriginIsolated), true, 'crossOriginIsolated on the next visit');
        const missing = await threadsMissing(tab);
        const threads = missing ? '1' : String(Math.min(8, await tab.evaluate(() => navigator.hardwareConcurrency || 1)));
        assertEq(await tab.attr('html', 'data-threads'), threads, 'data-threads');
        await app.newChat();
        await app.send(conversation[0].user);
        assertEq((await app.waitReply(0)).text, conversation[0].reply.trim(), 'reply on the isolated page');
        console.log(`       ${await app.status()}`);
        await app.goto(plain.base + query + '&coi=0');
        await app.ready();
        assertEq(await tab.evaluate(() => self.crossOriginIsolated), false, 'crossOriginIsolated with coi=0');
        assertEq(await tab.attr('html', 'data-threads'), '1', 'data-threads with coi=0');
        assertEq(await tab.attr('html', 'data-coi'), 'off', 'data-coi with coi=0');
      } finally {
        plain.server.close();
      }
    });
  } finally {
    site.server.close();
  }
}
