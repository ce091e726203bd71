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

pub const BLOCK_BYTES: usize = 144;

/// The eight (scale, min) pairs packed into 12 bytes.
#[inline(always)]
pub fn unpack_scales(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    let mut sc = [0u8; 8];
    let mut mn = [0u8; 8];
    for j in 0..4 {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (s[j + 8] & 0xF) | ((s[j] >> 6) << 4);
        mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
    }
    (sc, mn)
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

#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    use super::super::activations::ActRow;
    use super::super::q8_0::avx2::{hsum, splat_f16, PREFETCH};
    use super::BLOCK_BYTES;
    use std::arch::x86_64::*;

    /// The 12 packed bytes at `p` as eight 6-bit scales (bytes 0..8) and eight mins (8..16),
    /// unpacked four at a time in 32-bit words.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn scales_and_mins(p: *const u8) -> __m128i {
        const LOW6: u32 = 0x3f3f_3f3f;
        const LOW4: u32 = 0x0f0f_0f0f;
        const LOW2: u32 = 0x0303_0303;
        let w = p as *const u32;
        let (a, b, c) = (w.read_unaligned(), w.add(1).read_unaligned(), w.add(2).read_unaligned());
        let scales_lo = a & LOW6;
        let scales_hi = (c & LOW4) | (((a >> 6) & LOW2) << 4);
        let mins_lo = b & LOW6;
        let mins_hi = ((c >> 4) & LOW4) | (((b >> 6) & LOW2) << 4);
        _mm_set_epi32(mins_hi as i32, mins_lo as i32, scales_hi as i32, scales_lo as i32)
    }

    /// # Safety
    /// The CPU must support AVX2, FMA and F16C; every row holds `x[0].d.len()` super-blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
        let nb = x[0].d.len();
        let m4 = _mm256_set1_epi8(0x0F);
        // pick[s] copies i16 lane s into every lane.
        let pick: [__m256i; 8] = std::array::from_fn(|s| _mm256_set1_epi16((((2 * s + 1) << 8) | (2 * s)) as i16));
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        for sb in 0..nb {
            let mut sc16 = [_mm256_setzero_si256(); R];
            let mut mins = [_mm256_setzero_si256(); R];
            let mut d = [_mm256_setzero_ps(); R];
            let mut dmin = [_mm256_setzero_ps(); R];
            let mut qp = [std::ptr::null::<u8>(); R];
            for r in 0..R {
                let blk = w[r].as_ptr().add(sb * BLOCK_BYTES);
                if C == 1 {
                    _mm_prefetch::<_MM_HINT_T0>(blk.wrapping_add(PREFETCH) as *const i8);
                    _mm_prefetch::<_MM_HINT_T0>(blk.wrapping_add(PREFETCH + 64) as *const i8);
                    _mm_prefetch::<_MM_HINT_T0>(blk.wrapping_add(PREFETCH + 128) as *const i8);
                }
                d[r] = splat_f16(blk);
                dmin[r] = splat_f16(blk.add(2));
                let sm = scales_and_mins(blk.add(4));
                // Scales as i16 in both 128-bit halves, for the per-sub-block shuffles below.
                sc16[r] = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
                // [m0, m0, m1, m1, ..., m7, m7] as i16, lined up with the 16 activation sums.
                mins[r] = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));
                qp[r] = blk.add(16);
            }
            let mut isum = [[_mm256_setzero_si256(); C]; R];
            for j in 0..4 {
                let mut lo = [_mm256_setzero_si256(); R];
                let mut hi = [_mm256_setzero_si256(); R];
                let mut slo = [_mm256_setzero_si256(); R];
                let mut shi = [_mm256_setzero_si256(); R];
                for r in 0..R {
                    let q = _mm256_loadu_si256(qp[r].add(32 * j) as *const __m256i);
                    lo[r] = _mm256_and_si256(q, m4);
                    hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                    slo[r] = _mm256_shuffle_epi8(sc16[r], pick[2 * j]);
                    shi[r] = _mm256_shuffle_epi8(sc16[r], pick[2 * j + 1]);
                }
                for c in 0..C {
                    let xp = x[c].qs.as_ptr().add(sb * 256 + 64 * j);
                    let xa = _mm256_loadu_si256(xp as *const __m256i);
                    let xb = _mm256_loadu_si256(xp.add(32) as *const __m256i);
                    for r in 0..R {
                        let a = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[r], xa), slo[r]);
                        let b = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[r], xb), shi[r]);
                        isum[r][c] = _mm256_add_epi32(isum[r][c], _mm256_add_epi32(a, b));
                    }
                }
            }
            for c in 0..C {
                let xd = _mm256_set1_ps(*x[c].d.get_unchecked(sb));
                let bsums = _mm256_loadu_si256(x[c].bsums.as_ptr().add(sb * 16) as *const __m256i);
                for r in 0..R {
                    let msum = _mm256_cvtepi32_ps(_mm256_madd_epi16(mins[r], bsums));
                    let t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(isum[r][c]), d[r], _mm256_mul_ps(msum, dmin[r]));
                    acc[r][c] = _mm256_fmadd_ps(t, xd, acc[r][c]);
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
    use super::super::q8_0::simd128::{hsum, load};
    use super::{f16_at, unpack_scales, BLOCK_BYTES};
    use core::arch::wasm32::*;

    pub fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
        let nb = x[0].d.len();
        for r in 0..R {
            assert!(w[r].len() >= nb * BLOCK_BYTES);
        }
        for c in 0..C {
            assert!(x[c].qs.len() >= nb * 256 && x[c].bsums.len() >= nb * 16);
        }
        let m4 = u8x16_splat(0x0F);
        let mut acc = [[f32x4_splat(0.0); C]; R];
        for sb in 0..nb {
            let mut sc = [[0u8; 8]; R];
            let mut mn = [[0u8; 8]; R];
            let mut d = [0f32; R];
            let mut dmin = [0f32; R];
            for r in 0..R {
                let blk = &w[r][sb * BLOCK_BYTES..];
                (sc[r], mn[r]) = unpack_scales(&blk[4..16]);
                d[r] = f16_at(blk, 0);
                dmin[r] = f16_at(blk, 2);
            }
            let mut isum = [[i32x4_splat(0); C]; R];
            for j in 0..4 {
                // Per weight row: 32 low and 32 high nibbles, widened to i16x8 (4 + 4 vectors).
                let mut q16 = [[i16x8_splat(0); 8]; R];
                for r in 0..R {
                    let p = w[r][sb * BLOCK_BYTES + 16 + 32 * j..].as_ptr();
                    let (a, b) = (load(p), load(unsafe { p.add(16) }));
                    let (la, lb) = (v128_and(a, m4), v128_and(b, m4));
                    let (ha, hb) = (u8x16_shr(a, 4), u8x16_shr(b, 4));
                    q16[r] = [
                        u16x8_extend_low_u8x16(la),
                        u16x8_extend_high_u8x16(la),
                        u16x8_extend_low_u8x16(lb),
                        u16x8_extend_high_u8x16(lb),
                        u16x8_extend_low_u8x16(ha),
                        u16x8_extend_high_u8x16(ha),
                        u16x8_extend_low_u8x16(hb),
                        u16x8_extend_high_u8x16(hb),
                    ];
                }
                for c in 0..C {
                    let xp = x[c].qs[sb * 256 + 64 * j..].as_ptr() as *const u8;
                    let mut x16 = [i16x8_splat(0); 8];
                    for h in 0..4 {
                        let v = load(unsafe { xp.add(16 * h) });
                        x16[2 * h] = i16x8_extend_low_i8x16(v);
                        x16[2 * h + 1] = i16x8_extend_high_i8x16(v);
                    }
                    for r in 0..R {
                        let q = &q16[r];
                        let lo = i32x4_add(
                            i32x4_add(i32x4_dot_i16x8(q[0], x16[0]), i32x4_dot_i16x8(q[1], x16[1])),
                            i32x4_add(i32x4_dot_i16x8(q[2], x16[2]), i32x4_dot_i16x8(q[3], x16[3])),
                        );
                        let hi = i32x4_add(
                            i32x4_add(i32x4_dot_i16x8(q[4], x16[4]), i32x4_dot_i16x8(q[5], x16[5])),
                            i32x4_add(i32x4_dot_i16x8(q[6], x16[6]), i32x4_dot_i16x8(q[7], x16[7])),
                        );
                        let s = i32x4_add(
                            i32x4_mul(lo, i32x4_splat(sc[r][2 * j] as i32)),
                            i32x4_mul(hi, i32x4_splat(sc[r][2 * j + 1] as i32)),
                        );
                        isum[r][c] = i32x4_add(isum[r][c], s);
                    }
                }
            }
            for c in 0..C {
                let bs = &x[c].bsums[sb * 16..sb * 16 + 16];
                let xd = x[c].d[sb];
                for r in 0..R {
                    let mut msum = 0i32;
                    for s in 0..8 {
                        msum += mn[r][s] as i32 * (bs[2 * s] as i32 + bs[2 * s + 1] as i32);
                    }
                    let t = f32x4_sub(
                        f32x4_mul(f32x4_convert_i32x4(isum[r][c]), f32x4_splat(d[r] * xd)),
                        f32x4_splat(0.25 * dmin[r] * xd * msum as f32),
                    );
                    acc[r][c] = f32x4_add(acc[r][c], t);
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
