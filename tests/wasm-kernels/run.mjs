// node tests/wasm-kernels/run.mjs KERNELS.wasm — runs the wasm kernel checks; exit 1 on failure.
// node tests/wasm-kernels/run.mjs KERNELS.wasm speed [0-3] — prints kernel throughput (speed.rs).
// node tests/wasm-kernels/run.mjs KERNELS.wasm model FILE.gguf — whole-model prefill/decode speed
// (PROMPT_TOKENS, GEN_TOKENS; PROBE=0 skips the long-context probe, e.g. to profile decode alone).
// THREADS=N with the atomics build (`THREADS=2 tests/wasm-kernels/run.sh`, processed by wasm-bindgen for its per-thread
// stacks): the module runs on one shared memory in this thread and N-1 worker threads, which
// serve the kernels' split work as the threaded web worker's compute threads do.
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const bytes = isMainThread ? readFileSync(process.argv[2]) : null;
const module = isMainThread ? new WebAssembly.Module(bytes) : workerData.module;
const threads = isMainThread ? Math.max(1, Number(process.env.THREADS ?? 1)) : 0;
let memory = isMainThread ? null : workerData.memory;
if (isMainThread && threads > 1) {
  // The module's own ceiling (4 GiB), shared: the import must not promise more.
  memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
}
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
  imports[imp.module] ??= {};
  if (imp.module === 'host' && imp.name === 'log') {
    // A shared buffer cannot back a TextDecoder view: copy the bytes out.
    imports.host.log = (ptr, len) => console.log(new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, len).slice()));
  } else if (imp.module === 'host' && imp.name === 'now') {
    imports.host.now = () => performance.now();
  } else if (imp.kind === 'memory') {
    if (!memory) throw new Error('this kernel build imports a shared memory: run it with THREADS=2 or more');
    imports[imp.module][imp.name] = memory;
  } else if (imp.kind === 'function' && imp.name === '__wbindgen_init_externref_table') {
    // wasm-bindgen's start fills its table of JS values; the kernels hold none.
    imports[imp.module][imp.name] = () => {};
  } else if (imp.kind === 'function' && imp.name.includes('getRandomValues')) {
    // Hash-map seeds in the tokenizer (model speed only): zeros are fine for a benchmark.
    imports[imp.module][imp.name] = () => {};
  } else if (imp.kind === 'function') {
    // wasm-bindgen placeholders pulled in by the library; the kernels never call them.
    imports[imp.module][imp.name] = () => { throw new Error(`unexpected call to ${imp.module}.${imp.name}`); };
  }
}
const instance = new WebAssembly.Instance(module, imports);
memory ??= instance.exports.memory;
// wasm-bindgen's thread start: this instance's own stack and thread-local storage.
instance.exports.__wbindgen_start?.();
if (!isMainThread) {
  parentPort.postMessage('serving');
  instance.exports.serve_compute_thread();
}
if (threads > 1) {
  if (!instance.exports.serve_compute_thread) throw new Error(`THREADS=${threads} needs the atomics build: THREADS=${threads} tests/wasm-kernels/run.sh`);
  const started = [];
  for (let i = 1; i < threads; i++) {
    const helper = new Worker(new URL(import.meta.url), { argv: process.argv.slice(2), workerData: { module, memory } });
    helper.unref();
    started.push(new Promise((resolve, reject) => { helper.once('message', resolve); helper.once('error', reject); }));
  }
  await Promise.all(started);
  // A helper counts itself in as its serving begins, just after its message.
  await new Promise((resolve) => setTimeout(resolve, 50));
}
if (process.argv[3] === 'model') {
  const file = readFileSync(process.argv[4]);
  const ptr = instance.exports.alloc(file.length);
  new Uint8Array(memory.buffer, ptr, file.length).set(file);
  instance.exports.model_speed(ptr, file.length, Number(process.env.PROMPT_TOKENS ?? 64), Number(process.env.GEN_TOKENS ?? 64), Number(process.env.PROBE ?? 1));
  process.exit(0);
}
if (process.argv[3] === 'speed') {
  instance.exports.speed(Number(process.argv[4] ?? 0));
  process.exit(0);
}
try {
  const n = instance.exports.run();
  console.log(`wasm kernels: ${n} shapes match the reference on every path`);
} catch (e) {
  console.error(`wasm kernels FAILED: ${e}`);
  process.exit(1);
}
