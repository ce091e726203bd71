//! Float tiles for x86_64 with AVX2, FMA and F16C: eight weights per register, widened from
//! f16 by `vcvtph2ps` or loaded as f32.

use super::super::activations::ActRow;
use super::super::simd::avx2::{hsum, hsum_tile};
use std::arch::x86_64::*;

/// Bytes ahead to prefetch in a decode row: nearer than the quantized kernels' distance, as
/// a float row is read faster (BENCHMARKS.md has the distances tried for f16).
const PREFETCH: usize = 1024;

/// Eight weights from `i` on, of a row at `w`.
#[inline(always)]
unsafe fn load8<const HALF: bool>(w: *const u8, i: usize) -> __m256 {
    if HALF {
        _mm256_cvtph_ps(_mm_loadu_si128(w.add(2 * i) as *const __m128i))
    } else {
        _mm256_loadu_ps(w.add(4 * i) as *const f32)
    }
}

/// # Safety
/// The CPU must support AVX2, FMA and F16C; every row holds `x[0].xs.len()` weights, a
/// multiple of 8.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn f16_tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    tile::<true, R, C>(w, x)
}

/// # Safety
/// As for [`f16_tile`].
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn f32_tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    tile::<false, R, C>(w, x)
}

#[inline(always)]
unsafe fn tile<const HALF: bool, const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let k = x[0].xs.len();
    if R == 1 && C == 1 {
        return std::array::from_fn(|_| std::array::from_fn(|_| dot::<HALF>(w[0].as_ptr(), x[0].xs.as_ptr(), k)));
    }
    let mut acc = [[_mm256_setzero_ps(); C]; R];
    for i in (0..k).step_by(8) {
        let wv: [__m256; R] = std::array::from_fn(|r| load8::<HALF>(w[r].as_ptr(), i));
        for c in 0..C {
            let xv = _mm256_loadu_ps(x[c].xs.as_ptr().add(i));
            for r in 0..R {
                acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
            }
        }
    }
    hsum_tile(&acc)
}

/// One row (decode): four accumulators, so the additions do not wait on each other, and
/// a prefetch ahead of the single stream of weights.
#[inline(always)]
unsafe fn dot<const HALF: bool>(w: *const u8, x: *const f32, k: usize) -> f32 {
    let bytes = if HALF { 2 } else { 4 };
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= k {
        _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add(bytes * i + PREFETCH) as *const i8);
        if !HALF {
            _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add(bytes * i + PREFETCH + 64) as *const i8);
        }
        for (u, a) in acc.iter_mut().enumerate() {
            let j = i + 8 * u;
            *a = _mm256_fmadd_ps(load8::<HALF>(w, j), _mm256_loadu_ps(x.add(j)), *a);
        }
        i += 32;
    }
    while i < k {
        acc[0] = _mm256_fmadd_ps(load8::<HALF>(w, i), _mm256_loadu_ps(x.add(i)), acc[0]);
        i += 8;
    }
    hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])))
}
