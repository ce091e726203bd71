//! Weight formats: every container of the same weights loads to the same tensors, whatever
//! the chunking of the byte stream; GGUF written here reloads exactly; damaged files fail
//! with a clear error instead of a panic.

mod common;
use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device, Tensor};
use common::*;
use dialogpt_web::engine::model::Gpt2Model;
use dialogpt_web::engine::weights::names::map_hub_name;
use dialogpt_web::engine::weights::store::WeightStore;
use dialogpt_web::engine::{EngineError, LoadedModel, ModelLoader, Quantization};
use std::collections::HashMap;

/// Dequantized copy of every tensor, by name.
fn values(store: &WeightStore) -> HashMap<String, Vec<f32>> {
    store
        .names()
        .map(|n| {
            let t = store.get(n).unwrap().dequantize(&Device::Cpu).unwrap();
            (n.clone(), t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        })
        .collect()
}

fn assert_same_weights(a: &WeightStore, b: &WeightStore, label: &str) {
    assert_eq!(names(a), names(b), "{label}: tensor names");
    let (va, vb) = (values(a), values(b));
    for (name, x) in &va {
        assert_eq!(x, &vb[name], "{label}: tensor {name}");
    }
}

#[test]
fn all_torch_containers_hold_the_same_weights() {
    let reference = load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32);
    assert_eq!(reference.store.len(), 4 + 12 * reference.config.n_layer);
    for file in ["tiny-variants/tied_legacy_f32.bin", "tiny-variants/pytorch_model_zip.bin"] {
        assert_same_weights(&reference.store, &load_checkpoint(file, Quantization::F32).store, file);
    }
}

#[test]
fn streaming_does_not_depend_on_chunk_boundaries() {
    let bytes = read(hub_dir().join("pytorch_model.bin"));
    let whole = load_chunked(Some(hub_parts()), Quantization::F32, &bytes, bytes.len());
    for chunk in [7, 4099, 1 << 20] {
        let l = load_chunked(Some(hub_parts()), Quantization::F32, &bytes, chunk);
        assert_same_weights(&whole.store, &l.store, &format!("chunk {chunk}"));
    }
}

/// Writes the store's weights back in the Hub's naming and layout as safetensors.
fn to_hub_safetensors(store: &WeightStore, n_layer: usize, dtype: DType) -> Vec<u8> {
    let mut hub_names = vec!["transformer.wte.weight".to_string(), "transformer.wpe.weight".into(), "transformer.ln_f.weight".into(), "transformer.ln_f.bias".into()];
    for i in 0..n_layer {
        for leaf in ["ln_1", "ln_2"] {
            hub_names.push(format!("transformer.h.{i}.{leaf}.weight"));
            hub_names.push(format!("transformer.h.{i}.{leaf}.bias"));
        }
        for leaf in ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"] {
            hub_names.push(format!("transformer.h.{i}.{leaf}.weight"));
            hub_names.push(format!("transformer.h.{i}.{leaf}.bias"));
        }
    }
    let mut tensors = HashMap::new();
    for hub in hub_names {
        let m = map_hub_name(&hub).unwrap();
        let mut t = store.get(&m.name).unwrap().dequantize(&Device::Cpu).unwrap();
        if m.transpose {
            t = t.t().unwrap().contiguous().unwrap();
        }
        tensors.insert(hub, t.to_dtype(dtype).unwrap());
    }
    let path = std::env::temp_dir().join(format!("dialogpt-test-{}-{dtype:?}.safetensors", std::process::id()));
    candle_core::safetensors::save(&tensors, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    bytes
}

#[test]
fn safetensors_f16_and_f32_load_the_same_weights() {
    let reference = load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32);
    for dtype in [DType::F16, DType::F32] {
        let bytes = to_hub_safetensors(&reference.store, reference.config.n_layer, dtype);
        for chunk in [13, 65536] {
            let l = load_chunked(Some(hub_parts()), Quantization::F32, &bytes, chunk);
            assert_same_weights(&reference.store, &l.store, &format!("safetensors {dtype:?}"));
        }
    }
}

#[test]
fn gguf_written_here_reloads_exactly_with_its_tokenizer() {
    let prompt = [15496u32, 11, 703, 389, 345, 30];
    for quant in Quantization::ALL {
        let loaded = load_checkpoint("tiny-dialogpt/pytorch_model.bin", quant);
        let gguf = loaded.to_gguf("tiny").unwrap();
        let reloaded = load_chunked(None, quant, &gguf, 10_007);
        assert_eq!(reloaded.config, loaded.config, "{quant}");
        assert_eq!(reloaded.tokenizer.tokens(), loaded.tokenizer.tokens());
        assert_eq!(reloaded.tokenizer.encode("Hello, world! 😀").unwrap(), loaded.tokenizer.encode("Hello, world! 😀").unwrap());
        for n in names(&loaded.store) {
            let (a, b) = (loaded.store.get(&n).unwrap(), reloaded.store.get(&n).unwrap());
            assert_eq!(a.dtype(), b.dtype(), "{quant} {n}");
            assert_eq!(a.data().unwrap(), b.data().unwrap(), "{quant} {n}");
        }
        assert_eq!(logits(loaded, &prompt), logits(reloaded, &prompt), "{quant}");
    }
}

/// A file read straight into the loader's buffers ([`ModelLoader::space`]), as the browser reads
/// a stored model, in pieces of `piece` bytes.
fn load_in_place(bytes: &[u8], piece: usize) -> LoadedModel {
    let mut loader = ModelLoader::new(None, Quantization::Q8_0);
    let mut at = 0;
    while at < bytes.len() {
        let room = loader.space(piece.min(bytes.len() - at)).unwrap();
        let n = room.len();
        room.copy_from_slice(&bytes[at..at + n]);
        loader.filled(n).unwrap();
        at += n;
    }
    loader.finish().unwrap()
}

#[test]
fn gguf_read_in_place_equals_gguf_pushed() {
    let prompt = [15496u32, 11, 703, 389, 345, 30];
    let files = [
        ("llama.cpp's q8_0", read(fixtures().join("tiny-variants/model-q8_0.gguf"))),
        ("ours, f16", load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F16).to_gguf("tiny").unwrap()),
        ("ours, f32", load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32).to_gguf("tiny").unwrap()),
    ];
    for (file, bytes) in files {
        let pushed = load_chunked(None, Quantization::Q8_0, &bytes, 4096);
        for piece in [1, 31, 4096, 1 << 20, bytes.len()] {
            let filled = load_in_place(&bytes, piece);
            assert_eq!(names(&filled.store), names(&pushed.store), "{file} in pieces of {piece}");
            for n in names(&pushed.store) {
                assert_eq!(filled.store.get(&n).unwrap().data().unwrap(), pushed.store.get(&n).unwrap().data().unwrap(), "{file} {n} in pieces of {piece}");
            }
        }
        let filled = load_in_place(&bytes, 1000);
        assert_eq!(logits(filled, &prompt), logits(pushed, &prompt), "{file}");
    }
}

#[test]
fn quantization_policy_is_applied() {
    let q8 = load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::Q8_0);
    assert_eq!(q8.store.get("blk.0.attn_qkv.weight").unwrap().dtype(), GgmlDType::Q8_0);
    assert_eq!(q8.store.get("token_embd.weight").unwrap().dtype(), GgmlDType::Q8_0);
    assert_eq!(q8.store.get("blk.0.attn_qkv.bias").unwrap().dtype(), GgmlDType::F32);
    // The fixture's 32-wide rows cannot hold 256-element k-quant blocks: q4_k falls back.
    let q4 = load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::Q4K);
    assert_eq!(q4.store.get("blk.0.attn_qkv.weight").unwrap().dtype(), GgmlDType::Q8_0);
    let f32_bytes = load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32).store.size_in_bytes();
    assert!(q8.store.size_in_bytes() * 3 < f32_bytes, "q8_0 should be about 4x smaller than f32");
}

#[test]
fn our_q8_0_matches_llama_cpp_quantizer() {
    // Same float weights, quantized by llama.cpp's converter and by us.
    let ours = load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::Q8_0);
    let theirs = load_chunked(None, Quantization::Q8_0, &read(fixtures().join("tiny-variants/model-q8_0.gguf")), 1 << 20);
    assert_eq!(names(&ours.store), names(&theirs.store));
    let (mut same, mut total) = (0usize, 0usize);
    for n in names(&ours.store) {
        let (a, b) = (ours.store.get(&n).unwrap(), theirs.store.get(&n).unwrap());
        assert_eq!(a.dtype(), b.dtype(), "{n}");
        let (a, b) = (a.data().unwrap(), b.data().unwrap());
        total += a.len();
        same += a.iter().zip(b.iter()).filter(|(x, y)| x == y).count();
    }
    let rate = same as f64 / total as f64;
    println!("q8_0 bytes identical to llama.cpp's: {:.4}%", rate * 100.0);
    assert!(rate > 0.999, "quantized bytes differ from llama.cpp's: {rate}");
}

fn load_error(hub: bool, bytes: &[u8]) -> EngineError {
    let mut loader = ModelLoader::new(hub.then(hub_parts), Quantization::F32);
    for c in bytes.chunks(65536) {
        if let Err(e) = loader.push(c) {
            return e;
        }
    }
    match loader.finish() {
        Err(e) => e,
        Ok(_) => panic!("damaged input loaded without error"),
    }
}

#[test]
fn truncated_files_are_reported_as_incomplete() {
    for (file, hub) in [
        ("tiny-dialogpt/pytorch_model.bin", true),
        ("tiny-variants/model-q8_0.gguf", false),
    ] {
        let bytes = read(fixtures().join(file));
        // (GGUF pads its last tensor to 32 bytes: cutting only padding leaves a complete model.)
        for cut in [10, 200, bytes.len() / 2, bytes.len() - 40] {
            let e = load_error(hub, &bytes[..cut]);
            let msg = e.to_string();
            assert!(
                matches!(e, EngineError::Incomplete(_) | EngineError::Corrupt(_)),
                "{file} cut at {cut}: {msg}"
            );
        }
    }
    let st = to_hub_safetensors(&load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32).store, 2, DType::F32);
    assert!(matches!(load_error(true, &st[..st.len() - 5]), EngineError::Incomplete(_)));
}

#[test]
fn wrong_files_get_clear_messages() {
    let html = b"<!DOCTYPE html><html><body>Not found</body></html>";
    assert!(load_error(true, html).to_string().contains("web page"));
    let lfs = b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n";
    assert!(load_error(true, lfs).to_string().contains("Git LFS"));
    assert!(matches!(load_error(true, &[0u8; 4096]), EngineError::UnsupportedFormat(_)));
    assert!(matches!(load_error(true, b""), EngineError::Incomplete(_)));
    // A checkpoint without its config.json cannot be used.
    assert!(matches!(load_error(false, &read(hub_dir().join("pytorch_model.bin"))), EngineError::Config(_)));
}

#[test]
fn flipped_header_bytes_never_panic() {
    let bytes = read(hub_dir().join("pytorch_model.bin"));
    // Damage bytes spread over the pickle header; each run must end in Ok or Err, not a panic.
    for pos in (20..4000).step_by(97) {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x5a;
        let mut loader = ModelLoader::new(Some(hub_parts()), Quantization::F32);
        let r = bad.chunks(1 << 16).try_for_each(|c| loader.push(c)).and_then(|_| loader.finish());
        if let Ok(l) = r {
            // A flip inside a name or number may still parse; the model build must then
            // either work or fail cleanly.
            let _ = Gpt2Model::from_store(&l.config, l.store);
        }
    }
    let gguf = read(fixtures().join("tiny-variants/model-q8_0.gguf"));
    for pos in (8..2000).step_by(61) {
        let mut bad = gguf.clone();
        bad[pos] ^= 0xff;
        let mut loader = ModelLoader::new(None, Quantization::F32);
        let r = bad.chunks(1 << 16).try_for_each(|c| loader.push(c)).and_then(|_| loader.finish());
        if let Ok(l) = r {
            let _ = Gpt2Model::from_store(&l.config, l.store);
        }
    }
}

#[test]
fn shape_mismatch_is_reported() {
    let mut loaded = load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32);
    loaded.config.n_embd = 64;
    loaded.config.n_inner = 256;
    let err = Gpt2Model::from_store(&loaded.config, loaded.store).err().unwrap();
    assert!(matches!(err, EngineError::ShapeMismatch { .. }), "{err}");
    let _ = Tensor::zeros(1, DType::F32, &Device::Cpu);
}

#[test]
fn stored_size_estimate_matches_the_gguf_written() {
    // The fixture carries GPT-2's real vocabulary and merges, so its metadata is that of
    // every DialoGPT model: the estimate the page shows must match the file to a few kB.
    for quant in Quantization::ALL {
        let loaded = load_checkpoint("tiny-dialogpt/pytorch_model.bin", quant);
        let written = loaded.to_gguf("microsoft/DialoGPT-medium").unwrap().len() as i64;
        let estimate = dialogpt_web::engine::stored_size::gguf_bytes(&loaded.config, quant) as i64;
        assert!((estimate - written).abs() < 4096, "{quant}: estimate {estimate}, written {written}");
    }
}
