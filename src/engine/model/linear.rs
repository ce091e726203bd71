//! A linear layer whose weight is float or quantized, chosen when the model is loaded.

use crate::engine::error::{EngineError, Result};
use crate::engine::kernels::gelu::gelu_in_place;
use crate::engine::kernels::QuantMatrix;
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Module, Tensor};
use std::sync::Arc;

/// `[out, in]`: q8_0, q4_K and q6_K go to our kernels (`engine::kernels`); anything else
/// to candle's QMatMul, which keeps f32/f16 weights as plain tensors.
pub enum LinearWeight {
    Kernels(QuantMatrix),
    Candle(QMatMul),
}

impl LinearWeight {
    pub fn new(weight: Arc<QTensor>) -> Result<Self> {
        Ok(match QuantMatrix::new(weight.clone()) {
            Some(m) => LinearWeight::Kernels(m),
            None => LinearWeight::Candle(QMatMul::from_arc(weight)?),
        })
    }

    /// `x`: `[tokens, in]` -> `[tokens, out]` (+ bias, given as a tensor and as its values).
    pub fn forward(&self, x: &Tensor, bias: Option<(&Tensor, &[f32])>) -> Result<Tensor> {
        self.forward_then(x, bias, None)
    }

    /// `forward`, then `then` applied in place to the output values.
    pub fn forward_then(&self, x: &Tensor, bias: Option<(&Tensor, &[f32])>, then: Option<fn(&mut [f32])>) -> Result<Tensor> {
        match self {
            LinearWeight::Kernels(m) => m.forward_then(x, bias.map(|b| b.1), |v| {
                if let Some(f) = then {
                    f(v)
                }
            }),
            LinearWeight::Candle(q) => {
                let y = q.forward(x)?;
                let y = match bias {
                    Some((b, _)) => y.broadcast_add(b)?,
                    None => y,
                };
                let Some(f) = then else { return Ok(y) };
                let shape = y.shape().clone();
                let mut v = y.flatten_all()?.to_vec1::<f32>()?;
                f(&mut v);
                Ok(Tensor::from_vec(v, shape, &candle_core::Device::Cpu)?)
            }
        }
    }
}

pub struct Linear {
    weight: LinearWeight,
    bias: Tensor,
    bias_values: Vec<f32>,
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
        let bias_values = bias.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?;
        Ok(Self { weight: LinearWeight::new(Arc::new(weight))?, bias, bias_values, dtype, out_features })
    }

    /// `x`: `[tokens, in]` -> `[tokens, out]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.weight.forward(x, Some((&self.bias, &self.bias_values)))
    }

    /// `gelu(forward(x))` (GPT-2's tanh form), applied in place on the product.
    pub fn forward_gelu(&self, x: &Tensor) -> Result<Tensor> {
        self.weight.forward_then(x, Some((&self.bias, &self.bias_values)), Some(gelu_in_place))
    }

    pub fn dtype(&self) -> GgmlDType {
        self.dtype
    }

    pub fn out_features(&self) -> usize {
        self.out_features
    }
}
