//! Float weights, f32 or f16 (GGUF files kept unquantized), times f32 activations. The f16
//! kernels read the halves in place and widen them in registers, so an f16 matrix costs
//! half the memory and half the bytes per decoded token of an f32 one. Both share one tile
//! per instruction set, generic over the element width (`HALF`).

use super::activations::ActRow;

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

/// Weights per "block": one vector of 8, so rows are walked in whole vectors.
pub const BLOCK: usize = 8;
pub const F16_BLOCK_BYTES: usize = 2 * BLOCK;
pub const F32_BLOCK_BYTES: usize = 4 * BLOCK;

/// Weight `i` of a row of f16 (`HALF`) or f32 values.
#[inline(always)]
pub fn weight<const HALF: bool>(row: &[u8], i: usize) -> f32 {
    if HALF {
        half::f16::from_le_bytes([row[2 * i], row[2 * i + 1]]).to_f32()
    } else {
        f32::from_le_bytes(row[4 * i..4 * i + 4].try_into().unwrap())
    }
}

pub fn f16_scalar<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    scalar::<true, R, C>(w, x)
}

pub fn f32_scalar<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    scalar::<false, R, C>(w, x)
}

/// The scalar tile: plain dot products.
fn scalar<const HALF: bool, const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let mut out = [[0f32; C]; R];
    for r in 0..R {
        for c in 0..C {
            out[r][c] = x[c].xs.iter().enumerate().map(|(i, &v)| weight::<HALF>(w[r], i) * v).sum();
        }
    }
    out
}

/// Row `row` (`cols` values) widened into `out`.
pub fn dequantize<const HALF: bool>(row: &[u8], out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = weight::<HALF>(row, i);
    }
}
