// The compute threads of a threaded inference worker are started here, by the page, not by the
// inference worker itself: workers started from inside a worker are where Firefox has now and then
// stalled on pages isolated by the service worker, and Safari had no nested workers before 15.5.
// The page's wasm starts its inference worker with `new Worker(…)` (through gloo); this module,
// imported by start.js before the app starts, puts a `Worker` in its place that
// - catches the threaded worker's one request `{ dialogptComputeThreads: { build, count, module,
//   memory } }` before gloo's message handler sees it, and starts `count` web workers on the same
//   loader with `&compute=i`, each given the module and the shared memory;
// - keeps one inference worker per page: starting one (the app replaces a worker that crashed or
//   never started) ends the one before together with its compute threads, which would otherwise
//   spin on the shared memory of a worker nobody talks to.
const PageWorker = globalThis.Worker;
let current = null;

// Own properties and plain functions rather than methods: a script that wrapped `Worker` before this
// one (the e2e suites' hook does) may hand back a plain worker, without this class's prototype.
class InferenceWorker extends PageWorker {
  constructor(url, options) {
    super(url, options);
    const address = new URL(url, document.baseURI);
    if (!address.pathname.endsWith('/worker_loader.js') || address.searchParams.has('compute')) return;
    const threads = [];
    const end = this.terminate;
    this.terminate = () => {
      for (const thread of threads.splice(0)) thread.terminate();
      if (current === this) current = null;
      end.call(this);
    };
    current?.terminate();
    current = this;
    this.addEventListener('message', (event) => {
      const ask = event.data?.dialogptComputeThreads;
      if (!ask) return;
      event.stopImmediatePropagation();
      threads.push(...startComputeThreads(address, ask));
    });
  }
}

// Starts `count` compute threads on the loader at `address`, each given the module and memory.
function startComputeThreads(address, { build, count, module, memory }) {
  const threads = [];
  for (let i = 1; i <= count; i++) {
    const thread = new URL(address);
    thread.search = new URLSearchParams({ build, compute: String(i) }).toString();
    const worker = new PageWorker(thread, { name: `compute thread ${i}` });
    worker.onerror = (e) => console.error(`compute thread ${i} could not start: ${e.message}`);
    worker.postMessage({ module, memory });
    threads.push(worker);
  }
  return threads;
}

globalThis.Worker = InferenceWorker;
