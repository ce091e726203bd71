//! Quantized matrix-product kernels of our own, replacing candle's `QMatMul` for the block
//! formats the models use (q8_0, q4_K, q6_K):
//!
//! - `activations` — each input row quantized once (q8_0 or q8_K), not once per weight row;
//! - `q8_0`, `q4_k`, `q6_k`, `f16` — one folder per block type: its layout and scalar
//!   reference tile in `mod.rs`, then one file per instruction set (`avx2`, `avx512`,
//!   `simd128`); `simd` — the helpers the tiles of one instruction set share;
//! - `tile` — which tile runs for a block type and path; `matmul` — the tiled driver,
//!   threaded natively (`parallel`: candle's barrier pool);
//! - `attention` — the key/value cache and softmax attention over it;
//! - `arch` — which path runs (run-time detection on x86_64).
//!
//! Weights stay in GGUF's block layout inside candle's `QTensor` (no copy, no extra memory);
//! the kernels read its bytes.

pub mod activations;
pub mod arch;
mod block_type;
pub mod attention;
pub mod exp;
pub mod f16;
pub mod gelu;
pub mod matmul;
pub mod parallel;
pub mod q4_k;
pub mod q6_k;
pub mod q8_0;
pub mod simd;
mod tile;

pub use activations::{ActFormat, QuantActs};
pub use arch::Arch;
pub use block_type::BlockType;

use crate::engine::error::Result;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{CpuStorage, Device, Storage, Tensor};
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

/// A quantized `[n, k]` weight (rows are output features) that our kernels multiply.
pub struct QuantMatrix {
    tensor: Arc<QTensor>,
    format: BlockType,
    n: usize,
    k: usize,
}

thread_local! {
    /// Quantized activations, reused from call to call.
    static ACTS: RefCell<QuantActs> = RefCell::new(QuantActs::empty(ActFormat::Q8_0));
}

impl QuantMatrix {
    /// `None` when the tensor's type or shape is not one the kernels handle (the caller keeps
    /// candle's `QMatMul` then).
    pub fn new(tensor: Arc<QTensor>) -> Option<Self> {
        let format = BlockType::from_dtype(tensor.dtype())?;
        let &[n, k] = tensor.shape().dims() else { return None };
        if n == 0 || k == 0 || k % format.block() != 0 || !matches!(tensor.data().ok()?, Cow::Borrowed(_)) {
            return None;
        }
        Some(Self { tensor, format, n, k })
    }

    pub fn rows(&self) -> usize {
        self.n
    }

    pub fn cols(&self) -> usize {
        self.k
    }

    pub fn format(&self) -> BlockType {
        self.format
    }

    pub fn tensor(&self) -> &Arc<QTensor> {
        &self.tensor
    }

    /// The GGUF block bytes of all rows.
    pub fn bytes(&self) -> &[u8] {
        match self.tensor.data() {
            Ok(Cow::Borrowed(b)) => b,
            // `new` accepted only CPU tensors, whose data is borrowed.
            _ => unreachable!("quantized weights are not in CPU memory"),
        }
    }

    /// `[m, n] = x[m, k] · wᵀ` on the given path (tests compare every path).
    pub fn matmul_with(&self, arch: Arch, x: &[f32], m: usize) -> Vec<f32> {
        let acts = QuantActs::quantize(self.format.act_format(), x, m, self.k);
        let mut out = vec![0f32; m * self.n];
        matmul::matmul(self.format, arch, self.bytes(), self.n, &acts, &mut out);
        out
    }

    /// `[m, n] = x[m, k] · wᵀ (+ bias)` on the fastest path, reusing a per-thread buffer for
    /// the quantized activations.
    pub fn matmul_into(&self, x: &[f32], m: usize, bias: Option<&[f32]>, out: &mut [f32]) {
        self.matmul_then(x, m, bias, |_| (), out);
    }

    /// `matmul_into`, then `then` on each output row in place (e.g. an activation function);
    /// bias and `then` run on the native threads for prompt batches.
    pub fn matmul_then(&self, x: &[f32], m: usize, bias: Option<&[f32]>, then: impl Fn(&mut [f32]) + Sync, out: &mut [f32]) {
        ACTS.with(|acts| {
            let mut acts = acts.borrow_mut();
            acts.quantize_into(self.format.act_format(), x, m, self.k);
            matmul::matmul(self.format, Arch::best(), self.bytes(), self.n, &acts, out);
        });
        let n = self.n;
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

    /// `x`: `[m, k]` f32 → `[m, n]` (+ bias).
    pub fn forward(&self, x: &Tensor, bias: Option<&[f32]>) -> Result<Tensor> {
        self.forward_then(x, bias, |_| ())
    }

    /// `forward`, then `then` on each output row in place (e.g. an activation function).
    pub fn forward_then(&self, x: &Tensor, bias: Option<&[f32]>, then: impl Fn(&mut [f32]) + Sync) -> Result<Tensor> {
        let (m, k) = x.dims2()?;
        if k != self.k {
            return Err(crate::engine::EngineError::ShapeMismatch {
                name: "matmul input".into(),
                got: vec![m, k],
                expected: vec![m, self.k],
            });
        }
        let mut out = vec![0f32; m * self.n];
        with_f32(x, |xs| self.matmul_then(xs, m, bias, then, &mut out))?;
        Ok(Tensor::from_vec(out, (m, self.n), &Device::Cpu)?)
    }
}

/// Runs `f` on the f32 elements of `t` in row-major order, without copying when `t` is a
/// contiguous f32 CPU tensor.
pub fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    if t.is_contiguous() {
        let (storage, layout) = t.storage_and_layout();
        if let Storage::Cpu(CpuStorage::F32(v)) = &*storage {
            let start = layout.start_offset();
            return Ok(f(&v[start..start + t.elem_count()]));
        }
    }
    let v = t.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?;
    Ok(f(&v))
}
