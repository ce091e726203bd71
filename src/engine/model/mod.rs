//! GPT-2 (the architecture of DialoGPT) on the engine's kernels, with a KV cache for
//! incremental decoding. Only [`Gpt2Model`] is seen from outside; its parts carry GGUF's
//! tensor names (`token_embd`, `attn_qkv`, `ffn_up`...), the names the weights are stored under.

mod block;
mod gpt2;
mod linear;
mod load;
mod norm;
mod save;

pub use gpt2::Gpt2Model;
pub use save::SavedTensor;
