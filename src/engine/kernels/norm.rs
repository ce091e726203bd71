//! LayerNorm over rows: `(x - mean) / sqrt(var + eps) * weight + bias`, mean and variance
//! over each row in f32, in two passes (the variance from the centred values).

/// Normalizes each `weight.len()`-wide row of `x` into the same row of `out`.
pub fn layer_norm(x: &[f32], weight: &[f32], bias: &[f32], eps: f32, out: &mut [f32]) {
    assert!(x.len() == out.len() && weight.len() == bias.len() && x.len().is_multiple_of(weight.len()), "layer_norm: bad shapes");
    #[cfg(target_arch = "x86_64")]
    if super::arch::has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { layer_norm_avx2(x, weight, bias, eps, out) };
    }
    layer_norm_rows(x, weight, bias, eps, out)
}

/// The same loops compiled for AVX2: eight lanes instead of SSE2's four.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn layer_norm_avx2(x: &[f32], weight: &[f32], bias: &[f32], eps: f32, out: &mut [f32]) {
    layer_norm_rows(x, weight, bias, eps, out)
}

#[inline(always)]
fn layer_norm_rows(x: &[f32], weight: &[f32], bias: &[f32], eps: f32, out: &mut [f32]) {
    let n = weight.len();
    for (x, out) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        let mean = lanes_sum(x, |v| v) / n as f32;
        let var = lanes_sum(x, |v| (v - mean) * (v - mean)) / n as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for (((o, v), w), b) in out.iter_mut().zip(x).zip(weight).zip(bias) {
            *o = (v - mean) * inv * w + b;
        }
    }
}

/// `Σ f(v)` over `x` in eight independent lanes (vectorizable, unlike an in-order sum).
#[inline(always)]
fn lanes_sum(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for c in chunks {
        for i in 0..8 {
            acc[i] += f(c[i]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_formula_in_f64() {
        let n = 1024;
        let x: Vec<f32> = (0..2 * n).map(|i| ((i * 7919 % 2001) as f32 - 1000.0) * 0.013 + 0.5).collect();
        let w: Vec<f32> = (0..n).map(|i| 1.0 + (i % 7) as f32 * 0.01).collect();
        let b: Vec<f32> = (0..n).map(|i| (i % 5) as f32 * 0.1 - 0.2).collect();
        let mut out = vec![0f32; 2 * n];
        super::layer_norm(&x, &w, &b, 1e-5, &mut out);
        for (row, got) in x.chunks(n).zip(out.chunks(n)) {
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
            for i in 0..n {
                let want = (row[i] as f64 - mean) / (var + 1e-5).sqrt() * w[i] as f64 + b[i] as f64;
                assert!((got[i] as f64 - want).abs() < 1e-5, "{} vs {want}", got[i]);
            }
        }
    }
}
