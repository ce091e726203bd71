//! The built model as GGUF tensors again, borrowing its own buffers: what lets the browser keep
//! a downloaded model after it has started answering (see `engine::model_file`) without a
//! second copy of the weights in memory.

use super::block::Block;
use super::gpt2::Gpt2Model;
use super::linear::Linear;
use super::norm::LayerNorm;
use crate::engine::kernels::Matrix;
use candle_core::quantized::GgmlDType;

/// One tensor of the model in GGUF's terms; `bytes` are the model's own.
pub struct SavedTensor<'m> {
    pub name: String,
    pub dtype: GgmlDType,
    /// Row-major, as the loader checked them.
    pub dims: Vec<usize>,
    pub bytes: &'m [u8],
}

fn values<'m>(name: String, v: &'m [f32]) -> SavedTensor<'m> {
    // GGUF is little-endian, as is every target this builds for (wasm32, x86-64, aarch64).
    SavedTensor { name, dtype: GgmlDType::F32, dims: vec![v.len()], bytes: bytemuck::cast_slice(v) }
}

fn matrix<'m>(name: String, m: &'m Matrix) -> SavedTensor<'m> {
    SavedTensor { name, dtype: m.block().to_ggml(), dims: vec![m.rows(), m.cols()], bytes: m.bytes() }
}

fn norm<'m>(prefix: &str, n: &'m LayerNorm, out: &mut Vec<SavedTensor<'m>>) {
    out.push(values(format!("{prefix}.weight"), n.weight()));
    out.push(values(format!("{prefix}.bias"), n.bias()));
}

fn linear<'m>(prefix: &str, l: &'m Linear, out: &mut Vec<SavedTensor<'m>>) {
    out.push(matrix(format!("{prefix}.weight"), l.weight()));
    out.push(values(format!("{prefix}.bias"), l.bias()));
}

fn block<'m>(i: usize, b: &'m Block, out: &mut Vec<SavedTensor<'m>>) {
    let p = |leaf: &str| format!("blk.{i}.{leaf}");
    let (attn_norm, attn_qkv, attn_output, ffn_norm, ffn_up, ffn_down) = b.parts();
    norm(&p("attn_norm"), attn_norm, out);
    linear(&p("attn_qkv"), attn_qkv, out);
    linear(&p("attn_output"), attn_output, out);
    norm(&p("ffn_norm"), ffn_norm, out);
    linear(&p("ffn_up"), ffn_up, out);
    linear(&p("ffn_down"), ffn_down, out);
}

impl Gpt2Model {
    /// Every weight under its GGUF name, in the order `engine::gguf_write` writes a model (the
    /// file is then the same as one written before the model was built).
    pub fn saved_tensors(&self) -> Vec<SavedTensor<'_>> {
        let mut out = vec![matrix("token_embd.weight".into(), &self.token_embd)];
        let mut position = values("position_embd.weight".into(), &self.position_embd);
        position.dims = vec![self.config.n_positions, self.config.n_embd];
        out.push(position);
        norm("output_norm", &self.output_norm, &mut out);
        for (i, b) in self.blocks.iter().enumerate() {
            block(i, b, &mut out);
        }
        if let Some(head) = &self.output {
            out.push(matrix("output.weight".into(), head));
        }
        out
    }
}
