//! The inference worker built with the `relaxed-simd` feature (relaxed-SIMD kernels); the
//! page loads it instead of `worker` where the browser validates relaxed SIMD. Same entry.

#[cfg(target_arch = "wasm32")]
fn main() {
    use gloo_worker::Registrable;
    dialogpt_web::worker::ChatWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("`worker_relaxed` runs inside the browser page: run scripts/serve.sh");
}
