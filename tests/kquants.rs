//! k-quants need rows of 256, wider than the tiny fixture: this builds a random GPT-2 whose
//! dimensions hold real q4_k / q6_k blocks, then checks the policy, the output against the
//! f32 model, and the GGUF round trip.

use candle_core::quantized::GgmlDType;
use dialogpt_web::engine::model::Gpt2Model;
use dialogpt_web::engine::weights::names::required_names;
use dialogpt_web::engine::weights::store::WeightStore;
use dialogpt_web::engine::weights::{FloatDtype, TensorSink};
use dialogpt_web::engine::{Gpt2Config, Gpt2Tokenizer, LoadedModel, Quantization};

fn config() -> Gpt2Config {
    Gpt2Config {
        vocab_size: 512,
        n_positions: 64,
        n_embd: 256,
        n_layer: 2,
        n_head: 4,
        n_inner: 1024,
        layer_norm_epsilon: 1e-5,
        eos_token_id: 511,
        bos_token_id: 511,
    }
}

fn shape_of(cfg: &Gpt2Config, name: &str) -> Vec<usize> {
    let (e, f) = (cfg.n_embd, cfg.n_inner);
    match name {
        "token_embd.weight" => vec![cfg.vocab_size, e],
        "position_embd.weight" => vec![cfg.n_positions, e],
        n if n.ends_with("attn_qkv.weight") => vec![3 * e, e],
        n if n.ends_with("attn_qkv.bias") => vec![3 * e],
        n if n.ends_with("attn_output.weight") => vec![e, e],
        n if n.ends_with("ffn_up.weight") => vec![f, e],
        n if n.ends_with("ffn_up.bias") => vec![f],
        n if n.ends_with("ffn_down.weight") => vec![e, f],
        _ => vec![e],
    }
}

/// Deterministic pseudo-random weights (xorshift), GPT-2-like scales.
fn random_store(cfg: &Gpt2Config, quant: Quantization) -> WeightStore {
    let mut store = WeightStore::new(quant);
    let mut state = 0x2545F4914F6CDD1Du64;
    for name in required_names(cfg.n_layer) {
        let shape = shape_of(cfg, &name);
        let n: usize = shape.iter().product();
        let is_norm_weight = name.ends_with("norm.weight");
        let values: Vec<f32> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                if is_norm_weight { 1.0 + 0.1 * u } else { 0.2 * u }
            })
            .collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        store.float_tensor(&name, FloatDtype::F32, &shape, &bytes).unwrap();
    }
    store
}

fn tokenizer(cfg: &Gpt2Config) -> Gpt2Tokenizer {
    let table = dialogpt_web::engine::tokenizer::byte_to_char_table();
    let mut tokens: Vec<String> = table.iter().map(|c| c.to_string()).collect();
    tokens.extend((256..cfg.vocab_size - 1).map(|i| format!("tok{i}")));
    tokens.push("<|endoftext|>".into());
    Gpt2Tokenizer::from_token_list(tokens, vec![]).unwrap()
}

fn logits(cfg: &Gpt2Config, store: WeightStore, prompt: &[u32]) -> Vec<f32> {
    let mut m = Gpt2Model::from_store(cfg, store).unwrap();
    m.forward(prompt).unwrap()
}

#[test]
fn q4_k_uses_k_quant_blocks_and_stays_close_to_f32() {
    let cfg = config();
    let prompt: Vec<u32> = (0..20).map(|i| (i * 37 % 500) as u32).collect();
    let q4 = random_store(&cfg, Quantization::Q4K);
    assert_eq!(q4.get("blk.0.attn_qkv.weight").unwrap().dtype(), GgmlDType::Q4K);
    assert_eq!(q4.get("blk.1.ffn_down.weight").unwrap().dtype(), GgmlDType::Q4K);
    assert_eq!(q4.get("token_embd.weight").unwrap().dtype(), GgmlDType::Q6K);
    let reference = logits(&cfg, random_store(&cfg, Quantization::F32), &prompt);
    let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
    for quant in [Quantization::Q4K, Quantization::Q8_0] {
        let got = logits(&cfg, random_store(&cfg, quant), &prompt);
        let err = got.iter().zip(&reference).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale;
        println!("{quant}: max logit error {:.2}% of the largest logit", err * 100.0);
        let bound = if quant == Quantization::Q4K { 0.15 } else { 0.03 };
        assert!(err < bound, "{quant}: relative logit error {err}");
    }
}

#[test]
fn q4_k_gguf_round_trip_is_exact() {
    let cfg = config();
    let loaded = LoadedModel {
        config: cfg.clone(),
        tokenizer: tokenizer(&cfg),
        store: random_store(&cfg, Quantization::Q4K),
        format: dialogpt_web::engine::weights::file_format::FileFormat::Safetensors,
    };
    let gguf = loaded.to_gguf("k-quant test").unwrap();
    let back = LoadedModel::from_bytes(None, Quantization::Q4K, &gguf).unwrap();
    assert_eq!(back.config, cfg);
    for name in required_names(cfg.n_layer) {
        let (a, b) = (loaded.store.get(&name).unwrap(), back.store.get(&name).unwrap());
        assert_eq!((a.dtype(), a.data().unwrap()), (b.dtype(), b.data().unwrap()), "{name}");
    }
    let prompt = [1u32, 2, 3, 300];
    assert_eq!(logits(&cfg, loaded.store, &prompt), logits(&cfg, back.store, &prompt));
}
