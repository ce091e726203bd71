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

/// The `tokenizers` crate set up as GPT2TokenizerFast is (what this engine used before it
/// had its own tokenizer): the reference for the generated cases below.
fn reference_tokenizer() -> tokenizers::Tokenizer {
    use tokenizers::models::bpe::BPE;
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    let d = hub_dir();
    let (vocab, merges) = (d.join("vocab.json"), d.join("merges.txt"));
    let bpe = BPE::from_file(vocab.to_str().unwrap(), merges.to_str().unwrap()).build().unwrap();
    let mut t = tokenizers::Tokenizer::new(bpe);
    t.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
    t.add_special_tokens([tokenizers::AddedToken::from("<|endoftext|>", true)]).unwrap();
    t
}

/// Random text from pieces that exercise every branch of GPT-2's pattern: contractions
/// (and near misses), runs of each class, white space of every kind and length, marks,
/// scripts, emoji sequences and the end-of-text marker.
fn generated_texts(count: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "a", "Hello", "world", "DialoGPT", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'x", "''", "'",
        " ", "  ", "   ", "\t", "\n", "\r\n", "\u{a0}", "\u{3000}", "\u{2028}", "\u{85}", "\u{200b}", "\u{feff}",
        "0", "42", "3.14", "½", "Ⅻ", "١٢٣", "!", "?!", "...", ",", "-", "—", "«", "»", "@#$", "`", "~",
        "é", "e\u{301}", "ñ", "ß", "ǅ", "ʰ", "Ⓐ", "\u{345}", "ं", "हिन्दी", "中文", "，", "日本語", "한국어",
        "مرحبا", "עברית", "Ελλάδα", "Привет", "😀", "👍🏽", "❤️", "🇫🇷", "👨‍👩‍👧", "\u{0}", "\u{7}", "\u{1b}",
        "\u{7f}", "\u{fffd}", "\u{10ffff}", "\u{e000}", "<|endoftext|>", "<|endoftext", "|>", "𝔘𝔫𝔦", "x\u{20e3}",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..count)
        .map(|_| {
            let n = (next() % 12) as usize;
            (0..n).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect()
        })
        .collect()
}

#[test]
fn matches_the_tokenizers_crate_on_generated_text() {
    let d = hub_dir();
    let ours = Gpt2Tokenizer::from_vocab_and_merges(&read(d.join("vocab.json")), &read(d.join("merges.txt"))).unwrap();
    let reference = reference_tokenizer();
    let mut texts = generated_texts(4000);
    texts.push("a".repeat(10_000)); // one long piece: the merge heap, not a quadratic loop
    texts.push(" ".repeat(300) + "x");
    for text in &texts {
        let want = reference.encode(text.as_str(), false).unwrap().get_ids().to_vec();
        assert_eq!(ours.encode(text).unwrap(), want, "{text:?}");
        assert_eq!(ours.decode(&want), text.replace("<|endoftext|>", ""), "decode {text:?}");
    }
}

#[test]
fn unicode_classes_match_the_regex_crate() {
    use dialogpt_web::engine::tokenizer::{is_letter, is_number};
    let (letter, number) = (regex::Regex::new(r"^\p{L}$").unwrap(), regex::Regex::new(r"^\p{N}$").unwrap());
    let mut buf = [0u8; 4];
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let s = c.encode_utf8(&mut buf);
        assert_eq!(is_letter(c), letter.is_match(s), "\\p{{L}} of U+{:04X}", c as u32);
        assert_eq!(is_number(c), number.is_match(s), "\\p{{N}} of U+{:04X}", c as u32);
    }
}

#[test]
fn broken_vocabularies_are_refused_with_a_reason() {
    let err = |r: Result<Gpt2Tokenizer, dialogpt_web::engine::EngineError>| r.err().expect("should fail").to_string();
    // A merge whose parts or result are not tokens.
    let vocab = br#"{"a": 0, "b": 1}"#;
    let msg = err(Gpt2Tokenizer::from_vocab_and_merges(vocab, b"#version: 0.2\na b\n"));
    assert!(msg.contains("`ab` is not in the vocabulary"), "{msg}");
    let msg = err(Gpt2Tokenizer::from_vocab_and_merges(vocab, b"a\n"));
    assert!(msg.contains("bad merge rule"), "{msg}");
    // Not a byte-level vocabulary: bytes without a token.
    let msg = err(Gpt2Tokenizer::from_vocab_and_merges(br#"{"hello": 0}"#, b""));
    assert!(msg.contains("no token for byte"), "{msg}");
    let msg = err(Gpt2Tokenizer::from_vocab_and_merges(br#"{"a": 4000000000}"#, b""));
    assert!(msg.contains("far beyond"), "{msg}");
}
