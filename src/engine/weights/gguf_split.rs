//! llama.cpp's split GGUF, as its `gguf-split` tool writes it: one model as several complete
//! GGUF files named `PREFIX-00001-of-0000N.gguf`, so each file fits a static host's size
//! limit. Every shard carries `split.no` (u16, from 0), `split.count` (u16) and
//! `split.tensors.count` (i32, over all shards); the first shard alone carries the model's
//! metadata and tokenizer. Tensors are never cut across shards.
//!
//! This module names shards and plans them; `gguf_shards.rs` reads them.

use crate::engine::error::{EngineError, Result};
use candle_core::quantized::gguf_file::Value;

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

/// The GGUF to load among a repository's file `names`: the one whose name has `quant` in it
/// (any case: `Q4_K_M` for `q4_k`), else the first by name; a split one by its first shard.
pub fn pick_gguf<'a>(names: &'a [String], quant: &str) -> Option<&'a str> {
    let mut ggufs: Vec<&String> = names
        .iter()
        .filter(|n| n.to_ascii_lowercase().ends_with(".gguf"))
        .filter(|n| ShardName::parse(n).is_none_or(|s| s.no == 1))
        .collect();
    ggufs.sort();
    let quant = quant.to_ascii_lowercase();
    ggufs.iter().find(|n| n.to_ascii_lowercase().contains(&quant)).or(ggufs.first()).map(|n| n.as_str())
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
    fn picks_the_gguf_of_the_quantization_by_its_first_shard() {
        let names: Vec<String> = ["m-Q8_0.gguf", "m-q4_k-00002-of-00002.gguf", "m-q4_k-00001-of-00002.gguf", "README.md"].map(String::from).to_vec();
        assert_eq!(pick_gguf(&names, "q4_k"), Some("m-q4_k-00001-of-00002.gguf"));
        assert_eq!(pick_gguf(&names, "q8_0"), Some("m-Q8_0.gguf"));
        assert_eq!(pick_gguf(&names, "f16"), Some("m-Q8_0.gguf"));
        assert_eq!(pick_gguf(&names[3..], "q8_0"), None);
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
