//! Reads a GGUF model from one file or from llama.cpp's shards (see `gguf_split.rs`) as one
//! stream of tensors. The caller says where each file ends ([`GgufShards::next_shard`]), since
//! a GGUF file does not say where its last tensor's padding stops. Each shard is checked
//! against the first: its number, the shard count, the split's identity, and its tensors
//! (none twice, each of the shape the model's config gives).

use super::gguf_split::{SPLIT_COUNT, SPLIT_MODEL, SPLIT_NO, SPLIT_TENSORS_COUNT};
use super::gguf_stream::GgufStream;
use super::names::expected_shape;
use super::{TensorSink, WeightStream};
use crate::engine::config::Gpt2Config;
use crate::engine::error::{EngineError, Result};
use crate::engine::gguf_meta::{config_from_gguf, get_usize};
use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::GgmlDType;
use std::collections::{HashMap, HashSet};

/// A split key's value; `None` when it is missing or not a count.
fn split_key(md: &HashMap<String, Value>, key: &str) -> Option<usize> {
    get_usize(md, key).ok()
}

/// What the first shard says about the whole.
struct Split {
    count: usize,
    tensors: usize,
    model: Option<String>,
}

fn split_model(md: &HashMap<String, Value>) -> Option<String> {
    match md.get(SPLIT_MODEL)? {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Checks each tensor of shard `shard` against the model the first shard described: a
/// tensor seen before, or of another shape, means a shard of another model.
struct ShardSink<'a> {
    inner: &'a mut dyn TensorSink,
    config: Option<&'a Gpt2Config>,
    seen: &'a mut HashSet<String>,
}

impl TensorSink for ShardSink<'_> {
    fn wants(&self, name: &str) -> bool {
        self.inner.wants(name)
    }

    fn float_tensor(&mut self, name: &str, dtype: super::FloatDtype, shape: &[usize], bytes: &[u8]) -> Result<()> {
        self.inner.float_tensor(name, dtype, shape, bytes)
    }

    fn gguf_tensor(&mut self, name: &str, dtype: GgmlDType, dims: &[usize], bytes: Vec<u8>) -> Result<()> {
        if !self.seen.insert(name.to_string()) {
            return Err(EngineError::Shard(format!("this shard belongs to another model (tensor `{name}` is in an earlier shard too)")));
        }
        if let Some(expected) = self.config.and_then(|c| expected_shape(c, name)) {
            if dims != expected.as_slice() {
                return Err(EngineError::Shard(format!(
                    "this shard belongs to another model (tensor `{name}` has shape {:?}, this model's is {expected:?})",
                    dims
                )));
            }
        }
        self.inner.gguf_tensor(name, dtype, dims, bytes)
    }
}

/// A GGUF model in one file or in llama.cpp's shards, read as one stream.
pub struct GgufShards {
    current: GgufStream,
    /// The shard being read, from 0.
    shard: usize,
    /// The first shard's metadata (the model's), kept until the loader asks for it.
    metadata: Option<HashMap<String, Value>>,
    config: Option<Gpt2Config>,
    split: Option<Split>,
    /// Whether the current shard's split keys have been checked.
    checked: bool,
    seen: HashSet<String>,
    tensors: usize,
}

impl Default for GgufShards {
    fn default() -> Self {
        Self::new()
    }
}

impl GgufShards {
    pub fn new() -> Self {
        Self {
            current: GgufStream::new(),
            shard: 0,
            metadata: None,
            config: None,
            split: None,
            checked: false,
            seen: HashSet::new(),
            tensors: 0,
        }
    }

    /// The model's metadata (hyper-parameters and tokenizer), from the first shard.
    pub fn take_metadata(&mut self) -> Option<HashMap<String, Value>> {
        self.metadata.take()
    }

    fn at(&self, e: EngineError) -> EngineError {
        match &self.split {
            Some(s) if s.count > 1 => EngineError::Shard(format!("shard {} of {}: {e}", self.shard + 1, s.count)),
            _ => e,
        }
    }

    /// Once the current shard's header is in: is it the shard that should come here?
    fn check_header(&mut self) -> Result<()> {
        if self.checked {
            return Ok(());
        }
        let Some(md) = self.current.metadata() else { return Ok(()) };
        self.checked = true;
        self.tensors += self.current.tensor_count();
        let no = split_key(md, SPLIT_NO);
        let count = split_key(md, SPLIT_COUNT);
        if self.shard == 0 {
            let md = self.current.take_metadata().expect("just seen");
            if md.contains_key(SPLIT_NO) && md.contains_key(SPLIT_COUNT) {
                let tensors = split_key(&md, SPLIT_TENSORS_COUNT);
                let (Some(0), Some(count @ 1..), Some(tensors)) = (no, count, tensors) else {
                    return Err(EngineError::Shard(format!(
                        "the first shard says it is shard {:?} of {count:?} with {tensors:?} tensors",
                        no.map(|n| n + 1)
                    )));
                };
                self.split = Some(Split { count, tensors, model: split_model(&md) });
            }
            // Without a usable config the model build says what is wrong; shapes go unchecked.
            self.config = config_from_gguf(&md).ok();
            self.metadata = Some(md);
            return Ok(());
        }
        let expected = self.split.as_ref().map_or(1, |s| s.count);
        if no != Some(self.shard) || count != Some(expected) {
            let said = match (no, count) {
                (Some(n), Some(c)) => format!("shard {} of {c}", n + 1),
                _ => "not a shard of a split GGUF".into(),
            };
            return Err(EngineError::Shard(format!("this file should be shard {} of {expected} but is {said}", self.shard + 1)));
        }
        let first = self.split.as_ref().and_then(|s| s.model.as_deref());
        if first.is_some() && first != split_model(md).as_deref() {
            return Err(EngineError::Shard("this shard belongs to another model (or another quantization of it)".into()));
        }
        Ok(())
    }

    /// The current file is complete; the next bytes pushed start the next shard.
    pub fn next_shard(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        self.finish_file(sink)?;
        let count = self.split.as_ref().map_or(1, |s| s.count);
        if self.shard + 1 >= count {
            return Err(EngineError::Shard(format!("more files than the {count} shards the first one lists")));
        }
        self.shard += 1;
        self.current = GgufStream::new();
        self.checked = false;
        Ok(())
    }

    /// Where the next bytes go when they are tensor data of the current shard.
    pub fn space(&mut self, max: usize) -> Result<Option<&mut [u8]>> {
        self.current.space(max)
    }

    /// `n` bytes were written into the last [`GgufShards::space`].
    pub fn filled(&mut self, n: usize, sink: &mut dyn TensorSink) -> Result<()> {
        let mut shard_sink = ShardSink { inner: sink, config: self.config.as_ref(), seen: &mut self.seen };
        let done = self.current.filled(n, &mut shard_sink);
        done.map_err(|e| self.at(e))
    }

    fn finish_file(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        let mut shard_sink = ShardSink { inner: sink, config: self.config.as_ref(), seen: &mut self.seen };
        let done = self.current.finish(&mut shard_sink);
        done.and_then(|_| self.check_header()).map_err(|e| self.at(e))
    }
}

impl WeightStream for GgufShards {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        let mut shard_sink = ShardSink { inner: sink, config: self.config.as_ref(), seen: &mut self.seen };
        let pushed = self.current.push(bytes, &mut shard_sink);
        pushed.and_then(|_| self.check_header()).map_err(|e| self.at(e))
    }

    /// The last file is complete: every shard and every tensor the first shard listed are in.
    fn finish(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        self.finish_file(sink)?;
        let Some(split) = &self.split else { return Ok(()) };
        if self.shard + 1 < split.count {
            return Err(EngineError::Shard(format!(
                "this is shard {} of {} of a split GGUF: the other shards are needed too",
                self.shard + 1,
                split.count
            )));
        }
        if self.tensors != split.tensors {
            return Err(EngineError::Shard(format!(
                "the shards hold {} tensors, the first one lists {}",
                self.tensors, split.tensors
            )));
        }
        Ok(())
    }
}
