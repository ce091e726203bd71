//! Keys and values of past positions for one attention layer. Room grows with the
//! conversation (doubling, up to the model's context), so a model that has just loaded holds
//! no cache at all and a short chat a small one; growing copies the history once per doubling.

use super::super::parallel::{self, Disjoint};
use super::attend;
use crate::engine::error::{EngineError, Result};

/// Positions allocated at first use.
const FIRST_ROOM: usize = 64;

pub struct KvCache {
    /// `[n_head, room, head_dim]`, filled up to `len`.
    k: Vec<f32>,
    v: Vec<f32>,
    len: usize,
    /// Positions allocated per head.
    room: usize,
    /// The model's context: positions the cache may ever hold.
    capacity: usize,
    n_head: usize,
    head_dim: usize,
}

impl KvCache {
    pub fn new(n_head: usize, capacity: usize, head_dim: usize) -> Self {
        Self { k: Vec::new(), v: Vec::new(), len: 0, room: 0, capacity, n_head, head_dim }
    }

    /// Makes room for `needed` positions (at most `capacity`), keeping the cached ones.
    fn reserve(&mut self, needed: usize) {
        if needed <= self.room {
            return;
        }
        let room = needed.max(2 * self.room).max(FIRST_ROOM).min(self.capacity);
        let (hd, kept) = (self.head_dim, self.len * self.head_dim);
        let grow = |old: &[f32]| {
            let mut new = vec![0.0; self.n_head * room * hd];
            for h in 0..self.n_head {
                new[h * room * hd..h * room * hd + kept].copy_from_slice(&old[h * self.room * hd..h * self.room * hd + kept]);
            }
            new
        };
        (self.k, self.v) = (grow(&self.k), grow(&self.v));
        self.room = room;
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
        self.reserve(self.len + s);
        let hd = self.head_dim;
        for (t, row) in qkv.chunks_exact(3 * e).enumerate() {
            for h in 0..self.n_head {
                let at = (h * self.room + self.len + t) * hd;
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
        let (e, hd, cap) = (self.n_head * self.head_dim, self.head_dim, self.room);
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
