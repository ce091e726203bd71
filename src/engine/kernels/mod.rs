//! The engine's numeric layer, on plain slices of f32 and on GGUF block bytes: everything a
//! forward pass computes, natively and on wasm32, with no tensor library in between.
//!
//! - `matrix` — [`Matrix`], a weight as GGUF block bytes + [`BlockType`] + shape: matrix
//!   products and embedding rows;
//! - `activations` — each input row quantized once (q8_0 or q8_K), not once per weight row;
//! - `q8_0`, `q4_k`, `q6_k`, `float` (f16 and f32) — one folder per block type: its layout,
//!   dequantization and scalar reference tile in `mod.rs`, then one file per instruction set
//!   (`avx2`, `avx512`, `simd128`); `simd` — the helpers the tiles of one instruction set share;
//! - `tile` — which tile runs for a block type and path; `matmul` — the tiled driver;
//!   `parallel` — the one place work is split across threads (natively candle's barrier pool);
//! - `attention` — the key/value cache and softmax attention over it;
//! - `norm`, `gelu`, `exp` — the row-wise steps of a block;
//! - `arch` — which path runs (run-time detection on x86_64, fixed at build on wasm32).

pub mod activations;
pub mod arch;
mod block_type;
pub mod attention;
pub mod exp;
pub mod float;
pub mod gelu;
mod matrix;
pub mod matmul;
pub mod norm;
pub mod parallel;
pub mod q4_k;
pub mod q6_k;
pub mod q8_0;
pub mod simd;
mod tile;

pub use activations::{ActFormat, QuantActs};
pub use arch::Arch;
pub use block_type::BlockType;
pub use matrix::Matrix;
