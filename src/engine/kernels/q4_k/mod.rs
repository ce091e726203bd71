//! q4_K weights times q8_K activations.
//!
//! A q4_K super-block holds 256 weights: f16 `d` and `dmin`, twelve bytes packing eight 6-bit
//! scales and eight 6-bit mins (one per 32 weights), and 128 bytes of 4-bit quants (bytes
//! `32j..32j+32` hold weights `64j..64j+32` in their low nibbles and `64j+32..64j+64` in their
//! high nibbles). A weight is `d * scale * q - dmin * min`, so a dot product with activations
//! `dx * x` is `dx * (d * Σ scale_s Σ q x - dmin * Σ min_s Σ x)`, the last sums coming from the
//! activation block's precomputed sums of 16.

use super::activations::ActRow;
use half::f16;

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

pub const BLOCK_BYTES: usize = 144;

/// The eight (scale, min) pairs packed into 12 bytes.
#[inline(always)]
pub fn unpack_scales(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    let mut bytes = [0u8; 16];
    for (out, word) in bytes.chunks_exact_mut(4).zip(scales_and_mins_words(s[..12].try_into().unwrap())) {
        out.copy_from_slice(&word.to_le_bytes());
    }
    (bytes[..8].try_into().unwrap(), bytes[8..].try_into().unwrap())
}

/// The 12 packed bytes as 16, four at a time: eight 6-bit scales then eight mins, in four
/// little-endian 32-bit words.
#[inline(always)]
pub fn scales_and_mins_words(s: &[u8; 12]) -> [u32; 4] {
    const LOW6: u32 = 0x3f3f_3f3f;
    const LOW4: u32 = 0x0f0f_0f0f;
    const LOW2: u32 = 0x0303_0303;
    let word = |i: usize| u32::from_le_bytes([s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]]);
    let (a, b, c) = (word(0), word(1), word(2));
    let scales_lo = a & LOW6;
    let scales_hi = (c & LOW4) | (((a >> 6) & LOW2) << 4);
    let mins_lo = b & LOW6;
    let mins_hi = ((c >> 4) & LOW4) | (((b >> 6) & LOW2) << 4);
    [scales_lo, scales_hi, mins_lo, mins_hi]
}

#[inline(always)]
fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([b[i], b[i + 1]]).to_f32()
}

pub fn scalar<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let mut out = [[0f32; C]; R];
    let nb = x[0].d.len();
    for r in 0..R {
        for c in 0..C {
            let mut sum = 0f32;
            for sb in 0..nb {
                let blk = &w[r][sb * BLOCK_BYTES..(sb + 1) * BLOCK_BYTES];
                let (sc, mn) = unpack_scales(&blk[4..16]);
                let qs = &blk[16..];
                let xq = &x[c].qs[sb * 256..(sb + 1) * 256];
                let bs = &x[c].bsums[sb * 16..(sb + 1) * 16];
                let mut isum = 0i32;
                let mut msum = 0i32;
                for j in 0..4 {
                    let q = &qs[32 * j..32 * j + 32];
                    let xa = &xq[64 * j..64 * j + 64];
                    let lo: i32 = q.iter().zip(&xa[..32]).map(|(&q, &v)| (q & 0xF) as i32 * v as i32).sum();
                    let hi: i32 = q.iter().zip(&xa[32..]).map(|(&q, &v)| (q >> 4) as i32 * v as i32).sum();
                    isum += sc[2 * j] as i32 * lo + sc[2 * j + 1] as i32 * hi;
                }
                for s in 0..8 {
                    msum += mn[s] as i32 * (bs[2 * s] as i32 + bs[2 * s + 1] as i32);
                }
                sum += x[c].d[sb] * (f16_at(blk, 0) * isum as f32 - f16_at(blk, 2) * msum as f32);
            }
            out[r][c] = sum;
        }
    }
    out
}

/// One super-block's 256 weights into `out`: `d * scale * q - dmin * min` per 32.
pub fn dequantize(block: &[u8], out: &mut [f32]) {
    let (sc, mn) = unpack_scales(&block[4..16]);
    let (d, dmin) = (f16_at(block, 0), f16_at(block, 2));
    for j in 0..4 {
        let q = &block[16 + 32 * j..16 + 32 * j + 32];
        let (lo, hi) = out[64 * j..64 * j + 64].split_at_mut(32);
        let (s_lo, m_lo) = (d * sc[2 * j] as f32, dmin * mn[2 * j] as f32);
        let (s_hi, m_hi) = (d * sc[2 * j + 1] as f32, dmin * mn[2 * j + 1] as f32);
        for ((&q, lo), hi) in q.iter().zip(lo).zip(hi) {
            *lo = s_lo * (q & 0xF) as f32 - m_lo;
            *hi = s_hi * (q >> 4) as f32 - m_hi;
        }
    }
}
