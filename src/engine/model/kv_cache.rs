//! Keys and values of past positions for one attention layer, preallocated for the whole
//! context so that decoding never reallocates or copies the history.

use crate::engine::error::{EngineError, Result};
use crate::engine::kernels::exp::exp;

pub struct KvCache {
    /// `[n_head, capacity, head_dim]`, filled up to `len`.
    k: Vec<f32>,
    v: Vec<f32>,
    len: usize,
    capacity: usize,
    n_head: usize,
    head_dim: usize,
    /// Attention weights of one head over the cached positions (decode scratch).
    scores: Vec<f32>,
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
            scores: Vec::with_capacity(capacity),
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
    /// a turn late in a long conversation then costs little more than the first one.
    pub fn attend_new(&mut self, qkv: &[f32], s: usize, out: &mut [f32]) {
        let e = self.n_head * self.head_dim;
        assert!(s <= self.len && qkv.len() == s * 3 * e && out.len() == s * e, "attend_new: bad shapes");
        let past = self.len - s;
        for (i, (row, o)) in qkv.chunks_exact(3 * e).zip(out.chunks_exact_mut(e)).enumerate() {
            self.attend_prefix(&row[..e], past + i + 1, o);
        }
    }

    /// One query (`[n_embd]`, heads side by side) over the first `len` cached positions,
    /// written to `out` (`[n_embd]`): per head, softmax(q·kᵀ / √head_dim) · v.
    fn attend_prefix(&mut self, q: &[f32], len: usize, out: &mut [f32]) {
        let hd = self.head_dim;
        let scale = 1.0 / (hd as f32).sqrt();
        for h in 0..self.n_head {
            let qh = &q[h * hd..(h + 1) * hd];
            let keys = &self.k[h * self.capacity * hd..(h * self.capacity + len) * hd];
            let values = &self.v[h * self.capacity * hd..(h * self.capacity + len) * hd];
            self.scores.clear();
            self.scores.extend(keys.chunks_exact(hd).map(|k| dot(qh, k) * scale));
            // Comparisons, not f32::max (a call to fmaxf per element on wasm32).
            let max = self.scores.iter().fold(f32::NEG_INFINITY, |m, &s| if s > m { s } else { m });
            // Two passes, so that the exponentials vectorize (the sum has its own lanes).
            for s in self.scores.iter_mut() {
                let t = *s - max;
                *s = exp(if t > -87.0 { t } else { -87.0 });
            }
            let inv_total = 1.0 / sum(&self.scores);
            let oh = &mut out[h * hd..(h + 1) * hd];
            oh.fill(0.0);
            for (p, v) in self.scores.iter().zip(values.chunks_exact(hd)) {
                let p = p * inv_total;
                for (o, v) in oh.iter_mut().zip(v) {
                    *o += p * v;
                }
            }
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
