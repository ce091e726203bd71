//! The collected weights of one model, by GGUF name, each in its final storage type.
//! It is the [`TensorSink`] every loader fills, the input of the model builder and of the
//! GGUF writer.

use super::names::map_hub_name;
use super::{FloatDtype, TensorSink};
use crate::engine::error::{EngineError, Result};
use crate::engine::quantize::QuantType;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use std::collections::HashMap;

pub struct WeightStore {
    quant: QuantType,
    tensors: HashMap<String, QTensor>,
}

/// Is `name` already a GGUF `gpt2` tensor name?
fn is_gguf_name(name: &str) -> bool {
    name.starts_with("blk.")
        || matches!(
            name,
            "token_embd.weight" | "position_embd.weight" | "output_norm.weight" | "output_norm.bias" | "output.weight"
        )
}

impl WeightStore {
    pub fn new(quant: QuantType) -> Self {
        Self { quant, tensors: HashMap::new() }
    }

    pub fn quant(&self) -> QuantType {
        self.quant
    }

    pub fn get(&self, name: &str) -> Option<&QTensor> {
        self.tensors.get(name)
    }

    pub fn take(&mut self, name: &str) -> Result<QTensor> {
        self.tensors.remove(name).ok_or_else(|| EngineError::MissingTensor(name.to_string()))
    }

    pub fn insert(&mut self, name: &str, t: QTensor) {
        self.tensors.insert(name.to_string(), t);
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.tensors.keys()
    }

    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Bytes the stored tensors occupy.
    pub fn size_in_bytes(&self) -> usize {
        self.tensors.values().map(|t| t.storage_size_in_bytes()).sum()
    }
}

/// `[rows, cols]` row-major `src` to `[cols, rows]`.
fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; src.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = src[r * cols + c];
        }
    }
    out
}

impl TensorSink for WeightStore {
    fn wants(&self, name: &str) -> bool {
        is_gguf_name(name) || map_hub_name(name).is_some()
    }

    fn float_tensor(&mut self, name: &str, dtype: FloatDtype, shape: &[usize], bytes: &[u8]) -> Result<()> {
        let (target, transposed) = match map_hub_name(name) {
            Some(m) => (m.name, m.transpose),
            None if is_gguf_name(name) => (name.to_string(), false),
            None => return Ok(()),
        };
        let mut values = dtype.to_f32(bytes);
        let mut shape = shape.to_vec();
        if transposed {
            let [rows, cols] = shape[..] else {
                return Err(EngineError::ShapeMismatch { name: name.into(), got: shape, expected: vec![0, 0] });
            };
            values = transpose(&values, rows, cols);
            shape = vec![cols, rows];
        }
        let storage_dtype = self.quant.dtype_for(&target, &shape);
        let tensor = Tensor::from_vec(values, shape.as_slice(), &Device::Cpu)?;
        let q = QTensor::quantize(&tensor, storage_dtype)?;
        self.tensors.insert(target, q);
        Ok(())
    }

    fn quantized_tensor(&mut self, name: &str, tensor: QTensor) -> Result<()> {
        if tensor.dtype() == GgmlDType::BF16 {
            // candle has no bf16 matmul on CPU: widen once at load.
            let t = tensor.dequantize(&Device::Cpu)?;
            self.tensors.insert(name.to_string(), QTensor::quantize(&t, GgmlDType::F32)?);
        } else {
            self.tensors.insert(name.to_string(), tensor);
        }
        Ok(())
    }
}
