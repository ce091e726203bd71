//! Softmax attention of one query of one head over its cached keys and values:
//! `softmax(q·kᵀ · scale) · v`, straight over the cache (no key/value copies, no mask).

use crate::engine::kernels::exp::exp;

/// `q` (one head) over the positions of `keys`/`values` (`[positions, q.len()]` each),
/// into `out` (`q.len()`). `weights` is scratch space, reused from call to call.
pub fn attend(q: &[f32], keys: &[f32], values: &[f32], scale: f32, weights: &mut Vec<f32>, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::engine::kernels::arch::has_avx2() {
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
        return simd::scores(q, keys, scale, out);
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
        return simd::add_weighted(w, inv_total, values, out);
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

/// wasm32: the two loops written with simd128 (LLVM's vectorization of `dot` ends each
/// 64-wide product in a scalar sum of eight lanes, and keeps the output in memory). The sums
/// come in another order than `dot`'s, so results may differ in the last bits from the
/// portable path (which native builds keep).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    #[inline(always)]
    fn load(s: &[f32], i: usize) -> v128 {
        // Constant offsets into slices of known length (the 64-wide copies) fold this away.
        assert!(i + 4 <= s.len());
        // SAFETY: checked just above; wasm loads need no alignment.
        unsafe { (s.as_ptr().add(i) as *const v128).read_unaligned() }
    }

    #[inline(always)]
    fn store(s: &mut [f32], i: usize, v: v128) {
        assert!(i + 4 <= s.len());
        // SAFETY: checked just above.
        unsafe { (s.as_mut_ptr().add(i) as *mut v128).write_unaligned(v) }
    }

    /// `a · b + c`: one fused multiply-add in the relaxed build (x86 FMA), which also needs
    /// one register less. The relaxed build compiles the callers with relaxed SIMD, so it inlines.
    #[cfg(feature = "relaxed-simd")]
    #[target_feature(enable = "relaxed-simd")]
    #[inline]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_relaxed_madd(a, b, c)
    }
    #[cfg(not(feature = "relaxed-simd"))]
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_add(f32x4_mul(a, b), c)
    }

    /// `[Σ a, Σ b, Σ c, Σ d]` of four vectors.
    #[inline(always)]
    fn reduce4(a: v128, b: v128, c: v128, d: v128) -> v128 {
        let ab = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<2, 6, 3, 7>(a, b));
        let cd = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(c, d), i32x4_shuffle::<2, 6, 3, 7>(c, d));
        f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd))
    }

    /// `out[p] = q · k_p · scale` (rows of `q.len()`, a multiple of 8), four keys at a time.
    #[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
    pub fn scores(q: &[f32], keys: &[f32], scale: f32, out: &mut [f32]) {
        let hd = q.len();
        assert!(hd % 8 == 0 && keys.len() == out.len() * hd);
        let n = out.len();
        let mut p = 0;
        while p + 4 <= n {
            let mut acc = [[f32x4_splat(0.0); 2]; 4];
            // SAFETY: keys p..p + 4 are inside `keys` (checked above); d + 8 <= hd.
            unsafe {
                let k = keys.as_ptr().add(p * hd);
                let mut d = 0;
                // A rolled loop over the width, through raw pointers: unrolled for a 64-wide
                // head, LLVM issued all 64 key loads first and V8 spilled them to the stack
                // (attention 65 -> 56 ms per medium turn late in a conversation, node).
                while d < hd {
                    let (q0, q1) = (vload(q.as_ptr().add(d)), vload(q.as_ptr().add(d + 4)));
                    for (j, a) in acc.iter_mut().enumerate() {
                        let kj = k.add(j * hd + d);
                        a[0] = madd(q0, vload(kj), a[0]);
                        a[1] = madd(q1, vload(kj.add(4)), a[1]);
                    }
                    d += 8;
                }
            }
            let [a, b, c, d] = acc.map(|a| f32x4_add(a[0], a[1]));
            store(out, p, f32x4_mul(reduce4(a, b, c, d), f32x4_splat(scale)));
            p += 4;
        }
        for (o, k) in out[p..].iter_mut().zip(keys[p * hd..].chunks_exact(hd)) {
            let mut acc = f32x4_splat(0.0);
            for d in (0..hd).step_by(4) {
                acc = madd(load(q, d), load(k, d), acc);
            }
            let z = f32x4_splat(0.0);
            *o = f32x4_extract_lane::<0>(reduce4(acc, z, z, z)) * scale;
        }
    }

    #[inline(always)]
    unsafe fn vload(p: *const f32) -> v128 {
        (p as *const v128).read_unaligned()
    }

    /// `out += Σ_p (w[p] · inv_total) · v_p` (`out.len()` wide, a multiple of 8): 32 columns
    /// at a time, then 8.
    #[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
    pub fn add_weighted(w: &[f32], inv_total: f32, values: &[f32], out: &mut [f32]) {
        let hd = out.len();
        assert!(values.len() == w.len() * hd);
        let mut c0 = 0;
        while c0 + 32 <= hd {
            add_weighted_cols::<8>(hd, w, inv_total, values, out, c0);
            c0 += 32;
        }
        while c0 < hd {
            add_weighted_cols::<2>(hd, w, inv_total, values, out, c0);
            c0 += 8;
        }
    }

    /// Columns `c0..c0 + 4W` of `add_weighted`, kept in `W` registers over every position.
    #[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
    #[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
    #[cfg_attr(feature = "relaxed-simd", inline)]
    fn add_weighted_cols<const W: usize>(hd: usize, w: &[f32], inv_total: f32, values: &[f32], out: &mut [f32], c0: usize) {
        assert!(c0 + 4 * W <= hd && values.len() == w.len() * hd);
        let mut o: [v128; W] = core::array::from_fn(|j| load(out, c0 + 4 * j));
        // SAFETY: row p of `values` holds hd ≥ c0 + 4W floats (checked above).
        unsafe {
            let mut v = values.as_ptr().add(c0);
            for &wp in w {
                let pv = f32x4_splat(wp * inv_total);
                for (j, o) in o.iter_mut().enumerate() {
                    *o = madd(pv, vload(v.add(4 * j)), *o);
                }
                v = v.add(hd);
            }
        }
        for (j, o) in o.iter().enumerate() {
            store(out, c0 + 4 * j, *o);
        }
    }
}

/// Causal attention written out plainly in f64, for checks (native tests and the wasm
/// kernel checks): `all` holds one fused `[q | k | v]` row per position; returns query
/// `past + i`'s output (all heads) over positions `0..=past + i`.
pub fn reference(all: &[Vec<f32>], n_head: usize, hd: usize, past: usize, i: usize) -> Vec<f64> {
    let e = n_head * hd;
    let q = &all[past + i];
    let mut out = vec![0f64; e];
    for h in 0..n_head {
        let score = |t: usize| -> f64 {
            (0..hd).map(|d| q[h * hd + d] as f64 * all[t][e + h * hd + d] as f64).sum::<f64>() / (hd as f64).sqrt()
        };
        let scores: Vec<f64> = (0..=past + i).map(score).collect();
        let max = scores.iter().cloned().fold(f64::MIN, f64::max);
        let total: f64 = scores.iter().map(|s| (s - max).exp()).sum();
        for (t, s) in scores.iter().enumerate() {
            for d in 0..hd {
                out[h * hd + d] += (s - max).exp() / total * all[t][2 * e + h * hd + d] as f64;
            }
        }
    }
    out
}
