//! q8_0 weights (blocks of 32: f16 scale + 32 i8) times q8_0 activations.
//!
//! Every kernel computes a tile: `R` weight rows against `C` activation rows, so each weight
//! block loaded is used `C` times and each activation block `R` times.

use super::activations::ActRow;
use half::f16;

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

/// Bytes of one weight block: f16 scale + 32 quants.
pub const BLOCK_BYTES: usize = 34;

#[inline(always)]
fn scale(block: &[u8]) -> f32 {
    f16::from_le_bytes([block[0], block[1]]).to_f32()
}

pub fn scalar<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let mut out = [[0f32; C]; R];
    let nb = x[0].d.len();
    for r in 0..R {
        for c in 0..C {
            let mut sum = 0f32;
            for b in 0..nb {
                let blk = &w[r][b * BLOCK_BYTES..(b + 1) * BLOCK_BYTES];
                let xq = &x[c].qs[b * 32..(b + 1) * 32];
                let dot: i32 = blk[2..].iter().zip(xq).map(|(&q, &v)| q as i8 as i32 * v as i32).sum();
                sum += scale(blk) * x[c].d[b] * dot as f32;
            }
            out[r][c] = sum;
        }
    }
    out
}

/// One block's 32 weights into `out`.
pub fn dequantize(block: &[u8], out: &mut [f32]) {
    let d = scale(block);
    for (o, &q) in out.iter_mut().zip(&block[2..BLOCK_BYTES]) {
        *o = d * q as i8 as f32;
    }
}
