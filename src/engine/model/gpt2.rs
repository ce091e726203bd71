//! The whole GPT-2 language model: embeddings, blocks, final norm and the output
//! projection, which is the token embedding itself unless the file has its own.

use super::block::Block;
use super::norm::LayerNorm;
use crate::engine::config::Gpt2Config;
use crate::engine::error::{EngineError, Result};
use crate::engine::kernels::attention::KvCache;
use crate::engine::kernels::{BlockType, Matrix};
use crate::engine::quantize::Quantization;

/// Prompt tokens processed per forward pass; bounds the attention's work per call.
const PREFILL_CHUNK: usize = 256;

pub struct Gpt2Model {
    pub(super) config: Gpt2Config,
    pub(super) token_embd: Matrix,
    /// `[n_positions, n_embd]`
    pub(super) position_embd: Vec<f32>,
    pub(super) blocks: Vec<Block>,
    pub(super) output_norm: LayerNorm,
    /// `None`: tied to `token_embd`.
    pub(super) output: Option<Matrix>,
    pub(super) caches: Vec<KvCache>,
}

impl Gpt2Model {
    pub fn config(&self) -> &Gpt2Config {
        &self.config
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

    /// Short description of the weights' block types, e.g. `q8_0` or `q4_k+q6_k`.
    pub fn weight_type_label(&self) -> String {
        let mut types: Vec<BlockType> = self.blocks.iter().flat_map(Block::block_types).collect();
        types.push(self.token_embd.block());
        types.extend(self.output.as_ref().map(Matrix::block));
        let mut names: Vec<&str> = types.iter().map(|t| t.name()).collect();
        names.dedup();
        names.join("+")
    }

    /// What the weights were quantized to, as GGUF's `general.file_type` names it: from the
    /// first block's matrices (a q4_k model keeps some in q6_k).
    pub fn quantization(&self) -> Quantization {
        match self.blocks.first().map(|b| b.block_types()[0]) {
            Some(BlockType::Q8_0) => Quantization::Q8_0,
            Some(BlockType::Q4K | BlockType::Q6K) => Quantization::Q4K,
            Some(BlockType::F16) => Quantization::F16,
            _ => Quantization::F32,
        }
    }

    fn head(&self) -> &Matrix {
        self.output.as_ref().unwrap_or(&self.token_embd)
    }

    /// Token plus position embeddings of `tokens` placed from position `start`: `[s, n_embd]`.
    fn embed(&self, tokens: &[u32], start: usize) -> Result<Vec<f32>> {
        if let Some(bad) = tokens.iter().find(|t| **t as usize >= self.config.vocab_size) {
            return Err(EngineError::InvalidInput(format!("token id {bad} is outside the vocabulary")));
        }
        let e = self.config.n_embd;
        let mut x = vec![0f32; tokens.len() * e];
        for (i, (&t, row)) in tokens.iter().zip(x.chunks_exact_mut(e)).enumerate() {
            self.token_embd.row_into(t as usize, row);
            let pos = &self.position_embd[(start + i) * e..(start + i + 1) * e];
            for (v, p) in row.iter_mut().zip(pos) {
                *v += p;
            }
        }
        Ok(x)
    }

    /// Runs `tokens` (which continue the cached positions) through the blocks; returns the
    /// final-normed hidden states `[tokens, n_embd]`.
    fn hidden(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        let start = self.cache_len();
        if tokens.is_empty() {
            return Err(EngineError::InvalidInput("no tokens to process".into()));
        }
        if start + tokens.len() > self.config.n_positions {
            return Err(EngineError::InvalidInput(format!(
                "{} tokens do not fit the {}-position context ({} already used)",
                tokens.len(),
                self.config.n_positions,
                start
            )));
        }
        let mut x = self.embed(tokens, start)?;
        for (block, cache) in self.blocks.iter().zip(self.caches.iter_mut()) {
            block.forward(&mut x, tokens.len(), cache)?;
        }
        Ok(self.output_norm.forward(&x))
    }

    /// Feeds `tokens` after the cached positions and returns the next-token logits
    /// (`vocab_size` values) after the last of them. Long prompts go through in chunks.
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        let mut last = None;
        for chunk in tokens.chunks(PREFILL_CHUNK) {
            last = Some(self.hidden(chunk)?);
        }
        let h = last.ok_or_else(|| EngineError::InvalidInput("no tokens to process".into()))?;
        let e = self.config.n_embd;
        let mut logits = vec![0f32; self.config.vocab_size];
        self.head().matmul_into(&h[h.len() - e..], 1, None, &mut logits);
        Ok(logits)
    }

    /// Puts `tokens` into the KV cache after the cached positions without computing logits
    /// (no output projection: about a sixth of a medium token's work).
    pub fn extend_cache(&mut self, tokens: &[u32]) -> Result<()> {
        for chunk in tokens.chunks(PREFILL_CHUNK) {
            self.hidden(chunk)?;
        }
        Ok(())
    }

    /// Logits at every position of `tokens` (`[tokens, vocab_size]`, row-major), for checks
    /// against a reference.
    pub fn forward_all(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        let h = self.hidden(tokens)?;
        let mut logits = vec![0f32; tokens.len() * self.config.vocab_size];
        self.head().matmul_into(&h, tokens.len(), None, &mut logits);
        Ok(logits)
    }
}
