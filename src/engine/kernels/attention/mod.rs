//! Causal self-attention over a key/value cache: [`KvCache`] keeps every past position's
//! keys and values, and [`attend`] computes one query of one head,
//! `softmax(q·kᵀ · scale) · v`, straight over the cache (no key/value copies, no mask).

use super::exp::exp;

mod cache;
pub use cache::KvCache;

/// `q` (one head) over the positions of `keys`/`values` (`[positions, q.len()]` each),
/// into `out` (`q.len()`). `weights` is scratch space, reused from call to call.
pub fn attend(q: &[f32], keys: &[f32], values: &[f32], scale: f32, weights: &mut Vec<f32>, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if super::arch::has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { attend_avx2(q, keys, values, scale, weights, out) };
    }
    attend_loops(q, keys, values, scale, weights, out)
}

/// `attend` compiled for AVX2 natively (the portable loops, eight lanes wide).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attend_avx2(q: &[f32], keys: &[f32], values: &[f32], scale: f32, weights: &mut Vec<f32>, out: &mut [f32]) {
    attend_loops(q, keys, values, scale, weights, out)
}

#[inline(always)]
fn attend_loops(q: &[f32], keys: &[f32], values: &[f32], scale: f32, weights: &mut Vec<f32>, out: &mut [f32]) {
    let len = keys.len() / q.len();
    assert!(keys.len() == len * q.len() && values.len() == keys.len() && out.len() == q.len(), "attend: bad shapes");
    weights.resize(len, 0.0);
    scores(q, keys, scale, weights);
    let inv_total = exp_in_place(weights);
    out.fill(0.0);
    add_weighted(weights, inv_total, values, out);
}

/// `w = exp(w - max w)`; returns `1 / Σ w`.
#[inline(always)]
fn exp_in_place(w: &mut [f32]) -> f32 {
    // Comparisons, not f32::max (a call to fmaxf per element on wasm32).
    let max = w.iter().fold(f32::NEG_INFINITY, |m, &s| if s > m { s } else { m });
    // Two passes, so that the exponentials vectorize (the sum has its own lanes).
    for s in w.iter_mut() {
        let t = *s - max;
        *s = exp(if t > -87.0 { t } else { -87.0 });
    }
    1.0 / sum(w)
}

/// `out[p] = q · k_p · scale` for the key rows of `keys` (`q.len()` wide).
#[inline(always)]
fn scores(q: &[f32], keys: &[f32], scale: f32, out: &mut [f32]) {
    debug_assert_eq!(keys.len(), out.len() * q.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if q.len() % 8 == 0 {
        return simd128::scores(q, keys, scale, out);
    }
    for (o, k) in out.iter_mut().zip(keys.chunks_exact(q.len())) {
        *o = dot(q, k) * scale;
    }
}

/// `out += Σ_p (w[p] · inv_total) · v_p` over the value rows (`out.len()` wide).
#[inline(always)]
fn add_weighted(w: &[f32], inv_total: f32, values: &[f32], out: &mut [f32]) {
    debug_assert_eq!(values.len(), w.len() * out.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if out.len() % 8 == 0 {
        return simd128::add_weighted(w, inv_total, values, out);
    }
    for (p, v) in w.iter().zip(values.chunks_exact(out.len())) {
        let p = p * inv_total;
        for (o, v) in out.iter_mut().zip(v) {
            *o += p * v;
        }
    }
}

/// Sum in eight independent lanes (vectorizable, unlike an in-order sum).
#[inline(always)]
fn sum(v: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = v.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Dot product in eight independent lanes, so the compiler can vectorize it (a plain
/// iterator sum must add in order).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;
