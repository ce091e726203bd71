//! GPT-2's gelu (the tanh form), in place, without libm: `gelu(x) = x · sigmoid(2u)` with
//! `u = √(2/π)(x + 0.044715x³)`, since `(1 + tanh u) / 2 = sigmoid(2u)`, with the
//! branch-free exponential of `exp.rs`: libm's tanhf is a call per element, which the
//! compiler cannot vectorize.

use super::exp::exp;

#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    let u = SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x);
    let e = exp((-2.0 * u).clamp(-87.0, 87.0));
    x / (1.0 + e)
}

pub fn gelu_in_place(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if super::arch::has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { gelu_in_place_avx2(v) };
    }
    gelu_loop(v)
}

#[inline(always)]
fn gelu_loop(v: &mut [f32]) {
    for x in v {
        *x = gelu(*x);
    }
}

/// The same loop compiled for AVX2: eight lanes instead of SSE2's four.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_in_place_avx2(v: &mut [f32]) {
    gelu_loop(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_tanh_formula() {
        let mut worst = 0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4 * (1.0 + (i as f32 * 1e-5).abs()); // dense near 0, out to ±60
            let u = (2.0 / std::f64::consts::PI).sqrt() * (x as f64 + 0.044715 * (x as f64).powi(3));
            let want = 0.5 * x as f64 * (1.0 + u.tanh());
            let got = gelu(x) as f64;
            let err = (got - want).abs() / want.abs().max(1e-3);
            worst = worst.max(err);
        }
        // f32 rounding of u (≈6e-8 relative) becomes 2|u|·6e-8 in e^(-2u): about 1e-6 where
        // |u| ≈ 8 and the output is already tiny. libm's tanhf on the f32 u does no better.
        assert!(worst < 2e-6, "relative error {worst:e}");
        assert!(gelu(-100.0).abs() < 1e-30);
        assert_eq!(gelu(100.0), 100.0);
        assert_eq!(gelu(0.0), 0.0);
    }
}
