//! Proof of fidelity: every supported file format of the fixture model gives transformers'
//! logits (within 1e-4, f32 math) and exactly its greedy multi-turn replies.
//! References come from `tests/fixtures/make_fixtures.py` (Python transformers).

mod common;
use common::*;
use dialogpt_web::engine::model::Gpt2Model;
use dialogpt_web::engine::{GenerationConfig, LoadedModel, Quantization};

const F32_TOLERANCE: f32 = 1e-4;

fn model_of(loaded: LoadedModel) -> Gpt2Model {
    Gpt2Model::from_store(&loaded.config, loaded.store).unwrap()
}

/// Checks last-position logits of every reference prompt (and all positions of prompt 0).
fn assert_reference_logits(label: &str, model: &mut Gpt2Model) {
    let spec = json("reference/logits.json");
    for (i, p) in spec["prompts"].as_array().unwrap().iter().enumerate() {
        let input = ids(&p["input_ids"]);
        model.truncate_cache(0);
        let got = model.forward(&input).unwrap();
        let want = read_f32(fixtures().join("reference").join(p["file"].as_str().unwrap()));
        let diff = max_abs_diff(&got, &want);
        assert!(diff <= F32_TOLERANCE, "{label}: prompt {i} logits differ by {diff}");
        if let Some(all) = p["all_positions_file"].as_str() {
            model.truncate_cache(0);
            let got = model.forward_all(&input).unwrap();
            let want = read_f32(fixtures().join("reference").join(all));
            let diff = max_abs_diff(&got, &want);
            assert!(diff <= F32_TOLERANCE, "{label}: all-position logits differ by {diff}");
        }
    }
}

#[test]
fn hub_legacy_fp16_bin_matches_transformers_logits() {
    assert_reference_logits("legacy fp16", &mut model_of(load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32)));
}

#[test]
fn tied_legacy_f32_bin_matches_transformers_logits() {
    assert_reference_logits("tied legacy f32", &mut model_of(load_checkpoint("tiny-variants/tied_legacy_f32.bin", Quantization::F32)));
}

#[test]
fn zip_bin_matches_transformers_logits() {
    assert_reference_logits("zip fp16", &mut model_of(load_checkpoint("tiny-variants/pytorch_model_zip.bin", Quantization::F32)));
}

#[test]
fn f16_storage_gives_the_same_logits() {
    assert_reference_logits("f16 weights", &mut model_of(load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F16)));
}

#[test]
fn incremental_decoding_equals_full_recompute() {
    let mut model = model_of(load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32));
    let spec = json("reference/logits.json");
    let input = ids(&spec["prompts"][1]["input_ids"]);
    let want = read_f32(fixtures().join("reference/logits_1.f32"));
    // Prefill half, then one token at a time through the KV cache.
    let half = input.len() / 2;
    model.forward(&input[..half]).unwrap();
    let mut got = Vec::new();
    for t in &input[half..] {
        got = model.forward(&[*t]).unwrap();
    }
    assert!(max_abs_diff(&got, &want) <= F32_TOLERANCE);
    // Rewinding the cache to a prefix and continuing gives the same answer again.
    model.truncate_cache(3);
    let got = model.forward(&input[3..]).unwrap();
    assert!(max_abs_diff(&got, &want) <= F32_TOLERANCE);
}

fn mode_config(mode: &str) -> GenerationConfig {
    let mut cfg = GenerationConfig::greedy(12);
    match mode {
        "greedy" => {}
        "greedy_repetition_penalty_1.3" => cfg.repetition_penalty = 1.3,
        "greedy_no_repeat_ngram_size_3" => cfg.no_repeat_ngram_size = 3,
        other => panic!("unknown reference mode {other}"),
    }
    cfg
}

/// Runs every reference conversation through a session; returns (matching turns, turns).
fn run_conversations(loaded: LoadedModel, exact: bool) -> (usize, usize, usize, usize) {
    let mut session = loaded.into_session().unwrap();
    let spec = json("reference/conversations.json");
    let (mut turns_ok, mut turns, mut tok_ok, mut toks) = (0, 0, 0, 0);
    for (mode, convs) in spec["results"].as_object().unwrap() {
        let cfg = mode_config(mode);
        for (c, conv) in convs.as_array().unwrap().iter().enumerate() {
            let mut history: Vec<u32> = Vec::new();
            for (t, turn) in conv.as_array().unwrap().iter().enumerate() {
                let want_input = ids(&turn["input_ids"]);
                let want_reply = ids(&turn["reply_ids"]);
                let reply = session.predict(turn["user"].as_str().unwrap(), &history, &cfg).unwrap();
                if exact {
                    assert_eq!(reply.input_ids, want_input, "{mode} conv {c} turn {t}: prompt ids");
                    assert_eq!(reply.reply_ids, want_reply, "{mode} conv {c} turn {t}: reply ids");
                    assert_eq!(reply.text, turn["reply"].as_str().unwrap(), "{mode} conv {c} turn {t}: text");
                }
                turns += 1;
                turns_ok += (reply.reply_ids == want_reply) as usize;
                toks += want_reply.len();
                tok_ok += reply.reply_ids.iter().zip(&want_reply).take_while(|(a, b)| a == b).count();
                // Teacher forcing: continue from the reference history so one early
                // difference does not count against every later turn.
                history = want_input.iter().chain(&want_reply).copied().collect();
            }
        }
    }
    (turns_ok, turns, tok_ok, toks)
}

#[test]
fn greedy_conversations_are_token_identical_for_every_float_format() {
    for file in ["tiny-dialogpt/pytorch_model.bin", "tiny-variants/tied_legacy_f32.bin", "tiny-variants/pytorch_model_zip.bin"] {
        let (ok, n, _, _) = run_conversations(load_checkpoint(file, Quantization::F32), true);
        assert_eq!(ok, n, "{file}");
    }
}

#[test]
fn q8_0_from_llama_cpp_is_close_and_mostly_agrees() {
    let bytes = read(fixtures().join("tiny-variants/model-q8_0.gguf"));
    let loaded = load_chunked(None, Quantization::Q8_0, &bytes, 100_003);
    let mut model = model_of(load_chunked(None, Quantization::Q8_0, &bytes, 1 << 20));
    let spec = json("reference/logits.json");
    for p in spec["prompts"].as_array().unwrap() {
        let Some(file) = p["q8_0_file"].as_str() else { continue };
        model.truncate_cache(0);
        let got = model.forward(&ids(&p["input_ids"])).unwrap();
        let want = read_f32(fixtures().join("reference").join(file));
        let diff = max_abs_diff(&got, &want);
        println!("q8_0 GGUF vs dequantised reference: max |diff| = {diff:.4}");
        // candle quantizes activations to q8_0 as llama.cpp does; the reference multiplies
        // dequantized weights in f32, so small differences are expected.
        assert!(diff < 0.3, "q8_0 logits differ by {diff}");
    }
    let (ok, n, tok_ok, toks) = run_conversations(loaded, false);
    let rate = tok_ok as f64 / toks as f64;
    println!("q8_0 agreement with the f32 reference: {ok}/{n} turns identical, {tok_ok}/{toks} reply tokens before the first difference ({:.1}%)", rate * 100.0);
    assert!(rate > 0.5, "q8_0 agreement collapsed: {rate}");
}
