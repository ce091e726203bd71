//! The block type of a weight matrix: how GGUF lays out its rows, and so which kernels
//! multiply it and how the activations are prepared for them.

use super::activations::ActFormat;
use super::{f16, q4_k, q6_k, q8_0};
use candle_core::quantized::GgmlDType;

/// A block type our kernels multiply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockType {
    Q8_0,
    Q4K,
    Q6K,
    /// Natively only: on wasm32 candle's f32 path stays (no simd128 kernel here).
    F16,
}

impl BlockType {
    pub fn from_dtype(dtype: GgmlDType) -> Option<Self> {
        match dtype {
            GgmlDType::Q8_0 => Some(BlockType::Q8_0),
            GgmlDType::Q4K => Some(BlockType::Q4K),
            GgmlDType::Q6K => Some(BlockType::Q6K),
            #[cfg(target_arch = "x86_64")]
            GgmlDType::F16 => Some(BlockType::F16),
            _ => None,
        }
    }

    /// Weights per block.
    pub fn block(self) -> usize {
        self.act_format().block()
    }

    pub fn block_bytes(self) -> usize {
        match self {
            BlockType::Q8_0 => q8_0::BLOCK_BYTES,
            BlockType::Q4K => q4_k::BLOCK_BYTES,
            BlockType::Q6K => q6_k::BLOCK_BYTES,
            BlockType::F16 => f16::BLOCK_BYTES,
        }
    }

    /// How the activations are quantized for this weight format.
    pub fn act_format(self) -> ActFormat {
        match self {
            BlockType::Q8_0 => ActFormat::Q8_0,
            BlockType::Q4K | BlockType::Q6K => ActFormat::Q8K,
            BlockType::F16 => ActFormat::F32,
        }
    }
}
