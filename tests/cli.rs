//! The `dialogpt` binary end to end: scripted chat reproduces transformers' replies,
//! quantize writes a GGUF that chats the same, bench reports numbers, bad paths fail cleanly.

mod common;
use common::cli::*;
use common::*;

#[test]
fn scripted_chat_reproduces_transformers() {
    assert_script_matches_reference(hub_dir().to_str().unwrap(), "f32", &[]);
}

#[test]
fn quantize_to_gguf_then_chat_from_it() {
    let gguf = temp("tiny-f32.gguf");
    let out = dialogpt(&["quantize", hub_dir().to_str().unwrap(), gguf.to_str().unwrap(), "--type", "f32"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&gguf).unwrap().len() > 1_000_000);
    assert_script_matches_reference(gguf.to_str().unwrap(), "q8_0", &[]);
    let q8 = temp("tiny-q8.gguf");
    let out = dialogpt(&["quantize", hub_dir().join("pytorch_model.bin").to_str().unwrap(), q8.to_str().unwrap(), "--type", "q8_0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&q8).unwrap().len() < std::fs::metadata(&gguf).unwrap().len());
    std::fs::remove_file(gguf).ok();
    std::fs::remove_file(q8).ok();
}

#[test]
fn quantize_into_shards_then_chat_from_the_first() {
    let dir = temp("shards");
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("tiny-f32.gguf");
    // 2 MB: the first shard holds the metadata (the 1.7 MB tokenizer) alone, the rest follows.
    let out = dialogpt(&["quantize", hub_dir().to_str().unwrap(), out_path.to_str().unwrap(), "--type", "f32", "--split-max-size", "2M"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let n = names.len();
    assert!(n >= 3, "{names:?}");
    for (i, name) in names.iter().enumerate() {
        assert_eq!(name, &format!("tiny-f32-{:05}-of-{n:05}.gguf", i + 1));
    }
    let first = dir.join(&names[0]);
    assert_script_matches_reference(first.to_str().unwrap(), "q8_0", &[]);

    // Only the first shard starts a model; a missing shard is named.
    let out = dialogpt(&["chat", "--model", dir.join(&names[1]).to_str().unwrap(), "--script", "/dev/null"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&format!("shard 2 of {n}")) && err.contains(&names[0]), "{err}");
    std::fs::remove_file(dir.join(&names[n - 1])).unwrap();
    let out = dialogpt(&["chat", "--model", first.to_str().unwrap(), "--script", "/dev/null"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&names[n - 1]), "{err}");
    let out = dialogpt(&["quantize", hub_dir().to_str().unwrap(), out_path.to_str().unwrap(), "--split-max-size", "24MiB"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("24M"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bench_reports_speed_and_memory() {
    let out = dialogpt(&["bench", "--model", hub_dir().to_str().unwrap(), "--prompt-tokens", "16", "--gen-tokens", "8", "--runs", "1", "--json", "--threads", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["prefill_tok_s", "decode_tok_s", "ttft_ms", "load_peak_mb", "model_mb"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
    assert_eq!(r["threads"], 1);
    assert_eq!(r["weights"], "q8_0");
}

#[test]
fn bad_paths_and_flags_fail_with_a_message() {
    let out = dialogpt(&["chat", "--model", "/no/such/model", "--script", "/dev/null"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let out = dialogpt(&["chat", "--model", hub_dir().to_str().unwrap(), "--quant", "q3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("q8_0"));
}
