//! The inference worker built for wasm threads (atomics, shared memory): the page loads it
//! where it is cross-origin isolated. `scripts/build-threads-worker.sh` builds it (a nightly
//! toolchain rebuilds std with atomics); the same module also runs its compute threads.

#[cfg(target_arch = "wasm32")]
fn main() {
    #[cfg(target_feature = "atomics")]
    {
        use gloo_worker::Registrable;
        if !dialogpt_web::worker::compute_threads::is_compute_thread() {
            dialogpt_web::worker::ChatWorker::registrar().register();
        }
    }
    #[cfg(not(target_feature = "atomics"))]
    compile_error!("worker_threads needs the atomics target feature: build it with scripts/build-threads-worker.sh");
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("`worker_threads` runs inside the browser page: run scripts/serve.sh");
}
