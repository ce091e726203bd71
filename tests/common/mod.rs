//! Shared helpers for the integration tests: fixture paths and loading.
#![allow(dead_code)]

pub mod cli;

use dialogpt_web::engine::weights::store::WeightStore;
use dialogpt_web::engine::{HubFiles, HubParts, LoadedModel, ModelLoader, Quantization};
use std::path::PathBuf;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn hub_dir() -> PathBuf {
    fixtures().join("tiny-dialogpt")
}

pub fn read(path: impl Into<PathBuf>) -> Vec<u8> {
    let path = path.into();
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn hub_parts() -> HubParts {
    let d = hub_dir();
    let (config_json, vocab_json, merges_txt) = (read(d.join("config.json")), read(d.join("vocab.json")), read(d.join("merges.txt")));
    HubParts::from_files(HubFiles { config_json: &config_json, vocab_json: &vocab_json, merges_txt: &merges_txt }).unwrap()
}

/// Streams `bytes` into a loader in chunks of `chunk` bytes.
pub fn load_chunked(hub: Option<HubParts>, quant: Quantization, bytes: &[u8], chunk: usize) -> LoadedModel {
    let mut loader = ModelLoader::new(hub, quant);
    for c in bytes.chunks(chunk) {
        loader.push(c).unwrap();
    }
    loader.finish().unwrap()
}

/// A Hub-layout checkpoint (with the fixture's config and tokenizer).
pub fn load_checkpoint(file: &str, quant: Quantization) -> LoadedModel {
    load_chunked(Some(hub_parts()), quant, &read(fixtures().join(file)), 64 * 1024 + 3)
}

pub fn read_f32(path: impl Into<PathBuf>) -> Vec<f32> {
    read(path).chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

pub fn json(path: &str) -> serde_json::Value {
    serde_json::from_slice(&read(fixtures().join(path))).unwrap()
}

pub fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

/// Names of all tensors in a store, sorted.
pub fn names(store: &WeightStore) -> Vec<String> {
    let mut n: Vec<String> = store.names().cloned().collect();
    n.sort();
    n
}

/// The last position's logits of `prompt` through the model `loaded` builds.
pub fn logits(loaded: LoadedModel, prompt: &[u32]) -> Vec<f32> {
    let mut m = dialogpt_web::engine::model::Gpt2Model::from_store(&loaded.config, loaded.store).unwrap();
    m.forward(prompt).unwrap()
}
