#!/usr/bin/env node
// In-browser benchmark (GitHub issue 4): this app's worker (dist/, Rust/candle → wasm32 simd128)
// side by side with @wllama/wllama (llama.cpp → wasm) on the same GGUF files, in ONE headless
// Chromium (Debian's /usr/bin/chromium, fresh profile), everything served from 127.0.0.1:
//   - dist/ as a static host serves it (a fresh origin for every cold load, so storage is empty);
//   - a model host: `/files/<name>.gguf` from $BENCH_MODELS (default /tmp/bench-browser) and the
//     Hub layout `/bench/<size>/resolve/main/<file>` from /tmp/big-<size> (legacy fp16 .bin), with
//     CORS, ETags and Cache-Control: no-store like the Hub;
//   - bench/web/wllama.html + node_modules/@wllama/wllama/esm at /wllama/ (no CDN), optionally a
//     second copy with COOP/COEP (cross-origin isolated, for wllama's multi-thread mode: --mt).
// Measures prefill/decode tok/s and time to first token for a 64-token prompt + 64 generated
// tokens (greedy), cold and warm loads, TTFT of turn 1 vs turn 20, memory, and the JS+wasm bytes
// before the model. Medians of --runs runs. Writes bench/results/browser-<stamp>.json and the
// table into bench/BROWSER.md (between the results markers). See BROWSER.md.
//
//   flock /tmp/cpu.lock node bench/browser.mjs [--sizes small,medium] [--runs 3] [--mt] [--no-bin] [--pairs 5]
//     [--threads 2]   (ours on 2 threads against ours on 1 and wllama on 2, side by side)
//     [--llama-bench PATH | --no-native]   (native llama.cpp in the side-by-side pairs; default
//     $LLAMA_BENCH or /tmp/llama-build/bin/llama-bench when present)
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { encode } = require('gpt-3-encoder');
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
// `--dist DIR`: another build of ours (e.g. the last release, for a before/after).
const dist = path.resolve(root, process.argv.includes('--dist') ? process.argv[process.argv.indexOf('--dist') + 1] : 'dist');
const webDir = path.join(here, 'web');
const wllamaDir = path.join(here, 'node_modules/@wllama/wllama/esm');
const wllama2Dir = path.join(here, 'node_modules/wllama2/esm'); // npm alias of @wllama/wllama@2.x
const MODELS = process.env.BENCH_MODELS || '/tmp/bench-browser';
const BIG = (size) => `/tmp/big-${size}`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 900_000;

// ---------- arguments ----------
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const SIZES = opt('--sizes', 'small,medium').split(',');
const RUNS = Number(opt('--runs', 3));
const QUANTS = opt('--quants', 'q8_0,q4_k').split(',');
const WITH_MT = flag('--mt');
const WITH_CONV = !flag('--no-conversation');
// Also ours with `simd=baseline` (the plain simd128 worker, no relaxed-SIMD kernels).
const OURS_BASELINE = flag('--ours-baseline');
const ONLY = opt('--only', 'ours,wllama').split(',');
const N_PROMPT = 64;
const WL_VERSION = JSON.parse(fs.readFileSync(path.join(here, 'node_modules/@wllama/wllama/package.json'), 'utf8')).version;
const WL2_VERSION = fs.existsSync(path.join(here, 'node_modules/wllama2/package.json')) ? JSON.parse(fs.readFileSync(path.join(here, 'node_modules/wllama2/package.json'), 'utf8')).version : null;
const WITH_WL2 = !flag('--no-wllama2') && WL2_VERSION != null;
const N_GEN = 64;
// Interleaved ours/wllama pairs per model in the side-by-side phase (0 skips it).
const DUEL_PAIRS = Number(opt('--pairs', 5));
// `--threads N`: a threads phase per model: ours on N threads, ours on 1 and wllama on N, all
// three cross-origin isolated (COOP/COEP from the host), timed replies alternating (--pairs).
const THREADS = Number(opt('--threads', 0));
// `--threads-only`: the threads phase alone.
const THREADS_ONLY = flag('--threads-only');
// Only the side-by-side phase (no load, memory or conversation phases): a quick speed check.
// `--threads-only` skips the same phases.
const DUEL_ONLY = flag('--duel-only') || THREADS_ONLY;
// Alternating load pairs per model: ours, wllama 2.x and 3.x, warm (from storage) and cold
// (download + store), each pair on the same machine moment. 0 skips the phase.
const LOAD_PAIRS = Number(opt('--load-pairs', DUEL_ONLY ? 0 : 3));
// Only the load pairs (no per-engine phases, no reply duels): `--loads-only`.
const LOADS_ONLY = flag('--loads-only');
const WITH_BIN = !flag('--no-bin') && !DUEL_ONLY;
// Native llama.cpp (llama-bench, 1 thread) on the same file inside each side-by-side pair: the
// issue's long-run aim is in-browser decode at >= 0.5x native llama.cpp, measured in one run.
const NATIVE_LLAMA = flag('--no-native') ? null
  : [opt('--llama-bench', null), process.env.LLAMA_BENCH, '/tmp/llama-build/bin/llama-bench'].find((f) => f && fs.existsSync(f)) || null;

// ---------- the prompt: exactly 64 tokens for both ----------
// Ours: a user turn is its text + eos, so the text has 63 GPT-2 tokens. wllama (llama-server's
// completion) gets the same text followed by the literal "<|endoftext|>", parsed as the special
// token: the same 64 ids (checked below with its timings.prompt_n).
function textOfTokens(n, seed) {
  const words = seed.split(' ');
  let text = '';
  for (let i = 0; ; i++) {
    const next = (text ? text + ' ' : '') + words[i % words.length];
    if (encode(next).length > n) break;
    text = next;
  }
  if (encode(text).length !== n) {
    // pad with single-token words until exact
    while (encode(text).length < n) text += ' a';
  }
  if (encode(text).length !== n) throw new Error(`could not make a ${n}-token text`);
  return text;
}
// Every reply gets its own prompt, differing from its first token on: the app keeps the KV cache
// for the longest prefix shared with the previous turn, so repeating a prompt would skip its prefill.
const PROMPT_BODY = 'I have been thinking about learning to play the piano this winter, because my neighbour plays every evening and it sounds wonderful. Do you think an adult beginner can get good enough to play simple songs for friends within a year, if they practise for half an hour each day and take a lesson every week? What would you practise first, and how?';
const OPENERS = ['Honestly,', 'Lately', 'Yesterday', 'Today', 'Recently', 'Well,', 'So', 'Actually,', 'Listen,', 'Hey,', 'Okay,', 'Now'];
const PROMPTS = OPENERS.map((w) => textOfTokens(N_PROMPT - 1, `${w} ${PROMPT_BODY}`));
if (new Set(PROMPTS.map((p) => encode(p)[0])).size !== PROMPTS.length) throw new Error('prompts must differ in their first token');
const PROMPT = PROMPTS[0];
const CONV_TURNS = 20;
const CONV_NEW_TOKENS = 16;
// One conversation per run, each turn 13 tokens + eos. Conversations differ from their first
// token on (so a new one reuses nothing of the last one's cache), and from the warm-up prompt.
const CONV_OPENERS = ['Tell', 'Please tell', 'Now tell', 'Okay, tell', 'Hey, tell'];
const convTexts = (run) => Array.from({ length: CONV_TURNS }, (_, i) =>
  textOfTokens(13, `${CONV_OPENERS[run % CONV_OPENERS.length]} me something new about the number ${i + 1}, my friend, and keep your answer short please`));
const CONV_TEXTS = Array.from({ length: RUNS }, (_, r) => convTexts(r));
if (new Set(CONV_TEXTS.map((t) => encode(t[0])[0])).size !== CONV_TEXTS.length) throw new Error('conversations must differ in their first token');

// ---------- small helpers ----------
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const r1 = (x) => (x == null ? null : Math.round(x * 10) / 10);
const mb = (b) => (b == null ? null : Math.round(b / 1e5) / 10);
const log = (...a) => console.log(...a);

// ---------- static servers ----------
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
};
function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 1000;
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, url: `http://127.0.0.1:${server.address().port}` }));
  });
}
async function closeServer(s) {
  s.server.closeAllConnections?.();
  await new Promise((r) => s.server.close(r));
}
// Every response is logged (path, bytes sent, time) so the bytes before the first model request
// can be counted.
function sendFile(req, res, file, headers, logArr) {
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...headers });
      return res.end('Entry not found');
    }
    const type = TYPES[path.extname(file)] || 'application/octet-stream';
    const tag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range || '');
    if (range && Number(range[1]) < st.size) { start = Number(range[1]); status = 206; }
    const extra = status === 206 ? { 'Content-Range': `bytes ${start}-${st.size - 1}/${st.size}` } : {};
    res.writeHead(status, {
      'Content-Type': type, 'Content-Length': st.size - start, 'Cache-Control': 'no-store', ETag: tag,
      'Accept-Ranges': 'bytes', ...extra, ...headers,
    });
    const entry = { t: Date.now(), method: req.method, path: new URL(req.url, 'http://x').pathname, bytes: req.method === 'HEAD' ? 0 : st.size - start };
    logArr?.push(entry);
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file, { start, highWaterMark: 1 << 20 }).pipe(res);
  });
}
function safeJoin(base, rel) {
  const file = path.resolve(base, '.' + rel);
  return file.startsWith(base) ? file : null;
}
// dist/ like any static host.
const distLog = [];
function serveDist(req, res) {
  const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = safeJoin(dist, p.endsWith('/') ? p + 'index.html' : p);
  if (!file) { res.writeHead(403); return res.end(); }
  sendFile(req, res, file, req.isolated ? ISOLATION : {}, distLog);
}
// dist/ from a host that sends the cross-origin isolation headers (the threads phase).
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
function serveDistIsolated(req, res) {
  req.isolated = true;
  serveDist(req, res);
}
// The model host, with the Hub's CORS headers.
const hubLog = [];
const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Length, ETag, Content-Range, Accept-Ranges' };
function serveModels(req, res) {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': '*' });
    return res.end();
  }
  const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  let m = p.match(/^\/files\/([\w.-]+)$/);
  if (m) return sendFile(req, res, path.join(MODELS, m[1]), CORS, hubLog);
  m = p.match(/^\/bench\/(small|medium|large)\/resolve\/main\/([\w.-]+)$/);
  if (m) return sendFile(req, res, path.join(BIG(m[1]), m[2]), CORS, hubLog);
  res.writeHead(404, { 'Content-Type': 'text/plain', ...CORS });
  res.end('Repository not found');
}
// The wllama page and the package's esm/ folder. `coi`: cross-origin isolated (COOP/COEP).
const wlLog = [];
function serveWllama(coi) {
  const iso = coi ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' } : {};
  return (req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = p.startsWith('/wllama/') ? safeJoin(wllamaDir, p.slice('/wllama'.length))
      : p.startsWith('/wllama2/') ? safeJoin(wllama2Dir, p.slice('/wllama2'.length))
        : safeJoin(webDir, p === '/' ? '/wllama.html' : p);
    if (!file) { res.writeHead(403); return res.end(); }
    sendFile(req, res, file, iso, wlLog);
  };
}

// ---------- memory of this run's Chromium processes (/proc) ----------
function procTree(userDataDir) {
  // Every process of this run's Chromium carries its --user-data-dir (children rewrite their
  // command line into one string, hence the join).
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (!cmd.includes(`--user-data-dir=${userDataDir} `) && !cmd.endsWith(`--user-data-dir=${userDataDir}`)) continue;
      const type = (/--type=(\S+)/.exec(cmd) || [null, 'browser'])[1];
      out.push({ pid: Number(d), type: type === 'renderer' && cmd.includes('--top-chrome-webui') ? 'webui' : type });
    } catch { /* gone */ }
  }
  return out;
}
function rssBytes(pid) {
  try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024; } catch { return 0; }
}
// Peak RSS of this run's Chromium between two take()s, and how much CPU other processes of the
// machine used meanwhile (a benchmark shares 2 cores: a busy neighbour shows up here).
function cpuBusyTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6] + f[7]; // user nice system irq softirq steal
}
function procTicks(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch { return null; }
}
class MemSampler {
  constructor(userDataDir) { this.dir = userDataDir; this.tree = []; this.treeAt = 0; this.reset(); this.timer = setInterval(() => this.sample(), 200); }
  reset() {
    this.peakRenderer = 0; this.peakTotal = 0;
    this.t0 = Date.now(); this.busy0 = cpuBusyTicks(); this.node0 = process.cpuUsage(); this.cpu = {};
  }
  sample() {
    if (Date.now() - this.treeAt > 1000) { this.tree = procTree(this.dir); this.treeAt = Date.now(); }
    let renderer = 0; let total = 0;
    for (const p of this.tree) {
      const r = rssBytes(p.pid); total += r; if (p.type === 'renderer') renderer += r;
      const t = procTicks(p.pid);
      if (t != null) { this.cpu[p.pid] ??= { first: t, last: t }; this.cpu[p.pid].last = t; }
    }
    this.peakRenderer = Math.max(this.peakRenderer, renderer);
    this.peakTotal = Math.max(this.peakTotal, total);
  }
  take() {
    this.sample();
    const secs = (Date.now() - this.t0) / 1000;
    const ours = Object.values(this.cpu).reduce((a, c) => a + c.last - c.first, 0);
    const node = process.cpuUsage(this.node0);
    const nodeTicks = (node.user + node.system) / 1e4;
    const other = Math.max(0, cpuBusyTicks() - this.busy0 - ours - nodeTicks);
    const v = {
      peak_renderer_rss: this.peakRenderer, peak_chromium_rss: this.peakTotal, seconds: r1(secs),
      chromium_cpu_cores: secs > 0 ? Math.round((ours / 100 / secs) * 100) / 100 : null,
      other_cpu_cores: secs > 0 ? Math.round((other / 100 / secs) * 100) / 100 : null,
    };
    if (v.other_cpu_cores > 0.25) log(`   ! other processes used ${v.other_cpu_cores} cores meanwhile: these numbers are disturbed`);
    this.reset();
    return v;
  }
  stop() { clearInterval(this.timer); }
}

// The machine is shared: before each timed run, wait (up to --quiet-wait s) until the other
// processes use less than 0.3 of a core, measured over 1 s while this run is idle.
const QUIET_WAIT_S = Number(opt('--quiet-wait', 20));
async function waitQuiet() {
  const until = Date.now() + QUIET_WAIT_S * 1000;
  let busy = 0;
  do {
    const b0 = cpuBusyTicks();
    await new Promise((r) => setTimeout(r, 1000));
    busy = (cpuBusyTicks() - b0) / 100;
    if (busy < 0.3) return busy;
  } while (Date.now() < until);
  log(`   ! the machine stayed busy (${busy.toFixed(2)} cores used by others): measuring anyway`);
  return busy;
}

// ---------- the browser ----------
let context;
let userDataDir;
let sampler;
const browserLogs = [];
async function launch() {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialogpt-bench-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 960, height: 720 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // e.g. BENCH_CHROMIUM_ARGS='--js-flags=--perf-prof' to profile the worker with perf (BROWSER.md).
      ...(process.env.BENCH_CHROMIUM_ARGS ? process.env.BENCH_CHROMIUM_ARGS.split(' ') : [])],
  });
  // Records when the app's status changes (performance.now(), i.e. ms since navigation start).
  await context.addInitScript(() => {
    // keptAt: when a downloaded model is stored whole (ours writes it after Ready: data-keep).
    window.__bench = { status: [], readyAt: null, keptAt: null, keep: null };
    let last = null;
    const mo = new MutationObserver(() => {
      const s = document.querySelector('.app')?.dataset.status;
      if (s && s !== last) {
        last = s;
        window.__bench.status.push([s, performance.now()]);
        if (s === 'ready' || s === 'error') window.__bench.readyAt ??= performance.now();
      }
      const keep = document.documentElement.dataset.keep;
      if (window.__bench.readyAt != null && keep !== 'writing') {
        window.__bench.keep = keep ?? '';
        window.__bench.keptAt = performance.now();
        mo.disconnect();
      }
    });
    const go = () => mo.observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status', 'data-keep'] });
    if (document.documentElement) go(); else document.addEventListener('readystatechange', go, { once: true });
  });
  sampler = new MemSampler(userDataDir);
}
async function newPage() {
  for (const p of context.pages()) await p.close();
  return newTab();
}
// A tab next to the open ones (the side-by-side phase keeps two).
async function newTab() {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') browserLogs.push(`[${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => browserLogs.push(`[pageerror] ${e.message}`));
  page.setDefaultTimeout(TIMEOUT);
  return page;
}
async function clearOrigin(page, origin) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' });
  await cdp.detach();
}
async function pageMetrics(page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  await cdp.detach();
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  const pm = await page.evaluate(() => (performance.memory ? { used: performance.memory.usedJSHeapSize, total: performance.memory.totalJSHeapSize } : null));
  return { page_js_heap_used: m.JSHeapUsedSize, page_js_heap_total: m.JSHeapTotalSize, performance_memory_used: pm?.used ?? null, dom_nodes: m.Nodes };
}

// ---------- ours ----------
async function oursWorkerMemory(page) {
  const w = page.workers().find((x) => /worker(_relaxed)?(_loader)?\.js/.test(x.url()));
  if (!w) return null;
  return w.evaluate(async () => (await wasm_bindgen()).memory.buffer.byteLength).catch(() => null);
}
// Waits for Ready on a page that is navigating; returns the page-side time and the worker's.
// A downloaded model is then waited for until it is stored (written after Ready, while the
// chat already works): `page_to_kept_ms`.
async function oursWaitReady(page) {
  await page.waitForFunction(() => window.__bench?.readyAt != null, null, { timeout: TIMEOUT, polling: 50 });
  const memory = await oursWorkerMemory(page); // = ModelInfo.memory_bytes (nothing runs in between)
  await page.waitForFunction(() => window.__bench?.keptAt != null, null, { timeout: TIMEOUT, polling: 50 });
  const b = await page.evaluate(() => window.__bench);
  const status = await page.getAttribute('.app', 'data-status');
  const summary = (await page.locator('.status').innerText()).trim();
  if (status !== 'ready') throw new Error(`ours: load failed: ${summary}`);
  // The worker's own account of the load: total and per step (see LoadStep in protocol.rs).
  // Builds from before the timings only say "loaded [from storage] in N s" (0.1 s resolution).
  const stages = JSON.parse((await page.getAttribute('html', 'data-load-timings')) || 'null');
  const m = /(loaded from storage|loaded from cache|loaded) in ([\d.]+) s/.exec(summary);
  if (!stages && !m) throw new Error(`ours: the page gave no load timings (${summary})`);
  return {
    page_to_ready_ms: b.readyAt, // navigation start → Ready
    page_to_kept_ms: b.keep === 'kept' ? b.keptAt : null, // → stored (downloads only)
    worker_load_ms: stages ? stages.ms : Number(m[2]) * 1000, // Load message → Ready
    from_cache: stages ? stages.from !== 'network' : m[1] !== 'loaded',
    stages,
    summary,
    model_memory_bytes: memory,
  };
}
async function oursNewChat(page) {
  await page.getByRole('button', { name: 'New chat', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-author]:not([data-greeting])').length === 0);
}
// One user turn; returns the meter's numbers and the page-observed first-text time.
async function oursSend(page, text) {
  const n = await page.locator('[data-author="bot"]:not([data-greeting])').count();
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await page.evaluate((n) => {
    window.__t = { sent: null, firstText: null };
    document.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__t.sent = performance.now(); }, { capture: true, once: true });
    const mo = new MutationObserver(() => {
      const b = document.querySelectorAll('[data-author="bot"]:not([data-greeting])')[n];
      if (b && (b.querySelector('.text')?.textContent || '').length > 0) { window.__t.firstText = performance.now(); mo.disconnect(); }
    });
    mo.observe(document.body, { subtree: true, childList: true, characterData: true });
  }, n);
  await box.press('Enter');
  await page.waitForFunction((n) => {
    const b = document.querySelectorAll('[data-author="bot"]:not([data-greeting])')[n];
    return b && ['done', 'stopped', 'failed'].includes(b.dataset.state);
  }, n, { timeout: TIMEOUT, polling: 50 });
  const state = await page.locator('[data-author="bot"]:not([data-greeting])').nth(n).getAttribute('data-state');
  if (state !== 'done') throw new Error(`ours: reply ${n} ended ${state}`);
  const speed = (await page.locator('.meter .speed').innerText()).trim();
  const context = (await page.locator('.meter .context').innerText()).trim();
  const t = await page.evaluate(() => window.__t);
  const m = /(\d+) tokens in ([\d.]+) s · ([\d.]+) tok\/s · first token (\d+) ms/.exec(speed);
  if (!m) throw new Error(`ours: unexpected meter ${JSON.stringify(speed)}`);
  const gen = Number(m[1]);
  const elapsed = Number(m[2]) * 1000;
  const first = Number(m[4]);
  return {
    generated: gen, elapsed_ms: elapsed, ttft_ms: first, meter_tok_s: Number(m[3]),
    decode_tok_s: (gen - 1) / ((elapsed - first) / 1000),
    context_after: Number(/^(\d+)/.exec(context)[1]),
    page_ttft_ms: t.sent != null && t.firstText != null ? t.firstText - t.sent : null,
    worker_memory_attr: Number(await page.locator('.meter').getAttribute('data-worker-memory')) || null,
    meter: speed,
  };
}
function oursQuery(source, maxNew) {
  const q = source.kind === 'gguf'
    ? `model=${encodeURIComponent(source.url)}`
    : `model=${encodeURIComponent(source.repo)}&hub=${encodeURIComponent(source.hub)}`;
  // One thread unless the source says (the service worker may isolate a page of a later visit).
  return `?${q}&quant=q8_0&max_new_tokens=${maxNew}&threads=${source.threads ?? 1}${source.baseline ? '&simd=baseline' : ''}`;
}
// One timed reply to the i-th benchmark prompt, in a new chat (the prompt alone is prefilled).
async function oursSpeedRun(page, i) {
  await oursNewChat(page);
  const s = await oursSend(page, PROMPTS[1 + (i % (PROMPTS.length - 1))]);
  if (s.context_after !== N_PROMPT + s.generated) throw new Error(`ours: prompt was ${s.context_after - s.generated} tokens, not ${N_PROMPT}`);
  s.prefill_tok_s = N_PROMPT / (s.ttft_ms / 1000);
  return s;
}
async function benchOurs(label, source, { speed = true, conversation = false } = {}) {
  log(`\n== ours: ${label}`);
  const res = { engine: 'ours', label, source: source.kind === 'gguf' ? source.url : `${source.hub}/${source.repo}`, cold: [], warm: [], speed: [] };
  let page;
  let web;
  sampler.take();
  // Cold: a fresh origin (new port) each time, so browser storage is empty.
  for (let i = 0; i < RUNS; i++) {
    if (web) { await page.goto('about:blank'); await clearOrigin(page, web.url); await closeServer(web); }
    web = await listen(serveDist);
    page = await newPage();
    await waitQuiet();
    const hubStart = hubLog.length;
    const distStart = distLog.length;
    await page.goto(web.url + '/' + oursQuery(source, N_GEN));
    const r = await oursWaitReady(page);
    if (r.from_cache) throw new Error('ours: a cold load came from the cache');
    res.kernels ??= await page.getAttribute('html', 'data-kernels');
    // Everything the page fetched from dist/ (HTML, CSS, JS, wasm): all of it before the first model byte.
    r.code_bytes = distLog.slice(distStart).reduce((s, e) => s + e.bytes, 0);
    r.code_before_model = distLog.slice(distStart).every((e) => e.t <= (hubLog[hubStart]?.t ?? Infinity));
    r.model_bytes = hubLog.slice(hubStart).reduce((s, e) => s + e.bytes, 0);
    res.cold.push(r);
    log(`   cold ${i + 1}: ${r.page_to_ready_ms.toFixed(0)} ms to Ready (worker ${r.worker_load_ms} ms), ${mb(r.model_bytes)} MB model, wasm mem ${mb(r.model_memory_bytes)} MB, kernels ${res.kernels}`);
  }
  res.cold_phase = { ...sampler.take(), ...(await pageMetrics(page)) };
  // Warm: the same origin, reloaded: the model comes from browser storage.
  for (let i = 0; i < RUNS; i++) {
    const hubStart = hubLog.length;
    await waitQuiet();
    await page.reload();
    const r = await oursWaitReady(page);
    if (!r.from_cache) throw new Error('ours: a warm load did not come from the cache');
    r.model_bytes = hubLog.slice(hubStart).reduce((s, e) => s + e.bytes, 0);
    res.warm.push(r);
    log(`   warm ${i + 1}: ${r.page_to_ready_ms.toFixed(0)} ms to Ready (worker ${r.worker_load_ms} ms), ${r.model_bytes} B of model fetched, wasm mem ${mb(r.model_memory_bytes)} MB`);
  }
  res.warm_phase = sampler.take();
  if (speed) {
    // An untimed warm-up reply (the first inference of a fresh worker runs partly on V8's
    // baseline wasm tier); its numbers are kept as `first_reply`.
    await oursNewChat(page);
    res.first_reply = await oursSend(page, PROMPTS[0]);
    for (let i = 0; i < RUNS; i++) {
      await waitQuiet();
      const s = await oursSpeedRun(page, i);
      res.speed.push(s);
      log(`   speed ${i + 1}: ${s.meter} · context ${s.context_after}`);
    }
    res.speed_phase = { ...sampler.take(), ...(await pageMetrics(page)), worker_wasm: await oursWorkerMemory(page) };
  }
  if (conversation) {
    // Turn 1 vs turn 20 of a conversation, the KV cache kept between turns; --runs
    // conversations, each after "New chat" (single turns vary by ±50 ms here).
    await page.goto(web.url + '/' + oursQuery(source, CONV_NEW_TOKENS));
    await oursWaitReady(page);
    // One warm-up turn first (a fresh worker's first inference runs on V8's baseline wasm
    // code until the optimizing tier takes over), then a new conversation.
    await oursNewChat(page);
    await oursSend(page, PROMPTS[0]);
    res.conversations = [];
    for (let r = 0; r < RUNS; r++) {
      await oursNewChat(page);
      await waitQuiet();
      const c = [];
      for (let i = 0; i < CONV_TURNS; i++) {
        const before = i === 0 ? 0 : c[i - 1].context_after;
        const s = await oursSend(page, CONV_TEXTS[r][i]);
        c.push({ turn: i + 1, context_before: before, context_after: s.context_after, ttft_ms: s.ttft_ms, page_ttft_ms: s.page_ttft_ms, decode_tok_s: s.decode_tok_s, generated: s.generated });
      }
      res.conversations.push(c);
      log(`   conversation ${r + 1}: turn 1 TTFT ${c[0].ttft_ms} ms (context ${c[0].context_before}), turn ${CONV_TURNS} TTFT ${c[CONV_TURNS - 1].ttft_ms} ms (context ${c[CONV_TURNS - 1].context_before} → ${c[CONV_TURNS - 1].context_after})`);
    }
    res.conversation_phase = { ...sampler.take(), worker_wasm: await oursWorkerMemory(page) };
  }
  await page.goto('about:blank');
  await clearOrigin(page, web.url);
  await closeServer(web);
  return res;
}

// ---------- wllama ----------
async function wllamaWorkerMemory(page) {
  for (const w of page.workers()) {
    const v = await w.evaluate(() => (self.__benchWasmBytes ? self.__benchWasmBytes() : null)).catch(() => null);
    if (v) return v;
  }
  return null;
}
async function benchWllama(label, ggufUrl, { coi = false, threads = 1, v = 3 } = {}) {
  const engine = v === 3 ? 'wllama' : 'wllama2';
  log(`\n== ${engine}: ${label}${coi ? ' (cross-origin isolated)' : ''}, ${threads} thread(s)`);
  const res = { engine, wllama_version: v === 3 ? WL_VERSION : WL2_VERSION, label, source: ggufUrl, threads_requested: threads, cold: [], warm: [], speed: [] };
  let page;
  let web;
  sampler.take();
  const load = async (expectCached) => {
    await page.waitForFunction(() => window.bench, null, { timeout: TIMEOUT });
    const hubStart = hubLog.length;
    const r = await page.evaluate(([url, threads]) => window.bench.load(url, { threads }), [ggufUrl, threads]);
    r.page_to_ready_ms = r.page_ready_ms;
    r.model_bytes = hubLog.slice(hubStart).reduce((s, e) => s + e.bytes, 0);
    r.model_memory_bytes = await wllamaWorkerMemory(page);
    if (expectCached !== r.was_cached) throw new Error(`wllama: expected ${expectCached ? 'a cached' : 'an uncached'} load`);
    return r;
  };
  for (let i = 0; i < RUNS; i++) {
    if (web) { await page.goto('about:blank'); await clearOrigin(page, web.url); await closeServer(web); }
    web = await listen(serveWllama(coi));
    page = await newPage();
    await waitQuiet();
    const wlStart = wlLog.length;
    const hubStart = hubLog.length;
    await page.goto(web.url + `/wllama.html?v=${v}`);
    const r = await load(false);
    // wllama starts the model download before it fetches its wasm: count all the page fetched.
    r.code_bytes = wlLog.slice(wlStart).reduce((s, e) => s + e.bytes, 0);
    r.code_before_model = wlLog.slice(wlStart).every((e) => e.t <= (hubLog[hubStart]?.t ?? Infinity));
    res.cold.push(r);
    log(`   cold ${i + 1}: ${r.page_to_ready_ms.toFixed(0)} ms to ready (loadModelFromUrl ${r.load_ms.toFixed(0)} ms), ${mb(r.model_bytes)} MB model, wasm mem ${mb(r.model_memory_bytes)} MB, threads ${r.threads} mt=${r.multithread}`);
  }
  res.cold_phase = { ...sampler.take(), ...(await pageMetrics(page)) };
  for (let i = 0; i < RUNS; i++) {
    await waitQuiet();
    await page.reload();
    const r = await load(true);
    res.warm.push(r);
    log(`   warm ${i + 1}: ${r.page_to_ready_ms.toFixed(0)} ms to ready (loadModelFromUrl ${r.load_ms.toFixed(0)} ms), ${r.model_bytes} B of model fetched, wasm mem ${mb(r.model_memory_bytes)} MB`);
  }
  res.warm_phase = sampler.take();
  // The same untimed warm-up reply as ours (`first_reply`), then the same prompts.
  res.first_reply = await page.evaluate(([p, n]) => window.bench.run(p, n), [wllamaPrompt(0), N_GEN]);
  for (let i = 0; i < RUNS; i++) {
    await waitQuiet();
    const s = await wllamaSpeedRun(page, i, v);
    res.speed.push(s);
    log(`   speed ${i + 1}: prefill ${s.prefill_tok_s.toFixed(1)} tok/s (${s.ttft_ms.toFixed(0)} ms), decode ${s.decode_tok_s.toFixed(1)} tok/s, page TTFT ${s.page_ttft_ms?.toFixed(0)} ms, ${s.chunks} chunks`);
  }
  res.speed_phase = { ...sampler.take(), ...(await pageMetrics(page)), worker_wasm: await wllamaWorkerMemory(page) };
  await page.evaluate(() => window.bench.exit()).catch(() => {});
  await page.goto('about:blank');
  await clearOrigin(page, web.url);
  await closeServer(web);
  return res;
}
const wllamaPrompt = (i) => PROMPTS[i] + '<|endoftext|>';
// One timed completion of the i-th benchmark prompt (the same prompts as ours, same order).
async function wllamaSpeedRun(page, i, v) {
  const o = await page.evaluate(([p, n]) => window.bench.run(p, n), [wllamaPrompt(1 + (i % (PROMPTS.length - 1))), N_GEN]);
  const t = o.timings || {};
  if (t.prompt_n !== N_PROMPT) throw new Error(`wllama: prompt was ${t.prompt_n} tokens (cache ${t.cache_n}), not ${N_PROMPT}`);
  if (t.predicted_n !== N_GEN) {
    if (v === 3) throw new Error(`wllama: generated ${t.predicted_n} tokens, not ${N_GEN}`);
    log(`   ! wllama 2 stopped at eos after ${t.predicted_n} tokens (it has no ignore_eos)`);
  }
  const s = {
    generated: t.predicted_n, prompt_n: t.prompt_n, cache_n: t.cache_n,
    timings_source: t.source || 'llama.cpp',
    // engine-side: llama-server's own timings (2.x: page-side, see web/wllama-page.js)
    ttft_ms: t.prompt_ms, prefill_tok_s: t.prompt_n / (t.prompt_ms / 1000),
    decode_tok_s: (t.predicted_n - 1) / (t.predicted_ms / 1000), // 63 decode steps after the first token, like ours
    predicted_per_second: t.predicted_per_second,
    // page-side: createCompletion() call → first streamed token / last
    page_ttft_ms: o.first_ms, page_total_ms: o.total_ms, chunks: o.chunks,
    page_decode_tok_s: o.chunks > 1 ? (o.chunks - 1) / ((o.last_ms - o.first_ms) / 1000) : null,
  };
  return s;
}

// ---------- native llama.cpp ----------
// One llama-bench repetition, 1 thread: pp64 then tg64 (its decode starts from an empty cache,
// ours after the 64-token prompt; at 128 tokens of context the difference is small).
function nativeSpeedRun(file) {
  const out = execFileSync(NATIVE_LLAMA, ['-m', file, '-t', '1', '-p', String(N_PROMPT), '-n', String(N_GEN), '-r', '1', '-o', 'json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
  const rows = JSON.parse(out);
  const pp = rows.find((r) => r.n_prompt === N_PROMPT && r.n_gen === 0);
  const tg = rows.find((r) => r.n_gen === N_GEN && r.n_prompt === 0);
  if (!pp || !tg) throw new Error(`llama-bench: no pp${N_PROMPT}/tg${N_GEN} rows in its output`);
  return { prefill_tok_s: pp.avg_ts, decode_tok_s: tg.avg_ts, build: rows[0].build_commit, cpu: rows[0].cpu_info };
}
// The local file behind a model URL of serveModels (`/files/NAME`).
function modelFileOf(url) {
  const m = new URL(url).pathname.match(/^\/files\/([\w.-]+)$/);
  return m ? path.join(MODELS, m[1]) : null;
}

// ---------- side by side ----------
// The phases above run one engine after the other; on a shared VM whose speed drifts by up to
// 2x within minutes (seen on this machine), a ratio of two such medians can be off by as much.
// Here both engines are loaded in two tabs of the same browser and their timed replies
// alternate (ours, wllama, wllama, ours, ...: each pair sees the same machine), so the ratio of
// each pair is fair; the table reports the median of those per-pair ratios.
async function benchSideBySide(label, ggufUrl, v, withNative) {
  const other = v === 3 ? 'wllama' : 'wllama2';
  log(`\n== side by side: ours vs ${other} ${v === 3 ? WL_VERSION : WL2_VERSION}, ${label}, ${DUEL_PAIRS} interleaved pairs`);
  for (const p of context.pages()) await p.close();
  const res = { engine: 'duel', other, label, source: ggufUrl, pairs: [] };
  const nativeFile = withNative && NATIVE_LLAMA ? modelFileOf(ggufUrl) : null;
  if (nativeFile) log(`   with native llama.cpp (${NATIVE_LLAMA}, 1 thread) on ${nativeFile} in every pair`);
  const webOurs = await listen(serveDist);
  const webWl = await listen(serveWllama(false));
  try {
    const ours = await newTab();
    await ours.goto(webOurs.url + '/' + oursQuery({ kind: 'gguf', url: ggufUrl }, N_GEN));
    await oursWaitReady(ours);
    const wl = await newTab();
    await wl.goto(webWl.url + `/wllama.html?v=${v}`);
    await wl.waitForFunction(() => window.bench, null, { timeout: TIMEOUT });
    await wl.evaluate(([url]) => window.bench.load(url, { threads: 1 }), [ggufUrl]);
    // Untimed warm-up replies (V8's optimizing tier), then the pairs.
    await oursNewChat(ours);
    await oursSend(ours, PROMPTS[0]);
    await wl.evaluate(([p, n]) => window.bench.run(p, n), [wllamaPrompt(0), N_GEN]);
    res.visibility = { ours: await ours.evaluate(() => document.visibilityState), [other]: await wl.evaluate(() => document.visibilityState) };
    for (let i = 0; i < DUEL_PAIRS; i++) {
      const pair = {};
      const order = (i % 2 ? ['native', other, 'ours'] : ['ours', other, 'native']).filter((e) => e !== 'native' || nativeFile);
      for (const e of order) {
        await waitQuiet();
        if (e === 'native') {
          pair.native = nativeSpeedRun(nativeFile);
        } else if (e === 'ours') {
          await ours.bringToFront();
          pair.ours = await oursSpeedRun(ours, i);
        } else {
          await wl.bringToFront();
          pair[other] = await wllamaSpeedRun(wl, i, v);
        }
      }
      pair.prefill_ratio = pair.ours.prefill_tok_s / pair[other].prefill_tok_s;
      pair.decode_ratio = pair.ours.decode_tok_s / pair[other].decode_tok_s;
      if (pair.native) {
        pair.native_prefill_ratio = pair.ours.prefill_tok_s / pair.native.prefill_tok_s;
        pair.native_decode_ratio = pair.ours.decode_tok_s / pair.native.decode_tok_s;
      }
      res.pairs.push(pair);
      log(`   pair ${i + 1}: prefill ${pair.ours.prefill_tok_s.toFixed(1)} vs ${pair[other].prefill_tok_s.toFixed(1)} tok/s (${pair.prefill_ratio.toFixed(2)}x), decode ${pair.ours.decode_tok_s.toFixed(1)} vs ${pair[other].decode_tok_s.toFixed(1)} tok/s (${pair.decode_ratio.toFixed(2)}x)`
        + (pair.native ? `; native llama.cpp prefill ${pair.native.prefill_tok_s.toFixed(1)}, decode ${pair.native.decode_tok_s.toFixed(1)} tok/s (ours in the browser ${pair.native_prefill_ratio.toFixed(2)}x / ${pair.native_decode_ratio.toFixed(2)}x of it)` : ''));
    }
    await wl.evaluate(() => window.bench.exit()).catch(() => {});
    for (const p of [ours, wl]) await p.goto('about:blank');
    await clearOrigin(ours, webOurs.url);
    await clearOrigin(wl, webWl.url);
  } finally {
    await closeServer(webOurs);
    await closeServer(webWl);
  }
  return res;
}
// ---------- threads ----------
// Ours on N threads, ours on 1 and wllama on N threads, in three tabs of one browser, every page
// cross-origin isolated by its host's headers; the timed replies alternate (order reversed every
// other pair), and each pair gives the ratios ours-N / wllama-N and ours-N / ours-1.
async function benchThreads(label, ggufUrl, v) {
  const other = v === 3 ? 'wllama' : 'wllama2';
  log(`\n== threads: ours on ${THREADS} vs ours on 1 vs ${other} ${v === 3 ? WL_VERSION : WL2_VERSION} on ${THREADS}, ${label}, ${DUEL_PAIRS} pairs`);
  for (const p of context.pages()) await p.close();
  const res = { engine: 'threads', threads: THREADS, other, label, source: ggufUrl, pairs: [], memory: {} };
  const webOurs = await listen(serveDistIsolated);
  const webWl = await listen(serveWllama(true));
  try {
    const tabs = {};
    for (const [name, n] of [['oursN', THREADS], ['ours1', 1]]) {
      tabs[name] = await newTab();
      await tabs[name].goto(webOurs.url + '/' + oursQuery({ kind: 'gguf', url: ggufUrl, threads: n }, N_GEN));
      const r = await oursWaitReady(tabs[name]);
      const running = await tabs[name].getAttribute('html', 'data-threads');
      if (running !== String(n)) throw new Error(`ours asked for ${n} threads, runs ${running}: ${r.summary}`);
      res.memory[name] = Number((/([\d.]+) MB of memory/.exec(r.summary) || [])[1]) || null;
      res[`${name}_kernels`] = await tabs[name].getAttribute('html', 'data-kernels');
    }
    tabs.wl = await newTab();
    await tabs.wl.goto(webWl.url + `/wllama.html?v=${v}`);
    await tabs.wl.waitForFunction(() => window.bench, null, { timeout: TIMEOUT });
    res.wllama_load = await tabs.wl.evaluate(([url, n]) => window.bench.load(url, { threads: n }), [ggufUrl, THREADS]);
    if (res.wllama_load.threads !== THREADS) throw new Error(`wllama asked for ${THREADS} threads, runs ${res.wllama_load.threads}`);
    // Untimed warm-up replies (V8's optimizing tier), then the pairs.
    for (const name of ['oursN', 'ours1']) {
      await oursNewChat(tabs[name]);
      await oursSend(tabs[name], PROMPTS[0]);
    }
    await tabs.wl.evaluate(([p, n]) => window.bench.run(p, n), [wllamaPrompt(0), N_GEN]);
    for (let i = 0; i < DUEL_PAIRS; i++) {
      const pair = {};
      const order = i % 2 ? ['ours1', 'wl', 'oursN'] : ['oursN', 'wl', 'ours1'];
      for (const name of order) {
        await waitQuiet();
        await tabs[name].bringToFront();
        pair[name] = name === 'wl' ? await wllamaSpeedRun(tabs.wl, i, v) : await oursSpeedRun(tabs[name], i);
      }
      for (const k of ['prefill', 'decode']) {
        pair[`${k}_vs_wllama`] = pair.oursN[`${k}_tok_s`] / pair.wl[`${k}_tok_s`];
        pair[`${k}_vs_one_thread`] = pair.oursN[`${k}_tok_s`] / pair.ours1[`${k}_tok_s`];
      }
      res.pairs.push(pair);
      log(`   pair ${i + 1}: prefill ours ${THREADS}t ${pair.oursN.prefill_tok_s.toFixed(1)}, ours 1t ${pair.ours1.prefill_tok_s.toFixed(1)}, ${other} ${THREADS}t ${pair.wl.prefill_tok_s.toFixed(1)} tok/s; decode ${pair.oursN.decode_tok_s.toFixed(1)}, ${pair.ours1.decode_tok_s.toFixed(1)}, ${pair.wl.decode_tok_s.toFixed(1)} tok/s`);
    }
    await tabs.wl.evaluate(() => window.bench.exit()).catch(() => {});
    for (const p of Object.values(tabs)) await p.goto('about:blank');
    await clearOrigin(tabs.oursN, webOurs.url);
    await clearOrigin(tabs.wl, webWl.url);
  } finally {
    await closeServer(webOurs);
    await closeServer(webWl);
  }
  return res;
}
function threadsTable(runs) {
  const lines = [`| model | pairs | prefill tok/s: ours ${THREADS}t / ours 1t / wllama ${THREADS}t (medians) | prefill ours ${THREADS}t ÷ wllama ${THREADS}t | prefill ours ${THREADS}t ÷ ours 1t | decode tok/s: ours ${THREADS}t / ours 1t / wllama ${THREADS}t | decode ÷ wllama | decode ÷ ours 1t | wasm memory MB: ${THREADS}t / 1t |`, '|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const t of runs) {
    const other = t.other === 'wllama' ? `wllama ${WL_VERSION}` : `wllama ${WL2_VERSION}`;
    if (t.error) { lines.push(`| ${t.label} (vs ${other}) | failed: ${t.error.replace(/\|/g, '/')} ||||||||`); continue; }
    const side = (e, k) => r1(median(t.pairs.map((p) => p[e][k])));
    const col = (k) => t.pairs.map((p) => p[k]);
    const range = (k) => `${median(col(k)).toFixed(2)} (${Math.min(...col(k)).toFixed(2)}–${Math.max(...col(k)).toFixed(2)})`;
    const speeds = (k) => `${side('oursN', k)} / ${side('ours1', k)} / ${side('wl', k)}`;
    lines.push(`| ${t.label} (vs ${other}) | ${t.pairs.length} | ${speeds('prefill_tok_s')} | ${range('prefill_vs_wllama')} | ${range('prefill_vs_one_thread')} | ${speeds('decode_tok_s')} | ${range('decode_vs_wllama')} | ${range('decode_vs_one_thread')} | ${fmt(t.memory.oursN)} / ${fmt(t.memory.ours1)} |`);
  }
  return lines.join('\n');
}

function sideBySideTable(duels) {
  const lines = ['| model | vs | pairs | prefill tok/s ours / other (medians) | prefill ratio: median of pairs (min–max) | decode tok/s ours / other (medians) | decode ratio: median of pairs (min–max) |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const d of duels) {
    const other = d.other === 'wllama' ? `wllama ${WL_VERSION}` : `wllama ${WL2_VERSION}`;
    if (d.error) { lines.push(`| ${d.label} | ${other} | failed: ${d.error.replace(/\|/g, '/')} |||||`); continue; }
    const col = (k) => d.pairs.map((p) => p[k]);
    const side = (e, k) => r1(median(d.pairs.map((p) => p[e][k])));
    const range = (k) => `${median(col(k)).toFixed(2)} (${Math.min(...col(k)).toFixed(2)}–${Math.max(...col(k)).toFixed(2)})`;
    lines.push(`| ${d.label} | ${other} | ${d.pairs.length} | ${side('ours', 'prefill_tok_s')} / ${side(d.other, 'prefill_tok_s')} | ${range('prefill_ratio')} | ${side('ours', 'decode_tok_s')} / ${side(d.other, 'decode_tok_s')} | ${range('decode_ratio')} |`);
    if (d.pairs.length && d.pairs.every((p) => p.native)) {
      lines.push(`| ${d.label} | llama.cpp native (${d.pairs[0].native.build}) | ${d.pairs.length} | ${side('ours', 'prefill_tok_s')} / ${side('native', 'prefill_tok_s')} | ${range('native_prefill_ratio')} | ${side('ours', 'decode_tok_s')} / ${side('native', 'decode_tok_s')} | ${range('native_decode_ratio')} |`);
    }
  }
  return lines.join('\n');
}

// ---------- load pairs ----------
// Warm and cold loads of one model by ours and by each wllama, alternating within each pair
// (ours, wllama 2, wllama 3, then the reverse order) so every pair shares one moment of a machine
// whose speed drifts. Each engine keeps one origin for its warm loads (stored once, then
// reloaded); every cold load gets a fresh origin (a new port: empty storage).
// `source`: a GGUF URL (every engine), or ours' Hub source (`{ kind: 'hub', … }`: ours alone,
// the .bin converted to q8_0 while it downloads).
async function benchLoads(label, source) {
  const ggufUrl = typeof source === 'string' ? source : null;
  const oursSource = ggufUrl ? { kind: 'gguf', url: ggufUrl } : source;
  const engines = ['ours', ...(ggufUrl && ONLY.includes('wllama') ? ['wllama', ...(WITH_WL2 ? ['wllama2'] : [])] : [])];
  log(`\n== loads side by side: ${label}, ${LOAD_PAIRS} pairs of ${engines.join(' / ')}`);
  for (const p of context.pages()) await p.close();
  const res = { engine: 'loads', label, source: ggufUrl ?? `${source.hub}/${source.repo}`, engines, pairs: [], failed: {} };
  const serverFor = (e) => (e === 'ours' ? serveDist : serveWllama(false));
  const v = (e) => (e === 'wllama2' ? 2 : 3);
  // One load in `page` (navigated already, or reloaded): page and engine times, ours' steps.
  const measure = async (e, page, cached) => {
    if (e === 'ours') {
      const r = await oursWaitReady(page);
      if (r.from_cache !== cached) throw new Error(`ours: expected a ${cached ? 'stored' : 'downloaded'} model`);
      // The worker's wasm memory at Ready: it never shrinks, so it is the load's peak there.
      const wasm_mb = r.model_memory_bytes == null ? null : Math.round(r.model_memory_bytes / 2 ** 20);
      return { page_ms: r.page_to_ready_ms, engine_ms: r.worker_load_ms, stages: r.stages, kept_ms: r.page_to_kept_ms, wasm_mb };
    }
    await page.waitForFunction(() => window.bench, null, { timeout: TIMEOUT });
    const r = await page.evaluate(([url]) => window.bench.load(url, { threads: 1 }), [ggufUrl]);
    if (r.was_cached !== cached) throw new Error(`${e}: expected ${cached ? 'a cached' : 'an uncached'} load`);
    await page.evaluate(() => window.bench.exit()).catch(() => {});
    return { page_ms: r.page_ready_ms, engine_ms: r.load_ms };
  };
  const open = async (e, web) => {
    const page = await newTab();
    await page.goto(web.url + (e === 'ours' ? '/' + oursQuery(oursSource, N_GEN) : `/wllama.html?v=${v(e)}`));
    return page;
  };
  const cold = async (e) => {
    const web = await listen(serverFor(e));
    try {
      await waitQuiet();
      sampler.take();
      const page = await open(e, web);
      const r = await measure(e, page, false);
      r.peak_renderer_rss = sampler.take().peak_renderer_rss;
      await page.goto('about:blank');
      await clearOrigin(page, web.url);
      await page.close();
      return r;
    } finally {
      await closeServer(web);
    }
  };
  // Warm origins: each engine's model stored once (untimed).
  const warm = {};
  for (const e of engines) {
    try {
      const web = await listen(serverFor(e));
      warm[e] = { web, page: await open(e, web) };
      await measure(e, warm[e].page, false);
    } catch (err) {
      res.failed[e] = String(err.message || err).split('\n')[0];
      log(`   ${e} fails on this model: ${res.failed[e]}`);
    }
  }
  const live = engines.filter((e) => !res.failed[e]);
  try {
    for (let i = 0; i < LOAD_PAIRS; i++) {
      const pair = { warm: {}, cold: {} };
      const order = i % 2 ? [...live].reverse() : live;
      for (const e of order) {
        await waitQuiet();
        await warm[e].page.bringToFront();
        await warm[e].page.reload();
        pair.warm[e] = await measure(e, warm[e].page, true);
      }
      for (const e of order) pair.cold[e] = await cold(e);
      for (const other of live.filter((e) => e !== 'ours')) {
        pair[`warm_ratio_${other}`] = pair.warm.ours.page_ms / pair.warm[other].page_ms;
        pair[`cold_ratio_${other}`] = pair.cold.ours.page_ms / pair.cold[other].page_ms;
        // Theirs are ready once stored; ours answers first and stores after: both are reported.
        pair[`cold_kept_ratio_${other}`] = pair.cold.ours.kept_ms / pair.cold[other].page_ms;
      }
      res.pairs.push(pair);
      const show = (k) => live.map((e) => `${e} ${pair[k][e].page_ms.toFixed(0)}`).join(', ');
      log(`   pair ${i + 1}: warm ${show('warm')} ms; cold ${show('cold')} ms (ours kept at ${pair.cold.ours.kept_ms?.toFixed(0)} ms; ours' wasm memory warm ${pair.warm.ours.wasm_mb} MB, cold ${pair.cold.ours.wasm_mb} MB); ours' steps warm ${JSON.stringify(pair.warm.ours.stages)} cold ${JSON.stringify(pair.cold.ours.stages)}`);
    }
  } finally {
    for (const e of Object.keys(warm)) {
      await warm[e].page.goto('about:blank').catch(() => {});
      await clearOrigin(warm[e].page, warm[e].web.url).catch(() => {});
      await closeServer(warm[e].web);
    }
  }
  return res;
}
function loadsTable(loads) {
  const name = (e) => (e === 'ours' ? 'ours' : e === 'wllama' ? `wllama ${WL_VERSION}` : `wllama ${WL2_VERSION}`);
  const lines = ['| model | load | ' + ['ours', 'wllama', 'wllama2'].map((e) => `${name(e)} ms`).join(' | ') + ` | ours / ${name('wllama2')}: median of pairs (min–max) | ours / ${name('wllama')} | ours' steps (median ms) |`, '|---|---|---:|---:|---:|---:|---:|---|'];
  for (const d of loads) {
    if (d.error) { lines.push(`| ${d.label} | failed: ${d.error.replace(/\|/g, '/')} |||||||`); continue; }
    for (const kind of ['warm', 'cold']) {
      const ms = (e) => (d.failed[e] ? 'fails' : d.pairs.length && d.pairs[0][kind][e] ? r1(median(d.pairs.map((p) => p[kind][e].page_ms))) : '–');
      const ratio = (e) => {
        const k = `${kind}_ratio_${e}`;
        if (!d.pairs.length || d.pairs[0][k] == null) return '–';
        const col = d.pairs.map((p) => p[k]);
        return `${median(col).toFixed(2)} (${Math.min(...col).toFixed(2)}–${Math.max(...col).toFixed(2)})`;
      };
      const steps = {};
      for (const p of d.pairs) for (const [k, val] of Object.entries(p[kind].ours?.stages || {})) if (typeof val === 'number') (steps[k] ??= []).push(val);
      let stepText = Object.entries(steps).map(([k, a]) => `${k} ${Math.round(median(a))}`).join(', ');
      const kept = d.pairs.map((p) => p[kind].ours?.kept_ms).filter((x) => x != null);
      if (kept.length) {
        const vs = (e) => d.pairs.map((p) => p[`cold_kept_ratio_${e}`]).filter((x) => x != null);
        const r = (e) => (vs(e).length ? ` (${median(vs(e)).toFixed(2)}× ${name(e)}'s ready)` : '');
        stepText += `; stored whole at ${Math.round(median(kept))} ms${r('wllama2')}`;
      }
      lines.push(`| ${d.label} | ${kind} | ${ms('ours')} | ${ms('wllama')} | ${ms('wllama2')} | ${ratio('wllama2')} | ${ratio('wllama')} | ${stepText} |`);
    }
  }
  return lines.join('\n');
}

// ---------- summary ----------
function summarize(r) {
  if (r.error) return { engine: r.engine, label: r.label, error: r.error };
  const med = (arr, k) => median(arr.map((x) => x[k]));
  const convs = r.conversations ?? (r.conversation ? [r.conversation] : null);
  const last = (c) => c[c.length - 1];
  const phases = [r.cold_phase, r.warm_phase, r.speed_phase, r.conversation_phase].filter(Boolean);
  return {
    engine: r.engine, label: r.label, error: r.error, kernels: r.kernels,
    prefill_tok_s: r1(med(r.speed, 'prefill_tok_s')),
    decode_tok_s: r1(med(r.speed, 'decode_tok_s')),
    ttft_ms: r1(med(r.speed, 'ttft_ms')),
    page_ttft_ms: r1(med(r.speed, 'page_ttft_ms')),
    cold_ms: r1(med(r.cold, 'page_to_ready_ms')),
    cold_engine_ms: r1(r.engine === 'ours' ? med(r.cold, 'worker_load_ms') : med(r.cold, 'load_ms')),
    warm_ms: r1(med(r.warm, 'page_to_ready_ms')),
    warm_engine_ms: r1(r.engine === 'ours' ? med(r.warm, 'worker_load_ms') : med(r.warm, 'load_ms')),
    model_download_mb: mb(med(r.cold, 'model_bytes')),
    wasm_memory_cold_mb: mb(med(r.cold, 'model_memory_bytes')),
    wasm_memory_warm_mb: mb(med(r.warm, 'model_memory_bytes')),
    wasm_memory_after_replies_mb: mb(r.speed_phase?.worker_wasm ?? null),
    peak_renderer_rss_mb: mb(Math.max(...phases.map((p) => p.peak_renderer_rss || 0)) || null),
    peak_renderer_rss_cold_mb: mb(r.cold_phase?.peak_renderer_rss || null),
    page_js_heap_mb: mb(r.speed_phase?.page_js_heap_used ?? r.cold_phase?.page_js_heap_used ?? null),
    code_kb: r.cold[0]?.code_bytes != null ? Math.round(r.cold[0].code_bytes / 1024) : null,
    // Medians over the conversations.
    turn1_ttft_ms: convs ? median(convs.map((c) => c[0].ttft_ms)) : null,
    turn20_ttft_ms: convs ? median(convs.map((c) => last(c).ttft_ms)) : null,
    turn20_context: convs ? median(convs.map((c) => last(c).context_before)) : null,
    conversations: convs ? convs.length : null,
    other_cpu_cores_max: Math.max(...phases.map((p) => p.other_cpu_cores ?? 0)),
    runs: r.speed.length,
  };
}
function gzipSizes(files) {
  return Object.fromEntries(files.map((f) => {
    const buf = fs.readFileSync(f);
    return [path.basename(f), { raw: buf.length, gzip9: zlib.gzipSync(buf, { level: 9 }).length }];
  }));
}
const fmt = (x) => (x == null ? '–' : String(x));
const ratio = (a, b) => (a == null || b == null || b === 0 ? '–' : (a / b).toFixed(2));
function tables(summaries, sizes) {
  const lines = [];
  lines.push('| engine · model | prefill tok/s (64) | decode tok/s (64) | TTFT ms | TTFT in page ms | cold load ms (engine) | warm load ms (engine) | download MB | wasm memory MB: cold load / warm load / after replies | peak tab RSS MB | turn 1 → 20 TTFT ms (context) | other CPU |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const s of summaries) {
    const name = { ours: 'ours', wllama: `wllama ${WL_VERSION}`, wllama2: `wllama ${WL2_VERSION}` }[s.engine];
    if (s.error) { lines.push(`| ${name} · ${s.label} | failed: ${s.error.replace(/\|/g, '/')} |||||||||||`); continue; }
    lines.push(`| ${name} · ${s.label} | ${fmt(s.prefill_tok_s)} | ${fmt(s.decode_tok_s)} | ${fmt(s.ttft_ms)} | ${fmt(s.page_ttft_ms)} | ${fmt(s.cold_ms)} (${fmt(s.cold_engine_ms)}) | ${fmt(s.warm_ms)} (${fmt(s.warm_engine_ms)}) | ${fmt(s.model_download_mb)} | ${fmt(s.wasm_memory_cold_mb)} / ${fmt(s.wasm_memory_warm_mb)} / ${fmt(s.wasm_memory_after_replies_mb)} | ${fmt(s.peak_renderer_rss_mb)} | ${s.turn1_ttft_ms != null ? `${s.turn1_ttft_ms} → ${s.turn20_ttft_ms} (${s.turn20_context})` : '–'} | ${s.other_cpu_cores_max} |`);
  }
  lines.push('');
  lines.push('Ratios ours / wllama (same GGUF; > 1 means ours is higher: better for tok/s, worse for ms and MB):');
  lines.push('');
  lines.push('| model | prefill tok/s | decode tok/s | TTFT | cold load | warm load | wasm memory after replies | peak tab RSS |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const size of sizes) {
    for (const q of QUANTS) for (const other of ['wllama', 'wllama2']) {
      const label = `${size} ${q} .gguf`;
      const a = summaries.find((s) => s.engine === 'ours' && s.label === label);
      const b = summaries.find((s) => s.engine === other && s.label === label);
      if (!a || !b || a.error || b.error) continue;
      lines.push(`| ${label} vs ${other === 'wllama' ? `wllama ${WL_VERSION}` : `wllama ${WL2_VERSION}`} | ${ratio(a.prefill_tok_s, b.prefill_tok_s)} | ${ratio(a.decode_tok_s, b.decode_tok_s)} | ${ratio(a.ttft_ms, b.ttft_ms)} | ${ratio(a.cold_ms, b.cold_ms)} | ${ratio(a.warm_ms, b.warm_ms)} | ${ratio(a.wasm_memory_after_replies_mb, b.wasm_memory_after_replies_mb)} | ${ratio(a.peak_renderer_rss_mb, b.peak_renderer_rss_mb)} |`);
    }
  }
  return lines.join('\n');
}

// ---------- main ----------
async function main() {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run scripts/build-web.sh first');
  if (!fs.existsSync(path.join(wllamaDir, 'wasm/wllama.wasm'))) throw new Error('run `npm ci` in bench/ first');
  for (const size of SIZES) {
    for (const q of QUANTS) {
      const f = path.join(MODELS, `${size}-${q}.gguf`);
      if (!fs.existsSync(f)) throw new Error(`${f} is missing: target/release/dialogpt quantize ${BIG(size)} ${f} --type ${q}`);
    }
    if (WITH_BIN && !fs.existsSync(path.join(BIG(size), 'pytorch_model.bin'))) throw new Error(`${BIG(size)} is missing: python tests/fixtures/make_big.py --shape ${size} --format legacy-f16 --out ${BIG(size)}`);
  }
  const started = new Date();
  const hub = await listen(serveModels);
  await launch();
  const results = [];
  const duels = [];
  const loads = [];
  const threadRuns = [];
  // A failure of one engine on one model is recorded (with its message) and the run goes on.
  const attempt = async (engine, label, fn) => {
    try {
      return await fn();
    } catch (e) {
      const msg = String(e.message || e).split('\n')[0];
      log(`   FAILED: ${msg}`);
      for (const p of context.pages()) await p.goto('about:blank').catch(() => {});
      return { engine, label, error: msg, cold: [], warm: [], speed: [] };
    }
  };
  try {
    for (const size of SIZES) {
      for (const [qi, q] of QUANTS.entries()) {
        const url = `${hub.url}/files/${size}-${q}.gguf`;
        const label = `${size} ${q} .gguf`;
        if (LOAD_PAIRS > 0 && ONLY.includes('ours')) loads.push(await attempt('loads', label, () => benchLoads(label, url)));
        // One engine at a time: loads, memory, speed (and the conversation).
        if (!DUEL_ONLY && !LOADS_ONLY) {
          if (ONLY.includes('ours')) results.push(await attempt('ours', label, () => benchOurs(label, { kind: 'gguf', url }, { conversation: WITH_CONV && qi === 0 })));
          if (ONLY.includes('ours') && OURS_BASELINE) {
            const plain = `${label} (simd=baseline)`;
            results.push(await attempt('ours', plain, () => benchOurs(plain, { kind: 'gguf', url, baseline: true })));
          }
          if (ONLY.includes('wllama')) {
            results.push(await attempt('wllama', label, () => benchWllama(label, url)));
            if (WITH_MT) {
              const r = await attempt('wllama', label, () => benchWllama(label, url, { coi: true, threads: 2 }));
              r.label = `${label} (2 threads, COOP/COEP)`;
              results.push(r);
            }
            if (WITH_WL2) results.push(await attempt('wllama2', label, () => benchWllama(label, url, { v: 2 })));
          }
        }
        if (THREADS > 1 && DUEL_PAIRS > 0) {
          // wllama 3.13 fails on medium q8_0 files: q8_0 runs against wllama 2.
          const v = q === 'q8_0' && WITH_WL2 ? 2 : 3;
          threadRuns.push(await attempt('threads', label, () => benchThreads(label, url, v)));
        }
        if (DUEL_PAIRS > 0 && !LOADS_ONLY && !THREADS_ONLY && ONLY.includes('ours') && ONLY.includes('wllama')) {
          const versions = WITH_WL2 ? [3, 2] : [3];
          for (const v of versions) {
            const other = v === 3 ? 'wllama' : 'wllama2';
            // Native llama.cpp rides with the last duel (wllama 3.13 fails on medium q8_0 files).
            const d = await attempt('duel', label, () => benchSideBySide(label, url, v, v === versions.at(-1)));
            duels.push({ ...d, other });
          }
        }
      }
      if (WITH_BIN && LOAD_PAIRS > 0 && ONLY.includes('ours')) {
        const label = `${size} fp16 .bin → q8_0`;
        loads.push(await attempt('loads', label, () => benchLoads(label, { kind: 'hub', hub: hub.url, repo: `bench/${size}` })));
      }
      if (WITH_BIN && !LOADS_ONLY && ONLY.includes('ours')) {
        const label = `${size} fp16 .bin → q8_0`;
        results.push(await attempt('ours', label, () => benchOurs(label, { kind: 'hub', hub: hub.url, repo: `bench/${size}` }, { speed: true })));
      }
    }
  } finally {
    sampler.stop();
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    await closeServer(hub);
  }
  const summaries = results.map(summarize);
  // What Chromium loads: the page and the relaxed-SIMD worker (the plain one where relaxed SIMD is missing).
  const worker = fs.existsSync(path.join(dist, 'worker_relaxed_bg.wasm')) ? 'worker_relaxed' : 'worker';
  const distFiles = ['start.js', 'app.js', 'app_bg.wasm', `${worker}.js`, `${worker}_bg.wasm`, `worker_loader.js`].map((f) => path.join(dist, f)).filter((f) => fs.existsSync(f));
  const wlFiles = [path.join(wllamaDir, 'index.js'), path.join(wllamaDir, 'wasm/wllama.wasm')];
  const wl2Files = [path.join(wllama2Dir, 'index.js'), path.join(wllama2Dir, 'single-thread/wllama.wasm')];
  const sizes = { ours: gzipSizes(distFiles), wllama: gzipSizes(wlFiles), wllama2: WL2_VERSION ? gzipSizes(wl2Files) : {} };
  const total = (o) => Object.values(o).reduce((a, v) => ({ raw: a.raw + v.raw, gzip9: a.gzip9 + v.gzip9 }), { raw: 0, gzip9: 0 });
  const wlPkg = JSON.parse(fs.readFileSync(path.join(here, 'node_modules/@wllama/wllama/package.json'), 'utf8'));
  const machine = {
    cpu: (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1],
    cores: os.cpus().length, mem_gib: Math.round(os.totalmem() / 2 ** 30),
    chromium: execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    node: process.version, wllama: wlPkg.version, wllama2: WL2_VERSION, kernel: os.release(),
    dist_mtime: fs.statSync(path.join(dist, 'worker_bg.wasm')).mtime.toISOString(),
  };
  const out = {
    started: started.toISOString(), finished: new Date().toISOString(), machine,
    command: `flock /tmp/cpu.lock node bench/browser.mjs ${argv.join(' ')}`.trim(),
    settings: { runs: RUNS, warmup_replies: 1, quiet_wait_s: QUIET_WAIT_S, sizes: SIZES, quants: QUANTS, prompt_tokens: N_PROMPT, new_tokens: N_GEN, prompts: PROMPTS, conversation_texts: CONV_TEXTS, conversation_turns: CONV_TURNS, conversation_new_tokens: CONV_NEW_TOKENS },
    transfer: { ours: sizes.ours, ours_total: total(sizes.ours), wllama: sizes.wllama, wllama_total: total(sizes.wllama), wllama2_single_thread: sizes.wllama2, wllama2_total: total(sizes.wllama2) },
    summaries, results, side_by_side: duels, loads, threads: threadRuns,
  };
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const jsonFile = path.join(here, 'results', `browser-${stamp}.json`);
  fs.writeFileSync(jsonFile, JSON.stringify(out, null, 2));
  const table = tables(summaries, SIZES);
  const kib = (x) => Math.round(x / 1024);
  const list = (o) => Object.entries(o).map(([k, v]) => `${k} ${kib(v.gzip9)}`).join(', ');
  const tx = `JS+wasm (gzip -9 / raw KiB): **ours** ${kib(out.transfer.ours_total.gzip9)} / ${kib(out.transfer.ours_total.raw)} (${list(sizes.ours)}); the browser fetched ${fmt(summaries.find((s) => s.engine === 'ours' && !s.error)?.code_kb)} KiB from dist/ on a cold load (HTML+CSS+JS+wasm, uncompressed: this server does not gzip), all before the first model byte. **wllama** ${kib(out.transfer.wllama_total.gzip9)} / ${kib(out.transfer.wllama_total.raw)} (${list(sizes.wllama)}); the browser fetched ${fmt(summaries.find((s) => s.engine === 'wllama' && !s.error)?.code_kb)} KiB (incl. the 4 KiB bench page; wllama fetches its wasm after the model download). **wllama ${WL2_VERSION}** single-thread build ${kib(out.transfer.wllama2_total.gzip9)} / ${kib(out.transfer.wllama2_total.raw)} (${list(sizes.wllama2)}).`;
  const md = [
    `Run ${out.started} (${RUNS} runs each, medians) on ${machine.cpu}, ${machine.cores} cores, ${machine.mem_gib} GiB; ${machine.chromium}; @wllama/wllama ${machine.wllama} and ${machine.wllama2}; dist/ built ${machine.dist_mtime}. Raw data: \`bench/results/${path.basename(jsonFile)}\`.`,
    '', table, '', tx,
    ...(loads.length ? ['', 'Loads side by side (page navigation → ready, alternating engines within each pair; warm: reloaded, the model from browser storage; cold: a fresh origin, downloaded and stored; ratio < 1: ours faster):', '', loadsTable(loads)] : []),
    ...(threadRuns.length ? ['', `Threads (three tabs, every page cross-origin isolated by its host: ours on ${THREADS} threads, ours on 1, wllama on ${THREADS}; timed replies alternating; ratio > 1: ours on ${THREADS} threads faster):`, '', threadsTable(threadRuns)] : []),
    ...(duels.length ? ['', `Side by side (one thread each, both engines loaded in two tabs, timed replies alternating ours/wllama, a quiet machine before each; ratio > 1: ours faster):`, '', sideBySideTable(duels)] : []),
  ].join('\n');
  log('\n' + md);
  const doc = path.join(here, 'BROWSER.md');
  if (fs.existsSync(doc)) {
    const text = fs.readFileSync(doc, 'utf8');
    const a = '<!-- results:start -->';
    const b = '<!-- results:end -->';
    if (text.includes(a) && text.includes(b) && !flag('--no-doc')) {
      fs.writeFileSync(doc, text.slice(0, text.indexOf(a) + a.length) + '\n' + md + '\n' + text.slice(text.indexOf(b)));
      log(`\nupdated ${path.relative(root, doc)}`);
    }
  }
  log(`wrote ${path.relative(root, jsonFile)}`);
  if (browserLogs.length) fs.writeFileSync(path.join(here, 'results', `browser-${stamp}.log`), browserLogs.join('\n'));
}

// Servers left open by a failed phase must not keep node alive.
main().then(() => process.exit(0), (e) => {
  console.error(e.stack || e);
  if (browserLogs.length) console.error('--- browser log (errors/warnings) ---\n' + browserLogs.slice(-40).join('\n'));
  process.exit(1);
});
