//! Running the `dialogpt` binary from the integration tests.

use super::json;
use std::process::{Command, Output};

/// Runs `dialogpt` with `args` and extra environment variables.
pub fn dialogpt_with(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dialogpt"));
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run dialogpt")
}

pub fn dialogpt(args: &[&str]) -> Output {
    dialogpt_with(args, &[])
}

/// A path in the temp folder, unique to this test process.
pub fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("dialogpt-cli-{}-{name}", std::process::id()))
}

/// The rows `chat --script --json` prints for the first greedy reference conversation.
pub fn script_rows(model: &str, quant: &str, envs: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let conv = &json("reference/conversations.json")["results"]["greedy"][0];
    let turns = conv.as_array().unwrap();
    // One file per call: tests run in parallel threads of one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let script = temp(&format!("script-{}.txt", CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)));
    let lines: Vec<&str> = turns.iter().map(|t| t["user"].as_str().unwrap()).collect();
    std::fs::write(&script, lines.join("\n") + "\n").unwrap();
    let out = dialogpt_with(&["chat", "--model", model, "--quant", quant, "--script", script.to_str().unwrap(), "--json", "--max-new-tokens", "12"], envs);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(&script).ok();
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Runs the first greedy reference conversation through `chat --script --json` and compares
/// every turn with transformers'.
pub fn assert_script_matches_reference(model: &str, quant: &str, envs: &[(&str, &str)]) {
    let conv = &json("reference/conversations.json")["results"]["greedy"][0];
    let turns = conv.as_array().unwrap();
    let rows = script_rows(model, quant, envs);
    assert_eq!(rows.len(), turns.len());
    for (i, (row, want)) in rows.iter().zip(turns).enumerate() {
        assert_eq!(row["turn"], i + 1);
        assert_eq!(row["input_ids"], want["input_ids"], "turn {i}");
        assert_eq!(row["reply_ids"], want["reply_ids"], "turn {i}");
        assert_eq!(row["reply"], want["reply"], "turn {i}");
    }
}
