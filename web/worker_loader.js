// Starts the inference worker. One loader for every build, as the page chooses:
// `?build=worker` (plain simd128 kernels), `?build=worker_relaxed` (relaxed SIMD), or
// `?build=worker_threads&threads=N` (or `worker_threads_relaxed`: wasm threads, this worker and
// N-1 compute threads on the same module and shared memory, which the page starts when this worker
// asks: web/compute_threads.js). A compute thread is this loader with `&compute`: it waits for the
// module and memory, then serves the kernels' split work.
// A start that fails (the wasm cannot be fetched, e.g. the page is left while it loads) is
// logged, not left as an unhandled rejection.
const BUILDS = ['worker', 'worker_relaxed', 'worker_threads', 'worker_threads_relaxed'];
const params = new URL(self.location.href).searchParams;
const build = params.get('build');
if (!BUILDS.includes(build)) throw new Error(`unknown worker build: ${build}`);
importScripts(`./${build}.js`);

if (params.has('compute')) {
  self.dialogptComputeThread = true;
  self.onmessage = ({ data }) => {
    self.onmessage = null;
    wasm_bindgen({ module_or_path: data.module, memory: data.memory })
      .then(() => wasm_bindgen.serveAsComputeThread())
      .catch((e) => console.error(`a compute thread could not start: ${e}`));
  };
} else {
  wasm_bindgen({ module_or_path: `./${build}_bg.wasm` })
    .then(() => {
      if (!build.startsWith('worker_threads')) return;
      const threads = Math.max(1, Math.min(32, parseInt(params.get('threads'), 10) || 1));
      const [module, memory] = wasm_bindgen.computeThreadStart();
      self.postMessage({ dialogptComputeThreads: { build, count: threads - 1, module, memory } });
    })
    .catch((e) => console.error(`the inference worker could not start: ${e}`));
}
