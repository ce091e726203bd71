//! Writes a loaded (usually quantized) model as a GGUF file: what the browser caches and
//! what a static site can host next to the app. llama.cpp's tools read it too.

use super::config::Gpt2Config;
use super::error::Result;
use super::gguf_meta::gguf_metadata;
use super::tokenizer::Gpt2Tokenizer;
use super::weights::names::required_names;
use super::weights::store::WeightStore;
use candle_core::quantized::gguf_file;
use candle_core::quantized::QTensor;
use std::io::{Cursor, Seek, Write};

pub fn write_gguf(cfg: &Gpt2Config, tok: &Gpt2Tokenizer, store: &WeightStore, name: &str) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::with_capacity(store.size_in_bytes() + (4 << 20)));
    write_gguf_to(cfg, tok, store, name, &mut out)?;
    Ok(out.into_inner())
}

/// Streams the GGUF file into `out` tensor by tensor (e.g. straight into browser storage),
/// so the model is never held twice in memory.
pub fn write_gguf_to<W: Write + Seek>(cfg: &Gpt2Config, tok: &Gpt2Tokenizer, store: &WeightStore, name: &str, out: &mut W) -> Result<()> {
    let metadata = gguf_metadata(cfg, tok, store.quant(), name);
    let md_refs: Vec<(&str, &gguf_file::Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut names = required_names(cfg.n_layer);
    if store.get("output.weight").is_some() {
        names.push("output.weight".into());
    }
    let tensors: Vec<(&str, &QTensor)> = names
        .iter()
        .map(|n| store.get(n).map(|t| (n.as_str(), t)).ok_or_else(|| super::error::EngineError::MissingTensor(n.clone())))
        .collect::<Result<_>>()?;
    gguf_file::write(out, &md_refs, &tensors)?;
    Ok(())
}
