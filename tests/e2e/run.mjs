#!/usr/bin/env node
// End-to-end test of the web app in headless Chromium, with no network but 127.0.0.1:
// - serves dist/ (scripts/build-web.sh) with a tiny static server, and the sub-path build;
// - mirrors the Hub's file layout (/{repo}/resolve/main/{file}) for tests/fixtures/tiny-dialogpt
//   on another port, with CORS headers, ETags and byte ranges as the Hub sends them;
// - loads the tiny model through the URL parameters, plays the first greedy reference
//   conversation of tests/fixtures/reference/conversations.json and compares every reply
//   with transformers' exactly; then the app's features one by one (see README "Tests").
// Faults and hostile input are in faults.mjs. Screenshots go to tests/e2e/artifacts/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  artifacts, assertEq, check, dist, hubFaults, hubLog, hubRequests, launch, listen, newChat, reference,
  serveDist, serveExamples, serveHub, serveSubPath, SUB, subDist, summary, TEST_REPO, TIMEOUT, waitReply, watchStreaming,
} from './lib.mjs';

async function main() {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run scripts/build-web.sh first');
  if (!fs.existsSync(path.join(subDist, 'index.html'))) {
    throw new Error('target/dist-subpath is missing: scripts/build-web.sh --public-url /sub/path/ --dist target/dist-subpath');
  }
  fs.mkdirSync(artifacts, { recursive: true });
  const conversation = reference().results.greedy[0];
  const web = await listen(serveDist);
  const hub = await listen(serveHub);
  const sub = await listen(serveSubPath);
  const ex = await listen(serveExamples);
  const hubUrl = `http://127.0.0.1:${hub.port}`;
  const base = `http://127.0.0.1:${web.port}/`;
  const { context, page, logs, shot, close } = await launch();
  // Which worker wasm the page fetched (plain simd128 or relaxed SIMD).
  const wasmFetched = [];
  context.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmFetched.push(r.url().split('/').pop()); });

  try {
    const query = `?model=${TEST_REPO}&hub=${encodeURIComponent(hubUrl)}&quant=f32&max_new_tokens=12`;
    await check('the model in the URL loads through the Hub mirror and the page says Ready', async () => {
      await page.goto(base + query);
      // The weights arrive slowly (see sendFile): the progress text must show them.
      await page.waitForFunction(() => /Downloading pytorch_model\.bin (?!0\.0 )[\d.]+ \/ 6\.8 MB/
        .test(document.querySelector('.progress-text')?.textContent || ''), null, { timeout: TIMEOUT, polling: 20 });
      await shot('00-loading.png');
      console.log(`       "${(await page.locator('.progress-text').innerText()).trim()}"`);
      await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
      await shot('01-ready.png');
      const status = await page.getAttribute('.app', 'data-status');
      if (status !== 'ready') throw new Error(`load failed: ${await page.locator('.status').innerText()}`);
      const files = hubRequests.map((u) => u.split('/').pop()).sort();
      assertEq(files.join(','), 'config.json,merges.txt,pytorch_model.bin,vocab.json', 'files fetched from the hub');
    });

    await check('an empty message is refused with a visible hint', async () => {
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const hint = (await page.locator('.hint').innerText()).trim();
      if (!/empty/i.test(hint)) throw new Error(`no hint shown (got ${JSON.stringify(hint)})`);
      assertEq(await page.locator('[data-author]').count(), 0, 'messages after an empty send');
    });

    await check(`greedy conversation: ${conversation.length} replies equal transformers' exactly, across a page reload`, async () => {
      await watchStreaming(page);
      let partial = 0;
      for (const [i, turn] of conversation.entries()) {
        if (i === conversation.length - 1) {
          // Reload before the last turn: the conversation and its token history come back
          // from localStorage, and the reply still equals the reference.
          partial += await page.evaluate(() => window.__seen.size);
          await page.reload();
          await page.waitForSelector('.app[data-status="ready"]', { timeout: TIMEOUT });
          const shown = await page.locator('[data-author="bot"] .text').allTextContents();
          assertEq(shown.join('|'), conversation.slice(0, i).map((t) => t.reply.trim()).join('|'), 'replies shown after the reload');
          await watchStreaming(page);
        }
        await page.getByLabel('Message', { exact: true }).fill(turn.user);
        await page.getByRole('button', { name: 'Send', exact: true }).click();
        const reply = await waitReply(page, i);
        assertEq(reply.state, 'done', `turn ${i + 1} state`);
        assertEq(reply.text, turn.reply.trim(), `turn ${i + 1} reply`);
        console.log(`       turn ${i + 1}: ${JSON.stringify(turn.user)} -> ${JSON.stringify(reply.text)}`);
      }
      await shot('02-conversation.png');
      await page.emulateMedia({ colorScheme: 'dark' });
      await shot('02-conversation-dark.png');
      await page.emulateMedia({ colorScheme: 'light' });
      partial += await page.evaluate(() => window.__seen.size);
      if (partial < 2) throw new Error(`the replies did not stream (${partial} partial texts seen)`);
      console.log(`       ${partial} partial reply texts seen while streaming`);
    });

    await check('data-author hooks, context meter and speed', async () => {
      const authors = await page.locator('[data-author]').evaluateAll((els) => els.map((e) => e.dataset.author));
      assertEq(authors.join(','), conversation.map(() => 'user,bot').join(','), 'data-author order');
      const users = await page.locator('[data-author="user"] .text').allTextContents();
      assertEq(users.join('|'), conversation.map((t) => t.user).join('|'), 'user bubbles');
      const last = conversation[conversation.length - 1];
      const used = last.input_ids.length + last.reply_ids.length;
      assertEq((await page.locator('.meter .context').innerText()).trim(), `${used} / 256 tokens`, 'context meter');
      const speed = await page.locator('.meter .speed').innerText();
      if (!/tok\/s · first token \d+ ms/.test(speed)) throw new Error(`no tokens/s and first-token time shown (got ${JSON.stringify(speed)})`);
      console.log(`       meter "${used} / 256 tokens", speed "${speed.trim()}"`);
    });

    await check('export as JSON and Markdown, New chat, import the JSON: messages and history come back', async () => {
      const grab = async (name) => {
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name, exact: true }).click()]);
        return { file: download.suggestedFilename(), text: fs.readFileSync(await download.path(), 'utf8') };
      };
      const json = await grab('Export JSON');
      const md = await grab('Export Markdown');
      const saved = JSON.parse(json.text);
      const last = conversation[conversation.length - 1];
      assertEq(saved.history.join(','), [...last.input_ids, ...last.reply_ids].join(','), 'exported token history');
      assertEq(saved.messages.length, conversation.length * 2, 'exported messages');
      if (!/\.md$/.test(md.file) || !md.text.includes(`**You:** ${conversation[0].user}`)) throw new Error(`bad Markdown ${md.file}:\n${md.text}`);
      const meter = (await page.locator('.meter .context').innerText()).trim();
      await newChat(page);
      const file = path.join(os.tmpdir(), json.file);
      fs.writeFileSync(file, json.text);
      await page.getByLabel('Import chat').setInputFiles(file);
      await page.waitForFunction((n) => document.querySelectorAll('[data-author]').length === n, saved.messages.length);
      assertEq((await page.locator('.meter .context').innerText()).trim(), meter, 'context meter after import');
      // A file that is not a chat is refused with a reason; the conversation stays.
      fs.writeFileSync(file, '{"hello": 1}');
      await page.getByLabel('Import chat').setInputFiles(file);
      await page.waitForFunction(() => /Could not import/.test(document.querySelector('.hint')?.textContent || ''));
      assertEq(await page.locator('[data-author]').count(), saved.messages.length, 'messages after a bad import');
      console.log(`       ${json.file} (${json.text.length} B), ${md.file} (${md.text.length} B), re-imported`);
    });

    await check('Copy puts a message on the clipboard', async () => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base.replace(/\/$/, '') });
      await page.getByRole('button', { name: 'Copy message 2', exact: true }).click();
      await page.locator('.msg .copy', { hasText: 'Copied' }).waitFor();
      assertEq(await page.evaluate(() => navigator.clipboard.readText()), conversation[0].reply.trim(), 'clipboard');
    });

    await check('New chat clears messages and history; the first reply comes again', async () => {
      await page.getByRole('button', { name: 'New chat', exact: true }).click();
      assertEq(await page.locator('[data-author]').count(), 0, 'messages after New chat');
      assertEq((await page.locator('.meter .context').innerText()).trim(), '0 / 256 tokens', 'context meter');
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByLabel('Message', { exact: true }).press('Enter'); // Enter sends
      const reply = await waitReply(page, 0);
      assertEq(reply.text, conversation[0].reply.trim(), 'reply after New chat');
    });

    await check('Settings: a bad value is refused; seeded sampling repeats itself; reset gives greedy back', async () => {
      await page.locator('details.settings summary').click();
      const set = async (label, value) => {
        const input = page.getByLabel(label, { exact: true });
        await input.fill(String(value));
        await input.press('Tab'); // change event
      };
      await set('Top-p', 2);
      const alert = await page.locator('details.settings [role=alert]').innerText();
      if (!/top_p/.test(alert)) throw new Error(`no error for top_p=2: ${alert}`);
      await set('Top-p', 0.9);
      await set('Temperature', 1.5);
      await set('Seed', 7);
      assertEq((await page.locator('details.settings .summary-note').innerText()).trim(), 'sampling', 'mode');
      const sampled = [];
      for (let i = 0; i < 2; i++) {
        await newChat(page);
        await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
        await page.getByLabel('Message', { exact: true }).press('Enter');
        sampled.push((await waitReply(page, 0)).text);
      }
      assertEq(sampled[1], sampled[0], 'two replies with the same seed');
      if (sampled[0] === conversation[0].reply.trim()) throw new Error('sampling at temperature 1.5 gave the greedy reply');
      await page.getByRole('button', { name: 'Reset to defaults' }).click();
      assertEq((await page.locator('details.settings .summary-note').innerText()).trim(), 'greedy', 'mode after reset');
      await newChat(page);
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByLabel('Message', { exact: true }).press('Enter');
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'greedy reply after reset');
      await page.locator('details.settings summary').click();
      console.log(`       sampled twice with seed 7: ${JSON.stringify(sampled[0])}`);
    });

    await check('Stop ends a long reply early; the next turn still works', async () => {
      // Long replies: the context window (256) bounds them, the tiny model never says eos.
      // Default quantization (q8_0): the Hub's float weights are quantized in the worker.
      await page.goto(base + query.replace('&quant=f32', '').replace('max_new_tokens=12', 'max_new_tokens=1000'));
      await page.waitForSelector('.app[data-status="ready"]', { timeout: TIMEOUT });
      const status = await page.locator('.status').innerText();
      if (!/\(q8_0/.test(status)) throw new Error(`expected q8_0 weights: ${status}`);
      await newChat(page); // the conversation of the earlier test was kept across the reload
      // Long tasks on the page while a reply streams: the worker computes, the page must not stall.
      await page.evaluate(() => {
        window.__long = [];
        new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
      });
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await page.waitForFunction(() => document.querySelector('[data-author="bot"] .text')?.textContent.length > 40,
        null, { timeout: TIMEOUT, polling: 5 });
      // From the click to the bubble saying "stopped", timed inside the page.
      const stopMs = await page.evaluate(() => new Promise((resolve) => {
        const bubble = document.querySelector('[data-author="bot"]');
        const t0 = performance.now();
        const obs = new MutationObserver(() => {
          if (bubble.dataset.state === 'stopped') { obs.disconnect(); resolve(performance.now() - t0); }
        });
        obs.observe(bubble, { attributes: true });
        [...document.querySelectorAll('button')].find((b) => b.textContent === 'Stop').click();
      }));
      const reply = await waitReply(page, 0);
      assertEq(reply.state, 'stopped', 'state after Stop');
      if (!reply.text) throw new Error('the partial reply is empty');
      if (stopMs > 200) throw new Error(`Stop took ${stopMs.toFixed(0)} ms (limit 200 ms)`);
      const long = await page.evaluate(() => window.__long);
      if (long.some((d) => d > 50)) throw new Error(`long tasks on the page while generating: ${long.map((d) => d.toFixed(0)).join(', ')} ms`);
      console.log(`       Stop took ${stopMs.toFixed(1)} ms; long tasks on the page while generating: ${long.length}`);
      const meter = (await page.locator('.meter .context').innerText()).trim();
      const words = reply.text.split(' ').length;
      console.log(`       stopped after ${words} words, meter "${meter}"`);
      await page.getByLabel('Message', { exact: true }).fill(conversation[1].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const next = await waitReply(page, 1);
      assertEq(next.state === 'done' || next.state === 'stopped', true, 'the turn after Stop finishes');
    });

    await check('a reload loads the converted q8_0 model from browser storage: no weight request, replies', async () => {
      // Same persistent context, same URL as the q8_0 load above: the converted GGUF is cached.
      const before = hubRequests.length;
      const logBefore = hubLog.length;
      await page.goto(base + query.replace('&quant=f32', ''));
      await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
      const status = await page.locator('.status').innerText();
      if ((await page.getAttribute('.app', 'data-status')) !== 'ready') throw new Error(status);
      const perPath = {};
      for (const u of hubRequests.slice(before)) { const p = new URL(u, 'http://x').pathname; perPath[p] = (perPath[p] || 0) + 1; }
      console.log(`       "${status.trim()}", mirror requests ${JSON.stringify(perPath)}`);
      // A HEAD (is the stored copy still current?) is fine; no weight bytes may be fetched.
      const weights = hubLog.slice(logBefore).filter((r) => r.path.endsWith('/pytorch_model.bin') && r.method !== 'HEAD');
      assertEq(weights.length, 0, 'GET requests for pytorch_model.bin during the cached load');
      if (!/from cache/.test(status)) throw new Error(`status does not say "from cache": ${status}`);
      await newChat(page);
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const reply = await waitReply(page, 0);
      assertEq(reply.state, 'done', 'state of the greedy reply after a cached load');
      if (!reply.text) throw new Error('empty reply after a cached load');
    });

    await check('Stored models lists the cache; Delete removes an entry; a changed ETag upstream replaces a stale copy', async () => {
      await page.locator('details.stored summary').click();
      await page.locator('.stored-model').first().waitFor();
      const names = await page.locator('.stored-model .name').allTextContents();
      for (const q of ['f32', 'q8_0']) {
        if (!names.includes(`${TEST_REPO} (${q})`)) throw new Error(`no ${q} entry in ${JSON.stringify(names)}`);
      }
      const sizes = await page.locator('.stored-model .size').allTextContents();
      console.log(`       stored: ${names.map((n, i) => `${n} ${sizes[i]}`).join(', ')}`);
      await page.getByRole('button', { name: `Delete ${TEST_REPO} (f32)`, exact: true }).click();
      await page.waitForFunction((n) => ![...document.querySelectorAll('.stored-model .name')].some((e) => e.textContent === n),
        `${TEST_REPO} (f32)`);
      // The weights change upstream (new ETag): the stored q8_0 copy is stale and replaced.
      hubFaults.etag = '"a-new-version"';
      let logBefore = hubLog.length;
      await page.goto(base + query.replace('&quant=f32', ''));
      await page.waitForSelector('.app[data-status="ready"]', { timeout: TIMEOUT });
      let status = await page.locator('.status').innerText();
      const gets = () => hubLog.slice(logBefore).filter((r) => r.path.endsWith('/pytorch_model.bin') && r.method === 'GET').length;
      if (gets() !== 1 || !/changed on the server/.test(status)) throw new Error(`stale copy not replaced (${gets()} GETs): ${status}`);
      logBefore = hubLog.length;
      await page.reload();
      await page.waitForSelector('.app[data-status="ready"]', { timeout: TIMEOUT });
      status = await page.locator('.status').innerText();
      if (gets() !== 0 || !/from cache/.test(status)) throw new Error(`the new copy was not cached (${gets()} GETs): ${status}`);
    });

    await check('Cancel stops a download, nothing is stored; "Load again" loads it', async () => {
      await page.goto(base + query.replace('quant=f32', 'quant=q4_k'));
      await page.waitForFunction(() => /Downloading pytorch_model\.bin (?!0\.0 )[\d.]+ \//
        .test(document.querySelector('.progress-text')?.textContent || ''), null, { timeout: TIMEOUT, polling: 20 });
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      await page.waitForSelector('.app[data-status="cancelled"]');
      await page.waitForTimeout(300); // a download that kept going would finish and store by now
      await page.locator('details.stored summary').click();
      await page.locator('details.stored').getByText(/Stored models \(\d/).waitFor();
      const names = await page.locator('.stored-model .name').allTextContents();
      if (names.some((n) => n.includes('(q4_k)'))) throw new Error(`a cancelled download was stored: ${names}`);
      await page.getByRole('button', { name: 'Load again', exact: true }).click();
      await page.waitForSelector('.app[data-status="ready"]', { timeout: TIMEOUT });
    });

    await check('a connection cut mid-download resumes with an HTTP Range request; replies are exact', async () => {
      hubFaults.dropWeightsAfter = 3_000_000;
      const logBefore = hubLog.length;
      await page.goto(base + query.replace('quant=f32', 'quant=f16'));
      await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
      const status = await page.locator('.status').innerText();
      if ((await page.getAttribute('.app', 'data-status')) !== 'ready') throw new Error(status);
      const ranged = hubLog.slice(logBefore).filter((r) => r.path.endsWith('/pytorch_model.bin') && r.range);
      if (ranged.length !== 1 || !/^bytes=[1-9]\d*-$/.test(ranged[0].range)) throw new Error(`no resume: ${JSON.stringify(ranged)}`);
      await newChat(page);
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByLabel('Message', { exact: true }).press('Enter');
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'reply after a resumed download');
      console.log(`       resumed with "Range: ${ranged[0].range}"`);
    });

    await check('theme=dark, compact=1 and greeting= shape the page; the greeting is not in the history', async () => {
      const greeting = 'Hello! I run in your browser.';
      await page.goto(base + query + `&theme=dark&compact=1&greeting=${encodeURIComponent(greeting)}`);
      await page.waitForSelector('.app[data-status="ready"]', { timeout: TIMEOUT });
      assertEq(await page.getAttribute('html', 'data-theme'), 'dark', 'data-theme');
      assertEq(await page.locator('header.top').count(), 0, 'header in compact mode');
      assertEq((await page.locator('[data-greeting] .text').innerText()).trim(), greeting, 'greeting');
      await newChat(page);
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByLabel('Message', { exact: true }).press('Enter');
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'first reply with a greeting shown');
      await page.setViewportSize({ width: 380, height: 640 });
      await shot('04-compact-dark-mobile.png');
      await page.setViewportSize({ width: 960, height: 720 });
    });

    const subUrl = `http://127.0.0.1:${sub.port}${SUB}`;
    await check('the build for a sub-path (trunk --public-url /sub/path/) works from that path', async () => {
      await page.goto(subUrl + query);
      await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
      if ((await page.getAttribute('.app', 'data-status')) !== 'ready') throw new Error(await page.locator('.status').innerText());
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByLabel('Message', { exact: true }).press('Enter');
      assertEq((await waitReply(page, 0)).text, conversation[0].reply.trim(), 'reply from the sub-path build');
    });

    await check('inside an iframe on another origin, driven by postMessage; other origins and bad messages are refused', async () => {
      const host = `http://localhost:${ex.port}/embed.html?app=${encodeURIComponent(subUrl + query + '&compact=1')}`;
      await page.goto(host);
      try {
        await page.waitForSelector('#events li[data-event="ready"]', { timeout: TIMEOUT });
      } catch (e) {
        const frame = page.frames().find((f) => f.url().startsWith(subUrl));
        const inside = frame ? await frame.locator('body').innerText() : 'no frame';
        throw new Error(`no ready event; host events: ${await page.locator('#events').innerText()}; frame: ${inside}`);
      }
      await page.getByLabel('Ask from the host page').fill(conversation[0].user);
      await page.getByRole('button', { name: 'Ask' }).click();
      await page.waitForFunction(() => document.getElementById('reply').textContent.length > 0, null, { timeout: TIMEOUT });
      assertEq((await page.locator('#reply').innerText()).trim(), conversation[0].reply.trim(), 'reply event at the host');
      // The reply bubble in the chat's own frame (found by its URL: the iframe first points
      // at the snippet's placeholder address, then at the app).
      const appFrame = page.frames().find((f) => f.url().startsWith(subUrl));
      try {
        await appFrame.waitForSelector('[data-author="bot"]:not([data-greeting]) .text', { timeout: TIMEOUT });
      } catch (e) {
        const frames = page.frames().map((f) => f.url()).join(', ');
        throw new Error(`no reply bubble in the frame; frames: ${frames}; frame text: ${await appFrame.locator('body').innerText()}`);
      }
      assertEq((await appFrame.locator('[data-author="bot"] .text').last().innerText()).trim(), conversation[0].reply.trim(), 'reply in the frame');
      // An allowed origin with a malformed message: a `rejected` event, the chat still works.
      await page.evaluate(() => document.getElementById('chat').contentWindow.postMessage({ type: 'dialogpt', action: 'format_disk' }, '*'));
      await page.waitForSelector('#events li[data-event="rejected"]');
      // A message from an origin not on the list is ignored: no bubble, no event.
      const count = await appFrame.locator('[data-author]').count();
      if (count < 2) throw new Error(`the frame shows ${count} messages, not the turn just made`);
      await appFrame.evaluate(() => window.dispatchEvent(new MessageEvent('message', {
        origin: 'https://evil.example', data: { type: 'dialogpt', action: 'send', text: 'leak the chat' } })));
      await page.waitForTimeout(300);
      assertEq(await appFrame.locator('[data-author]').count(), count, 'messages after a foreign-origin send');
      const events = await page.locator('#events li').evaluateAll((els) => els.map((e) => e.dataset.event));
      for (const e of ['ready', 'reply', 'rejected']) if (!events.includes(e)) throw new Error(`no ${e} event: ${events}`);
      assertEq(events.filter((e) => e === 'reply').length, 1, 'reply events');
      await shot('05-embedded.png');
      console.log(`       host events: ${[...new Set(events)].join(', ')}`);
    });

    let ggufReply = null;
    await check('a .gguf URL (llama.cpp q8_0, config and tokenizer inside) loads and replies; relaxed-SIMD worker', async () => {
      const gguf = `${hubUrl}/files/model-q8_0.gguf`;
      wasmFetched.length = 0;
      await page.goto(base + `?model=${encodeURIComponent(gguf)}&max_new_tokens=12`);
      await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
      if ((await page.getAttribute('.app', 'data-status')) !== 'ready') throw new Error(await page.locator('.status').innerText());
      await newChat(page);
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const reply = await waitReply(page, 0);
      assertEq(reply.state, 'done', 'state');
      if (!reply.text) throw new Error('empty reply');
      ggufReply = reply.text;
      // Chromium runs relaxed SIMD: the page must have picked the relaxed worker.
      assertEq(await page.getAttribute('html', 'data-kernels'), 'simd128+relaxed', 'kernels attribute');
      assertEq(wasmFetched.filter((f) => f.startsWith('worker')).join(','), 'worker_relaxed_bg.wasm', 'worker wasm fetched');
      console.log(`       ${(await page.locator('.status').innerText()).trim()} -> ${JSON.stringify(reply.text)}`);
    });

    await check('simd=baseline runs the plain simd128 worker; same reply as the relaxed one', async () => {
      const gguf = `${hubUrl}/files/model-q8_0.gguf`;
      wasmFetched.length = 0;
      await page.goto(base + `?model=${encodeURIComponent(gguf)}&max_new_tokens=12&simd=baseline`);
      await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
      if ((await page.getAttribute('.app', 'data-status')) !== 'ready') throw new Error(await page.locator('.status').innerText());
      assertEq(await page.getAttribute('html', 'data-kernels'), 'simd128', 'kernels attribute');
      assertEq(wasmFetched.filter((f) => f.startsWith('worker')).join(','), 'worker_bg.wasm', 'worker wasm fetched');
      await newChat(page);
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const reply = await waitReply(page, 0);
      assertEq(reply.state, 'done', 'state');
      assertEq(reply.text, ggufReply, 'reply of the plain simd128 worker');
    });

    await check('a model that does not exist shows an error with Retry, not a blank page', async () => {
      await page.goto(base + `?model=test/no-such-model&hub=${encodeURIComponent(hubUrl)}`);
      await page.waitForSelector('.app[data-status="error"]', { timeout: TIMEOUT });
      await shot('03-error.png');
      const alert = await page.getByRole('alert').innerText();
      if (!/404/.test(alert) || !/config\.json/.test(alert)) throw new Error(`unclear error: ${alert}`);
      if (!(await page.getByRole('button', { name: 'Retry' }).isVisible())) throw new Error('no Retry button');
      if (!(await page.getByLabel('Message', { exact: true }).isVisible())) throw new Error('the chat area is gone');
      console.log(`       ${JSON.stringify(alert.replace(/\s+/g, ' ').trim())}`);
    });
  } finally {
    await close();
    for (const s of [web, hub, sub, ex]) s.server.close();
  }
  return summary('e2e', logs);
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => { console.error(`e2e: ${e.stack || e}`); process.exit(1); },
);
