// The wllama side of bench/browser.mjs: @wllama/wllama from node_modules (served by the bench's
// static server, never from a CDN), driven through window.bench by Playwright.
// `?v=3` (default): @wllama/wllama 3.x at /wllama/ (one wasm64 build, llama-server's completion
// API with llama.cpp's own timings). `?v=2`: 2.x at /wllama2/ (wasm32, separate single-thread and
// multi-thread builds; timings taken in the page).
const V = new URLSearchParams(location.search).get('v') === '2' ? 2 : 3;

// Measurement hook, nothing else changes: wllama runs llama.cpp in a module worker built from a
// string; one line appended to that string lets Playwright read the worker's wasm memory size.
const NativeBlob = Blob;
globalThis.Blob = class extends NativeBlob {
  constructor(parts, opts) {
    if (parts?.length === 1 && typeof parts[0] === 'string' && parts[0].includes('const RUN_OPTIONS')) {
      parts = [parts[0] + '\n;self.__benchWasmBytes = () => { const m = Module && (Module.wasmMemory || null); const b = m ? m.buffer : Module && Module.HEAPU8 ? Module.HEAPU8.buffer : null; return b ? b.byteLength : null; };\n'];
    }
    super(parts, opts);
  }
};

const { Wllama } = await import(V === 3 ? '/wllama/index.js' : '/wllama2/index.js');
const PATHS = V === 3
  ? { default: '/wllama/wasm/wllama.wasm' }
  : { 'single-thread/wllama.wasm': '/wllama2/single-thread/wllama.wasm', 'multi-thread/wllama.wasm': '/wllama2/multi-thread/wllama.wasm' };

let wllama = null;
const status = (s) => { document.getElementById('status').textContent = s; };

window.bench = {
  version: V,
  // Loads a .gguf by URL (downloaded, or from wllama's OPFS cache when it holds it).
  async load(url, { threads = 1, useCache = true } = {}) {
    wllama = new Wllama(PATHS, { suppressNativeLog: !new URLSearchParams(location.search).has('log'), parallelDownloads: 3 });
    if (V === 3) wllama.setCompat(null); // never the CDN compat build
    const cached = useCache ? (await wllama.cacheManager.list().catch(() => [])).length : 0;
    status('loading');
    const t0 = performance.now();
    await wllama.loadModelFromUrl(url, V === 3
      ? { n_threads: threads, n_ctx: 1024, n_gpu_layers: 0, useCache }
      : { n_threads: threads, n_ctx: 1024, useCache });
    const load_ms = performance.now() - t0;
    status('ready');
    return {
      load_ms, page_ready_ms: performance.now(), was_cached: cached > 0,
      threads: wllama.getNumThreads(), multithread: wllama.isMultithread(),
      crossOriginIsolated: self.crossOriginIsolated,
    };
  },
  // One completion: greedy, nPredict tokens, no prompt cache reuse between runs.
  async run(prompt, nPredict) {
    const out = { first_ms: null, last_ms: null, chunks: 0, text: '', timings: null, usage: null };
    const t0 = performance.now();
    if (V === 3) {
      await wllama.createCompletion({
        prompt, stream: true, max_tokens: nPredict, n_predict: nPredict, temperature: 0, temp: 0, top_k: 1,
        ignore_eos: true, cache_prompt: false, seed: 42,
        onData: (chunk) => {
          const now = performance.now() - t0;
          const piece = chunk.choices?.[0]?.text ?? '';
          if (chunk.timings) out.timings = chunk.timings;
          if (chunk.usage) out.usage = chunk.usage;
          if (piece.length || (chunk.timings && chunk.timings.predicted_n > 0)) {
            if (out.first_ms === null) out.first_ms = now;
            out.last_ms = now;
            out.chunks += 1;
            out.text += piece;
          }
        },
      });
    } else {
      // 2.x has no timings: prompt_ms = call → first token (tokenization included, a few ms),
      // predicted_ms = first → last token, both seen by the page.
      const promptTokens = (await wllama.tokenize(prompt, true)).length;
      const t1 = performance.now();
      out.text = await wllama.createCompletion(prompt, {
        nPredict, sampling: { temp: 0 }, useCache: false,
        onNewToken: () => {
          const now = performance.now() - t1;
          if (out.first_ms === null) out.first_ms = now;
          out.last_ms = now;
          out.chunks += 1;
        },
      });
      out.timings = {
        source: 'page', prompt_n: promptTokens, prompt_ms: out.first_ms, predicted_n: out.chunks,
        predicted_ms: out.last_ms - out.first_ms, cache_n: 0,
      };
    }
    out.total_ms = performance.now() - t0;
    return out;
  },
  async exit() { if (wllama) await wllama.exit(); wllama = null; },
};
status('page ready');
