//! q8_0 tiles for x86_64 with AVX2.

use super::super::activations::ActRow;
use super::super::simd::avx2::{hsum_tile, interleave4, pairs_to_tile, splat_f16, PREFETCH};
use super::BLOCK_BYTES;
use std::arch::x86_64::*;

/// The f16 scales opening four rows' blocks as f32 lanes `[r0 r0 r1 r1 r2 r2 r3 r3]`,
/// lined up with the i32 lanes of an interleaved tile.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn f16_pairs(blk: &[*const u8; 4]) -> __m256 {
    let h = |r: usize| (blk[r] as *const i16).read_unaligned();
    _mm256_cvtph_ps(_mm_setr_epi16(h(0), h(0), h(1), h(1), h(2), h(2), h(3), h(3)))
}

/// # Safety
/// The CPU must support AVX2, FMA and F16C; every row holds `x[0].d.len()` blocks.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    // Prompt tiles of four rows have their own formulation.
    if R == 4 && C > 1 {
        let out = interleaved::<C>(w[..].try_into().unwrap(), x);
        return std::array::from_fn(|r| out[r]);
    }
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
    hsum_tile(&acc)
}

/// Four weight rows against `C` activation rows with the rows side by side in each
/// register (`interleave4`) and 8 activations broadcast to all four: one float scale
/// product, conversion and `fma` per block serve four rows, and the accumulators are one
/// register per activation row, so wide tiles do not spill.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn interleaved<const C: usize>(w: &[&[u8]; 4], x: &[ActRow; C]) -> [[f32; C]; 4] {
    let nb = x[0].d.len();
    let ones = _mm256_set1_epi16(1);
    let mut acc = [_mm256_setzero_ps(); C];
    for b in 0..nb {
        let blk: [*const u8; 4] = std::array::from_fn(|r| w[r].as_ptr().add(b * BLOCK_BYTES));
        let wd = f16_pairs(&blk);
        let units = interleave4(blk.map(|p| _mm256_loadu_si256(p.add(2) as *const __m256i)));
        // |w| * (x with the sign of w): unsigned x signed bytes, as maddubs needs.
        let aw = units.map(|u| _mm256_sign_epi8(u, u));
        for c in 0..C {
            let xp = x[c].qs.as_ptr().add(b * 32) as *const i64;
            let mut sum = _mm256_setzero_si256();
            for t in 0..4 {
                let xv = _mm256_set1_epi64x(xp.add(t).read_unaligned());
                let p = _mm256_maddubs_epi16(aw[t], _mm256_sign_epi8(xv, units[t]));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, ones));
            }
            let scale = _mm256_mul_ps(wd, _mm256_set1_ps(*x[c].d.get_unchecked(b)));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), scale, acc[c]);
        }
    }
    pairs_to_tile(&acc)
}
