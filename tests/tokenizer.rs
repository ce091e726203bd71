//! The tokenizer gives transformers' GPT2TokenizerFast ids on every reference case
//! (ASCII, whitespace runs, accents, combining marks, CJK, emoji, RTL, control characters),
//! from each of its sources, and decodes back losslessly.

mod common;
use common::*;
use dialogpt_web::engine::stream_decode::TokenTextStream;
use dialogpt_web::engine::Gpt2Tokenizer;

fn cases() -> Vec<(String, Vec<u32>, String)> {
    json("reference/tokenizer_cases.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["text"].as_str().unwrap().to_string(), ids(&c["ids"]), c["decoded"].as_str().unwrap().to_string()))
        .collect()
}

fn check(tok: &Gpt2Tokenizer, label: &str) {
    let cases = cases();
    assert!(cases.len() >= 30);
    for (text, want, decoded) in cases {
        assert_eq!(tok.encode(&text).unwrap(), want, "{label}: {text:?}");
        // transformers' decode keeps <|endoftext|>; ours leaves it out (it ends a turn).
        assert_eq!(tok.decode(&want), decoded.replace("<|endoftext|>", ""), "{label}: decode {text:?}");
    }
}

#[test]
fn vocab_and_merges_match_transformers() {
    let d = hub_dir();
    let tok = Gpt2Tokenizer::from_vocab_and_merges(&read(d.join("vocab.json")), &read(d.join("merges.txt"))).unwrap();
    assert_eq!(tok.vocab_size(), 50257);
    assert_eq!(tok.eos_id(), 50256);
    check(&tok, "vocab.json+merges.txt");
}

#[test]
fn gguf_metadata_tokenizer_matches_transformers() {
    // The token list and merges written by llama.cpp's converter.
    let loaded = load_chunked(None, Default::default(), &read(fixtures().join("tiny-variants/model-q8_0.gguf")), 1 << 20);
    check(&loaded.tokenizer, "GGUF");
}

#[test]
fn tokenizer_json_in_both_merge_spellings_matches() {
    let d = hub_dir();
    let tok = Gpt2Tokenizer::from_vocab_and_merges(&read(d.join("vocab.json")), &read(d.join("merges.txt"))).unwrap();
    let vocab: serde_json::Value = serde_json::from_slice(&read(d.join("vocab.json"))).unwrap();
    // tokenizers <= 0.19 wrote merges as "a b" strings, newer versions as ["a", "b"] pairs.
    let as_strings: Vec<serde_json::Value> = tok.merges().iter().map(|m| m.as_str().into()).collect();
    let as_pairs: Vec<serde_json::Value> =
        tok.merges().iter().map(|m| { let (a, b) = m.split_once(' ').unwrap(); serde_json::json!([a, b]) }).collect();
    for merges in [as_strings, as_pairs] {
        let json = serde_json::json!({"model": {"type": "BPE", "vocab": vocab, "merges": merges}});
        let t = Gpt2Tokenizer::from_tokenizer_json(json.to_string().as_bytes()).unwrap();
        check(&t, "tokenizer.json");
    }
    assert!(Gpt2Tokenizer::from_tokenizer_json(b"{\"model\":{\"type\":\"WordPiece\"}}").is_err());
    assert!(Gpt2Tokenizer::from_vocab_and_merges(b"not json", b"").is_err());
}

#[test]
fn streaming_decode_never_emits_half_characters() {
    let d = hub_dir();
    let tok = Gpt2Tokenizer::from_vocab_and_merges(&read(d.join("vocab.json")), &read(d.join("merges.txt"))).unwrap();
    for text in ["Emoji 😀 👍🏽 ❤️ 🇫🇷 👨‍👩‍👧", "中文测试：你好，世界！", "مرحبا بالعالم", "café e\u{301}"] {
        let ids = tok.encode(text).unwrap();
        let mut stream = TokenTextStream::new(&tok);
        let mut out = String::new();
        for id in &ids {
            let piece = stream.push(*id);
            assert!(!piece.contains('\u{FFFD}'), "half a character in {piece:?} of {text:?}");
            out.push_str(&piece);
        }
        out.push_str(&stream.finish());
        assert_eq!(out, text);
    }
}
