//! GGUF metadata for GPT-2, both ways: reading hyper-parameters and the tokenizer from a
//! llama.cpp file, and writing them so llama.cpp (and this app) can read ours.

use super::config::Gpt2Config;
use super::error::{EngineError, Result};
use super::quantize::Quantization;
use super::tokenizer::Gpt2Tokenizer;
use candle_core::quantized::gguf_file::Value;
use std::collections::HashMap;

fn get<'a>(md: &'a HashMap<String, Value>, key: &str) -> Result<&'a Value> {
    md.get(key).ok_or_else(|| EngineError::Config(format!("GGUF metadata lacks `{key}`")))
}

/// A non-negative integer of any GGUF integer type.
pub(crate) fn get_usize(md: &HashMap<String, Value>, key: &str) -> Result<usize> {
    let v = get(md, key)?;
    let n = match v {
        Value::U8(x) => *x as u64,
        Value::U16(x) => *x as u64,
        Value::U32(x) => *x as u64,
        Value::U64(x) => *x,
        Value::I32(x) if *x >= 0 => *x as u64,
        Value::I64(x) if *x >= 0 => *x as u64,
        _ => return Err(EngineError::Config(format!("GGUF `{key}` is not a count"))),
    };
    Ok(n as usize)
}

fn strings(md: &HashMap<String, Value>, key: &str) -> Result<Vec<String>> {
    let Value::Array(items) = get(md, key)? else {
        return Err(EngineError::Config(format!("GGUF `{key}` is not an array")));
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(EngineError::Config(format!("GGUF `{key}` holds a non-string"))),
        })
        .collect()
}

/// Hyper-parameters of a GGUF with `general.architecture = gpt2`.
pub fn config_from_gguf(md: &HashMap<String, Value>) -> Result<Gpt2Config> {
    let arch = match get(md, "general.architecture")? {
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    if arch != "gpt2" {
        return Err(EngineError::UnsupportedFormat(format!(
            "this GGUF holds a `{arch}` model; only `gpt2` (DialoGPT) is supported"
        )));
    }
    let vocab_size = match get(md, "tokenizer.ggml.tokens")? {
        Value::Array(a) => a.len(),
        _ => return Err(EngineError::Config("GGUF token list is not an array".into())),
    };
    let eps = match get(md, "gpt2.attention.layer_norm_epsilon") {
        // GGUF keeps f32; its shortest decimal form recovers the config's value (1e-5).
        Ok(Value::F32(x)) => x.to_string().parse().unwrap_or(*x as f64),
        Ok(Value::F64(x)) => *x,
        _ => 1e-5,
    };
    let eos = get_usize(md, "tokenizer.ggml.eos_token_id").unwrap_or(50256) as u32;
    let bos = get_usize(md, "tokenizer.ggml.bos_token_id").unwrap_or(eos as usize) as u32;
    let n_embd = get_usize(md, "gpt2.embedding_length")?;
    let cfg = Gpt2Config {
        vocab_size,
        n_positions: get_usize(md, "gpt2.context_length")?,
        n_embd,
        n_layer: get_usize(md, "gpt2.block_count")?,
        n_head: get_usize(md, "gpt2.attention.head_count")?,
        n_inner: get_usize(md, "gpt2.feed_forward_length").unwrap_or(4 * n_embd),
        layer_norm_epsilon: eps,
        eos_token_id: eos,
        bos_token_id: bos,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// The BPE tokenizer stored in GGUF metadata.
pub fn tokenizer_from_gguf(md: &HashMap<String, Value>) -> Result<Gpt2Tokenizer> {
    match get(md, "tokenizer.ggml.model")? {
        Value::String(m) if m == "gpt2" => {}
        _ => return Err(EngineError::Tokenizer("the GGUF tokenizer is not GPT-2 BPE".into())),
    }
    Gpt2Tokenizer::from_token_list(strings(md, "tokenizer.ggml.tokens")?, strings(md, "tokenizer.ggml.merges")?)
}

/// Metadata in llama.cpp's layout for a `gpt2` model, tokenizer included.
pub fn gguf_metadata(cfg: &Gpt2Config, tok: &Gpt2Tokenizer, quant: Quantization, name: &str) -> Vec<(String, Value)> {
    let s = |v: &str| Value::String(v.to_string());
    let u = |v: usize| Value::U32(v as u32);
    let token_types: Vec<Value> = (0..tok.vocab_size())
        .map(|i| Value::I32(if i as u32 == tok.eos_id() { 3 } else { 1 }))
        .collect();
    vec![
        ("general.architecture".into(), s("gpt2")),
        ("general.name".into(), s(name)),
        ("general.file_type".into(), Value::U32(quant.gguf_file_type())),
        ("general.quantization_version".into(), Value::U32(2)),
        ("gpt2.context_length".into(), u(cfg.n_positions)),
        ("gpt2.embedding_length".into(), u(cfg.n_embd)),
        ("gpt2.feed_forward_length".into(), u(cfg.n_inner)),
        ("gpt2.block_count".into(), u(cfg.n_layer)),
        ("gpt2.attention.head_count".into(), u(cfg.n_head)),
        ("gpt2.attention.layer_norm_epsilon".into(), Value::F32(cfg.layer_norm_epsilon as f32)),
        ("tokenizer.ggml.model".into(), s("gpt2")),
        ("tokenizer.ggml.pre".into(), s("gpt-2")),
        ("tokenizer.ggml.tokens".into(), Value::Array(tok.tokens().iter().map(|t| s(t)).collect())),
        ("tokenizer.ggml.token_type".into(), Value::Array(token_types)),
        ("tokenizer.ggml.merges".into(), Value::Array(tok.merges().iter().map(|m| s(m)).collect())),
        ("tokenizer.ggml.bos_token_id".into(), Value::U32(cfg.bos_token_id)),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(cfg.eos_token_id)),
        ("tokenizer.ggml.unknown_token_id".into(), Value::U32(cfg.eos_token_id)),
    ]
}
