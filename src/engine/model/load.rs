//! Building the model from the loaded weights: each tensor taken out of the store (so no
//! weight is held twice), checked against the config's shapes and moved into the engine's
//! own buffers (GGUF bytes as they are; tensors converted at load are copied out of candle's).

use super::block::Block;
use super::gpt2::Gpt2Model;
use super::linear::Linear;
use super::norm::LayerNorm;
use crate::engine::config::Gpt2Config;
use crate::engine::error::{EngineError, Result};
use crate::engine::kernels::attention::KvCache;
use crate::engine::kernels::Matrix;
use crate::engine::weights::store::{StoredTensor, WeightStore};
use candle_core::Device;

fn check_shape(name: &str, got: &[usize], expected: &[usize]) -> Result<()> {
    if got != expected {
        return Err(EngineError::ShapeMismatch { name: name.into(), got: got.to_vec(), expected: expected.to_vec() });
    }
    Ok(())
}

fn take(store: &mut WeightStore, name: &str, shape: &[usize]) -> Result<StoredTensor> {
    let t = store.take(name)?;
    check_shape(name, t.dims(), shape)?;
    Ok(t)
}

/// A tensor of any type as f32 values (norms, biases, position embeddings).
fn values(store: &mut WeightStore, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    Ok(take(store, name, shape)?.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1::<f32>()?)
}

fn matrix(store: &mut WeightStore, name: &str, shape: [usize; 2]) -> Result<Matrix> {
    take(store, name, &shape)?.into_matrix()
}

fn layer_norm(store: &mut WeightStore, prefix: &str, n: usize, eps: f64) -> Result<LayerNorm> {
    let weight = values(store, &format!("{prefix}.weight"), &[n])?;
    let bias = values(store, &format!("{prefix}.bias"), &[n])?;
    Ok(LayerNorm::new(weight, bias, eps))
}

fn linear(store: &mut WeightStore, prefix: &str, n_in: usize, n_out: usize) -> Result<Linear> {
    let weight = matrix(store, &format!("{prefix}.weight"), [n_out, n_in])?;
    let bias = values(store, &format!("{prefix}.bias"), &[n_out])?;
    Ok(Linear::new(weight, bias))
}

impl Gpt2Model {
    /// Builds the model, consuming the store tensor by tensor.
    pub fn from_store(config: &Gpt2Config, mut store: WeightStore) -> Result<Self> {
        config.validate()?;
        let (e, eps, s) = (config.n_embd, config.layer_norm_epsilon, &mut store);
        let blocks = (0..config.n_layer)
            .map(|i| {
                let p = format!("blk.{i}");
                Ok(Block::new(
                    layer_norm(s, &format!("{p}.attn_norm"), e, eps)?,
                    linear(s, &format!("{p}.attn_qkv"), e, 3 * e)?,
                    linear(s, &format!("{p}.attn_output"), e, e)?,
                    layer_norm(s, &format!("{p}.ffn_norm"), e, eps)?,
                    linear(s, &format!("{p}.ffn_up"), e, config.n_inner)?,
                    linear(s, &format!("{p}.ffn_down"), config.n_inner, e)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let output_norm = layer_norm(s, "output_norm", e, eps)?;
        let position_embd = values(s, "position_embd.weight", &[config.n_positions, e])?;
        let token_embd = matrix(s, "token_embd.weight", [config.vocab_size, e])?;
        let output = match s.get("output.weight") {
            Some(_) => Some(matrix(s, "output.weight", [config.vocab_size, e])?),
            None => None,
        };
        // The caches take memory only as the conversation grows (see KvCache).
        drop(store);
        let caches = (0..config.n_layer).map(|_| KvCache::new(config.n_head, config.n_positions, config.head_dim())).collect();
        Ok(Self { config: config.clone(), token_embd, position_embd, blocks, output_norm, output, caches })
    }
}
