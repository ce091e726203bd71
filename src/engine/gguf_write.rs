//! Writes a loaded (usually quantized) model as a GGUF file: what the browser caches and
//! what a static site can host next to the app. llama.cpp's tools read it too, in one file
//! or in llama.cpp's split layout for hosts that limit file sizes.

use super::config::Gpt2Config;
use super::error::{EngineError, Result};
use super::gguf_meta::gguf_metadata;
use super::stored_size::table_entry_bytes;
use super::tokenizer::Gpt2Tokenizer;
use super::weights::gguf_split::{plan_shards, split_identity, split_metadata};
use super::weights::names::required_names;
use super::gguf_encode::{self, TensorOut, ALIGNMENT};
use super::weights::store::{StoredTensor, WeightStore};
use candle_core::quantized::gguf_file::Value;
use std::io::{Cursor, Seek, Write};

pub fn write_gguf(cfg: &Gpt2Config, tok: &Gpt2Tokenizer, store: &WeightStore, name: &str) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::with_capacity(store.size_in_bytes() + (4 << 20)));
    write_gguf_to(cfg, tok, store, name, &mut out)?;
    Ok(out.into_inner())
}

/// The model's tensors in the order they are written.
fn tensors_in_order<'s>(cfg: &Gpt2Config, store: &'s WeightStore) -> Result<Vec<(String, &'s StoredTensor)>> {
    let mut names = required_names(cfg.n_layer);
    if store.get("output.weight").is_some() {
        names.push("output.weight".into());
    }
    names
        .into_iter()
        .map(|n| match store.get(&n) {
            Some(t) => Ok((n, t)),
            None => Err(EngineError::MissingTensor(n)),
        })
        .collect()
}

fn write_one<W: Write>(out: &mut W, metadata: &[(String, Value)], tensors: &[(String, &StoredTensor)]) -> Result<()> {
    let ts = tensors
        .iter()
        .map(|(n, t)| Ok(TensorOut { name: n, dtype: t.dtype(), dims: t.dims(), bytes: t.data()? }))
        .collect::<Result<Vec<_>>>()?;
    gguf_encode::write_file(out, metadata, &ts)
}

/// Streams the GGUF file into `out` tensor by tensor (e.g. straight into browser storage),
/// so the model is never held twice in memory.
pub fn write_gguf_to<W: Write + Seek>(cfg: &Gpt2Config, tok: &Gpt2Tokenizer, store: &WeightStore, name: &str, out: &mut W) -> Result<()> {
    write_one(out, &gguf_metadata(cfg, tok, store.quant(), name), &tensors_in_order(cfg, store)?)
}

fn padded(n: u64) -> u64 {
    n.next_multiple_of(ALIGNMENT as u64)
}

/// Bytes a header with `metadata` and no tensors takes (alignment padding included).
fn header_bytes(metadata: &[(String, Value)]) -> Result<u64> {
    Ok(gguf_encode::header(metadata, &[])?.len() as u64)
}

/// Writes the model as llama.cpp's split GGUF, shards of at most `max_bytes` each (only a
/// single tensor larger than that gets a larger shard of its own). `open(no, count)` gives
/// the writer for shard `no` (from 1) of `count`. Returns the shard count.
pub fn write_gguf_shards<W: Write + Seek>(
    cfg: &Gpt2Config,
    tok: &Gpt2Tokenizer,
    store: &WeightStore,
    name: &str,
    max_bytes: u64,
    mut open: impl FnMut(usize, usize) -> Result<W>,
) -> Result<usize> {
    let tensors = tensors_in_order(cfg, store)?;
    let model_md = gguf_metadata(cfg, tok, store.quant(), name);
    let with_split = |no: usize, count: usize, model: bool, id: &str| {
        let mut md = if model { model_md.clone() } else { Vec::new() };
        md.extend(split_metadata(no, count, tensors.len(), id));
        md
    };
    let id_len = split_identity(&[], &[]).len();
    let no_id = "0".repeat(id_len);
    // A header's size with its tensor table: the table entries are counted per tensor, and
    // up to 32 bytes of padding are added once.
    let header = (header_bytes(&with_split(0, 1, true, &no_id))? + 32, header_bytes(&with_split(0, 1, false, &no_id))? + 32);
    let sizes: Vec<(u64, u64)> = tensors
        .iter()
        .map(|(n, t)| {
            (table_entry_bytes(n, t.dims().len()), padded(t.storage_size_in_bytes() as u64))
        })
        .collect();
    let plan = plan_shards(header, &sizes, max_bytes);
    let described: Vec<(&str, String, &[usize])> =
        tensors.iter().map(|(n, t)| (n.as_str(), format!("{:?}", t.dtype()), t.dims())).collect();
    let id = split_identity(&described, &plan);
    for (i, range) in plan.iter().enumerate() {
        let mut out = open(i + 1, plan.len())?;
        write_one(&mut out, &with_split(i, plan.len(), i == 0, &id), &tensors[range.clone()])?;
        out.flush()?;
    }
    Ok(plan.len())
}
