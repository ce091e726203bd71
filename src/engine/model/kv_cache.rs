//! Keys and values of past positions for one attention layer, preallocated for the whole
//! context so that decoding never reallocates or copies the history.

use crate::engine::error::{EngineError, Result};
use crate::engine::kernels::exp::exp;
use crate::engine::kernels::parallel::{self, Disjoint};

pub struct KvCache {
    /// `[n_head, capacity, head_dim]`, filled up to `len`.
    k: Vec<f32>,
    v: Vec<f32>,
    len: usize,
    capacity: usize,
    n_head: usize,
    head_dim: usize,
}

impl KvCache {
    pub fn new(n_head: usize, capacity: usize, head_dim: usize) -> Result<Self> {
        let size = n_head * capacity * head_dim;
        Ok(Self {
            k: vec![0.0; size],
            v: vec![0.0; size],
            len: 0,
            capacity,
            n_head,
            head_dim,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every position from `len` on (the old values are overwritten later).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Appends the keys and values of `s` new positions, taken from the fused projection
    /// `qkv` (`[s, 3 * n_embd]`: queries, keys, values, each `n_head` heads of `head_dim`).
    pub fn append_qkv(&mut self, qkv: &[f32], s: usize) -> Result<()> {
        let e = self.n_head * self.head_dim;
        if self.len + s > self.capacity {
            return Err(EngineError::InvalidInput(format!(
                "the context is full: {} + {s} positions exceed {}",
                self.len, self.capacity
            )));
        }
        assert_eq!(qkv.len(), s * 3 * e);
        let hd = self.head_dim;
        for (t, row) in qkv.chunks_exact(3 * e).enumerate() {
            for h in 0..self.n_head {
                let at = (h * self.capacity + self.len + t) * hd;
                self.k[at..at + hd].copy_from_slice(&row[e + h * hd..e + (h + 1) * hd]);
                self.v[at..at + hd].copy_from_slice(&row[2 * e + h * hd..2 * e + (h + 1) * hd]);
            }
        }
        self.len += s;
        Ok(())
    }

    /// Causal attention of the `s` newest positions, whose keys and values `append_qkv` has
    /// just cached: `qkv` is the same fused projection (`[s, 3 * n_embd]`, queries first),
    /// `out` receives `[s, n_embd]`. Query `i` sees every position up to its own. Done query
    /// by query straight over the cache (no key/value copies, no score matrix, no mask):
    /// a turn late in a long conversation then costs little more than the first one. Heads
    /// are independent, so a prompt or a long context splits them across the native threads.
    pub fn attend_new(&self, qkv: &[f32], s: usize, out: &mut [f32]) {
        let (e, hd, cap) = (self.n_head * self.head_dim, self.head_dim, self.capacity);
        assert!(s <= self.len && qkv.len() == s * 3 * e && out.len() == s * e, "attend_new: bad shapes");
        let past = self.len - s;
        let scale = 1.0 / (hd as f32).sqrt();
        let min_split = if s * (past + s) * e >= 1 << 17 { 2 } else { usize::MAX };
        let out = Disjoint::new(out);
        parallel::for_ranges(self.n_head, min_split, |heads| {
            SCORES.with(|scores| {
                let scores = &mut scores.borrow_mut();
                for h in heads {
                    let (keys, values) = (&self.k[h * cap * hd..(h + 1) * cap * hd], &self.v[h * cap * hd..(h + 1) * cap * hd]);
                    for (i, row) in qkv.chunks_exact(3 * e).enumerate() {
                        let len = past + i + 1;
                        // SAFETY: (query i, head h) owns these elements; heads go to one thread each.
                        let o = unsafe { out.part(i * e + h * hd..i * e + (h + 1) * hd) };
                        attend_head(&row[h * hd..(h + 1) * hd], &keys[..len * hd], &values[..len * hd], scale, scores, o);
                    }
                }
            })
        });
    }
}

thread_local! {
    /// Attention weights of one head over the cached positions, kept per thread.
    static SCORES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One head of one query over `keys`/`values` (`[len, head_dim]` each), into `out`
/// (`[head_dim]`): softmax(q·kᵀ · scale) · v.
fn attend_head(q: &[f32], keys: &[f32], values: &[f32], scale: f32, weights: &mut Vec<f32>, out: &mut [f32]) {
    weights.clear();
    scores(q, keys, scale, weights);
    // Comparisons, not f32::max (a call to fmaxf per element on wasm32).
    let max = weights.iter().fold(f32::NEG_INFINITY, |m, &s| if s > m { s } else { m });
    // Two passes, so that the exponentials vectorize (the sum has its own lanes).
    for s in weights.iter_mut() {
        let t = *s - max;
        *s = exp(if t > -87.0 { t } else { -87.0 });
    }
    let inv_total = 1.0 / sum(weights);
    weighted_sum(weights, inv_total, values, out);
}

/// Appends `q · k · scale` for every key (rows of `q.len()`) to `out`.
fn scores(q: &[f32], keys: &[f32], scale: f32, out: &mut Vec<f32>) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if q.len() % 8 == 0 {
        return simd::scores(q, keys, scale, out);
    }
    out.extend(keys.chunks_exact(q.len()).map(|k| dot(q, k) * scale));
}

/// `out = Σ_p (w[p] · inv_total) · v_p` over the value rows (`out.len()` wide).
fn weighted_sum(w: &[f32], inv_total: f32, values: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if out.len() % 8 == 0 {
        return simd::weighted_sum(w, inv_total, values, out);
    }
    out.fill(0.0);
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

/// wasm32: the two loops of `attend_head` written with simd128 (LLVM's vectorization of
/// `dot` ends each 64-wide product in a scalar sum of eight lanes, and keeps the output in
/// memory). The sums come in another order than `dot`'s, so results may differ in the last
/// bits from the portable path (which native builds keep).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    #[inline(always)]
    fn load(s: &[f32], i: usize) -> v128 {
        assert!(i + 4 <= s.len());
        // SAFETY: checked just above; wasm loads need no alignment.
        unsafe { (s.as_ptr().add(i) as *const v128).read_unaligned() }
    }

    /// `[Σ a, Σ b, Σ c, Σ d]` of four vectors.
    #[inline(always)]
    fn reduce4(a: v128, b: v128, c: v128, d: v128) -> v128 {
        let ab = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<2, 6, 3, 7>(a, b));
        let cd = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(c, d), i32x4_shuffle::<2, 6, 3, 7>(c, d));
        f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd))
    }

    /// Appends `q · k · scale` for every key (rows of `q.len()`, a multiple of 8) to `out`,
    /// four keys at a time.
    pub fn scores(q: &[f32], keys: &[f32], scale: f32, out: &mut Vec<f32>) {
        let hd = q.len();
        let n = keys.len() / hd;
        out.reserve(n);
        let mut p = 0;
        while p + 4 <= n {
            let k = &keys[p * hd..(p + 4) * hd];
            let mut acc = [[f32x4_splat(0.0); 2]; 4];
            for d in (0..hd).step_by(8) {
                let (q0, q1) = (load(q, d), load(q, d + 4));
                for (j, a) in acc.iter_mut().enumerate() {
                    a[0] = f32x4_add(a[0], f32x4_mul(q0, load(k, j * hd + d)));
                    a[1] = f32x4_add(a[1], f32x4_mul(q1, load(k, j * hd + d + 4)));
                }
            }
            let [a, b, c, d] = acc.map(|a| f32x4_add(a[0], a[1]));
            // SAFETY: v128 and [f32; 4] have the same size; every bit pattern is a valid f32.
            let s: [f32; 4] = unsafe { core::mem::transmute(f32x4_mul(reduce4(a, b, c, d), f32x4_splat(scale))) };
            out.extend_from_slice(&s);
            p += 4;
        }
        for k in keys[p * hd..].chunks_exact(hd) {
            let mut acc = f32x4_splat(0.0);
            for d in (0..hd).step_by(4) {
                acc = f32x4_add(acc, f32x4_mul(load(q, d), load(k, d)));
            }
            let z = f32x4_splat(0.0);
            out.push(f32x4_extract_lane::<0>(reduce4(acc, z, z, z)) * scale);
        }
    }

    /// `out = Σ_p (w[p] · inv_total) · v_p` over the value rows (`out.len()` wide, a multiple
    /// of 8), the output kept in registers 32 columns at a time.
    pub fn weighted_sum(w: &[f32], inv_total: f32, values: &[f32], out: &mut [f32]) {
        let hd = out.len();
        assert_eq!(values.len(), w.len() * hd);
        let mut c0 = 0;
        while c0 < hd {
            if c0 + 32 <= hd {
                let mut o = [f32x4_splat(0.0); 8];
                for (p, &wp) in w.iter().enumerate() {
                    let pv = f32x4_splat(wp * inv_total);
                    for (j, o) in o.iter_mut().enumerate() {
                        *o = f32x4_add(*o, f32x4_mul(pv, load(values, p * hd + c0 + 4 * j)));
                    }
                }
                for (j, o) in o.iter().enumerate() {
                    // SAFETY: c0 + 32 <= out.len().
                    unsafe { (out.as_mut_ptr().add(c0 + 4 * j) as *mut v128).write_unaligned(*o) };
                }
                c0 += 32;
            } else {
                let mut o = [f32x4_splat(0.0); 2];
                for (p, &wp) in w.iter().enumerate() {
                    let pv = f32x4_splat(wp * inv_total);
                    for (j, o) in o.iter_mut().enumerate() {
                        *o = f32x4_add(*o, f32x4_mul(pv, load(values, p * hd + c0 + 4 * j)));
                    }
                }
                for (j, o) in o.iter().enumerate() {
                    // SAFETY: c0 + 8 <= out.len() (hd is a multiple of 8).
                    unsafe { (out.as_mut_ptr().add(c0 + 4 * j) as *mut v128).write_unaligned(*o) };
                }
                c0 += 8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Causal attention written out plainly in f64: query `i` of `qkv` over positions `0..=past + i`.
    fn reference(all: &[Vec<f32>], n_head: usize, hd: usize, past: usize, i: usize) -> Vec<f64> {
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

    /// A prompt after cached turns (large enough to be split across threads), then one decode
    /// step, against the plain formula.
    #[test]
    fn attention_matches_the_formula() {
        let (n_head, hd, past, s) = (4, 64, 40, 48);
        let e = n_head * hd;
        let mut seed = 0x2545_F491_u64;
        let mut rand = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 2001) as f32 / 1000.0 - 1.0
        };
        let all: Vec<Vec<f32>> = (0..past + s + 1).map(|_| (0..3 * e).map(|_| rand()).collect()).collect();
        let mut cache = KvCache::new(n_head, 128, hd).unwrap();
        let check = |from: usize, count: usize, cache: &mut KvCache| {
            let qkv: Vec<f32> = all[from..from + count].concat();
            cache.append_qkv(&qkv, count).unwrap();
            let mut out = vec![0f32; count * e];
            cache.attend_new(&qkv, count, &mut out);
            for i in 0..count {
                let want = reference(&all, n_head, hd, from, i);
                for (g, w) in out[i * e..(i + 1) * e].iter().zip(&want) {
                    assert!((*g as f64 - w).abs() < 1e-5, "query {} of {count}: {g} vs {w}", from + i);
                }
            }
        };
        check(0, past, &mut cache);
        check(past, s, &mut cache);
        check(past + s, 1, &mut cache);
    }
}
