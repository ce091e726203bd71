//! Which storage type each weight gets when a float checkpoint is loaded.
//!
//! Matrices carry nearly all of the bytes, so they take the user's choice; norms and biases
//! stay f32 (tiny, and precision-sensitive). When the head shares the token embedding,
//! q4_k mode keeps that tensor at q6_k as llama.cpp does, because the output logits
//! suffer most from coarse quantization.

use super::error::{EngineError, Result};
use super::kernels::BlockType;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What the user picks for a float checkpoint: a recipe that names the block type of the
/// matrices and, through [`Quantization::block_type_for`], gives every tensor its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Quantization {
    F32,
    F16,
    #[default]
    Q8_0,
    Q4K,
}

impl Quantization {
    pub const ALL: [Quantization; 4] = [Quantization::Q8_0, Quantization::Q4K, Quantization::F16, Quantization::F32];

    pub fn as_str(self) -> &'static str {
        match self {
            Quantization::F32 => "f32",
            Quantization::F16 => "f16",
            Quantization::Q8_0 => "q8_0",
            Quantization::Q4K => "q4_k",
        }
    }

    /// llama.cpp's `general.file_type` code for a model quantized this way.
    pub fn gguf_file_type(self) -> u32 {
        match self {
            Quantization::F32 => 0,
            Quantization::F16 => 1,
            Quantization::Q8_0 => 7,
            Quantization::Q4K => 15, // MOSTLY_Q4_K_M
        }
    }

    fn matrix_block_type(self) -> BlockType {
        match self {
            Quantization::F32 => BlockType::F32,
            Quantization::F16 => BlockType::F16,
            Quantization::Q8_0 => BlockType::Q8_0,
            Quantization::Q4K => BlockType::Q4K,
        }
    }

    /// The block type for the tensor `name` (GGUF naming) of shape `shape`.
    pub fn block_type_for(self, name: &str, shape: &[usize]) -> BlockType {
        if shape.len() < 2 || name == "position_embd.weight" {
            return if name == "position_embd.weight" && self == Quantization::F16 {
                BlockType::F16
            } else {
                BlockType::F32
            };
        }
        let wanted = match (self, name) {
            (Quantization::Q4K, "token_embd.weight") => BlockType::Q6K,
            _ => self.matrix_block_type(),
        };
        fallback_for_row(wanted, *shape.last().unwrap())
    }
}

/// Quantized block types need rows that are whole blocks; step down to one that fits, as
/// llama.cpp does for odd shapes (q4_k/q6_k → q8_0 → f16).
fn fallback_for_row(wanted: BlockType, row: usize) -> BlockType {
    match wanted {
        BlockType::Q4K | BlockType::Q6K if !row.is_multiple_of(BlockType::Q4K.block()) => fallback_for_row(BlockType::Q8_0, row),
        BlockType::Q8_0 if !row.is_multiple_of(BlockType::Q8_0.block()) => BlockType::F16,
        other => other,
    }
}

impl fmt::Display for Quantization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Quantization {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "f32" => Ok(Quantization::F32),
            "f16" => Ok(Quantization::F16),
            "q8_0" | "q8" => Ok(Quantization::Q8_0),
            "q4_k" | "q4k" | "q4_k_m" => Ok(Quantization::Q4K),
            _ => Err(EngineError::InvalidInput(format!(
                "unknown quantization `{s}`: use q8_0, q4_k, f16 or f32"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_per_tensor() {
        let q = Quantization::Q4K;
        assert_eq!(q.block_type_for("blk.0.attn_qkv.weight", &[3072, 1024]), BlockType::Q4K);
        assert_eq!(q.block_type_for("token_embd.weight", &[50257, 1024]), BlockType::Q6K);
        assert_eq!(q.block_type_for("blk.0.attn_qkv.bias", &[3072]), BlockType::F32);
        assert_eq!(q.block_type_for("position_embd.weight", &[1024, 1024]), BlockType::F32);
        // rows of 32 cannot hold q4_k blocks of 256: fall back to q8_0
        assert_eq!(q.block_type_for("blk.0.ffn_up.weight", &[128, 32]), BlockType::Q8_0);
        assert_eq!(Quantization::Q8_0.block_type_for("blk.0.ffn_up.weight", &[128, 20]), BlockType::F16);
    }

    #[test]
    fn parses_names() {
        assert_eq!("Q4_K_M".parse::<Quantization>().unwrap(), Quantization::Q4K);
        assert_eq!("q8_0".parse::<Quantization>().unwrap(), Quantization::Q8_0);
        assert!("q3".parse::<Quantization>().is_err());
    }
}
