//! Streaming reader for llama.cpp's GGUF files (the cached format of this app, and what
//! llama.cpp's converter writes for `gpt2`). The header (metadata, tokenizer and tensor
//! table) is parsed with candle once it has fully arrived; tensors follow in offset order.

use super::{qtensor_from_bytes, TensorSink, WeightStream};
use crate::engine::error::{EngineError, Result};
use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::GgmlDType;
use std::collections::HashMap;
use std::io::Cursor;

/// A header larger than this is treated as corrupt rather than as "not all here yet".
/// Real headers (50k tokens + 50k merges) are about 2 MB.
const MAX_HEADER: usize = 256 << 20;

struct Planned {
    name: String,
    dtype: GgmlDType,
    shape: Vec<usize>,
    start: usize,
    end: usize,
    wanted: bool,
}

pub struct GgufStream {
    pending: Vec<u8>,
    last_attempt: usize,
    metadata: Option<HashMap<String, Value>>,
    plan: Vec<Planned>,
    /// Absolute file position of the next byte to arrive.
    pos: usize,
    next: usize,
    current: Vec<u8>,
}

impl Default for GgufStream {
    fn default() -> Self {
        Self::new()
    }
}

impl GgufStream {
    pub fn new() -> Self {
        Self {
            pending: Vec::new(),
            last_attempt: 0,
            metadata: None,
            plan: Vec::new(),
            pos: 0,
            next: 0,
            current: Vec::new(),
        }
    }

    /// The GGUF key/value metadata, available once the header has been read.
    pub fn metadata(&self) -> Option<&HashMap<String, Value>> {
        self.metadata.as_ref()
    }

    pub fn take_metadata(&mut self) -> Option<HashMap<String, Value>> {
        self.metadata.take()
    }

    fn try_header(&mut self, sink: &dyn TensorSink, complete: bool) -> Result<bool> {
        if self.pending.len() >= 4 && &self.pending[..4] != b"GGUF" {
            return Err(EngineError::UnsupportedFormat("not a GGUF file".into()));
        }
        let mut cursor = Cursor::new(self.pending.as_slice());
        let content = match Content::read(&mut cursor) {
            Ok(c) => c,
            Err(e) if complete || self.pending.len() > MAX_HEADER => {
                return Err(EngineError::Corrupt(format!("bad GGUF header: {e}")))
            }
            Err(_) => return Ok(false),
        };
        let data_start = content.tensor_data_offset as usize;
        if data_start > self.pending.len() && !complete {
            return Ok(false);
        }
        let mut plan = Vec::with_capacity(content.tensor_infos.len());
        for (name, info) in content.tensor_infos {
            let shape = info.shape.dims().to_vec();
            let elems: usize = shape.iter().product();
            let block = info.ggml_dtype.block_size();
            if elems % block != 0 {
                return Err(EngineError::Corrupt(format!("tensor `{name}` does not fill whole blocks")));
            }
            let start = data_start + info.offset as usize;
            let end = start + elems / block * info.ggml_dtype.type_size();
            let wanted = sink.wants(&name);
            plan.push(Planned { name, dtype: info.ggml_dtype, shape, start, end, wanted });
        }
        plan.sort_by_key(|p| p.start);
        for pair in plan.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(EngineError::Corrupt("overlapping tensors in GGUF".into()));
            }
        }
        self.metadata = Some(content.metadata);
        self.plan = plan;
        Ok(true)
    }

    fn consume(&mut self, mut bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        while !bytes.is_empty() && self.next < self.plan.len() {
            let p = &self.plan[self.next];
            if self.pos < p.start {
                let skip = (p.start - self.pos).min(bytes.len());
                self.pos += skip;
                bytes = &bytes[skip..];
                continue;
            }
            let take = (p.end - self.pos).min(bytes.len());
            if p.wanted {
                if self.current.is_empty() {
                    self.current = super::alloc_bytes(p.end - p.start)?;
                }
                self.current.extend_from_slice(&bytes[..take]);
            }
            self.pos += take;
            bytes = &bytes[take..];
            if self.pos == p.end {
                if p.wanted {
                    let data = std::mem::take(&mut self.current);
                    let t = qtensor_from_bytes(p.dtype, &data, &p.shape)?;
                    sink.quantized_tensor(&p.name, t)?;
                }
                self.next += 1;
            }
        }
        Ok(())
    }
}

impl WeightStream for GgufStream {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        if self.metadata.is_some() {
            return self.consume(bytes, sink);
        }
        self.pending.extend_from_slice(bytes);
        if self.last_attempt > 0 && self.pending.len() < 2 * self.last_attempt {
            return Ok(());
        }
        if !self.try_header(sink, false)? {
            self.last_attempt = self.pending.len().max(4096);
            return Ok(());
        }
        let buffered = std::mem::take(&mut self.pending);
        self.consume(&buffered, sink)
    }

    fn finish(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        if self.metadata.is_none() {
            if self.pending.is_empty() || !self.try_header(sink, true)? {
                return Err(EngineError::Incomplete("the GGUF header is cut short".into()));
            }
            let buffered = std::mem::take(&mut self.pending);
            self.consume(&buffered, sink)?;
        }
        match self.plan.get(self.next) {
            None => Ok(()),
            Some(p) => Err(EngineError::Incomplete(format!("tensor `{}` is cut short", p.name))),
        }
    }
}
