//! A LayerNorm's parameters, applied to rows of hidden states.

use crate::engine::kernels::norm::layer_norm;

pub struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    pub fn new(weight: Vec<f32>, bias: Vec<f32>, eps: f64) -> Self {
        Self { weight, bias, eps: eps as f32 }
    }

    pub fn weight(&self) -> &[f32] {
        &self.weight
    }

    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// `x`: rows of `weight.len()` → the normalized rows.
    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; x.len()];
        layer_norm(x, &self.weight, &self.bias, self.eps, &mut out);
        out
    }
}
