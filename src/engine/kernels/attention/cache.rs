//! Keys and values of past positions for one attention layer, preallocated for the whole
//! context so that decoding never reallocates or copies the history.

use super::super::parallel::{self, Disjoint};
use super::attend;
use crate::engine::error::{EngineError, Result};

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
    pub fn new(n_head: usize, capacity: usize, head_dim: usize) -> Self {
        let size = n_head * capacity * head_dim;
        Self {
            k: vec![0.0; size],
            v: vec![0.0; size],
            len: 0,
            capacity,
            n_head,
            head_dim,
        }
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
    /// by query straight over the cache ([`attend`]): a turn late in a long conversation
    /// then costs little more than the first one. Heads are independent, so a prompt or a
    /// long context splits them across the native threads.
    pub fn attend_new(&self, qkv: &[f32], s: usize, out: &mut [f32]) {
        let (e, hd, cap) = (self.n_head * self.head_dim, self.head_dim, self.capacity);
        assert!(s <= self.len && qkv.len() == s * 3 * e && out.len() == s * e, "attend_new: bad shapes");
        let past = self.len - s;
        let scale = 1.0 / (hd as f32).sqrt();
        let min_split = if s * (past + s) * e >= 1 << 17 { 2 } else { usize::MAX };
        let out = Disjoint::new(out);
        parallel::for_ranges(self.n_head, min_split, |heads| {
            WEIGHTS.with(|weights| {
                let weights = &mut weights.borrow_mut();
                for h in heads {
                    let (keys, values) = (&self.k[h * cap * hd..(h + 1) * cap * hd], &self.v[h * cap * hd..(h + 1) * cap * hd]);
                    for (i, row) in qkv.chunks_exact(3 * e).enumerate() {
                        let len = past + i + 1;
                        // SAFETY: (query i, head h) owns these elements; heads go to one thread each.
                        let o = unsafe { out.part(i * e + h * hd..i * e + (h + 1) * hd) };
                        attend(&row[h * hd..(h + 1) * hd], &keys[..len * hd], &values[..len * hd], scale, weights, o);
                    }
                }
            })
        });
    }
}

thread_local! {
    /// Attention weights of one query over the cached positions, kept per thread.
    static WEIGHTS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}
