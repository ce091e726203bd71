//! A weight matrix as the engine holds it: the GGUF block bytes of its rows, their block
//! type and shape. Loading hands one over per weight; the model multiplies by it and reads
//! token embeddings out of it; nothing else is kept.

use super::activations::{ActFormat, QuantActs};
use super::{matmul, parallel, Arch, BlockType};
use crate::engine::error::{EngineError, Result};
use candle_core::quantized::{GgmlDType, QTensor};
use std::cell::RefCell;

/// `[rows, cols]`, rows being output features, in GGUF's row-major block layout.
pub struct Matrix {
    bytes: Vec<u8>,
    block: BlockType,
    rows: usize,
    cols: usize,
}

thread_local! {
    /// Quantized activations, reused from call to call.
    static ACTS: RefCell<QuantActs> = RefCell::new(QuantActs::empty(ActFormat::Q8_0));
}

impl Matrix {
    /// `bytes` must hold `rows` rows of `cols` weights in whole blocks.
    pub fn new(block: BlockType, rows: usize, cols: usize, bytes: Vec<u8>) -> Result<Self> {
        let expected = rows * (cols / block.block()) * block.block_bytes();
        if rows == 0 || cols == 0 || !cols.is_multiple_of(block.block()) || bytes.len() != expected {
            return Err(EngineError::Corrupt(format!(
                "a {} matrix [{rows}, {cols}] needs rows of whole {}-blocks ({expected} bytes), got {} bytes",
                block.name(),
                block.block(),
                bytes.len()
            )));
        }
        Ok(Self { bytes, block, rows, cols })
    }

    /// A copy of a two-dimensional GGUF tensor whose block type the kernels take.
    pub fn from_qtensor(t: &QTensor) -> Result<Self> {
        Self::from_gguf(t.dtype(), t.shape().dims(), t.data()?.into_owned())
    }

    /// A `[rows, cols]` GGUF tensor's bytes, taken as they are.
    pub fn from_gguf(dtype: GgmlDType, dims: &[usize], bytes: Vec<u8>) -> Result<Self> {
        let block = BlockType::from_ggml(dtype).ok_or_else(|| EngineError::UnsupportedFormat(format!("no kernel multiplies {dtype:?} weights")))?;
        let &[rows, cols] = dims else {
            return Err(EngineError::ShapeMismatch { name: "matrix".into(), got: dims.to_vec(), expected: vec![0, 0] });
        };
        Self::new(block, rows, cols, bytes)
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn block(&self) -> BlockType {
        self.block
    }

    /// The GGUF block bytes of all rows.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Row `i`'s values into `out` (`cols` long): an embedding lookup.
    pub fn row_into(&self, i: usize, out: &mut [f32]) {
        let row_bytes = self.bytes.len() / self.rows;
        self.block.dequantize(&self.bytes[i * row_bytes..(i + 1) * row_bytes], out);
    }

    /// `[m, rows] = x[m, cols] · selfᵀ` on the given path (tests compare every path).
    pub fn matmul_with(&self, arch: Arch, x: &[f32], m: usize) -> Vec<f32> {
        let acts = QuantActs::quantize(self.block.act_format(), x, m, self.cols);
        let mut out = vec![0f32; m * self.rows];
        matmul::matmul(self.block, arch, &self.bytes, self.rows, &acts, &mut out);
        out
    }

    /// `out[m, rows] = x[m, cols] · selfᵀ (+ bias)` on the fastest path, reusing a
    /// per-thread buffer for the quantized activations.
    pub fn matmul_into(&self, x: &[f32], m: usize, bias: Option<&[f32]>, out: &mut [f32]) {
        self.matmul_then(x, m, bias, |_| (), out);
    }

    /// `matmul_into`, then `then` on each output row in place (e.g. an activation function);
    /// bias and `then` run on the native threads for prompt batches.
    pub fn matmul_then(&self, x: &[f32], m: usize, bias: Option<&[f32]>, then: impl Fn(&mut [f32]) + Sync, out: &mut [f32]) {
        assert_eq!(x.len(), m * self.cols, "input is not [{m}, {}]", self.cols);
        ACTS.with(|acts| {
            let mut acts = acts.borrow_mut();
            acts.quantize_into(self.block.act_format(), x, m, self.cols);
            matmul::matmul(self.block, Arch::best(), &self.bytes, self.rows, &acts, out);
        });
        let n = self.rows;
        let rows = parallel::Disjoint::new(out);
        parallel::for_ranges(m, 8, |range| {
            // SAFETY: the ranges of rows are disjoint.
            let part = unsafe { rows.part(range.start * n..range.end * n) };
            for row in part.chunks_exact_mut(n) {
                if let Some(b) = bias {
                    for (o, b) in row.iter_mut().zip(b) {
                        *o += b;
                    }
                }
                then(row);
            }
        });
    }
}
