//! Helpers every AVX2 tile shares: f16 broadcasts, horizontal sums, the four-row
//! interleave of the prompt tiles and the decode prefetch distance.

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

/// How far ahead (bytes) a one-row-at-a-time (decode) kernel asks for weights: a single
/// stream per weight row reaches DRAM bandwidth only with software prefetch (BENCHMARKS.md
/// has the distances tried).
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
