//! Streaming reader for `model.safetensors`: an 8-byte header length, a JSON header giving
//! each tensor's dtype, shape and byte range, then the data. Tensors are handed on in file
//! order as their bytes complete.

use super::{FloatDtype, TensorSink, WeightStream};
use crate::engine::error::{EngineError, Result};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (usize, usize),
}

struct Planned {
    name: String,
    dtype: FloatDtype,
    shape: Vec<usize>,
    start: usize,
    end: usize,
    wanted: bool,
}

pub struct SafetensorsStream {
    header: Vec<u8>,
    header_len: Option<usize>,
    plan: Vec<Planned>,
    planned: bool,
    /// Bytes of the data section seen so far.
    data_pos: usize,
    next: usize,
    current: Vec<u8>,
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
        Self {
            header: Vec::new(),
            header_len: None,
            plan: Vec::new(),
            planned: false,
            data_pos: 0,
            next: 0,
            current: Vec::new(),
        }
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
            let elems: usize = e.shape.iter().product();
            if end < start || (wanted && end - start != elems * dtype.size()) {
                return Err(EngineError::Corrupt(format!("tensor `{name}` has a wrong byte range")));
            }
            plan.push(Planned { name, dtype, shape: e.shape, start, end, wanted });
        }
        plan.sort_by_key(|p| p.start);
        for pair in plan.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(EngineError::Corrupt("overlapping tensors in safetensors".into()));
            }
        }
        self.plan = plan;
        self.planned = true;
        Ok(())
    }
}

impl WeightStream for SafetensorsStream {
    fn push(&mut self, mut bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        if !self.planned {
            let want = match self.header_len {
                None => 8,
                Some(n) => n,
            };
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
        while !bytes.is_empty() && self.next < self.plan.len() {
            let p = &self.plan[self.next];
            if self.data_pos < p.start {
                // A gap between tensors (alignment padding).
                let skip = (p.start - self.data_pos).min(bytes.len());
                self.data_pos += skip;
                bytes = &bytes[skip..];
                continue;
            }
            let take = (p.end - self.data_pos).min(bytes.len());
            if p.wanted {
                if self.current.is_empty() {
                    self.current = super::alloc_bytes(p.end - p.start)?;
                }
                self.current.extend_from_slice(&bytes[..take]);
            }
            self.data_pos += take;
            bytes = &bytes[take..];
            if self.data_pos == p.end {
                if p.wanted {
                    let data = std::mem::take(&mut self.current);
                    sink.float_tensor(&p.name, p.dtype, &p.shape, &data)?;
                }
                self.next += 1;
            }
        }
        // Zero-sized tensors at the end complete without bytes.
        while self.next < self.plan.len() && self.plan[self.next].start == self.plan[self.next].end
            && self.data_pos >= self.plan[self.next].start
        {
            let p = &self.plan[self.next];
            if p.wanted {
                sink.float_tensor(&p.name, p.dtype, &p.shape, &[])?;
            }
            self.next += 1;
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        self.push(&[], sink)?;
        if !self.planned {
            return Err(EngineError::Incomplete("the safetensors header is cut short".into()));
        }
        if self.next < self.plan.len() {
            return Err(EngineError::Incomplete(format!(
                "tensor `{}` is cut short",
                self.plan[self.next].name
            )));
        }
        Ok(())
    }
}
