//! One GPT-2 transformer block: pre-LayerNorm causal self-attention and MLP, each added
//! back onto the residual stream.

use super::kv_cache::KvCache;
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
    pub n_head: usize,
}

/// `[s, T]` additive mask for `s` new tokens following `past` cached ones: token `i` sees
/// positions `0..=past + i`.
fn causal_mask(s: usize, past: usize) -> Result<Tensor> {
    let t = past + s;
    let mask: Vec<f32> = (0..s)
        .flat_map(|i| (0..t).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Ok(Tensor::from_vec(mask, (s, t), &Device::Cpu)?)
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
        let head_dim = n_embd / self.n_head;
        let qkv = self.attn_qkv.forward(x)?;
        let past = cache.len();
        with_f32(&qkv, |v| cache.append_qkv(v, s))??;
        if s == 1 {
            // Decode: one query over the cache, fused, straight from the projection's values.
            let mut y = vec![0f32; n_embd];
            with_f32(&qkv, |v| cache.attend_one(&v[..n_embd], &mut y))?;
            return self.attn_out.forward(&Tensor::from_vec(y, (1, n_embd), &Device::Cpu)?);
        }
        let q = qkv.narrow(1, 0, n_embd)?.reshape((s, self.n_head, head_dim))?.transpose(0, 1)?.contiguous()?;
        let (k_all, v_all) = cache.tensors()?;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let mut scores = (q.matmul(&k_all.t()?)? * scale)?;
        scores = scores.broadcast_add(&causal_mask(s, past)?)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let y = probs.matmul(&v_all)?;
        let y = y.transpose(0, 1)?.reshape((s, n_embd))?;
        self.attn_out.forward(&y)
    }
}
