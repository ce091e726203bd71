//! Keys and values of past positions for one attention layer, preallocated for the whole
//! context so that decoding never reallocates or copies the history.

use crate::engine::error::{EngineError, Result};
use candle_core::{DType, Device, Tensor};

pub struct KvCache {
    /// `[n_head, capacity, head_dim]`, filled up to `len`.
    k: Tensor,
    v: Tensor,
    len: usize,
    capacity: usize,
}

impl KvCache {
    pub fn new(n_head: usize, capacity: usize, head_dim: usize) -> Result<Self> {
        let k = Tensor::zeros((n_head, capacity, head_dim), DType::F32, &Device::Cpu)?;
        let v = Tensor::zeros((n_head, capacity, head_dim), DType::F32, &Device::Cpu)?;
        Ok(Self { k, v, len: 0, capacity })
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

    /// Appends `[n_head, s, head_dim]` keys and values; returns views of all positions.
    pub fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let s = k.dim(1)?;
        if self.len + s > self.capacity {
            return Err(EngineError::InvalidInput(format!(
                "the context is full: {} + {s} positions exceed {}",
                self.len, self.capacity
            )));
        }
        self.k.slice_set(&k.contiguous()?, 1, self.len)?;
        self.v.slice_set(&v.contiguous()?, 1, self.len)?;
        self.len += s;
        Ok((self.k.narrow(1, 0, self.len)?, self.v.narrow(1, 0, self.len)?))
    }
}
