//! The web worker layer: downloads the model and runs the engine off the page's thread.
//!
//! - [`protocol`]: the serde messages between page and worker (the only door);
//! - [`source`]: model names/URLs → the files to fetch; [`sizes`]: what a model costs before loading;
//! - [`integrity`]: the Hub's SHA-256 of a download; [`storage`]: models kept in the browser;
//! - `load` → `download` → `resume` → `fetch`: a model from storage, or streamed from the
//!   network into `engine::ModelLoader` (wasm only); `load_clock`: where a load's time went;
//! - `keep`: a downloaded model written to storage while it already answers;
//! - `agent`: the gloo-worker `Worker` that drives `ChatSession` one token per event-loop turn;
//! - `compute_threads` (the threaded build): the web workers that share the kernels' work.

pub mod integrity;
pub mod protocol;
pub mod sizes;
pub mod source;
pub mod storage;

#[cfg(target_arch = "wasm32")]
pub mod agent;
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub mod compute_threads;
#[cfg(target_arch = "wasm32")]
mod crash_report;
#[cfg(target_arch = "wasm32")]
mod download;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod keep;
#[cfg(target_arch = "wasm32")]
mod load;
#[cfg(target_arch = "wasm32")]
mod load_clock;
#[cfg(target_arch = "wasm32")]
mod resume;
#[cfg(target_arch = "wasm32")]
mod tick;

#[cfg(target_arch = "wasm32")]
pub use agent::ChatWorker;
