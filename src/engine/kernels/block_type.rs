//! The block type of a weight matrix: how GGUF lays out its rows, and so which kernels
//! multiply it and how the activations are prepared for them. This is the engine's one name
//! for it; candle's `GgmlDType` appears only where GGUF is read and written.

use super::activations::ActFormat;
use super::{float, q4_k, q6_k, q8_0};
use candle_core::quantized::GgmlDType;

/// A block type our kernels multiply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockType {
    Q8_0,
    Q4K,
    Q6K,
    F16,
    F32,
}

impl BlockType {
    /// `None` for the GGUF types the kernels do not take (the weight store converts those).
    pub fn from_ggml(dtype: GgmlDType) -> Option<Self> {
        match dtype {
            GgmlDType::Q8_0 => Some(BlockType::Q8_0),
            GgmlDType::Q4K => Some(BlockType::Q4K),
            GgmlDType::Q6K => Some(BlockType::Q6K),
            GgmlDType::F16 => Some(BlockType::F16),
            GgmlDType::F32 => Some(BlockType::F32),
            _ => None,
        }
    }

    pub fn to_ggml(self) -> GgmlDType {
        match self {
            BlockType::Q8_0 => GgmlDType::Q8_0,
            BlockType::Q4K => GgmlDType::Q4K,
            BlockType::Q6K => GgmlDType::Q6K,
            BlockType::F16 => GgmlDType::F16,
            BlockType::F32 => GgmlDType::F32,
        }
    }

    /// The name GGUF tools print: `q8_0`, `q4_k`, `f16`...
    pub fn name(self) -> &'static str {
        match self {
            BlockType::Q8_0 => "q8_0",
            BlockType::Q4K => "q4_k",
            BlockType::Q6K => "q6_k",
            BlockType::F16 => "f16",
            BlockType::F32 => "f32",
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
            BlockType::F16 => float::F16_BLOCK_BYTES,
            BlockType::F32 => float::F32_BLOCK_BYTES,
        }
    }

    /// How the activations are quantized for this block type.
    pub fn act_format(self) -> ActFormat {
        match self {
            BlockType::Q8_0 => ActFormat::Q8_0,
            BlockType::Q4K | BlockType::Q6K => ActFormat::Q8K,
            BlockType::F16 | BlockType::F32 => ActFormat::F32,
        }
    }

    /// The values of one row (`row`: its bytes, whole blocks) into `out`.
    pub fn dequantize(self, row: &[u8], out: &mut [f32]) {
        let block = self.block();
        assert_eq!(row.len() * block, out.len() * self.block_bytes(), "row bytes do not match {} values", out.len());
        match self {
            BlockType::F16 => float::dequantize::<true>(row, out),
            BlockType::F32 => float::dequantize::<false>(row, out),
            _ => {
                let one = match self {
                    BlockType::Q8_0 => q8_0::dequantize,
                    BlockType::Q4K => q4_k::dequantize,
                    _ => q6_k::dequantize,
                };
                for (b, o) in row.chunks_exact(self.block_bytes()).zip(out.chunks_exact_mut(block)) {
                    one(b, o);
                }
            }
        }
    }
}
