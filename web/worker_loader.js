// Starts the inference worker. One loader for both builds: `?build=worker` (plain simd128
// kernels) or `?build=worker_relaxed` (relaxed SIMD), as the page chooses. A start that fails
// (the wasm cannot be fetched, e.g. the page is left while it loads) is logged, not left as an
// unhandled rejection.
const BUILDS = ['worker', 'worker_relaxed'];
const build = new URL(self.location.href).searchParams.get('build');
if (!BUILDS.includes(build)) throw new Error(`unknown worker build: ${build}`);
importScripts(`./${build}.js`);
wasm_bindgen({ module_or_path: `./${build}_bg.wasm` }).catch((e) => console.error(`the inference worker could not start: ${e}`));
