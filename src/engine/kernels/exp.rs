//! e^t without libm, for gelu and the attention softmax: a range reduction to
//! `[-ln2/2, ln2/2]` and a degree-6 Taylor polynomial (relative error about 1.2e-7, an ulp or
//! two), branch-free so the compiler vectorizes loops over it (AVX2 natively, simd128 on
//! wasm32). libm's expf is a call per element, which dominates a long context's softmax.

/// e^t for t in [-87, 87] (the caller clamps).
#[inline(always)]
pub fn exp(t: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that n·LN2_HI is exact for |n| < 2^9.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let shifted = t * LOG2E + MAGIC;
    let n = shifted - MAGIC;
    let r = (t - n * LN2_HI) - n * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^n through the exponent bits. n (in [-126, 126]) sits in the low mantissa bits of
    // `shifted`, so integer lane ops recover it: `n as i32` is a saturating conversion that
    // x86 compiles one lane at a time.
    let biased_n = shifted.to_bits().wrapping_sub(MAGIC.to_bits()).wrapping_add(127);
    p * f32::from_bits(biased_n << 23)
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_libm() {
        let mut worst = 0f64;
        for i in -870_000..=870_000 {
            let t = i as f32 * 1e-4;
            let want = (t as f64).exp();
            worst = worst.max((super::exp(t) as f64 - want).abs() / want);
        }
        assert!(worst < 3e-7, "relative error {worst:e}");
        assert_eq!(super::exp(0.0), 1.0);
    }
}
