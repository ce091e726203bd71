//! Streaming reader for llama.cpp's GGUF files (the cached format of this app, and what
//! llama.cpp's converter writes for `gpt2`). The header (metadata, tokenizer and tensor
//! table) is parsed with candle once it has fully arrived; tensors follow in offset order.

use super::byte_ranges::{Range, RangeWalker};
use super::{TensorSink, WeightStream};
use crate::engine::error::{EngineError, Result};
use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::GgmlDType;
use std::collections::HashMap;
use std::io::Cursor;

/// A header larger than this is treated as corrupt rather than as "not all here yet".
/// Real headers (50k tokens + 50k merges) are about 2 MB.
const MAX_HEADER: usize = 256 << 20;

pub struct GgufStream {
    pending: Vec<u8>,
    last_attempt: usize,
    metadata: Option<HashMap<String, Value>>,
    /// Set with the metadata; positions are absolute file offsets.
    walker: Option<RangeWalker<(GgmlDType, Vec<usize>)>>,
}

impl Default for GgufStream {
    fn default() -> Self {
        Self::new()
    }
}

impl GgufStream {
    pub fn new() -> Self {
        Self { pending: Vec::new(), last_attempt: 0, metadata: None, walker: None }
    }

    /// The GGUF key/value metadata, available once the header has been read.
    pub fn metadata(&self) -> Option<&HashMap<String, Value>> {
        self.metadata.as_ref()
    }

    /// Tensors listed in the header (0 until it has been read).
    pub fn tensor_count(&self) -> usize {
        self.walker.as_ref().map_or(0, |w| w.len())
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
            plan.push(Range { name, start, end, wanted, info: (info.ggml_dtype, shape) });
        }
        self.walker = Some(RangeWalker::new(plan, "GGUF")?);
        self.metadata = Some(content.metadata);
        Ok(true)
    }

    /// Where the next bytes go when they are tensor data (see [`RangeWalker::space`]).
    pub fn space(&mut self, max: usize) -> Result<Option<&mut [u8]>> {
        match self.walker.as_mut() {
            Some(w) => w.space(max),
            None => Ok(None),
        }
    }

    /// `n` bytes were written into the last [`GgufStream::space`].
    pub fn filled(&mut self, n: usize, sink: &mut dyn TensorSink) -> Result<()> {
        let walker = self.walker.as_mut().expect("space came from the walker");
        walker.filled(n, |r, data| sink.gguf_tensor(&r.name, r.info.0, &r.info.1, data))
    }

    fn consume(&mut self, bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        let walker = self.walker.as_mut().expect("called after the header");
        walker.consume(bytes, |r, data| sink.gguf_tensor(&r.name, r.info.0, &r.info.1, data))
    }
}

impl WeightStream for GgufStream {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        // The walker marks a header read (the metadata may have been taken already).
        if self.walker.is_some() {
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
        if self.walker.is_none() {
            if self.pending.is_empty() || !self.try_header(sink, true)? {
                return Err(EngineError::Incomplete("the GGUF header is cut short".into()));
            }
            let buffered = std::mem::take(&mut self.pending);
            self.consume(&buffered, sink)?;
        }
        match self.walker.as_ref().and_then(|w| w.unfinished()) {
            None => Ok(()),
            Some(r) => Err(EngineError::Incomplete(format!("tensor `{}` is cut short", r.name))),
        }
    }
}
