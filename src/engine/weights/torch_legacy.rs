//! Streaming reader for PyTorch's legacy (pre-1.6, non-zip) checkpoint format, the format
//! of the Hub's 2020 `microsoft/DialoGPT-*` `pytorch_model.bin` files.
//!
//! Layout: five pickles back to back (magic number, protocol version, sys_info, the state
//! dict, the list of storage keys) and then, for each key in that list, an 8-byte
//! little-endian element count followed by the storage's raw bytes.

use super::pickle_tensors::{state_dict_tensors, unpickle_prefix, StorageDecl, TensorRef, Unpickled};
use super::{TensorSink, WeightStream};
use crate::engine::error::{EngineError, Result};
use candle_core::pickle::Object;
use std::collections::HashMap;

/// `pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)`: the first bytes of every legacy file.
pub const LEGACY_MAGIC: [u8; 15] =
    [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];

struct StoragePlan {
    decl: StorageDecl,
    /// Wanted tensors that view this storage; empty means skip its bytes.
    tensors: Vec<TensorRef>,
}

enum Phase {
    Header,
    /// Reading the 8-byte length of storage `index`.
    Length { index: usize },
    /// Streaming the bytes of storage `index`; `kept` is `Some` when a tensor needs them.
    Data { index: usize, remaining: usize, kept: Option<Vec<u8>>, keep: usize },
    Done,
}

pub struct LegacyTorchStream {
    phase: Phase,
    /// Bytes not yet consumed by the header parser or a length field.
    pending: Vec<u8>,
    plans: Vec<StoragePlan>,
    /// The pending length at which the header parse last ran out of data.
    last_attempt: usize,
}

impl Default for LegacyTorchStream {
    fn default() -> Self {
        Self::new()
    }
}

impl LegacyTorchStream {
    pub fn new() -> Self {
        Self { phase: Phase::Header, pending: Vec::new(), plans: Vec::new(), last_attempt: 0 }
    }

    /// Tries to parse the five header pickles; returns how many bytes they took.
    fn parse_header(&mut self, sink: &dyn TensorSink) -> Result<Option<usize>> {
        let buf = &self.pending;
        if buf.len() < LEGACY_MAGIC.len() {
            return Ok(None);
        }
        if buf[..LEGACY_MAGIC.len()] != LEGACY_MAGIC {
            return Err(EngineError::UnsupportedFormat("not a legacy PyTorch file".into()));
        }
        let mut pos = LEGACY_MAGIC.len();
        let mut objects = Vec::with_capacity(4);
        for _ in 0..4 {
            match unpickle_prefix(&buf[pos..])? {
                Unpickled::Done { object, consumed } => {
                    objects.push(object);
                    pos += consumed;
                }
                Unpickled::NeedMore => return Ok(None),
            }
        }
        let tensors = state_dict_tensors(&objects[2])?;
        let keys: Vec<String> = match &objects[3] {
            Object::List(items) => items
                .iter()
                .map(|o| match o {
                    Object::Unicode(s) => Ok(s.clone()),
                    _ => Err(EngineError::Corrupt("storage key list holds a non-string".into())),
                })
                .collect::<Result<_>>()?,
            _ => return Err(EngineError::Corrupt("missing storage key list".into())),
        };
        let mut by_key: HashMap<&str, StoragePlan> = HashMap::new();
        for t in &tensors {
            let plan = by_key
                .entry(t.storage.key.as_str())
                .or_insert_with(|| StoragePlan { decl: t.storage.clone(), tensors: Vec::new() });
            if sink.wants(&t.name) {
                if t.storage.dtype.is_none() {
                    return Err(EngineError::UnsupportedFormat(format!(
                        "tensor `{}` is not a float tensor",
                        t.name
                    )));
                }
                plan.tensors.push(t.clone());
            }
        }
        let mut plans = Vec::with_capacity(keys.len());
        for key in &keys {
            let plan = by_key.remove(key.as_str()).ok_or_else(|| {
                EngineError::Corrupt(format!("storage `{key}` is listed but no tensor uses it"))
            })?;
            plans.push(plan);
        }
        if let Some(key) = by_key.keys().next() {
            return Err(EngineError::Corrupt(format!("storage `{key}` is used but not stored")));
        }
        self.plans = plans;
        Ok(Some(pos))
    }

    fn emit(&self, index: usize, data: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        for t in &self.plans[index].tensors {
            let range = t.byte_range();
            let bytes = data.get(range.clone()).ok_or_else(|| {
                EngineError::Corrupt(format!("tensor `{}` lies outside its storage", t.name))
            })?;
            let dtype = t.storage.dtype.expect("checked when planning");
            sink.float_tensor(&t.name, dtype, &t.shape, bytes)?;
        }
        Ok(())
    }

    fn next_phase(&self, index: usize) -> Phase {
        if index < self.plans.len() {
            Phase::Length { index }
        } else {
            Phase::Done
        }
    }
}

impl WeightStream for LegacyTorchStream {
    fn push(&mut self, mut bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        loop {
            match &mut self.phase {
                Phase::Header => {
                    self.pending.extend_from_slice(bytes);
                    // Re-parsing from the start is cheap (the header is tens of KB) but avoid
                    // doing it for every small chunk.
                    if self.pending.len() < 2 * self.last_attempt.max(4096) && self.last_attempt > 0 {
                        return Ok(());
                    }
                    match self.parse_header(sink)? {
                        None => {
                            self.last_attempt = self.pending.len();
                            return Ok(());
                        }
                        Some(used) => {
                            let rest = self.pending.split_off(used);
                            self.pending.clear();
                            self.phase = self.next_phase(0);
                            return self.push(&rest, sink);
                        }
                    }
                }
                Phase::Length { index } => {
                    let index = *index;
                    let need = 8 - self.pending.len();
                    let take = need.min(bytes.len());
                    self.pending.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if self.pending.len() < 8 {
                        return Ok(());
                    }
                    let numel = u64::from_le_bytes(self.pending[..8].try_into().unwrap()) as usize;
                    self.pending.clear();
                    let plan = &self.plans[index];
                    let size = numel.checked_mul(plan.decl.elem_size).ok_or_else(|| {
                        EngineError::Corrupt(format!("storage {} has an absurd size", plan.decl.key))
                    })?;
                    let needed = plan.tensors.iter().map(|t| t.byte_range().end).max().unwrap_or(0);
                    if size < needed {
                        return Err(EngineError::Corrupt(format!(
                            "storage {} holds {size} bytes, its tensors need {needed}",
                            plan.decl.key
                        )));
                    }
                    // Keep only the bytes the tensors use: a damaged length then means a long
                    // skip (and an "incomplete" error), never a giant allocation.
                    let kept = if plan.tensors.is_empty() { None } else { Some(super::alloc_bytes(needed)?) };
                    self.phase = Phase::Data { index, remaining: size, kept, keep: needed };
                }
                Phase::Data { index, remaining, kept, keep } => {
                    let take = (*remaining).min(bytes.len());
                    if let Some(buf) = kept.as_mut() {
                        let room = *keep - buf.len();
                        buf.extend_from_slice(&bytes[..take.min(room)]);
                    }
                    *remaining -= take;
                    bytes = &bytes[take..];
                    if *remaining > 0 {
                        return Ok(());
                    }
                    let index = *index;
                    if let Some(data) = kept.take() {
                        self.emit(index, &data, sink)?;
                    }
                    self.phase = self.next_phase(index + 1);
                }
                Phase::Done => return Ok(()), // trailing bytes are ignored
            }
            // An empty storage completes without bytes, so keep going for it.
            if bytes.is_empty() && !matches!(self.phase, Phase::Data { remaining: 0, .. }) {
                return Ok(());
            }
        }
    }

    fn finish(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        if let Phase::Header = self.phase {
            // A final attempt on whatever arrived, bypassing the growth throttle.
            if let Some(used) = self.parse_header(sink)? {
                let rest = self.pending.split_off(used);
                self.pending.clear();
                self.phase = self.next_phase(0);
                self.last_attempt = 0;
                self.push(&rest, sink)?;
            }
        }
        match self.phase {
            Phase::Done => Ok(()),
            Phase::Header => Err(EngineError::Incomplete("the checkpoint header is cut short".into())),
            Phase::Length { index } | Phase::Data { index, .. } => Err(EngineError::Incomplete(format!(
                "storage {} of {} is missing or cut short",
                index + 1,
                self.plans.len()
            ))),
        }
    }
}
