//! q6_K weights times q8_K activations (llama.cpp's choice for a head tied to the token
//! embedding in q4_K models).
//!
//! A q6_K super-block holds 256 weights: 128 bytes of low nibbles `ql`, 64 bytes of high
//! 2-bit pairs `qh`, sixteen i8 scales (one per 16 weights) and an f16 `d`. In each half `n`
//! (128 weights), byte `l` of `ql[64n..]`/`qh[32n..]` gives weights `l`, `l+32`, `l+64`, `l+96`:
//! low nibbles of `ql[l]` and `ql[l+32]`, then their high nibbles, each with two bits of
//! `qh[l]` on top. A weight is `d * scale * (q - 32)`; the `- 32` is applied through the
//! activation block's sums of 16.

use super::activations::ActRow;
use half::f16;

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

pub const BLOCK_BYTES: usize = 210;

/// The 256 quants of a block, minus 32.
#[inline(always)]
pub(crate) fn unpack(blk: &[u8]) -> [i8; 256] {
    let mut q = [0i8; 256];
    for n in 0..2 {
        let ql = &blk[64 * n..64 * n + 64];
        let qh = &blk[128 + 32 * n..128 + 32 * n + 32];
        let out = &mut q[128 * n..128 * n + 128];
        for l in 0..32 {
            out[l] = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) as i8 - 32;
            out[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) as i8 - 32;
            out[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i8 - 32;
            out[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i8 - 32;
        }
    }
    q
}

#[inline(always)]
fn d_of(blk: &[u8]) -> f32 {
    f16::from_le_bytes([blk[208], blk[209]]).to_f32()
}

pub fn scalar<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let mut out = [[0f32; C]; R];
    let nb = x[0].d.len();
    for r in 0..R {
        for sb in 0..nb {
            let blk = &w[r][sb * BLOCK_BYTES..(sb + 1) * BLOCK_BYTES];
            let q = unpack(blk);
            let d = d_of(blk);
            for c in 0..C {
                let xq = &x[c].qs[sb * 256..(sb + 1) * 256];
                let mut isum = 0i32;
                for g in 0..16 {
                    let s: i32 = q[16 * g..16 * g + 16].iter().zip(&xq[16 * g..16 * g + 16]).map(|(&a, &b)| a as i32 * b as i32).sum();
                    isum += blk[192 + g] as i8 as i32 * s;
                }
                out[r][c] += d * x[c].d[sb] * isum as f32;
            }
        }
    }
    out
}

/// One super-block's 256 weights into `out`: `d * scale * (q - 32)` per 16.
pub fn dequantize(block: &[u8], out: &mut [f32]) {
    let (q, d) = (unpack(block), d_of(block));
    for (g, o) in out.chunks_exact_mut(16).enumerate() {
        let s = d * block[192 + g] as i8 as f32;
        for (o, &q) in o.iter_mut().zip(&q[16 * g..16 * g + 16]) {
            *o = s * q as f32;
        }
    }
}
