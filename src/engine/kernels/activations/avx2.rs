//! x86_64: the activation quantizer's block step in AVX2 lanes, bit for bit the scalar
//! result (the same multiply, rounding adds and clamp per quant; max is order-free; NaN
//! quants become 0 as `as i8` makes them). The compiler leaves the scalar loop's max and
//! float-to-i8 steps unvectorized.

use std::arch::x86_64::*;

/// # Safety
/// The CPU must support AVX2; `xb.len()` is a multiple of 32 and equals `qb.len()`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn quantize_block(xb: &[f32], qb: &mut [i8]) -> f32 {
    assert!(xb.len() % 32 == 0 && qb.len() == xb.len());
    let n = xb.len();
    let p = xb.as_ptr();
    let sign = _mm256_set1_ps(-0.0);
    let mut m = _mm256_setzero_ps();
    for i in (0..n).step_by(8) {
        // max(|v|, m) returns m when |v| is NaN: NaN is skipped, as by the scalar comparison.
        m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(p.add(i))), m);
    }
    let m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
    let m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    let amax = _mm_cvtss_f32(_mm_max_ss(m2, _mm_shuffle_ps::<1>(m2, m2)));
    let id = _mm256_set1_ps(if amax > 0.0 { 127.0 / amax } else { 0.0 });
    let magic = _mm256_set1_ps(12_582_912.0);
    let (lo, hi) = (_mm256_set1_ps(-127.0), _mm256_set1_ps(127.0));
    let quant = |at: usize| {
        let r = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(p.add(at)), id), magic), magic);
        let r = _mm256_and_ps(r, _mm256_cmp_ps::<_CMP_ORD_Q>(r, r)); // NaN -> 0
        _mm256_cvttps_epi32(_mm256_max_ps(_mm256_min_ps(r, hi), lo))
    };
    // The packs work within 128-bit halves: 4-byte groups come out in the order 0 2 4 6 1 3 5 7.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for i in (0..n).step_by(32) {
        let a = _mm256_packs_epi32(quant(i), quant(i + 8));
        let b = _mm256_packs_epi32(quant(i + 16), quant(i + 24));
        let q = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), order);
        _mm256_storeu_si256(qb.as_mut_ptr().add(i) as *mut __m256i, q);
    }
    amax / 127.0
}
