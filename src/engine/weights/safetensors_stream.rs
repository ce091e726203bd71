//! Streaming reader for `model.safetensors`: an 8-byte header length, a JSON header giving
//! each tensor's dtype, shape and byte range, then the data. Tensors are handed on in file
//! order as their bytes complete.

use super::byte_ranges::{Range, RangeWalker};
use super::{FloatDtype, TensorSink, WeightStream};
use crate::engine::error::{EngineError, Result};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
struct Entry {
    dtype: String,
    // u64: a 32-bit (wasm) build must say "too big" rather than "cannot parse".
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// A size from the header as `usize`, or the out-of-memory error a 32-bit build gives for it.
fn addressable(name: &str, bytes: u64) -> Result<usize> {
    usize::try_from(bytes).map_err(|_| {
        EngineError::OutOfMemory(format!("tensor `{name}` needs {:.1} GB, more than this program can address", bytes as f64 / 1e9))
    })
}

pub struct SafetensorsStream {
    header: Vec<u8>,
    header_len: Option<usize>,
    /// Set once the header is parsed; positions count from the start of the data section.
    walker: Option<RangeWalker<(FloatDtype, Vec<usize>)>>,
}

impl Default for SafetensorsStream {
    fn default() -> Self {
        Self::new()
    }
}

/// Largest JSON header accepted; real ones are tens of KB.
const MAX_HEADER: usize = 100 << 20;

impl SafetensorsStream {
    pub fn new() -> Self {
        Self { header: Vec::new(), header_len: None, walker: None }
    }

    fn make_plan(&mut self, sink: &dyn TensorSink) -> Result<()> {
        let raw: HashMap<String, serde_json::Value> = serde_json::from_slice(&self.header)
            .map_err(|e| EngineError::Corrupt(format!("bad safetensors header: {e}")))?;
        let mut plan = Vec::new();
        for (name, value) in raw {
            if name == "__metadata__" {
                continue;
            }
            let e: Entry = serde_json::from_value(value)
                .map_err(|e| EngineError::Corrupt(format!("bad safetensors entry `{name}`: {e}")))?;
            let wanted = sink.wants(&name);
            let dtype = match e.dtype.as_str() {
                "F32" => FloatDtype::F32,
                "F16" => FloatDtype::F16,
                "BF16" => FloatDtype::BF16,
                "F64" => FloatDtype::F64,
                other if !wanted => {
                    let _ = other;
                    FloatDtype::F32 // skipped anyway; dtype unused
                }
                other => {
                    return Err(EngineError::UnsupportedFormat(format!(
                        "tensor `{name}` has dtype {other}"
                    )))
                }
            };
            let (start, end) = e.data_offsets;
            let bytes = e.shape.iter().try_fold(dtype.size() as u64, |n, d| n.checked_mul(*d));
            if end < start || (wanted && Some(end - start) != bytes) {
                return Err(EngineError::Corrupt(format!("tensor `{name}` has a wrong byte range")));
            }
            let (start, end) = (addressable(&name, start)?, addressable(&name, end)?);
            let shape = e.shape.iter().map(|d| addressable(&name, *d)).collect::<Result<Vec<_>>>()?;
            plan.push(Range { name, start, end, wanted, info: (dtype, shape) });
        }
        self.walker = Some(RangeWalker::new(plan, "safetensors")?);
        Ok(())
    }
}

impl WeightStream for SafetensorsStream {
    fn push(&mut self, mut bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        if self.walker.is_none() {
            let want = self.header_len.unwrap_or(8);
            let take = (want - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.header.len() < want {
                return Ok(());
            }
            if self.header_len.is_none() {
                let n = u64::from_le_bytes(self.header[..8].try_into().unwrap()) as usize;
                if n > MAX_HEADER {
                    return Err(EngineError::UnsupportedFormat("not a safetensors file".into()));
                }
                self.header_len = Some(n);
                self.header.clear();
                return self.push(bytes, sink);
            }
            self.make_plan(sink)?;
            self.header = Vec::new();
        }
        let walker = self.walker.as_mut().expect("planned above");
        walker.consume(bytes, |r, data| sink.float_tensor(&r.name, r.info.0, &r.info.1, &data))
    }

    fn finish(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        self.push(&[], sink)?;
        match &self.walker {
            None => Err(EngineError::Incomplete("the safetensors header is cut short".into())),
            Some(w) => match w.unfinished() {
                Some(r) => Err(EngineError::Incomplete(format!("tensor `{}` is cut short", r.name))),
                None => Ok(()),
            },
        }
    }
}
