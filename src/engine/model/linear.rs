//! A linear layer: a weight matrix of any block type, and its bias.

use crate::engine::kernels::gelu::gelu_in_place;
use crate::engine::kernels::{BlockType, Matrix};

pub struct Linear {
    weight: Matrix,
    bias: Vec<f32>,
}

impl Linear {
    /// `weight`: `[out, in]`; `bias`: `out` values (the loader checked both shapes).
    pub fn new(weight: Matrix, bias: Vec<f32>) -> Self {
        assert_eq!(weight.rows(), bias.len(), "bias does not match the weight's rows");
        Self { weight, bias }
    }

    /// `x`: `[s, in]` → `[s, out]`.
    pub fn forward(&self, x: &[f32], s: usize) -> Vec<f32> {
        let mut out = vec![0f32; s * self.weight.rows()];
        self.weight.matmul_into(x, s, Some(&self.bias), &mut out);
        out
    }

    /// `gelu(forward(x))` (GPT-2's tanh form), applied in place on the product.
    pub fn forward_gelu(&self, x: &[f32], s: usize) -> Vec<f32> {
        let mut out = vec![0f32; s * self.weight.rows()];
        self.weight.matmul_then(x, s, Some(&self.bias), gelu_in_place, &mut out);
        out
    }

    pub fn block(&self) -> BlockType {
        self.weight.block()
    }

    pub fn weight(&self) -> &Matrix {
        &self.weight
    }

    pub fn bias(&self) -> &[f32] {
        &self.bias
    }
}
