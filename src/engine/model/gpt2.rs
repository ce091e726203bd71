//! The whole GPT-2 language model: embeddings, blocks, final norm and the LM head tied to
//! the token embedding.

use super::block::Block;
use crate::engine::kernels::attention::KvCache;
use super::linear::{Linear, LinearWeight};
use crate::engine::config::Gpt2Config;
use crate::engine::error::{EngineError, Result};
use crate::engine::kernels::BlockType;
use crate::engine::weights::store::WeightStore;
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use candle_nn::LayerNorm;
use std::sync::Arc;

/// Prompt tokens processed per forward pass; bounds the `[heads, s, T]` score matrix.
const PREFILL_CHUNK: usize = 256;

/// The token embedding doubles as the output projection.
enum TokenEmbedding {
    /// f32/bf16 weights (and f16 where no kernel of ours takes it), widened to f32 once.
    Float(Tensor),
    Quantized(Arc<QTensor>),
}

pub struct Gpt2Model {
    cfg: Gpt2Config,
    wte: TokenEmbedding,
    wpe: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: LinearWeight,
    caches: Vec<KvCache>,
    /// Storage types of the weights, for display ("q8_0", "q4_k+q6_k", ...).
    weight_types: Vec<GgmlDType>,
}

fn check_shape(name: &str, got: &[usize], expected: &[usize]) -> Result<()> {
    if got != expected {
        return Err(EngineError::ShapeMismatch { name: name.into(), got: got.to_vec(), expected: expected.to_vec() });
    }
    Ok(())
}

fn float(store: &mut WeightStore, name: &str, shape: &[usize]) -> Result<Tensor> {
    let q = store.take(name)?;
    check_shape(name, q.shape().dims(), shape)?;
    Ok(q.dequantize(&Device::Cpu)?)
}

fn layer_norm(store: &mut WeightStore, prefix: &str, n: usize, eps: f64) -> Result<LayerNorm> {
    let w = float(store, &format!("{prefix}.weight"), &[n])?;
    let b = float(store, &format!("{prefix}.bias"), &[n])?;
    Ok(LayerNorm::new(w, b, eps))
}

fn linear(store: &mut WeightStore, prefix: &str, n_in: usize, n_out: usize) -> Result<Linear> {
    let w = store.take(&format!("{prefix}.weight"))?;
    let b = float(store, &format!("{prefix}.bias"), &[n_out])?;
    Linear::new(prefix, w, b, n_in, n_out)
}

impl Gpt2Model {
    /// Builds the model, consuming the store tensor by tensor so weights are never held twice.
    pub fn from_store(cfg: &Gpt2Config, mut store: WeightStore) -> Result<Self> {
        cfg.validate()?;
        let e = cfg.n_embd;
        let eps = cfg.layer_norm_epsilon;
        let mut weight_types = Vec::new();
        let mut blocks = Vec::with_capacity(cfg.n_layer);
        for i in 0..cfg.n_layer {
            let p = format!("blk.{i}");
            let block = Block {
                ln_1: layer_norm(&mut store, &format!("{p}.attn_norm"), e, eps)?,
                attn_qkv: linear(&mut store, &format!("{p}.attn_qkv"), e, 3 * e)?,
                attn_out: linear(&mut store, &format!("{p}.attn_output"), e, e)?,
                ln_2: layer_norm(&mut store, &format!("{p}.ffn_norm"), e, eps)?,
                ffn_up: linear(&mut store, &format!("{p}.ffn_up"), e, cfg.n_inner)?,
                ffn_down: linear(&mut store, &format!("{p}.ffn_down"), cfg.n_inner, e)?,
            };
            for l in [&block.attn_qkv, &block.attn_out, &block.ffn_up, &block.ffn_down] {
                weight_types.push(l.dtype());
            }
            blocks.push(block);
        }
        let ln_f = layer_norm(&mut store, "output_norm", e, eps)?;
        let wpe = float(&mut store, "position_embd.weight", &[cfg.n_positions, e])?;
        let tok = store.take("token_embd.weight")?;
        check_shape("token_embd.weight", tok.shape().dims(), &[cfg.vocab_size, e])?;
        weight_types.push(tok.dtype());
        let separate_head = store.take("output.weight").ok();
        let wte = match tok.dtype() {
            // f16 stays f16 where our kernels multiply it: the head then reads it in place.
            GgmlDType::F16 if BlockType::from_dtype(GgmlDType::F16).is_some() => TokenEmbedding::Quantized(Arc::new(tok)),
            GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16 => TokenEmbedding::Float(tok.dequantize(&Device::Cpu)?),
            _ => TokenEmbedding::Quantized(Arc::new(tok)),
        };
        let head = match (separate_head, &wte) {
            (Some(h), _) => {
                check_shape("output.weight", h.shape().dims(), &[cfg.vocab_size, e])?;
                LinearWeight::new(Arc::new(h))?
            }
            (None, TokenEmbedding::Float(t)) => LinearWeight::Candle(QMatMul::Tensor(t.clone())),
            (None, TokenEmbedding::Quantized(q)) => LinearWeight::new(q.clone())?,
        };
        let caches = (0..cfg.n_layer)
            .map(|_| KvCache::new(cfg.n_head, cfg.n_positions, cfg.head_dim()))
            .collect();
        weight_types.dedup();
        Ok(Self { cfg: cfg.clone(), wte, wpe, blocks, ln_f, head, caches, weight_types })
    }

    pub fn config(&self) -> &Gpt2Config {
        &self.cfg
    }

    /// Positions whose keys and values are cached.
    pub fn cache_len(&self) -> usize {
        self.caches[0].len()
    }

    /// Keeps only the first `len` cached positions.
    pub fn truncate_cache(&mut self, len: usize) {
        for c in &mut self.caches {
            c.truncate(len);
        }
    }

    /// Short description of the weight types, e.g. `q8_0` or `q4_k+q6_k`.
    pub fn weight_type_label(&self) -> String {
        let mut names: Vec<String> = self.weight_types.iter().map(|t| format!("{t:?}").to_lowercase()).collect();
        names.dedup();
        names.join("+")
    }

    fn embed(&self, tokens: &[u32], start: usize) -> Result<Tensor> {
        if let Some(bad) = tokens.iter().find(|t| **t as usize >= self.cfg.vocab_size) {
            return Err(EngineError::InvalidInput(format!("token id {bad} is outside the vocabulary")));
        }
        let ids = Tensor::new(tokens, &Device::Cpu)?;
        let tok = match &self.wte {
            TokenEmbedding::Float(t) => t.index_select(&ids, 0)?,
            TokenEmbedding::Quantized(q) => q.embedding(&ids)?,
        };
        let pos = self.wpe.narrow(0, start, tokens.len())?;
        Ok((tok + pos)?)
    }

    /// Runs `tokens` (which continue the cached positions) through the blocks; returns the
    /// final-normed hidden states `[tokens, n_embd]`.
    fn hidden(&mut self, tokens: &[u32]) -> Result<Tensor> {
        let start = self.cache_len();
        if tokens.is_empty() {
            return Err(EngineError::InvalidInput("no tokens to process".into()));
        }
        if start + tokens.len() > self.cfg.n_positions {
            return Err(EngineError::InvalidInput(format!(
                "{} tokens do not fit the {}-position context ({} already used)",
                tokens.len(),
                self.cfg.n_positions,
                start
            )));
        }
        let mut x = self.embed(tokens, start)?;
        for (block, cache) in self.blocks.iter().zip(self.caches.iter_mut()) {
            x = block.forward(&x, cache)?;
        }
        Ok(self.ln_f.forward(&x)?)
    }

    /// Feeds `tokens` after the cached positions and returns the next-token logits
    /// (`[vocab]`) after the last of them. Long prompts go through in chunks.
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Tensor> {
        let mut last = None;
        for chunk in tokens.chunks(PREFILL_CHUNK) {
            last = Some(self.hidden(chunk)?);
        }
        let h = last.ok_or_else(|| EngineError::InvalidInput("no tokens to process".into()))?;
        let n = h.dim(0)?;
        let h = h.narrow(0, n - 1, 1)?;
        Ok(self.head.forward(&h, None)?.squeeze(0)?)
    }

    /// Puts `tokens` into the KV cache after the cached positions without computing logits
    /// (no output projection: about a sixth of a medium token's work).
    pub fn extend_cache(&mut self, tokens: &[u32]) -> Result<()> {
        for chunk in tokens.chunks(PREFILL_CHUNK) {
            self.hidden(chunk)?;
        }
        Ok(())
    }

    /// Logits at every position of `tokens` (`[tokens, vocab]`), for checks against a reference.
    pub fn forward_all(&mut self, tokens: &[u32]) -> Result<Tensor> {
        let h = self.hidden(tokens)?;
        self.head.forward(&h, None)
    }
}
