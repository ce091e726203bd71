// Test hooks the e2e servers put first into every HTML page they serve (a same-origin
// classic script, so it runs under the strict CSP too, before the app's module starts). They
// give every engine what only Playwright offered before, from inside the page:
// - uncaught errors, unhandled rejections and CSP violations, reported to the server
//   (`/__e2e/error`) so a check fails on them even after the page has navigated away;
// - the files the page offers for download (export), read from their blobs;
// - what the page wrote to the clipboard;
// - the inference workers the page started, not their compute threads (the suites terminate
//   one, or make it fail);
// - long tasks, where the engine reports them (Chromium);
// - the page's console errors and warnings;
// - `__e2e_no_wasm` in the URL takes WebAssembly away from the page;
// - the app's load status and storage state as they change (`data-status`, `data-keep`).
(() => {
  // `__e2e_no_wasm` in the page URL: a browser with WebAssembly turned off (Lockdown Mode).
  if (new URLSearchParams(location.search).has('__e2e_no_wasm')) delete window.WebAssembly;
  const e2e = (window.__e2e = { errors: [], downloads: [], clipboard: [], workers: [], longTasks: null });

  // [data-status, data-keep, data-sw, ms] at every change of one of them (set on the page's root
  // by the app and by offline.js).
  e2e.states = [];
  const state = () => [document.querySelector('.app')?.dataset.status ?? '', document.documentElement.dataset.keep ?? '', document.documentElement.dataset.sw ?? ''];
  new MutationObserver(() => {
    const now = state();
    const last = e2e.states[e2e.states.length - 1];
    if (!last || now.some((v, i) => v !== last[i])) e2e.states.push([...now, performance.now()]);
  }).observe(document.documentElement, { subtree: true, attributes: true, attributeFilter: ['data-status', 'data-keep', 'data-sw'] });

  // A page being left aborts what it still loads; some engines (WebKit) report that as errors.
  let leaving = false;
  addEventListener('pagehide', () => (leaving = true));
  addEventListener('beforeunload', () => (leaving = true));
  const report = (kind, text) => {
    if (leaving) return;
    const entry = { kind, text: String(text), url: location.href, at: Date.now() };
    e2e.errors.push(entry);
    try {
      navigator.sendBeacon('/__e2e/error', JSON.stringify(entry));
    } catch (_) {
      // Offline or no beacon: the in-page list still has it.
    }
  };
  // The stack too (after the first line): a wasm trap names the functions it went through.
  const where = (error) => (error && error.stack ? `\n${String(error.stack).split('\n').slice(0, 12).join('\n')}` : '');
  addEventListener('error', (e) => report('uncaught error', `${e.message || e.error}${where(e.error)}`));
  addEventListener('unhandledrejection', (e) => report('unhandled rejection', (e.reason && (e.reason.stack || e.reason.message)) || e.reason));
  document.addEventListener('securitypolicyviolation', (e) => report('CSP violation', `${e.violatedDirective} ${e.blockedURI}`));

  // Downloads: the app builds a blob, points an <a download> at it, clicks and revokes it
  // at once, so the blob is remembered when its URL is made.
  const blobs = new Map();
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = function (obj) {
    const url = createObjectURL.call(URL, obj);
    if (obj instanceof Blob) blobs.set(url, obj);
    return url;
  };
  const anchorClick = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    const blob = blobs.get(this.href);
    if (this.download && blob) {
      const name = this.download;
      blob.text().then((text) => e2e.downloads.push({ name, type: blob.type, text }));
    }
    return anchorClick.call(this);
  };

  if (navigator.clipboard && navigator.clipboard.writeText) {
    const writeText = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => {
      e2e.clipboard.push(text);
      return writeText(text);
    };
  }

  // What the page logged as errors and warnings, for a check's failure message. A worker that
  // trapped is replaced by the page at once, before the worker hook's delayed report can go
  // out: the page's log of it is reported instead, when it is a wasm trap or a corrupted
  // allocator (the harness's "WebKit wasm trap"; a fault a check injects is neither).
  e2e.console = [];
  const CRASHED = 'inference worker crashed: ';
  const TRAP = /^(RuntimeError: |panicked at [^\n]*dlmalloc)/;
  for (const level of ['error', 'warn']) {
    const log = console[level].bind(console);
    console[level] = (...args) => {
      const text = args.map(String).join(' ');
      e2e.console.push(`${level}: ${text}`);
      if (level === 'error' && text.startsWith(CRASHED) && TRAP.test(text.slice(CRASHED.length))) report('worker crash', text.slice(CRASHED.length));
      return log(...args);
    };
  }

  const NativeWorker = window.Worker;
  if (NativeWorker) {
    window.Worker = function Worker(url, options) {
      const w = new NativeWorker(url, options);
      if (!new URL(url, document.baseURI).searchParams.has('compute')) e2e.workers.push(w);
      return w;
    };
    window.Worker.prototype = NativeWorker.prototype;
  }

  try {
    e2e.longTasks = [];
    new PerformanceObserver((list) => e2e.longTasks.push(...list.getEntries().map((t) => t.duration))).observe({ type: 'longtask' });
  } catch (_) {
    e2e.longTasks = null; // this engine does not report long tasks
  }
})();
