//! q6_K tiles for x86_64 with AVX2.

use super::super::activations::ActRow;
use super::super::simd::avx2::{hsum_tile, splat_f16, PREFETCH};
use super::BLOCK_BYTES;
use std::arch::x86_64::*;

/// # Safety
/// The CPU must support AVX2, FMA and F16C; every row holds `x[0].d.len()` super-blocks.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let nb = x[0].d.len();
    let m4 = _mm256_set1_epi8(0x0F);
    let m30 = _mm256_set1_epi8(0x30);
    // pick[i]: i16 lane 2i in the low 128-bit half, lane 2i + 1 in the high half.
    let pick: [__m256i; 4] = std::array::from_fn(|i| {
        let (a, b) = (4 * i as i16, 4 * i as i16 + 2);
        // Little-endian i16 (first byte, first byte + 1): the byte pair of one lane.
        let (lo, hi) = (a | (a + 1) << 8, b | (b + 1) << 8);
        _mm256_setr_epi16(lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi)
    });
    let mut acc = [[_mm256_setzero_ps(); C]; R];
    for sb in 0..nb {
        let mut blk = [std::ptr::null::<u8>(); R];
        let mut d = [_mm256_setzero_ps(); R];
        let mut sc16 = [_mm256_setzero_si256(); R];
        // Scales of each half `n` as i16, the same eight in both 128-bit halves, so one
        // byte shuffle per 32 weights splats scale 2i to the low half and 2i+1 to the high.
        let mut sc_half = [[_mm256_setzero_si256(); 2]; R];
        for r in 0..R {
            blk[r] = w[r].as_ptr().add(sb * BLOCK_BYTES);
            if C == 1 {
                for line in 0..4 {
                    _mm_prefetch::<_MM_HINT_T0>(blk[r].wrapping_add(PREFETCH + 64 * line) as *const i8);
                }
            }
            d[r] = splat_f16(blk[r].add(208));
            sc16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128(blk[r].add(192) as *const __m128i));
            sc_half[r] = [
                _mm256_permute2x128_si256::<0x00>(sc16[r], sc16[r]),
                _mm256_permute2x128_si256::<0x11>(sc16[r], sc16[r]),
            ];
        }
        let mut isum = [[_mm256_setzero_si256(); C]; R];
        for n in 0..2 {
            for i in 0..4 {
                // Quants 128n + 32i .. +32 (unsigned, 0..63) and their two scales.
                let mut q = [_mm256_setzero_si256(); R];
                let mut s = [_mm256_setzero_si256(); R];
                for r in 0..R {
                    let ql = _mm256_loadu_si256(blk[r].add(64 * n + 32 * (i & 1)) as *const __m256i);
                    let qh = _mm256_loadu_si256(blk[r].add(128 + 32 * n) as *const __m256i);
                    let low = if i < 2 { _mm256_and_si256(ql, m4) } else { _mm256_and_si256(_mm256_srli_epi16(ql, 4), m4) };
                    let high = match i {
                        0 => _mm256_slli_epi16(qh, 4),
                        1 => _mm256_slli_epi16(qh, 2),
                        2 => qh,
                        _ => _mm256_srli_epi16(qh, 2),
                    };
                    q[r] = _mm256_or_si256(low, _mm256_and_si256(high, m30));
                    s[r] = _mm256_shuffle_epi8(sc_half[r][n], pick[i]);
                }
                for c in 0..C {
                    let xv = _mm256_loadu_si256(x[c].qs.as_ptr().add(sb * 256 + 128 * n + 32 * i) as *const __m256i);
                    for r in 0..R {
                        let p = _mm256_madd_epi16(_mm256_maddubs_epi16(q[r], xv), s[r]);
                        isum[r][c] = _mm256_add_epi32(isum[r][c], p);
                    }
                }
            }
        }
        for c in 0..C {
            let xd = _mm256_set1_ps(*x[c].d.get_unchecked(sb));
            let bsums = _mm256_loadu_si256(x[c].bsums.as_ptr().add(sb * 16) as *const __m256i);
            for r in 0..R {
                // Σ scale_g * 32 * Σ_g x: the offset of the unsigned quants.
                let offset = _mm256_slli_epi32(_mm256_madd_epi16(sc16[r], bsums), 5);
                let total = _mm256_cvtepi32_ps(_mm256_sub_epi32(isum[r][c], offset));
                acc[r][c] = _mm256_fmadd_ps(total, _mm256_mul_ps(d[r], xd), acc[r][c]);
            }
        }
    }
    hsum_tile(&acc)
}
