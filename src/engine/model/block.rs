//! One GPT-2 transformer block: pre-LayerNorm causal self-attention and MLP, each added
//! back onto the residual stream.

use crate::engine::kernels::attention::KvCache;
use super::linear::Linear;
use crate::engine::error::Result;
use crate::engine::kernels::with_f32;
use candle_core::{Device, Module, Tensor};
use candle_nn::LayerNorm;

pub struct Block {
    pub ln_1: LayerNorm,
    pub attn_qkv: Linear,
    pub attn_out: Linear,
    pub ln_2: LayerNorm,
    pub ffn_up: Linear,
    pub ffn_down: Linear,
}

impl Block {
    /// `x`: `[s, n_embd]` hidden states of `s` new positions.
    pub fn forward(&self, x: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let h = self.attention(&self.ln_1.forward(x)?, cache)?;
        let x = (x + h)?;
        let m = self.ffn_up.forward_gelu(&self.ln_2.forward(&x)?)?;
        let m = self.ffn_down.forward(&m)?;
        Ok((x + m)?)
    }

    fn attention(&self, x: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let (s, n_embd) = x.dims2()?;
        let qkv = self.attn_qkv.forward(x)?;
        let mut y = vec![0f32; s * n_embd];
        // The new keys and values go into the cache, then every new query attends over it.
        with_f32(&qkv, |v| -> Result<()> {
            cache.append_qkv(v, s)?;
            cache.attend_new(v, s, &mut y);
            Ok(())
        })??;
        self.attn_out.forward(&Tensor::from_vec(y, (s, n_embd), &Device::Cpu)?)
    }
}
