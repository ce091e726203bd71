//! The inference web worker: registers `dialogpt_web::worker::ChatWorker` so the page's
//! bridge can talk to it. Built by trunk as a no-modules worker with a loader shim.

#[cfg(target_arch = "wasm32")]
fn main() {
    use gloo_worker::Registrable;
    dialogpt_web::worker::ChatWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("`worker` runs inside the browser page: run scripts/serve.sh");
}
