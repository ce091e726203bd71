//! A linear layer whose weight is float or quantized, chosen when the model is loaded.

use crate::engine::error::{EngineError, Result};
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Module, Tensor};

pub struct Linear {
    /// `[out, in]`; candle's QMatMul keeps f32/f16 weights as plain tensors and block
    /// formats (q8_0, q4_k, ...) quantized, multiplying without dequantizing them.
    weight: QMatMul,
    bias: Tensor,
    dtype: GgmlDType,
    out_features: usize,
}

impl Linear {
    pub fn new(name: &str, weight: QTensor, bias: Tensor, in_features: usize, out_features: usize) -> Result<Self> {
        let dims = weight.shape().dims().to_vec();
        if dims != [out_features, in_features] {
            return Err(EngineError::ShapeMismatch {
                name: format!("{name}.weight"),
                got: dims,
                expected: vec![out_features, in_features],
            });
        }
        if bias.dims() != [out_features] {
            return Err(EngineError::ShapeMismatch {
                name: format!("{name}.bias"),
                got: bias.dims().to_vec(),
                expected: vec![out_features],
            });
        }
        let dtype = weight.dtype();
        Ok(Self { weight: QMatMul::from_qtensor(weight)?, bias, dtype, out_features })
    }

    /// `x`: `[tokens, in]` -> `[tokens, out]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.weight.forward(x)?.broadcast_add(&self.bias)?)
    }

    pub fn dtype(&self) -> GgmlDType {
        self.dtype
    }

    pub fn out_features(&self) -> usize {
        self.out_features
    }
}
