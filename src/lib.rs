//! dialogpt-web: a DialoGPT chatbot that runs entirely in the browser.
//!
//! The layers, each in its own module tree:
//! - [`engine`]: pure Rust (no web-sys), builds native and wasm32: the GPT-2 model, weight
//!   loading (Hub files and GGUF), quantization, tokenizer, sampling and the chat session.
//! - `cli` (native only): the `dialogpt` terminal tool on the same engine.
//! - [`worker`]: the web worker (download, generation) and the page↔worker protocol.
//! - [`ui`]: the Yew page. Browser-only parts are behind `cfg(target_arch = "wasm32")`;
//!   their pure logic (URL parameters, conversation state, texts) is tested natively.

// The compute threads of the threaded worker build sleep on shared memory (memory.atomic.wait32).
#![cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), feature(stdarch_wasm_atomic_wait))]

pub mod engine;
pub mod ui;
pub mod worker;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;

#[cfg(target_arch = "wasm32")]
mod js_message;
