//! The web page (main thread): the Yew app in `dialogpt_web::ui`. Built for the browser by
//! trunk (`index.html`); natively it only says so, so that `cargo test --all-targets` builds.

#[cfg(target_arch = "wasm32")]
fn main() {
    dialogpt_web::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("`app` is the browser page: run scripts/serve.sh and open the printed address");
}
