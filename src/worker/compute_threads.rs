//! The threaded worker build's compute threads (wasm32 with atomics): `web/worker_loader.js`
//! starts them as web workers on the inference worker's module and shared memory, and each
//! then serves the kernels' split work (`engine::kernels::parallel`) until the worker ends.

use wasm_bindgen::prelude::*;

/// Set by the loader on a compute thread's global before the module starts, so the
/// inference worker's entry point does not register a second chat worker there.
const COMPUTE_THREAD_FLAG: &str = "dialogptComputeThread";

/// Whether this web worker is a compute thread (not the inference worker itself).
pub fn is_compute_thread() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &COMPUTE_THREAD_FLAG.into()).is_ok_and(|v| v.is_truthy())
}

/// What a compute thread needs to start: this module and its shared memory.
#[wasm_bindgen(js_name = computeThreadStart)]
pub fn compute_thread_start() -> js_sys::Array {
    js_sys::Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory())
}

/// A compute thread's whole life: it serves split work and never returns.
#[wasm_bindgen(js_name = serveAsComputeThread)]
pub fn serve_as_compute_thread() {
    crate::engine::kernels::parallel::shared_memory_pool::serve()
}
