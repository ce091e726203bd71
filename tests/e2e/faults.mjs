#!/usr/bin/env node
// Faults and hostile input, in one browser engine (`--browser chromium|firefox|webkit`): every
// case must end with a clear message, the page still usable, the conversation kept and the
// model store consistent. Same servers as run.mjs (servers.mjs): dist/ under a strict
// Content-Security-Policy, and a Hub mirror whose faults are switched per case.
// Writes tests/e2e/artifacts/soak-<engine>.json (memory over 200 turns). Exit code 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { button, ChatPage, MESSAGE } from './app.mjs';
import { engineFromArgs, openTab } from './browsers/index.mjs';
import { sleep } from './browsers/tab.mjs';
import { artifacts, assertEq, reference, Suite } from './harness.mjs';
import { clearFaults, dist, hubFaults, hubLog, listen, serveHub, staticHost, TEST_REPO, weightGets } from './servers.mjs';
import { clearStores, countStored, IDB_NAME, STORE_NAME, storedFiles } from './storage.mjs';

async function main() {
  const engine = engineFromArgs();
  const conversation = reference().results.greedy[0];
  const firstReply = conversation[0].reply.trim();
  const hub = await listen(serveHub);
  // dist/ with a strict Content-Security-Policy on every response: no inline script, no eval.
  const csp = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' ${hub.url}`;
  const web = await staticHost(dist, { headers: { 'Content-Security-Policy': csp } });
  const base = web.base;
  const origin = web.url;
  let tab = await openTab(engine);
  let app = new ChatPage(tab);
  const suite = new Suite('faults', tab);
  const check = suite.check.bind(suite);
  const cdp = { facility: 'cdp', why: 'it needs the Chrome DevTools Protocol' };

  const query = (extra = '') => `?model=${TEST_REPO}&hub=${encodeURIComponent(hub.url)}&quant=f32&max_new_tokens=12${extra}`;
  const notStored = async () => {
    const files = await storedFiles(tab);
    if (countStored(files)) throw new Error(`a failed download left something stored: ${JSON.stringify(files)}`);
  };

  try {
    await check('the app runs under a strict CSP (no inline script, no eval): loads, replies exactly, its service worker runs', async () => {
      await app.goto(base + query());
      await app.ready();
      await app.newChat();
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'reply under the CSP');
      // The service worker (a same-origin script) runs under the policy too.
      await tab.waitFor(() => document.documentElement.dataset.sw === 'active' && !!navigator.serviceWorker.controller, null, { timeout: 30_000, what: 'the service worker under the CSP' });
      console.log(`       policy: ${csp}`);
    });

    // ---- Input ----
    await check('whitespace-only messages are refused with a hint; nothing is sent', async () => {
      const before = await app.userCount();
      for (const text of [' ', '\n\n', '\t  \n ']) {
        await tab.fill(MESSAGE, text);
        await tab.clickOn(button('Send'));
        if (!/empty/i.test(await tab.text('.hint'))) throw new Error(`no hint for ${JSON.stringify(text)}`);
      }
      assertEq(await app.userCount(), before, 'user messages');
    });

    await check('a 10,000-character message (longer than the context) gets a reply and a note', async () => {
      await app.newChat();
      const long = Array.from({ length: 2000 }, (_, i) => `w${i % 97}`).join(' ').slice(0, 10_000).padEnd(10_000, 'x');
      await app.say(long);
      const r = await app.waitReply(0);
      assertEq(r.state, 'done', 'state');
      assertEq((await tab.texts('[data-author="user"] .text'))[0].length, 10_000, 'user text kept whole');
      const speed = await app.speed();
      if (!/too long: its first \d+ tokens were left out/.test(speed)) throw new Error(`no note: ${speed}`);
      const used = Number((await app.meter()).split(' / ')[0]);
      if (!(used <= 256)) throw new Error(`context meter ${used} > 256`);
    });

    await check('emoji, CJK, RTL, combining marks, NUL and control characters: sent as typed, replies come', async () => {
      await app.newChat();
      // Text a keyboard cannot type (and emoji, which WebDriver drops in WebKitGTK) goes in
      // as a paste would: see Tab.fill.
      const texts = ['👩‍👩‍👧‍👦 🎉 family emoji', '你好，世界。日本語もどうぞ', 'مرحبا بالعالم שלום', 'e\u0301 n\u0303 a\u030A Zalgo z\u0336\u0337', 'nul\u0000 bell\u0007 esc\u001b end'];
      for (const [i, text] of texts.entries()) {
        await app.say(text);
        const r = await app.waitReply(i);
        assertEq(r.state, 'done', `state for ${JSON.stringify(text)}`);
        assertEq((await tab.texts('[data-author="user"] .text'))[i], text, 'user bubble text');
      }
    });

    await check('HTML and script in a message render as text, nothing runs', async () => {
      await app.newChat();
      const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold?</b>';
      await app.say(evil);
      await app.waitReply(0);
      assertEq(await tab.count('.messages img, .messages script, .messages b'), 0, 'elements made from the text');
      assertEq(await tab.evaluate(() => window.__xss), undefined, 'window.__xss');
      assertEq((await tab.texts('[data-author="user"] .text'))[0], evil, 'shown as typed');
    });

    await check('Enter pressed 10 times fast: one turn, replies never interleave', async () => {
      await app.newChat();
      await tab.fill(MESSAGE, conversation[0].user);
      const box = await tab.find(MESSAGE);
      for (let i = 0; i < 10; i++) await tab.press(box, 'Enter');
      await app.waitReply(0);
      await sleep(300);
      assertEq(await app.userCount(), 1, 'user messages');
      assertEq(await app.botCount(), 1, 'bot messages');
      assertEq((await app.waitReply(0)).text, firstReply, 'the one reply');
    });

    await check('pasting while a reply streams keeps the pasted text for the next turn', async () => {
      await app.newChat();
      await app.setting('Max new tokens', 200);
      await app.say(conversation[0].user);
      await tab.waitFor(() => document.querySelector('[data-author="bot"]')?.dataset.state === 'streaming', null, { interval: 5, what: 'streaming' });
      await app.tab.paste(MESSAGE, 'pasted during the reply');
      await app.waitReply(0);
      assertEq(await tab.evaluate(() => document.querySelector('textarea[aria-label=Message]').value), 'pasted during the reply', 'draft after the reply');
      await tab.pressOn(MESSAGE, 'Enter');
      assertEq((await app.waitReply(1)).state, 'done', 'the pasted turn');
    });

    // ---- Generation ----
    await check('New chat during generation: the old reply is dropped, the next one is exact', async () => {
      await app.newChat();
      await app.say(conversation[0].user);
      await app.replyStarted(0, 20);
      await app.newChat();
      await app.setting('Max new tokens', 12);
      await sleep(200); // late tokens of the old turn must not show up
      assertEq(await app.botCount(), 0, 'bubbles after New chat');
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'reply after New chat');
    });

    await check('switching model during generation: the reply is marked, the new model answers', async () => {
      await app.newChat();
      await app.setting('Max new tokens', 200);
      // The switch is made from inside the page at the first streamed text, so it lands
      // mid-reply however fast the tiny model is.
      await tab.evaluate(() => {
        const obs = new MutationObserver(() => {
          if (!document.querySelector('[data-author="bot"] .text')?.textContent) return;
          obs.disconnect();
          const quant = document.querySelector('select[aria-label="Quantization"]');
          quant.value = 'q8_0';
          quant.dispatchEvent(new Event('change', { bubbles: true }));
          setTimeout(() => [...document.querySelectorAll('button')].find((b) => b.textContent === 'Load').click(), 0);
        });
        obs.observe(document.querySelector('.messages'), { subtree: true, childList: true, characterData: true });
      });
      await app.say(conversation[0].user);
      const r = await app.waitReply(0);
      if (r.state !== 'failed' || !/another model/.test(r.text)) throw new Error(`old reply: ${r.state} ${r.text.slice(-80)}`);
      await app.ready();
      if (!/q8_0/.test(await app.status())) throw new Error(await app.status());
      await app.say(conversation[1].user);
      assertEq((await app.waitReply(1)).state, 'done', 'reply from the new model');
    });

    await check('past the context window: oldest turns are dropped, the meter stays within it, replies go on', async () => {
      await app.goto(base + query());
      await app.ready();
      await app.newChat();
      await app.setting('Max new tokens', 200);
      let dropped = false;
      for (let i = 0; i < 5; i++) {
        await app.say(conversation[i % conversation.length].user);
        assertEq(['done', 'stopped'].includes((await app.waitReply(i)).state), true, `turn ${i + 1} finished`);
        const used = Number((await app.meter()).split(' / ')[0]);
        if (used > 256) throw new Error(`meter ${used} > 256`);
        dropped ||= /oldest \d+ tokens/.test(await app.speed());
      }
      if (!dropped) throw new Error('no turn was dropped in 5 long turns');
      await app.setting('Max new tokens', 12);
      await app.closePanel('settings');
    });

    await check('200 turns in a row: worker memory, page memory and DOM stay flat (curve in artifacts/soak-<engine>.json)', async () => {
      await app.newChat();
      const curve = [];
      const heap = tab.facilities.pageHeap ? await tab.cdp() : null;
      if (heap) await heap.send('Performance.enable');
      const sample = async (turn) => {
        const worker = Number(await tab.attr('.meter', 'data-worker-memory'));
        const nodes = await tab.evaluate(() => document.getElementsByTagName('*').length);
        const point = { turn, worker_mb: +(worker / 1e6).toFixed(1), dom_elements: nodes };
        if (heap) {
          const { metrics } = await heap.send('Performance.getMetrics');
          point.page_js_heap_mb = +(metrics.find((m) => m.name === 'JSHeapUsedSize').value / 1e6).toFixed(1);
        }
        curve.push(point);
      };
      const t0 = Date.now();
      for (let i = 0; i < 200; i++) {
        await app.say(`turn ${i}: ${conversation[i % conversation.length].user}`);
        assertEq((await app.waitReply(i)).state, 'done', `turn ${i + 1}`);
        if ((i + 1) % 25 === 0) {
          await tab.evaluate(() => window.gc && window.gc());
          await sample(i + 1);
        }
      }
      fs.writeFileSync(path.join(artifacts, `soak-${engine}.json`), JSON.stringify(curve, null, 1));
      console.log(`       ${((Date.now() - t0) / 1000).toFixed(0)} s; turn: worker wasm MB / page JS heap MB / DOM elements`);
      console.log(`       ${curve.map((c) => `${c.turn}: ${c.worker_mb} / ${c.page_js_heap_mb ?? 'n/a'} / ${c.dom_elements}`).join(', ')}`);
      if (!heap) console.log(`       ${engine}: the page's JS heap is not measured (needs CDP); worker memory and DOM are`);
      const [first, last] = [curve[0], curve[curve.length - 1]];
      if (last.worker_mb - first.worker_mb > 8) throw new Error(`worker memory grew ${first.worker_mb} -> ${last.worker_mb} MB`);
      // 350 more bubbles on the page are expected; a leak would be far more.
      if (heap && last.page_js_heap_mb - first.page_js_heap_mb > 30) throw new Error(`page heap grew ${first.page_js_heap_mb} -> ${last.page_js_heap_mb} MB`);
      const perBubble = (last.dom_elements - first.dom_elements) / 350;
      if (perBubble > 12) throw new Error(`${perBubble.toFixed(1)} DOM elements per message`);
      await app.newChat();
    });

    // The checks after the soak run in a fresh browser, as a new visitor's would: 200 turns leave
    // a long-lived page behind (WebKit's MiniBrowser has failed late in long sessions).
    await tab.close();
    tab = await openTab(engine);
    suite.tab = tab;
    app = new ChatPage(tab);
    await app.goto(base + query());
    await app.ready();

    // ---- Network ----
    const files = ['config.json', 'vocab.json', 'merges.txt', 'pytorch_model.bin'];
    for (const code of [404, 500]) {
      await check(`HTTP ${code} on each model file: a message naming it, Retry, the conversation kept`, async () => {
        await app.say(conversation[0].user); // something to keep
        await app.waitReply(0);
        for (const f of files) {
          await clearStores(tab);
          clearFaults();
          hubFaults.status[f] = code;
          await app.goto(base + query());
          assertEq(await app.settled(), 'error', `status with ${code} on ${f}`);
          const alert = await app.alert();
          if (!alert.includes(f) || !alert.includes(String(code))) throw new Error(`unclear: ${alert}`);
          assertEq(await app.userCount(), 1, 'conversation kept');
          clearFaults();
          await tab.clickOn(button('Retry'));
          await app.ready();
        }
        await app.newChat();
      });
    }

    await check('a CORS failure (no Access-Control-Allow-Origin) says so', async () => {
      for (const f of ['config.json', 'pytorch_model.bin']) {
        await clearStores(tab);
        clearFaults();
        hubFaults.noCors.add(f);
        await app.goto(base + query());
        assertEq(await app.settled(), 'error', `status without CORS on ${f}`);
        const alert = await app.alert();
        if (!/CORS/.test(alert) || !alert.includes(f)) throw new Error(`unclear: ${alert}`);
      }
      clearFaults();
    });

    await check('the network down (the Hub unreachable): a clear message, Retry, no uncaught error', async () => {
      await clearStores(tab);
      const down = await listen((req, res) => req.socket.destroy());
      await app.goto(base + `?model=${TEST_REPO}&hub=${encodeURIComponent(down.url)}&quant=f32`);
      assertEq(await app.settled(), 'error', 'status');
      const alert = await app.alert();
      if (!/network|CORS/i.test(alert)) throw new Error(`unclear: ${alert}`);
      down.server.close();
      console.log(`       ${alert.slice(0, 160)}`);
    });

    await check('a truncated weight file: a clear error, nothing stored', async () => {
      await clearStores(tab);
      clearFaults();
      hubFaults.truncate['pytorch_model.bin'] = 3_000_000;
      await app.goto(base + query());
      assertEq(await app.settled(), 'error', 'status');
      const alert = await app.alert();
      if (!/pytorch_model\.bin|incomplete|truncated|ended/i.test(alert)) throw new Error(`unclear: ${alert}`);
      console.log(`       ${alert.slice(0, 160)}`);
      await notStored();
    });

    await check('a corrupted weight file (flipped bytes in its structure): detected, nothing stored', async () => {
      await clearStores(tab);
      clearFaults();
      hubFaults.flip['pytorch_model.bin'] = 2; // inside the pickle's header
      await app.goto(base + query());
      assertEq(await app.settled(), 'error', 'status');
      console.log(`       ${(await app.alert()).slice(0, 160)}`);
      await notStored();
    });

    await check('a weight file with a flipped byte in its tensor data: caught by the Hub\'s SHA-256, nothing stored', async () => {
      await clearStores(tab);
      clearFaults();
      hubFaults.flip['pytorch_model.bin'] = 4_000_000; // deep in the weights: parses fine
      await app.goto(base + query());
      assertEq(await app.settled(), 'error', 'status');
      const alert = await app.alert();
      if (!/SHA-256/.test(alert)) throw new Error(`not caught: ${alert}`);
      console.log(`       ${alert.slice(0, 170)}`);
      await notStored();
      clearFaults();
      await tab.clickOn(button('Retry'));
      await app.ready();
    });

    await check('files of the wrong format or architecture: clear errors', async () => {
      const cases = [
        ['pytorch_model.bin', '<!DOCTYPE html><html><body>Sign in to continue</body></html>', /HTML|format/i],
        ['config.json', JSON.stringify({ model_type: 'llama', hidden_size: 32, num_hidden_layers: 2 }), /model_type is `llama`, only `gpt2`/],
        ['config.json', 'not json at all', /config\.json is not valid JSON/],
      ];
      for (const [f, body, expect] of cases) {
        await clearStores(tab);
        clearFaults();
        hubFaults.body[f] = body;
        await app.goto(base + query());
        assertEq(await app.settled(), 'error', `status for a bad ${f}`);
        const alert = await app.alert();
        if (!expect.test(alert)) throw new Error(`unclear for ${f}: ${alert}`);
        console.log(`       ${f}: ${alert.slice(0, 150)}`);
        await notStored();
      }
      clearFaults();
    });

    await check('a very slow server: progress keeps moving, Cancel works', async () => {
      await clearStores(tab);
      clearFaults();
      hubFaults.slowMs = 250; // about 1 MB/s
      await app.goto(base + query());
      const progress = () => tab.text('.progress-text');
      await tab.waitFor(() => /pytorch_model\.bin (?!0\.0 )/.test(document.querySelector('.progress-text')?.textContent || ''), null, { what: 'progress' });
      const a = await progress();
      await sleep(400);
      const b = await progress();
      if (a === b) throw new Error(`progress stuck at ${a}`);
      await tab.clickOn(button('Cancel'));
      await tab.waitFor(() => document.querySelector('.app').dataset.status === 'cancelled', null, { what: 'cancelled' });
      await sleep(500);
      await notStored();
      clearFaults();
    });

    // ---- Storage ----
    await check('storage quota exceeded while storing: the user is told (in words about storage), the chat works from memory', async () => {
      await clearStores(tab);
      const session = await tab.cdp();
      await session.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1_000_000 });
      try {
        await app.goto(base + query());
        await app.ready();
        const s = await app.status();
        if (!/full|quota/i.test(s)) throw new Error(`no quota notice: ${s}`);
        if (/tensor/i.test(s)) throw new Error(`the storage notice speaks of tensors: ${s}`);
        console.log(`       ${s}`);
        await app.newChat();
        await app.say(conversation[0].user);
        assertEq((await app.waitReply(0)).text, firstReply, 'reply without storage');
        await notStored();
      } finally {
        await session.send('Storage.overrideQuotaForOrigin', { origin });
      }
    }, { needs: cdp });

    await check('a stored entry tampered with between visits: detected, downloaded again, replies exact', async () => {
      await clearStores(tab);
      await app.goto(base + query());
      await app.ready();
      const where = await tab.evaluate(async ([name, idbName]) => {
        // In the tensor data (60 % into the file): parsing alone would not notice.
        const flip = (bytes) => { bytes[Math.floor(bytes.length * 0.6)] ^= 0x55; return bytes; };
        if (navigator.storage && navigator.storage.getDirectory) {
          const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(name).catch(() => null);
          if (dir) {
            for await (const k of dir.keys()) {
              if (!k.endsWith('.gguf')) continue;
              const handle = await dir.getFileHandle(k);
              const bytes = flip(new Uint8Array(await (await handle.getFile()).arrayBuffer()));
              const w = await handle.createWritable();
              await w.write(bytes);
              await w.close();
              return `opfs ${k}`;
            }
          }
        }
        const idb = await new Promise((resolve) => {
          const r = indexedDB.open(idbName);
          r.onsuccess = () => resolve(r.result.objectStoreNames.contains('chunks') ? r.result : null);
          r.onerror = () => resolve(null);
        });
        if (idb) {
          const chunks = idb.transaction('chunks', 'readwrite').objectStore('chunks');
          const key = await new Promise((resolve) => { const r = chunks.getAllKeys(); r.onsuccess = () => resolve(r.result[0]); });
          if (key) {
            const tx = idb.transaction('chunks', 'readwrite');
            const store = tx.objectStore('chunks');
            const buffer = await new Promise((resolve) => { const r = store.get(key); r.onsuccess = () => resolve(r.result); });
            store.put(flip(new Uint8Array(buffer)).buffer, key);
            await new Promise((resolve) => (tx.oncomplete = resolve));
            return `idb ${key}`;
          }
        }
        const cache = await caches.open(name);
        for (const req of await cache.keys()) {
          const res = await cache.match(req);
          const bytes = flip(new Uint8Array(await res.arrayBuffer()));
          await cache.put(req, new Response(bytes, { headers: res.headers }));
          return `cache ${req.url.split('/').pop()}`;
        }
        return null;
      }, [STORE_NAME, IDB_NAME]);
      if (!where) throw new Error('nothing was stored to tamper with');
      const from = hubLog.length;
      await tab.reload();
      await app.ready();
      const s = await app.status();
      if (weightGets(from).length !== 1 || !/damaged/.test(s)) throw new Error(`tampering not handled (${weightGets(from).length} downloads): ${s}`);
      await app.newChat();
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'reply after re-download');
      console.log(`       tampered with ${where}`);
    });

    // ---- Worker ----
    await check('the worker fails mid-reply (an uncaught error in it): the page notices, restarts it, and the chat goes on', async () => {
      await app.newChat();
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'turn 1');
      const meter = await app.meter();
      // The next message the worker gets (this turn) raises an uncaught error in it, as a
      // wasm trap would (the tiny model answers too fast to strike in the middle otherwise).
      await app.failWorkerOnNextMessage();
      await app.say(conversation[1].user);
      const r = await app.waitReply(1);
      if (r.state !== 'failed' || !/stopped unexpectedly/.test(r.text)) throw new Error(`reply: ${r.state} ${r.text.slice(-80)}`);
      await app.ready();
      assertEq(await app.meter(), meter, 'history kept (context meter)');
      await app.say(conversation[1].user);
      assertEq((await app.waitReply(2)).text, conversation[1].reply.trim(), 'turn 2 after the restart equals the reference');
      await tab.screenshot(path.join(artifacts, `${engine}-10-after-crash.png`));
    }, { expectErrors: /injected fault/ });

    await check('the worker is terminated mid-reply (no error event): the watchdog restarts it', async () => {
      // Replies as long as the context allows, so the worker is surely mid-reply.
      await app.goto(base + query().replace('max_new_tokens=12', 'max_new_tokens=1000'));
      await app.ready();
      await app.newChat();
      await app.say(conversation[0].user);
      await tab.waitFor(() => document.querySelector('[data-author="bot"]')?.dataset.state === 'streaming', null, { interval: 5, what: 'streaming' });
      await app.terminateWorker();
      const t0 = Date.now();
      const r = await app.waitReply(0);
      if (r.state !== 'failed') throw new Error(`reply state ${r.state}`);
      await app.ready();
      console.log(`       noticed and reloaded after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await app.setting('Max new tokens', 12);
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(1)).state, 'done', 'a turn after the restart');
    });

    await check('a model too big for memory: clear advice, no crash loop', async () => {
      await clearStores(tab);
      clearFaults();
      // A safetensors header announcing one 4.29 GB tensor: more than a tab's 4 GB wasm memory.
      const header = JSON.stringify({ 'transformer.wte.weight': { dtype: 'F32', shape: [50257, 21340], data_offsets: [0, 50257 * 21340 * 4] } });
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      hubFaults.body['pytorch_model.bin'] = Buffer.concat([len, Buffer.from(header), Buffer.alloc(1024)]);
      await app.goto(base + query());
      assertEq(await app.settled(), 'error', 'status');
      const alert = await app.alert();
      if (!/memory/i.test(alert) || !/q4_k|smaller/i.test(alert)) throw new Error(`no advice: ${alert}`);
      console.log(`       ${alert.slice(0, 200)}`);
    });

    // ---- Embedding ----
    await check('postMessage without allow_origins is ignored; malformed data never breaks the page', async () => {
      clearFaults();
      await app.goto(base + query());
      await app.ready();
      await app.newChat();
      await tab.evaluate(() => {
        for (const data of [{ type: 'dialogpt', action: 'send', text: 'hi' }, 'string', 42, null, [1, 2], { type: 'dialogpt', action: { nested: true } }]) {
          window.postMessage(data, '*');
        }
      });
      await sleep(300);
      assertEq(await app.userCount(), 0, 'messages sent by postMessage without an allow-list');
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'the page still works');
    });

    await check('with allow_origins, wrong shapes are rejected and the chat keeps working', async () => {
      await app.goto(base + query(`&allow_origins=${encodeURIComponent(origin)}`));
      await app.ready();
      await app.newChat();
      // The page is its own parent here (not framed): drive it with same-origin messages.
      await tab.evaluate(() => {
        for (const data of ['x', 1, [], { type: 'dialogpt' }, { type: 'dialogpt', action: 'send', text: 7 }, { type: 'dialogpt', action: 'send', text: '   ' },
          { type: 'dialogpt', action: 'nope' }, { type: 'dialogpt', action: 'edit' }, { type: 'dialogpt', action: 'edit', text: 5 }]) {
          window.postMessage(data, '*');
        }
        window.postMessage({ type: 'dialogpt', action: 'send', text: 'Does money buy happiness?' }, '*');
      });
      const r = await app.waitReply(0);
      assertEq(r.text, firstReply, 'the valid message after the bad ones');
      assertEq(await app.userCount(), 1, 'turns started');
    });
  } finally {
    await tab.close();
    hub.server.close();
    web.server.close();
  }
  return suite.finish();
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(`faults: ${e.stack || e}`);
    process.exit(1);
  },
);
