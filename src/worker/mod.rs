//! The web worker layer: downloads the model and runs the engine off the page's thread.
//!
//! - [`protocol`]: the serde messages between page and worker (the only door);
//! - [`source`]: model names/URLs → the files to fetch;
//! - [`digest`]: the checksum that guards stored models; [`integrity`]: the Hub's SHA-256 of a download;
//! - `fetch`, `download`: streaming downloads pushed into `engine::ModelLoader` (wasm only);
//! - `agent`: the gloo-worker `Worker` that drives `ChatSession` one token per event-loop turn.

pub mod digest;
pub mod integrity;
pub mod protocol;
pub mod source;

#[cfg(target_arch = "wasm32")]
pub mod agent;
#[cfg(target_arch = "wasm32")]
mod cache_api;
#[cfg(target_arch = "wasm32")]
mod download;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod model_cache;
#[cfg(target_arch = "wasm32")]
mod opfs;
#[cfg(target_arch = "wasm32")]
mod tick;

#[cfg(target_arch = "wasm32")]
pub use agent::ChatWorker;
