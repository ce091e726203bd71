#!/usr/bin/env node
// Faults and hostile input, in headless Chromium: every case must end with a clear message, the
// page still usable, the conversation kept and the model cache consistent. Uses the same
// servers as run.mjs (lib.mjs): dist/ and a Hub mirror whose faults are switched per case.
// Writes tests/e2e/artifacts/soak.json (memory over 200 turns). Exit code 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import {
  artifacts, assertEq, check, clearFaults, fixtures, hubFaults, hubLog, launch, listen, newChat, reference,
  sendFile, serveHub, summary, TEST_REPO, TIMEOUT, waitReply,
} from './lib.mjs';
import { dist } from './lib.mjs';

const CACHE = 'dialogpt-models-v1';

async function main() {
  const conversation = reference().results.greedy[0];
  fs.mkdirSync(artifacts, { recursive: true });
  const hub = await listen(serveHub);
  const hubUrl = `http://127.0.0.1:${hub.port}`;
  // dist/ as before, plus the strict Content-Security-Policy of issue 5 on every response.
  const csp = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ${hubUrl}`;
  const web = await listen((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.resolve(dist, '.' + (urlPath.endsWith('/') ? urlPath + 'index.html' : urlPath));
    if (!file.startsWith(dist)) { res.writeHead(403); return res.end(); }
    sendFile(req, res, file, { 'Content-Security-Policy': csp });
  });
  const base = `http://127.0.0.1:${web.port}/`;
  const origin = base.replace(/\/$/, '');
  const { context, page, logs, shot, close } = await launch();
  const violations = [];
  await page.exposeFunction('__cspViolation', (v) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const cdp = await context.newCDPSession(page);

  const query = (extra = '') => `?model=${TEST_REPO}&hub=${encodeURIComponent(hubUrl)}&quant=f32&max_new_tokens=12${extra}`;
  const message = () => page.getByLabel('Message', { exact: true });
  const status = async () => (await page.locator('.status').innerText()).replace(/\s+/g, ' ').trim();
  const settled = async () => {
    await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
    return page.getAttribute('.app', 'data-status');
  };
  const ready = async () => {
    if ((await settled()) !== 'ready') throw new Error(`load failed: ${await status()}`);
  };
  const say = async (text) => {
    await message().fill(text);
    await message().press('Enter');
  };
  const setting = async (label, value) => {
    if (!(await page.locator('details.settings').evaluate((d) => d.open))) await page.locator('details.settings summary').click();
    await page.getByLabel(label, { exact: true }).fill(String(value));
    await page.getByLabel(label, { exact: true }).press('Tab');
  };
  // Stored models live in OPFS (`<key>.gguf` + `<key>.json`), or in the Cache API as a fallback.
  const clearCache = () => page.evaluate(async (name) => {
    await caches.delete(name);
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(name, { recursive: true }).catch(() => {});
  }, CACHE);
  // Every stored file and Cache API entry: a committed OPFS entry shows as two files.
  const cachedKeys = () => page.evaluate(async (name) => {
    const out = (await (await caches.open(name)).keys()).map((r) => r.url);
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(name).catch(() => null);
    if (dir) for await (const k of dir.keys()) out.push(k);
    return out.sort();
  }, CACHE);
  const userCount = () => page.locator('[data-author="user"]').count();
  const botCount = () => page.locator('[data-author="bot"]').count();

  try {
    await check('the app runs under a strict CSP (no inline script, no eval): loads and replies exactly', async () => {
      await page.goto(base + query());
      await ready();
      await newChat(page);
      await say(conversation[0].user);
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'reply under the CSP');
      if (violations.length) throw new Error(`CSP violations: ${violations.join('; ')}`);
      console.log(`       policy: ${csp}`);
    });

    // ---- Input ----
    await check('whitespace-only messages are refused with a hint; nothing is sent', async () => {
      const before = await userCount();
      for (const text of [' ', '\n\n', '\t  \n ']) {
        await message().fill(text);
        await page.getByRole('button', { name: 'Send', exact: true }).click();
        if (!/empty/i.test(await page.locator('.hint').innerText())) throw new Error(`no hint for ${JSON.stringify(text)}`);
      }
      assertEq(await userCount(), before, 'user messages');
    });

    await check('a 10,000-character message (longer than the context) gets a reply and a note', async () => {
      await newChat(page);
      const long = Array.from({ length: 2000 }, (_, i) => `w${i % 97}`).join(' ').slice(0, 10_000).padEnd(10_000, 'x');
      await say(long);
      const r = await waitReply(page, 0);
      assertEq(r.state, 'done', 'state');
      assertEq((await page.locator('[data-author="user"] .text').first().textContent()).length, 10_000, 'user text kept whole');
      const speed = await page.locator('.meter .speed').innerText();
      if (!/too long: its first \d+ tokens were left out/.test(speed)) throw new Error(`no note: ${speed}`);
      const used = Number((await page.locator('.meter .context').innerText()).split(' / ')[0]);
      if (!(used <= 256)) throw new Error(`context meter ${used} > 256`);
    });

    await check('emoji, CJK, RTL, combining marks, NUL and control characters: sent as typed, replies come', async () => {
      await newChat(page);
      const texts = ['👩‍👩‍👧‍👦 🎉 family emoji', '你好，世界。日本語もどうぞ', 'مرحبا بالعالم שלום', 'e\u0301 n\u0303 a\u030A Zalgo z\u0336\u0337', 'nul\u0000 bell\u0007 esc\u001b end'];
      for (const [i, text] of texts.entries()) {
        await say(text);
        const r = await waitReply(page, i);
        assertEq(r.state, 'done', `state for ${JSON.stringify(text)}`);
        const shown = await page.locator('[data-author="user"] .text').nth(i).textContent();
        assertEq(shown, text, 'user bubble text');
      }
    });

    await check('HTML and script in a message render as text, nothing runs', async () => {
      await newChat(page);
      const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold?</b>';
      await say(evil);
      await waitReply(page, 0);
      assertEq(await page.locator('.messages img, .messages script, .messages b').count(), 0, 'elements made from the text');
      assertEq(await page.evaluate(() => window.__xss), undefined, 'window.__xss');
      assertEq(await page.locator('[data-author="user"] .text').first().textContent(), evil, 'shown as typed');
    });

    await check('Enter pressed 10 times fast: one turn, replies never interleave', async () => {
      await newChat(page);
      await message().fill(conversation[0].user);
      for (let i = 0; i < 10; i++) await message().press('Enter');
      await waitReply(page, 0);
      await page.waitForTimeout(300);
      assertEq(await userCount(), 1, 'user messages');
      assertEq(await botCount(), 1, 'bot messages');
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'the one reply');
    });

    await check('pasting while a reply streams keeps the pasted text for the next turn', async () => {
      await newChat(page);
      await setting('Max new tokens', 200);
      await say(conversation[0].user);
      await page.waitForFunction(() => document.querySelector('[data-author="bot"]')?.dataset.state === 'streaming');
      await message().focus();
      await page.keyboard.insertText('pasted during the reply');
      await waitReply(page, 0);
      assertEq(await message().inputValue(), 'pasted during the reply', 'draft after the reply');
      await message().press('Enter');
      assertEq((await waitReply(page, 1)).state, 'done', 'the pasted turn');
    });

    // ---- Generation ----
    await check('New chat during generation: the old reply is dropped, the next one is exact', async () => {
      await newChat(page);
      await say(conversation[0].user);
      await page.waitForFunction(() => (document.querySelector('[data-author="bot"] .text')?.textContent.length || 0) > 20);
      await newChat(page);
      await setting('Max new tokens', 12);
      await page.waitForTimeout(200); // late tokens of the old turn must not show up
      assertEq(await botCount(), 0, 'bubbles after New chat');
      await say(conversation[0].user);
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'reply after New chat');
    });

    await check('switching model during generation: the reply is marked, the new model answers', async () => {
      await newChat(page);
      await setting('Max new tokens', 200);
      // The switch is made from inside the page at the first streamed text, so it lands
      // mid-reply however fast the tiny model is.
      await page.evaluate(() => {
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
      await say(conversation[0].user);
      const r = await waitReply(page, 0);
      if (r.state !== 'failed' || !/another model/.test(r.text)) throw new Error(`old reply: ${r.state} ${r.text.slice(-80)}`);
      await ready();
      if (!/q8_0/.test(await status())) throw new Error(await status());
      await say(conversation[1].user);
      assertEq((await waitReply(page, 1)).state, 'done', 'reply from the new model');
    });

    await check('past the context window: oldest turns are dropped, the meter stays within it, replies go on', async () => {
      await page.goto(base + query());
      await ready();
      await newChat(page);
      await setting('Max new tokens', 200);
      let dropped = false;
      for (let i = 0; i < 5; i++) {
        await say(conversation[i % conversation.length].user);
        assertEq(['done', 'stopped'].includes((await waitReply(page, i)).state), true, `turn ${i + 1} finished`);
        const used = Number((await page.locator('.meter .context').innerText()).split(' / ')[0]);
        if (used > 256) throw new Error(`meter ${used} > 256`);
        dropped ||= /oldest \d+ tokens/.test(await page.locator('.meter .speed').innerText());
      }
      if (!dropped) throw new Error('no turn was dropped in 5 long turns');
      await setting('Max new tokens', 12);
    });

    await check('200 turns in a row: worker and page memory stay flat (curve in artifacts/soak.json)', async () => {
      await newChat(page);
      const curve = [];
      const sample = async (turn) => {
        const { metrics } = await cdp.send('Performance.getMetrics');
        const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
        const worker = Number(await page.locator('.meter').getAttribute('data-worker-memory'));
        curve.push({ turn, worker_mb: +(worker / 1e6).toFixed(1), page_js_heap_mb: +(m.JSHeapUsedSize / 1e6).toFixed(1), dom_nodes: m.Nodes });
      };
      await cdp.send('Performance.enable');
      const t0 = Date.now();
      for (let i = 0; i < 200; i++) {
        await say(`turn ${i}: ${conversation[i % conversation.length].user}`);
        assertEq((await waitReply(page, i)).state, 'done', `turn ${i + 1}`);
        if ((i + 1) % 25 === 0) {
          await page.evaluate(() => window.gc && window.gc());
          await sample(i + 1);
        }
      }
      fs.writeFileSync(path.join(artifacts, 'soak.json'), JSON.stringify(curve, null, 1));
      console.log(`       ${((Date.now() - t0) / 1000).toFixed(0)} s; turn: worker wasm MB / page JS heap MB / DOM nodes`);
      console.log(`       ${curve.map((c) => `${c.turn}: ${c.worker_mb} / ${c.page_js_heap_mb} / ${c.dom_nodes}`).join(', ')}`);
      const first = curve[0];
      const last = curve[curve.length - 1];
      if (last.worker_mb - first.worker_mb > 8) throw new Error(`worker memory grew ${first.worker_mb} -> ${last.worker_mb} MB`);
      // 350 more bubbles on the page are expected; a leak would be far more.
      if (last.page_js_heap_mb - first.page_js_heap_mb > 30) throw new Error(`page heap grew ${first.page_js_heap_mb} -> ${last.page_js_heap_mb} MB`);
      await newChat(page);
    });

    // ---- Network ----
    const files = ['config.json', 'vocab.json', 'merges.txt', 'pytorch_model.bin'];
    for (const code of [404, 500]) {
      await check(`HTTP ${code} on each model file: a message naming it, Retry, the conversation kept`, async () => {
        await say(conversation[0].user); // something to keep
        await waitReply(page, 0);
        for (const f of files) {
          await clearCache();
          clearFaults();
          hubFaults.status[f] = code;
          await page.goto(base + query());
          assertEq(await settled(), 'error', `status with ${code} on ${f}`);
          const alert = await page.getByRole('alert').innerText();
          if (!alert.includes(f) || !alert.includes(String(code))) throw new Error(`unclear: ${alert}`);
          assertEq(await userCount(), 1, 'conversation kept');
          clearFaults();
          await page.getByRole('button', { name: 'Retry' }).click();
          await ready();
        }
        await newChat(page);
      });
    }

    await check('a CORS failure (no Access-Control-Allow-Origin) says so', async () => {
      for (const f of ['config.json', 'pytorch_model.bin']) {
        await clearCache();
        clearFaults();
        hubFaults.noCors.add(f);
        await page.goto(base + query());
        assertEq(await settled(), 'error', `status without CORS on ${f}`);
        const alert = await page.getByRole('alert').innerText();
        if (!/CORS/.test(alert) || !alert.includes(f)) throw new Error(`unclear: ${alert}`);
      }
      clearFaults();
    });

    const notStored = async () => {
      const keys = await cachedKeys();
      if (keys.length) throw new Error(`a failed download left a cache entry: ${keys}`);
    };
    await check('a truncated weight file: a clear error, nothing cached', async () => {
      await clearCache();
      clearFaults();
      hubFaults.truncate['pytorch_model.bin'] = 3_000_000;
      await page.goto(base + query());
      assertEq(await settled(), 'error', 'status');
      const alert = await page.getByRole('alert').innerText();
      if (!/pytorch_model\.bin|incomplete|truncated|ended/i.test(alert)) throw new Error(`unclear: ${alert}`);
      console.log(`       ${alert.replace(/\s+/g, ' ').slice(0, 160)}`);
      await notStored();
    });

    await check('a corrupted weight file (flipped bytes in its structure): detected, nothing cached', async () => {
      await clearCache();
      clearFaults();
      hubFaults.flip['pytorch_model.bin'] = 2; // inside the pickle's header
      await page.goto(base + query());
      assertEq(await settled(), 'error', 'status');
      console.log(`       ${(await page.getByRole('alert').innerText()).replace(/\s+/g, ' ').slice(0, 160)}`);
      await notStored();
    });

    await check('a weight file with a flipped byte in its tensor data: caught by the Hub\'s SHA-256, nothing cached', async () => {
      await clearCache();
      clearFaults();
      hubFaults.flip['pytorch_model.bin'] = 4_000_000; // deep in the weights: parses fine
      await page.goto(base + query());
      assertEq(await settled(), 'error', 'status');
      const alert = (await page.getByRole('alert').innerText()).replace(/\s+/g, ' ');
      if (!/SHA-256/.test(alert)) throw new Error(`not caught: ${alert}`);
      console.log(`       ${alert.slice(0, 170)}`);
      await notStored();
      clearFaults();
      await page.getByRole('button', { name: 'Retry' }).click();
      await ready();
    });

    await check('files of the wrong format or architecture: clear errors', async () => {
      const cases = [
        ['pytorch_model.bin', '<!DOCTYPE html><html><body>Sign in to continue</body></html>', /HTML|format/i],
        ['config.json', JSON.stringify({ model_type: 'llama', hidden_size: 32, num_hidden_layers: 2 }), /model_type is `llama`, only `gpt2`/],
        ['config.json', 'not json at all', /config\.json is not valid JSON/],
      ];
      for (const [f, body, expect] of cases) {
        await clearCache();
        clearFaults();
        hubFaults.body[f] = body;
        await page.goto(base + query());
        assertEq(await settled(), 'error', `status for a bad ${f}`);
        const alert = (await page.getByRole('alert').innerText()).replace(/\s+/g, ' ');
        if (!expect.test(alert)) throw new Error(`unclear for ${f}: ${alert}`);
        console.log(`       ${f}: ${alert.slice(0, 150)}`);
        await notStored();
      }
      clearFaults();
    });

    await check('a very slow server: progress keeps moving, Cancel works', async () => {
      await clearCache();
      clearFaults();
      hubFaults.slowMs = 250; // about 1 MB/s
      await page.goto(base + query());
      const progress = () => page.locator('.progress-text').innerText().catch(() => '');
      await page.waitForFunction(() => /pytorch_model\.bin (?!0\.0 )/.test(document.querySelector('.progress-text')?.textContent || ''));
      const a = await progress();
      await page.waitForTimeout(400);
      const b = await progress();
      if (a === b) throw new Error(`progress stuck at ${a}`);
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      await page.waitForSelector('.app[data-status="cancelled"]');
      await page.waitForTimeout(500);
      await notStored();
      clearFaults();
    });

    // ---- Storage ----
    await check('storage quota exceeded while caching: the user is told, the chat works from memory', async () => {
      await clearCache();
      await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1_000_000 });
      try {
        await page.goto(base + query());
        await ready();
        const s = await status();
        if (!/full|quota/i.test(s)) throw new Error(`no quota notice: ${s}`);
        console.log(`       ${s}`);
        await newChat(page);
        await say(conversation[0].user);
        assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'reply without a cache');
        await notStored();
      } finally {
        await cdp.send('Storage.overrideQuotaForOrigin', { origin });
      }
    });

    await check('a cache entry tampered with between visits: detected, downloaded again, replies exact', async () => {
      await clearCache();
      await page.goto(base + query());
      await ready();
      const keys = await cachedKeys();
      if (keys.length !== 2 || !keys[0].endsWith('.gguf') || !keys[1].endsWith('.json')) throw new Error(`expected one OPFS entry: ${keys}`);
      await page.evaluate(async ([name, file]) => {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(name);
        const handle = await dir.getFileHandle(file);
        const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
        bytes[Math.floor(bytes.length * 0.6)] ^= 0x55; // in the tensor data: parsing alone would not notice
        const w = await handle.createWritable();
        await w.write(bytes);
        await w.close();
      }, [CACHE, keys[0]]);
      const before = hubLog.length;
      await page.reload();
      await ready();
      const s = await status();
      const gets = hubLog.slice(before).filter((r) => r.path.endsWith('/pytorch_model.bin') && r.method === 'GET').length;
      if (gets !== 1 || !/damaged/.test(s)) throw new Error(`tampering not handled (${gets} downloads): ${s}`);
      await newChat(page);
      await say(conversation[0].user);
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'reply after re-download');
    });

    // ---- Worker ----
    const worker = () => page.workers().find((w) => w.url().includes('worker'));
    await check('the worker crashes mid-reply: the page notices, restarts it, and the chat goes on', async () => {
      await newChat(page);
      await say(conversation[0].user);
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'turn 1');
      const meter = await page.locator('.meter .context').innerText();
      // The next message the worker gets (this turn) also raises an uncaught error in it, as a
      // wasm trap would (the tiny model answers too fast to strike in the middle otherwise).
      await worker().evaluate(() => self.addEventListener('message', () => { throw new Error('injected fault'); }, { once: true }));
      await say(conversation[1].user);
      const r = await waitReply(page, 1);
      if (r.state !== 'failed' || !/stopped unexpectedly/.test(r.text)) throw new Error(`reply: ${r.state} ${r.text.slice(-80)}`);
      await ready();
      assertEq(await page.locator('.meter .context').innerText(), meter, 'history kept (context meter)');
      await say(conversation[1].user);
      assertEq((await waitReply(page, 2)).text, conversation[1].reply.trim(), 'turn 2 after the restart equals the reference');
      await shot('10-after-crash.png');
    });

    await check('the worker is terminated mid-reply (no error event): the watchdog restarts it', async () => {
      await page.goto(base + query());
      await ready();
      await newChat(page);
      await setting('Max new tokens', 200);
      await say(conversation[0].user);
      await page.waitForFunction(() => document.querySelector('[data-author="bot"]')?.dataset.state === 'streaming');
      await worker().evaluate(() => self.close());
      const t0 = Date.now();
      const r = await waitReply(page, 0);
      if (r.state !== 'failed') throw new Error(`reply state ${r.state}`);
      await ready();
      console.log(`       noticed and reloaded after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await setting('Max new tokens', 12);
      await say(conversation[0].user);
      assertEq((await waitReply(page, 1)).state, 'done', 'a turn after the restart');
    });

    await check('a model too big for memory: clear advice, no crash loop', async () => {
      await clearCache();
      clearFaults();
      // A safetensors header announcing one 4.29 GB tensor: more than a tab's 4 GB wasm memory.
      const header = JSON.stringify({ 'transformer.wte.weight': { dtype: 'F32', shape: [50257, 21340], data_offsets: [0, 50257 * 21340 * 4] } });
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      hubFaults.body['pytorch_model.bin'] = Buffer.concat([len, Buffer.from(header), Buffer.alloc(1024)]);
      await page.goto(base + query());
      assertEq(await settled(), 'error', 'status');
      const alert = (await page.getByRole('alert').innerText()).replace(/\s+/g, ' ');
      if (!/memory/i.test(alert) || !/q4_k|smaller/i.test(alert)) throw new Error(`no advice: ${alert}`);
      console.log(`       ${alert.slice(0, 200)}`);
    });

    // ---- Embedding ----
    await check('postMessage without allow_origins is ignored; malformed data never breaks the page', async () => {
      clearFaults();
      await page.goto(base + query());
      await ready();
      await newChat(page);
      await page.evaluate(() => {
        for (const data of [{ type: 'dialogpt', action: 'send', text: 'hi' }, 'string', 42, null, [1, 2], { type: 'dialogpt', action: { nested: true } }]) {
          window.postMessage(data, '*');
        }
      });
      await page.waitForTimeout(300);
      assertEq(await userCount(), 0, 'messages sent by postMessage without an allow-list');
      await say(conversation[0].user);
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'the page still works');
    });

    await check('with allow_origins, wrong shapes are rejected and the chat keeps working', async () => {
      await page.goto(base + query(`&allow_origins=${encodeURIComponent(origin)}`));
      await ready();
      await newChat(page);
      // The page is its own parent here (not framed): drive it with same-origin messages.
      await page.evaluate(() => {
        for (const data of ['x', 1, [], { type: 'dialogpt' }, { type: 'dialogpt', action: 'send', text: 7 }, { type: 'dialogpt', action: 'send', text: '   ' }, { type: 'dialogpt', action: 'nope' }]) {
          window.postMessage(data, '*');
        }
        window.postMessage({ type: 'dialogpt', action: 'send', text: 'Does money buy happiness?' }, '*');
      });
      const r = await waitReply(page, 0);
      assertEq(r.text, conversation[0].reply.trim(), 'the valid message after the bad ones');
      assertEq(await userCount(), 1, 'turns started');
    });

    if (violations.length) throw new Error(`CSP violations during the suite: ${violations.join('; ')}`);
  } finally {
    await close();
    hub.server.close();
    web.server.close();
  }
  return summary('faults', logs);
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => { console.error(`faults: ${e.stack || e}`); process.exit(1); },
);
