//! llama.cpp's split GGUF, as its `gguf-split` tool writes it: one model as several complete
//! GGUF files named `PREFIX-00001-of-0000N.gguf`, so each file fits a static host's size
//! limit. Every shard carries `split.no` (u16, from 0), `split.count` (u16) and
//! `split.tensors.count` (i32, over all shards); the first shard alone carries the model's
//! metadata and tokenizer. Tensors are never cut across shards.
//!
//! [`GgufShards`] reads the shards one after the other as one stream of tensors: the caller
//! says where each file ends ([`GgufShards::next_shard`]), since a GGUF file does not say
//! where its last tensor's padding stops.

use super::gguf_stream::GgufStream;
use super::names::expected_shape;
use super::{TensorSink, WeightStream};
use crate::engine::config::Gpt2Config;
use crate::engine::error::{EngineError, Result};
use crate::engine::gguf_meta::config_from_gguf;
use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::QTensor;
use std::collections::{HashMap, HashSet};

pub const SPLIT_NO: &str = "split.no";
pub const SPLIT_COUNT: &str = "split.count";
pub const SPLIT_TENSORS_COUNT: &str = "split.tensors.count";
/// Our own addition to every shard written here: one value for all shards of one split, so
/// a shard of another model (or of another quantization) is refused by name. llama.cpp
/// ignores keys it does not know; shards without it are checked by their tensors alone.
pub const SPLIT_MODEL: &str = "dialogpt.split.model";

/// The split keys of shard `no` (from 0) of `count`, holding `tensors` tensors in all shards;
/// `model` identifies the split ([`split_identity`]).
pub fn split_metadata(no: usize, count: usize, tensors: usize, model: &str) -> Vec<(String, Value)> {
    vec![
        (SPLIT_NO.into(), Value::U16(no as u16)),
        (SPLIT_COUNT.into(), Value::U16(count as u16)),
        (SPLIT_TENSORS_COUNT.into(), Value::I32(tensors as i32)),
        (SPLIT_MODEL.into(), Value::String(model.to_string())),
    ]
}

/// A value shared by the shards of one split: a hash of every tensor's name, type and shape
/// and of how they are grouped into shards.
pub fn split_identity(tensors: &[(&str, String, &[usize])], shards: &[std::ops::Range<usize>]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    tensors.hash(&mut h);
    shards.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The file name of shard `no` (from 1) of `count`, llama.cpp's pattern.
pub fn shard_file_name(prefix: &str, no: usize, count: usize) -> String {
    format!("{prefix}-{no:05}-of-{count:05}.gguf")
}

/// What a shard's name says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardName {
    /// Everything before `-00001-of-0000N.gguf` (a path or URL included).
    pub prefix: String,
    /// From 1.
    pub no: usize,
    pub count: usize,
    /// A URL's query or fragment, kept for every shard (`?download=true`).
    pub suffix: String,
}

impl ShardName {
    /// `…-00002-of-00005.gguf` (a path, a URL, with or without a query); `None` for any other name.
    pub fn parse(path_or_url: &str) -> Option<ShardName> {
        let cut = path_or_url.find(['?', '#']).unwrap_or(path_or_url.len());
        let (path, suffix) = path_or_url.split_at(cut);
        let stem = path.strip_suffix(".gguf").or_else(|| path.strip_suffix(".GGUF"))?;
        // "-NNNNN-of-NNNNN" is 15 bytes.
        let tail = stem.get(stem.len().checked_sub(15)?..)?;
        let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
        let (no, count) = tail.strip_prefix('-')?.split_once("-of-")?;
        if !digits(no) || !digits(count) {
            return None;
        }
        let (no, count) = (no.parse().ok()?, count.parse().ok()?);
        if no == 0 || no > count {
            return None;
        }
        Some(ShardName { prefix: stem[..stem.len() - 15].to_string(), no, count, suffix: suffix.to_string() })
    }

    /// Every shard of the model, in order.
    pub fn all(&self) -> Vec<String> {
        (1..=self.count).map(|i| format!("{}{}", shard_file_name(&self.prefix, i, self.count), self.suffix)).collect()
    }

    /// A model is loaded from its first shard, as llama.cpp does; any other is named as such.
    pub fn require_first(&self) -> Result<()> {
        if self.no == 1 {
            return Ok(());
        }
        let first = format!("{}{}", shard_file_name(&self.prefix, 1, self.count), self.suffix);
        Err(EngineError::InvalidInput(format!(
            "this is shard {} of {} of a split GGUF: give the first one, {}",
            self.no,
            self.count,
            first.rsplit('/').next().unwrap_or(&first)
        )))
    }
}

/// `--split-max-size`: bytes, or llama.cpp's units `M` (10^6 bytes) and `G` (10^9).
pub fn parse_split_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((i, 'M' | 'm')) => (&t[..i], 1_000_000),
        Some((i, 'G' | 'g')) => (&t[..i], 1_000_000_000),
        _ => (t, 1),
    };
    match digits.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n * unit),
        _ => Err(format!("`{text}` is not a size: write bytes, or a whole number of M (10^6 bytes) or G (10^9), like 24M")),
    }
}

/// Groups tensors, in file order, into shards of at most `max` bytes each. `header` is the
/// size of a shard's fixed header (the first shard's, with all the metadata, then the others');
/// each tensor costs its table entry plus its data. A tensor larger than `max` gets a shard
/// of its own; when the metadata and the first tensor do not fit together, the first shard
/// holds the metadata alone (llama.cpp's `--no-tensor-first-split` layout). Only a single
/// tensor, or metadata, larger than `max` makes a shard exceed it.
pub fn plan_shards(header: (u64, u64), tensors: &[(u64, u64)], max: u64) -> Vec<std::ops::Range<usize>> {
    let mut shards = Vec::new();
    let mut start = 0;
    let mut size = header.0;
    for (i, (entry, data)) in tensors.iter().enumerate() {
        if (i > start || i == 0) && size + entry + data > max {
            shards.push(start..i);
            start = i;
            size = header.1;
        }
        size += entry + data;
    }
    shards.push(start..tensors.len());
    shards
}

fn split_key(md: &HashMap<String, Value>, key: &str) -> Option<i64> {
    match md.get(key)? {
        Value::U8(x) => Some(*x as i64),
        Value::U16(x) => Some(*x as i64),
        Value::U32(x) => Some(*x as i64),
        Value::I32(x) => Some(*x as i64),
        Value::U64(x) => Some(*x as i64),
        Value::I64(x) => Some(*x),
        _ => None,
    }
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

    fn quantized_tensor(&mut self, name: &str, tensor: QTensor) -> Result<()> {
        if !self.seen.insert(name.to_string()) {
            return Err(EngineError::Shard(format!("this shard belongs to another model (tensor `{name}` is in an earlier shard too)")));
        }
        if let Some(expected) = self.config.and_then(|c| expected_shape(c, name)) {
            if tensor.shape().dims() != expected.as_slice() {
                return Err(EngineError::Shard(format!(
                    "this shard belongs to another model (tensor `{name}` has shape {:?}, this model's is {expected:?})",
                    tensor.shape().dims()
                )));
            }
        }
        self.inner.quantized_tensor(name, tensor)
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
            if let (Some(_), Some(count)) = (no, count) {
                let tensors = split_key(&md, SPLIT_TENSORS_COUNT).unwrap_or(-1);
                if no != Some(0) || count < 1 || tensors < 0 {
                    return Err(EngineError::Shard(format!(
                        "the first shard says it is shard {:?} of {count} with {tensors} tensors",
                        no.map(|n| n + 1)
                    )));
                }
                self.split = Some(Split { count: count as usize, tensors: tensors as usize, model: split_model(&md) });
            }
            // Without a usable config the model build says what is wrong; shapes go unchecked.
            self.config = config_from_gguf(&md).ok();
            self.metadata = Some(md);
            return Ok(());
        }
        let expected = self.split.as_ref().map_or(1, |s| s.count);
        if no != Some(self.shard as i64) || count != Some(expected as i64) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_in_llama_cpp_pattern() {
        assert_eq!(shard_file_name("out/m", 2, 10), "out/m-00002-of-00010.gguf");
        let s = ShardName::parse("https://x.org/m/dgpt-q4_k-00001-of-00003.gguf?download=true").unwrap();
        assert_eq!((s.no, s.count, s.prefix.as_str(), s.suffix.as_str()), (1, 3, "https://x.org/m/dgpt-q4_k", "?download=true"));
        assert_eq!(s.all()[2], "https://x.org/m/dgpt-q4_k-00003-of-00003.gguf?download=true");
        assert!(s.require_first().is_ok());
        let e = ShardName::parse("models/m-00002-of-00003.gguf").unwrap().require_first().unwrap_err().to_string();
        assert!(e.contains("shard 2 of 3") && e.contains("m-00001-of-00003.gguf"), "{e}");
        for other in ["m.gguf", "m-1-of-3.gguf", "m-00004-of-00003.gguf", "m-00000-of-00003.gguf", "m-00001-of-00003.bin", "-00001-of-0000x.gguf"] {
            assert_eq!(ShardName::parse(other), None, "{other}");
        }
    }

    #[test]
    fn sizes_in_llama_cpp_units() {
        assert_eq!(parse_split_size("24M"), Ok(24_000_000));
        assert_eq!(parse_split_size("2G"), Ok(2_000_000_000));
        assert_eq!(parse_split_size("4096"), Ok(4096));
        for bad in ["", "M", "1.5G", "-3M", "0", "24MiB"] {
            assert!(parse_split_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plans_never_cut_a_tensor_and_only_an_oversized_one_passes_the_limit() {
        let tensors = [(10, 40), (10, 40), (10, 200), (10, 10), (10, 10)];
        let plan = plan_shards((30, 5), &tensors, 100);
        assert_eq!(plan, vec![0..1, 1..2, 2..3, 3..5]);
        assert_eq!(plan_shards((30, 5), &tensors, 10_000), vec![0..5]);
        // Metadata that does not fit with the first tensor: a first shard of metadata alone.
        assert_eq!(plan_shards((70, 5), &tensors, 100), vec![0..0, 0..1, 1..2, 2..3, 3..5]);
    }
}
