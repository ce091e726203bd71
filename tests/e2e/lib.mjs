// Shared by the e2e suites: static servers for dist/, a Hub-layout mirror of the fixture model
// with faults on demand, the check/assert harness and page helpers.
import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const dist = path.join(root, 'dist');
export const fixtures = path.join(root, 'tests/fixtures/tiny-dialogpt');
export const variants = path.join(root, 'tests/fixtures/tiny-variants');
export const artifacts = path.join(here, 'artifacts');
export const TEST_REPO = 'test/tiny-dialogpt';
export const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 120_000);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const subDist = path.join(root, 'target/dist-subpath');
export const examples = path.join(root, 'examples');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

export function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port }));
  });
}

// Serves a file like a CDN would: Content-Length, an ETag, byte ranges (206).
// `slow`: sends 256 KiB every 25 ms, so the page's download progress can be seen.
// `dropAfter`: the connection is cut after that many bytes (a flaky network).
export function sendFile(req, res, file, headers = {}, { slow = false, dropAfter = null, etag = null } = {}) {
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...headers });
      return res.end('Entry not found');
    }
    const type = TYPES[path.extname(file)] || 'application/octet-stream';
    const tag = etag || `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range || '');
    if (range && Number(range[1]) < st.size) {
      start = Number(range[1]);
      status = 206;
    }
    const extra = status === 206 ? { 'Content-Range': `bytes ${start}-${st.size - 1}/${st.size}` } : {};
    res.writeHead(status, {
      'Content-Type': type, 'Content-Length': st.size - start, 'Cache-Control': 'no-store', ETag: tag,
      'Accept-Ranges': 'bytes', ...extra, ...headers,
    });
    if (req.method === 'HEAD') return res.end();
    const stream = fs.createReadStream(file, { start, highWaterMark: 256 * 1024 });
    let sent = 0;
    stream.on('data', (chunk) => {
      if (dropAfter !== null && sent + chunk.length > dropAfter) {
        res.write(chunk.subarray(0, Math.max(0, dropAfter - sent)));
        stream.destroy();
        return setTimeout(() => res.destroy(), 20);
      }
      sent += chunk.length;
      if (!slow) return res.write(chunk);
      stream.pause();
      res.write(chunk);
      setTimeout(() => stream.resume(), typeof slow === 'number' ? slow : 25);
    });
    stream.on('end', () => res.end());
  });
}

// dist/ as any static host would serve it.
export function serveDist(req, res) {
  const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.resolve(dist, '.' + (urlPath.endsWith('/') ? urlPath + 'index.html' : urlPath));
  if (!file.startsWith(dist)) { res.writeHead(403); return res.end(); }
  sendFile(req, res, file);
}

// The Hub's layout, with its CORS headers; unknown repos and files answer 404 like the Hub.
// Every request is logged with its method and range; `hubFaults` changes what it serves.
export const hubRequests = [];
export const hubLog = [];
// What the mirror does wrong, per file name: `status` (HTTP code), `noCors` (no
// Access-Control-Allow-Origin), `body` (a Buffer served instead), `truncate` (serve only that
// many bytes, with a matching Content-Length), `flip` (byte offset XORed with 0xFF); `etag`
// and `dropWeightsAfter` (cut the first weights download after N bytes) for the weights.
export const hubFaults = { etag: null, dropWeightsAfter: null, status: {}, noCors: new Set(), body: {}, truncate: {}, flip: {}, slowMs: 25 };
export function clearFaults() {
  Object.assign(hubFaults, { etag: null, dropWeightsAfter: null, status: {}, noCors: new Set(), body: {}, truncate: {}, flip: {}, slowMs: 25 });
}
let listing = null;
function treeListing() {
  listing ||= fs.readdirSync(fixtures).map((name) => {
    const data = fs.readFileSync(path.join(fixtures, name));
    const entry = { type: 'file', oid: crypto.createHash('sha1').update(data).digest('hex'), size: data.length, path: name };
    if (name === 'pytorch_model.bin') entry.lfs = { oid: crypto.createHash('sha256').update(data).digest('hex'), size: data.length, pointerSize: 134 };
    return entry;
  });
  return listing;
}

export function serveHub(req, res) {
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Content-Length, ETag, Content-Range, Accept-Ranges',
  };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': '*' });
    return res.end();
  }
  const urlPath = new URL(req.url, 'http://x').pathname;
  hubLog.push({ method: req.method, path: urlPath, range: req.headers.range || null });
  // The Hub API's file listing, with the SHA-256 of the LFS weights (checked by the worker).
  if (urlPath === `/api/models/${TEST_REPO}/tree/main`) {
    res.writeHead(200, { 'Content-Type': 'application/json', ...cors });
    return res.end(JSON.stringify(treeListing()));
  }
  hubRequests.push(req.url);
  // Plain file hosting, for `model=<URL of a .gguf>`.
  const file = urlPath.match(/^\/files\/([\w.-]+)$/);
  if (file) return sendFile(req, res, path.join(variants, file[1]), cors);
  const m = urlPath.match(/^\/(.+)\/resolve\/main\/([^/]+)$/);
  if (!m || m[1] !== TEST_REPO) {
    res.writeHead(404, { 'Content-Type': 'text/plain', ...cors });
    return res.end('Repository not found');
  }
  const name = m[2];
  const headers = hubFaults.noCors.has(name) ? { 'Access-Control-Expose-Headers': cors['Access-Control-Expose-Headers'] } : cors;
  if (hubFaults.status[name]) {
    res.writeHead(hubFaults.status[name], { 'Content-Type': 'text/plain', ...headers });
    return res.end(`injected ${hubFaults.status[name]}`);
  }
  if (name in hubFaults.body || name in hubFaults.truncate || name in hubFaults.flip) {
    let data = name in hubFaults.body ? Buffer.from(hubFaults.body[name]) : fs.readFileSync(path.join(fixtures, name));
    if (name in hubFaults.truncate) data = data.subarray(0, hubFaults.truncate[name]);
    if (name in hubFaults.flip) { data = Buffer.from(data); data[hubFaults.flip[name]] ^= 0xff; }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length, 'Cache-Control': 'no-store', ...headers });
    return res.end(req.method === 'HEAD' ? undefined : data);
  }
  const weights = name === 'pytorch_model.bin';
  let dropAfter = null;
  if (weights && hubFaults.dropWeightsAfter !== null && !req.headers.range) {
    dropAfter = hubFaults.dropWeightsAfter;
    hubFaults.dropWeightsAfter = null; // once
  }
  sendFile(req, res, path.join(fixtures, name), headers, { slow: weights && hubFaults.slowMs, dropAfter, etag: weights ? hubFaults.etag : null });
}

// The sub-path build (trunk build --public-url /sub/path/) served under /sub/path/ only.
export const SUB = '/sub/path/';
export function serveSubPath(req, res) {
  const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (!urlPath.startsWith(SUB)) { res.writeHead(404); return res.end('not under ' + SUB); }
  const rel = urlPath.slice(SUB.length);
  const file = path.resolve(subDist, rel === '' || rel.endsWith('/') ? rel + 'index.html' : rel);
  if (!file.startsWith(subDist)) { res.writeHead(403); return res.end(); }
  sendFile(req, res, file);
}

// examples/ (the embedding host page), served on another origin than the app.
export function serveExamples(req, res) {
  const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.resolve(examples, '.' + urlPath);
  if (!file.startsWith(examples)) { res.writeHead(403); return res.end(); }
  sendFile(req, res, file);
}

export const results = [];
export async function check(name, fn) {
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
export function assertEq(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// Resolves with the final state of bot bubble `n` and every distinct text it showed.
export async function waitReply(page, n) {
  await page.waitForFunction((n) => {
    const b = document.querySelectorAll('[data-author="bot"]:not([data-greeting])')[n];
    return b && ['done', 'stopped', 'failed'].includes(b.dataset.state);
  }, n, { timeout: TIMEOUT });
  const bubble = page.locator('[data-author="bot"]:not([data-greeting])').nth(n);
  return { state: await bubble.getAttribute('data-state'), text: (await bubble.locator('.text').textContent()).trim() };
}

export async function newChat(page) {
  await page.getByRole('button', { name: 'New chat', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-author]:not([data-greeting])').length === 0);
}

// Records the texts a bot bubble goes through, to see the reply stream token by token.
export async function watchStreaming(page) {
  await page.evaluate(() => {
    window.__seen = new Set();
    new MutationObserver(() => {
      const b = [...document.querySelectorAll('[data-author="bot"]')].pop();
      if (b && b.dataset.state === 'streaming') window.__seen.add(b.textContent);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}


// One Chromium with a fresh profile; `logs` collects the page's console and errors.
export async function launch() {
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
  const close = async () => {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, page, logs, shot, close };
}

// Prints the summary (and the browser log when something failed); true when all passed.
export function summary(suite, logs) {
  const failed = results.filter((r) => !r).length;
  if (failed) console.log(`--- browser log ---\n${logs.join('\n')}`);
  console.log(`${suite}: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0;
}

export function reference() {
  return JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/reference/conversations.json'), 'utf8'));
}
