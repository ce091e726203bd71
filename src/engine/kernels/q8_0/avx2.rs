//! q8_0 tiles for x86_64 with AVX2, and the helpers the other AVX2 tiles share (f16 pairs,
//! four-row interleave, horizontal sums, prefetch distance).

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

/// `out[r][c] = hsum(acc[r][c])`: a tile of one-register-per-(row, column) accumulators.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn hsum_tile<const R: usize, const C: usize>(acc: &[[__m256; C]; R]) -> [[f32; C]; R] {
    std::array::from_fn(|r| std::array::from_fn(|c| hsum(acc[r][c])))
}

/// How far ahead (bytes) a one-row-at-a-time (decode) kernel asks for weights: one
/// stream per weight row reaches DRAM bandwidth only with software prefetch (measured
/// on medium q8_0 decode: 23 -> 29 tok/s at 1 thread; 512..2048 all help, 2048 best).
pub(crate) const PREFETCH: usize = 2048;

/// 32 bytes of each of four rows, regrouped so register `t` holds bytes `8t..8t+8` of
/// rows 0, 1, 2, 3 in that order (a 4x4 transpose of 8-byte units).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn interleave4(q: [__m256i; 4]) -> [__m256i; 4] {
    let (ab_lo, ab_hi) = (_mm256_unpacklo_epi64(q[0], q[1]), _mm256_unpackhi_epi64(q[0], q[1]));
    let (cd_lo, cd_hi) = (_mm256_unpacklo_epi64(q[2], q[3]), _mm256_unpackhi_epi64(q[2], q[3]));
    [
        _mm256_permute2x128_si256::<0x20>(ab_lo, cd_lo),
        _mm256_permute2x128_si256::<0x20>(ab_hi, cd_hi),
        _mm256_permute2x128_si256::<0x31>(ab_lo, cd_lo),
        _mm256_permute2x128_si256::<0x31>(ab_hi, cd_hi),
    ]
}

/// The f16 scales opening four rows' blocks as f32 lanes `[r0 r0 r1 r1 r2 r2 r3 r3]`,
/// lined up with the i32 lanes of an interleaved tile.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn f16_pairs(blk: &[*const u8; 4]) -> __m256 {
    let h = |r: usize| (blk[r] as *const i16).read_unaligned();
    _mm256_cvtph_ps(_mm_setr_epi16(h(0), h(0), h(1), h(1), h(2), h(2), h(3), h(3)))
}

/// Sums the lane pairs of interleaved accumulators into `out[r][c]`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn pairs_to_tile<const C: usize>(acc: &[__m256; C]) -> [[f32; C]; 4] {
    let mut out = [[0f32; C]; 4];
    for c in 0..C {
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), acc[c]);
        for r in 0..4 {
            out[r][c] = lanes[2 * r] + lanes[2 * r + 1];
        }
    }
    out
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
