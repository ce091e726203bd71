//! The collected weights of one model, by GGUF name, each in its final storage type.
//! It is the [`TensorSink`] every loader fills, the input of the model builder and of the
//! GGUF writer.

use super::names::map_hub_name;
use super::transpose::transpose;
use super::{check_block_bytes, qtensor_from_bytes, FloatDtype, TensorSink};
use crate::engine::error::{EngineError, Result};
use crate::engine::kernels::{BlockType, Matrix};
use crate::engine::q8_0_quantizer::{quantize_q8_0, quantize_q8_0_transposed};
use crate::engine::quantize::Quantization;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use std::borrow::Cow;
use std::collections::HashMap;

/// One tensor as the store keeps it.
pub enum StoredTensor {
    /// GGUF bytes kept as they arrived: a weight matrix moves into the model without a copy.
    Blocks { dtype: GgmlDType, dims: Vec<usize>, bytes: Vec<u8> },
    /// Made here: quantized from a float checkpoint, or converted from a block type the
    /// kernels do not take.
    Converted(QTensor),
}

impl StoredTensor {
    pub fn dtype(&self) -> GgmlDType {
        match self {
            StoredTensor::Blocks { dtype, .. } => *dtype,
            StoredTensor::Converted(t) => t.dtype(),
        }
    }

    /// Row-major, as candle orders them.
    pub fn dims(&self) -> &[usize] {
        match self {
            StoredTensor::Blocks { dims, .. } => dims,
            StoredTensor::Converted(t) => t.shape().dims(),
        }
    }

    pub fn storage_size_in_bytes(&self) -> usize {
        match self {
            StoredTensor::Blocks { bytes, .. } => bytes.len(),
            StoredTensor::Converted(t) => t.storage_size_in_bytes(),
        }
    }

    /// The GGUF block bytes.
    pub fn data(&self) -> Result<Cow<'_, [u8]>> {
        match self {
            StoredTensor::Blocks { bytes, .. } => Ok(Cow::Borrowed(bytes)),
            StoredTensor::Converted(t) => Ok(t.data()?),
        }
    }

    /// The values as f32 (norms, biases, position embeddings; tests).
    pub fn dequantize(&self, device: &Device) -> Result<Tensor> {
        match self {
            StoredTensor::Blocks { dtype, dims, bytes } => Ok(qtensor_from_bytes(*dtype, bytes, dims)?.dequantize(device)?),
            StoredTensor::Converted(t) => Ok(t.dequantize(device)?),
        }
    }

    /// A weight matrix for the kernels; GGUF bytes are moved, not copied.
    pub fn into_matrix(self) -> Result<Matrix> {
        match self {
            StoredTensor::Blocks { dtype, dims, bytes } => Matrix::from_gguf(dtype, &dims, bytes),
            StoredTensor::Converted(t) => Matrix::from_qtensor(&t),
        }
    }
}

pub struct WeightStore {
    quant: Quantization,
    tensors: HashMap<String, StoredTensor>,
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
    pub fn new(quant: Quantization) -> Self {
        Self { quant, tensors: HashMap::new() }
    }

    pub fn quant(&self) -> Quantization {
        self.quant
    }

    pub fn get(&self, name: &str) -> Option<&StoredTensor> {
        self.tensors.get(name)
    }

    pub fn take(&mut self, name: &str) -> Result<StoredTensor> {
        self.tensors.remove(name).ok_or_else(|| EngineError::MissingTensor(name.to_string()))
    }

    pub fn insert(&mut self, name: &str, t: QTensor) {
        self.tensors.insert(name.to_string(), StoredTensor::Converted(t));
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
        // A Conv1D weight bound for q8_0 is quantized from its stored layout, never copied
        // transposed (quantize_q8_0_transposed); other targets transpose first.
        let mut pending_transpose = None;
        if transposed {
            let [rows, cols] = shape[..] else {
                return Err(EngineError::ShapeMismatch { name: name.into(), got: shape, expected: vec![0, 0] });
            };
            pending_transpose = Some((rows, cols));
            shape = vec![cols, rows];
        }
        let block = self.quant.block_type_for(&target, &shape);
        if let (BlockType::Q8_0, &[_, row_len]) = (block, shape.as_slice()) {
            let bytes = match pending_transpose {
                Some((rows, cols)) => quantize_q8_0_transposed(&values, rows, cols),
                None => quantize_q8_0(&values, row_len),
            };
            self.tensors.insert(target, StoredTensor::Blocks { dtype: GgmlDType::Q8_0, dims: shape, bytes });
            return Ok(());
        }
        if let Some((rows, cols)) = pending_transpose {
            values = transpose(&values, rows, cols);
        }
        let tensor = Tensor::from_vec(values, shape.as_slice(), &Device::Cpu)?;
        let q = QTensor::quantize(&tensor, block.to_ggml())?;
        self.insert(&target, q);
        Ok(())
    }

    /// GGUF tensors keep their block type where the kernels take it. Others are converted
    /// once here: bf16 widens to f32 (exactly); a matrix of another quantized type (q4_0,
    /// q5_k...) becomes q8_0, whose rounding step is far below theirs and whose kernels are
    /// the fastest; other tensors are read as f32 values when the model is built.
    fn gguf_tensor(&mut self, name: &str, dtype: GgmlDType, dims: &[usize], bytes: Vec<u8>) -> Result<()> {
        check_block_bytes(dtype, bytes.len(), dims)?;
        let converted = match dtype {
            GgmlDType::BF16 => Some(GgmlDType::F32),
            _ if BlockType::from_ggml(dtype).is_none() && dims.len() == 2 => Some(GgmlDType::Q8_0),
            _ => None,
        };
        let tensor = match converted {
            Some(to) => {
                let values = qtensor_from_bytes(dtype, &bytes, dims)?.dequantize(&Device::Cpu)?;
                StoredTensor::Converted(QTensor::quantize(&values, to)?)
            }
            None => StoredTensor::Blocks { dtype, dims: dims.to_vec(), bytes },
        };
        self.tensors.insert(name.to_string(), tensor);
        Ok(())
    }
}
