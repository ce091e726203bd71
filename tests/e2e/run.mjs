#!/usr/bin/env node
// End-to-end test of the web app in headless Chromium, with no network but 127.0.0.1:
// - serves dist/ (scripts/build-web.sh) with a tiny static server;
// - mirrors the Hub's file layout (/{repo}/resolve/main/{file}) for tests/fixtures/tiny-dialogpt
//   on another port, with CORS headers as the Hub sends them;
// - loads the tiny model through the URL parameters, plays the first greedy reference
//   conversation of tests/fixtures/reference/conversations.json and compares every reply
//   with transformers' exactly; checks the hooks, New chat, empty input and a 404 model.
// Screenshots go to tests/e2e/artifacts/. Exit code 1 on any failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const dist = path.join(root, 'dist');
const fixtures = path.join(root, 'tests/fixtures/tiny-dialogpt');
const variants = path.join(root, 'tests/fixtures/tiny-variants');
const artifacts = path.join(here, 'artifacts');
const TEST_REPO = 'test/tiny-dialogpt';
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 120_000);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port }));
  });
}

// `slow`: sends 256 KiB every 25 ms, so the page's download progress can be seen.
function sendFile(req, res, file, headers = {}, slow = false) {
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...headers });
      return res.end('Entry not found');
    }
    const type = TYPES[path.extname(file)] || 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': st.size, 'Cache-Control': 'no-store', ...headers });
    if (req.method === 'HEAD') return res.end();
    const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    if (!slow) return stream.pipe(res);
    stream.on('data', (chunk) => {
      stream.pause();
      res.write(chunk);
      setTimeout(() => stream.resume(), 25);
    });
    stream.on('end', () => res.end());
  });
}

// dist/ as any static host would serve it.
function serveDist(req, res) {
  const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.resolve(dist, '.' + (urlPath.endsWith('/') ? urlPath + 'index.html' : urlPath));
  if (!file.startsWith(dist)) { res.writeHead(403); return res.end(); }
  sendFile(req, res, file);
}

// The Hub's layout, with its CORS headers; unknown repos and files answer 404 like the Hub.
const hubRequests = [];
function serveHub(req, res) {
  const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Length' };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': '*' });
    return res.end();
  }
  hubRequests.push(req.url);
  // Plain file hosting, for `model=<URL of a .gguf>`.
  const file = new URL(req.url, 'http://x').pathname.match(/^\/files\/([\w.-]+)$/);
  if (file) return sendFile(req, res, path.join(variants, file[1]), cors);
  const m = new URL(req.url, 'http://x').pathname.match(/^\/(.+)\/resolve\/main\/([^/]+)$/);
  if (!m || m[1] !== TEST_REPO) {
    res.writeHead(404, { 'Content-Type': 'text/plain', ...cors });
    return res.end('Repository not found');
  }
  sendFile(req, res, path.join(fixtures, m[2]), cors, m[2] === 'pytorch_model.bin');
}

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(true);
    console.log(`ok   - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL - ${name}\n       ${String(e.message || e).split('\n').join('\n       ')}`);
  }
}
function assertEq(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// Resolves with the final state of bot bubble `n` and every distinct text it showed.
async function waitReply(page, n) {
  await page.waitForFunction((n) => {
    const b = document.querySelectorAll('[data-author="bot"]')[n];
    return b && ['done', 'stopped', 'failed'].includes(b.dataset.state);
  }, n, { timeout: TIMEOUT });
  const bubble = page.locator('[data-author="bot"]').nth(n);
  return { state: await bubble.getAttribute('data-state'), text: (await bubble.locator('.text').textContent()).trim() };
}

// Records the texts a bot bubble goes through, to see the reply stream token by token.
async function watchStreaming(page) {
  await page.evaluate(() => {
    window.__seen = new Set();
    new MutationObserver(() => {
      const b = [...document.querySelectorAll('[data-author="bot"]')].pop();
      if (b && b.dataset.state === 'streaming') window.__seen.add(b.textContent);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

async function main() {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run scripts/build-web.sh first');
  fs.mkdirSync(artifacts, { recursive: true });
  const reference = JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/reference/conversations.json'), 'utf8'));
  const conversation = reference.results.greedy[0];
  const web = await listen(serveDist);
  const hub = await listen(serveHub);
  const hubUrl = `http://127.0.0.1:${hub.port}`;
  const base = `http://127.0.0.1:${web.port}/`;
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialogpt-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 960, height: 720 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const logs = [];
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  page.on('worker', (w) => logs.push(`[worker] ${w.url()}`));
  const shot = (name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

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

    await check(`greedy conversation: ${conversation.length} replies equal transformers' exactly`, async () => {
      await watchStreaming(page);
      for (const [i, turn] of conversation.entries()) {
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
      const partial = await page.evaluate(() => window.__seen.size);
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
      if (!/tok\/s/.test(speed)) throw new Error(`no tokens/s shown (got ${JSON.stringify(speed)})`);
      console.log(`       meter "${used} / 256 tokens", speed "${speed.trim()}"`);
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

    await check('Stop ends a long reply early; the next turn still works', async () => {
      // Long replies: the context window (256) bounds them, the tiny model never says eos.
      // Default quantization (q8_0): the Hub's float weights are quantized in the worker.
      await page.goto(base + query.replace('&quant=f32', '').replace('max_new_tokens=12', 'max_new_tokens=1000'));
      await page.waitForSelector('.app[data-status="ready"]', { timeout: TIMEOUT });
      const status = await page.locator('.status').innerText();
      if (!/\(q8_0/.test(status)) throw new Error(`expected q8_0 weights: ${status}`);
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await page.waitForFunction(() => document.querySelector('[data-author="bot"] .text')?.textContent.length > 0,
        null, { timeout: TIMEOUT, polling: 5 });
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      const reply = await waitReply(page, 0);
      assertEq(reply.state, 'stopped', 'state after Stop');
      if (!reply.text) throw new Error('the partial reply is empty');
      const meter = (await page.locator('.meter .context').innerText()).trim();
      const words = reply.text.split(' ').length;
      console.log(`       stopped after ${words} words, meter "${meter}"`);
      await page.getByLabel('Message', { exact: true }).fill(conversation[1].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const next = await waitReply(page, 1);
      assertEq(next.state === 'done' || next.state === 'stopped', true, 'the turn after Stop finishes');
    });

    await check('a reload loads the converted q8_0 model from the Cache API: no weight request, replies', async () => {
      // Same persistent context, same URL as the q8_0 load above: the converted GGUF is cached.
      const before = hubRequests.length;
      await page.goto(base + query.replace('&quant=f32', ''));
      await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
      const status = await page.locator('.status').innerText();
      if ((await page.getAttribute('.app', 'data-status')) !== 'ready') throw new Error(status);
      const perPath = {};
      for (const u of hubRequests.slice(before)) { const p = new URL(u, 'http://x').pathname; perPath[p] = (perPath[p] || 0) + 1; }
      console.log(`       "${status.trim()}", mirror requests ${JSON.stringify(perPath)}`);
      const weights = Object.keys(perPath).filter((p) => p.endsWith('/pytorch_model.bin'));
      assertEq(weights.length, 0, 'requests for pytorch_model.bin during the cached load');
      if (!/from cache/.test(status)) throw new Error(`status does not say "from cache": ${status}`);
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const reply = await waitReply(page, 0);
      assertEq(reply.state, 'done', 'state of the greedy reply after a cached load');
      if (!reply.text) throw new Error('empty reply after a cached load');
    });

    await check('a .gguf URL (llama.cpp q8_0, config and tokenizer inside) loads and replies', async () => {
      const gguf = `${hubUrl}/files/model-q8_0.gguf`;
      await page.goto(base + `?model=${encodeURIComponent(gguf)}&max_new_tokens=12`);
      await page.waitForSelector('.app[data-status="ready"], .app[data-status="error"]', { timeout: TIMEOUT });
      if ((await page.getAttribute('.app', 'data-status')) !== 'ready') throw new Error(await page.locator('.status').innerText());
      await page.getByLabel('Message', { exact: true }).fill(conversation[0].user);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const reply = await waitReply(page, 0);
      assertEq(reply.state, 'done', 'state');
      if (!reply.text) throw new Error('empty reply');
      console.log(`       ${(await page.locator('.status').innerText()).trim()} -> ${JSON.stringify(reply.text)}`);
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
    const failed = results.filter((r) => !r).length;
    if (failed) console.log(`--- browser log ---\n${logs.join('\n')}`);
    await context.close();
    web.server.close();
    hub.server.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r).length;
  console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => { console.error(`e2e: ${e.stack || e}`); process.exit(1); },
);
