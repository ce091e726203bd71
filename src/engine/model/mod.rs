//! GPT-2 (the architecture of DialoGPT) on candle, with a KV cache for incremental decoding.

pub mod block;
pub mod gpt2;
pub mod linear;

pub use gpt2::Gpt2Model;
