//! f16 weights times f32 activations (GGUF files kept at f16). candle would widen such
//! weights to f32 at load, doubling their memory and the bytes each decoded token reads;
//! these kernels read the f16 in place and widen 8 at a time in registers.

use super::activations::ActRow;
use half::f16;

/// "Blocks" of 8 weights (one 16-byte load), so rows are walked in whole vectors.
#[cfg(target_arch = "x86_64")]
pub mod avx2;

pub const BLOCK_BYTES: usize = 16;

pub fn scalar<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let mut out = [[0f32; C]; R];
    for r in 0..R {
        for c in 0..C {
            let weights = w[r].chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32());
            out[r][c] = weights.zip(x[c].xs).map(|(a, b)| a * b).sum();
        }
    }
    out
}
