//! q8_0 weights (blocks of 32: f16 scale + 32 i8) times q8_0 activations.
//!
//! Every kernel computes a tile: `R` weight rows against `C` activation rows, so each weight
//! block loaded is used `C` times and each activation block `R` times.

use super::activations::ActRow;
use half::f16;

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

#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    use super::super::activations::ActRow;
    use super::BLOCK_BYTES;
    use std::arch::x86_64::*;

    /// Broadcast of the f16 at `p` (unaligned) as f32.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn splat_f16(p: *const u8) -> __m256 {
        let bits = (p as *const u16).read_unaligned();
        _mm256_broadcastss_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }

    /// How far ahead (bytes) a one-row-at-a-time (decode) kernel asks for weights: one
    /// stream per weight row reaches DRAM bandwidth only with software prefetch (measured
    /// on medium q8_0 decode: 23 -> 29 tok/s at 1 thread; 512..2048 all help, 2048 best).
    pub(crate) const PREFETCH: usize = 2048;

    /// # Safety
    /// The CPU must support AVX2, FMA and F16C; every row holds `x[0].d.len()` blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
        let nb = x[0].d.len();
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        let wp: [*const u8; R] = std::array::from_fn(|r| w[r].as_ptr());
        for b in 0..nb {
            let mut wq = [_mm256_setzero_si256(); R];
            let mut wd = [_mm256_setzero_ps(); R];
            for r in 0..R {
                let p = wp[r].add(b * BLOCK_BYTES);
                if C == 1 {
                    _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(PREFETCH) as *const i8);
                }
                wd[r] = splat_f16(p);
                wq[r] = _mm256_loadu_si256(p.add(2) as *const __m256i);
            }
            for c in 0..C {
                let xq = _mm256_loadu_si256(x[c].qs.as_ptr().add(b * 32) as *const __m256i);
                let xd = _mm256_set1_ps(*x[c].d.get_unchecked(b));
                // |x| * (w with the sign of x): unsigned x signed bytes, as maddubs needs.
                let ax = _mm256_sign_epi8(xq, xq);
                for r in 0..R {
                    let sw = _mm256_sign_epi8(wq[r], xq);
                    let p32 = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sw), ones);
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_mul_ps(wd[r], xd), acc[r][c]);
                }
            }
        }
        let mut out = [[0f32; C]; R];
        for r in 0..R {
            for c in 0..C {
                out[r][c] = hsum(acc[r][c]);
            }
        }
        out
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128 {
    use super::super::activations::ActRow;
    use super::{scale, BLOCK_BYTES};
    use core::arch::wasm32::*;

    #[inline(always)]
    pub(crate) fn load(p: *const u8) -> v128 {
        // SAFETY: callers pass pointers with 16 readable bytes; wasm loads need no alignment.
        unsafe { (p as *const v128).read_unaligned() }
    }

    #[inline(always)]
    pub(crate) fn hsum(v: v128) -> f32 {
        f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v)
    }

    /// Sign-extends 32 bytes to four i16x8.
    #[inline(always)]
    fn widen(p: *const u8) -> [v128; 4] {
        let (a, b) = (load(p), load(unsafe { p.add(16) }));
        [i16x8_extend_low_i8x16(a), i16x8_extend_high_i8x16(a), i16x8_extend_low_i8x16(b), i16x8_extend_high_i8x16(b)]
    }

    pub fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
        let nb = x[0].d.len();
        for r in 0..R {
            assert!(w[r].len() >= nb * BLOCK_BYTES);
        }
        for c in 0..C {
            assert!(x[c].qs.len() >= nb * 32);
        }
        let mut acc = [[f32x4_splat(0.0); C]; R];
        for b in 0..nb {
            let mut wv = [[i16x8_splat(0); 4]; R];
            let mut wd = [0f32; R];
            for r in 0..R {
                let blk = &w[r][b * BLOCK_BYTES..];
                wd[r] = scale(blk);
                wv[r] = widen(blk[2..].as_ptr());
            }
            for c in 0..C {
                let xv = widen(x[c].qs[b * 32..].as_ptr() as *const u8);
                let xd = x[c].d[b];
                for r in 0..R {
                    let s = i32x4_add(
                        i32x4_add(i32x4_dot_i16x8(wv[r][0], xv[0]), i32x4_dot_i16x8(wv[r][1], xv[1])),
                        i32x4_add(i32x4_dot_i16x8(wv[r][2], xv[2]), i32x4_dot_i16x8(wv[r][3], xv[3])),
                    );
                    acc[r][c] = f32x4_add(acc[r][c], f32x4_mul(f32x4_convert_i32x4(s), f32x4_splat(wd[r] * xd)));
                }
            }
        }
        let mut out = [[0f32; C]; R];
        for r in 0..R {
            for c in 0..C {
                out[r][c] = hsum(acc[r][c]);
            }
        }
        out
    }
}
