//! One GPT-2 transformer block: pre-LayerNorm causal self-attention and MLP, each added
//! back onto the residual stream.

use super::linear::Linear;
use super::norm::LayerNorm;
use crate::engine::error::Result;
use crate::engine::kernels::attention::KvCache;
use crate::engine::kernels::BlockType;

pub struct Block {
    attn_norm: LayerNorm,
    attn_qkv: Linear,
    attn_output: Linear,
    ffn_norm: LayerNorm,
    ffn_up: Linear,
    ffn_down: Linear,
}

/// `x += y`, element by element.
fn add_into(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

impl Block {
    pub fn new(attn_norm: LayerNorm, attn_qkv: Linear, attn_output: Linear, ffn_norm: LayerNorm, ffn_up: Linear, ffn_down: Linear) -> Self {
        Self { attn_norm, attn_qkv, attn_output, ffn_norm, ffn_up, ffn_down }
    }

    /// The block's layers in GGUF's order: attn_norm, attn_qkv, attn_output, ffn_norm, ffn_up, ffn_down.
    pub fn parts(&self) -> (&LayerNorm, &Linear, &Linear, &LayerNorm, &Linear, &Linear) {
        (&self.attn_norm, &self.attn_qkv, &self.attn_output, &self.ffn_norm, &self.ffn_up, &self.ffn_down)
    }

    /// Block types of the four weight matrices.
    pub fn block_types(&self) -> [BlockType; 4] {
        [&self.attn_qkv, &self.attn_output, &self.ffn_up, &self.ffn_down].map(Linear::block)
    }

    /// `x`: `[s, n_embd]` hidden states of `s` new positions, updated in place.
    pub fn forward(&self, x: &mut [f32], s: usize, cache: &mut KvCache) -> Result<()> {
        let qkv = self.attn_qkv.forward(&self.attn_norm.forward(x), s);
        // The new keys and values go into the cache, then every new query attends over it.
        cache.append_qkv(&qkv, s)?;
        let mut y = vec![0f32; x.len()];
        cache.attend_new(&qkv, s, &mut y);
        add_into(x, &self.attn_output.forward(&y, s));
        let up = self.ffn_up.forward_gelu(&self.ffn_norm.forward(x), s);
        add_into(x, &self.ffn_down.forward(&up, s));
        Ok(())
    }
}
