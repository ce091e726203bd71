//! `--model org/repo`: a model's files from the Hugging Face Hub through the `hf-hub` crate,
//! into the standard Hugging Face cache. `HF_HOME` moves the cache, `HF_ENDPOINT` the Hub (a
//! mirror); files already in the cache are used without asking the network, so a second run
//! works offline.

use crate::engine::weights::gguf_split::{pick_gguf, ShardName};
use crate::engine::{EngineError, Result};
use hf_hub::api::sync::{ApiBuilder, ApiRepo};
use hf_hub::{Cache, Repo, RepoType};
use std::path::PathBuf;

/// The small files of the Hub's GPT-2 layout, needed beside float weights.
const LAYOUT: [&str; 3] = ["config.json", "vocab.json", "merges.txt"];
/// Float checkpoints, in the order they are preferred.
const CHECKPOINTS: [&str; 2] = ["pytorch_model.bin", "model.safetensors"];

/// `org/name` (or a bare `name`) that is not a path on disk.
pub fn is_repo_id(s: &str) -> bool {
    let ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) && !p.starts_with('.');
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() == 2 && parts.iter().all(|p| ok(p))
}

fn hub_error(repo: &str, what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidInput(format!("{repo}: {what}: {e}"))
}

/// The files to fetch for a repo holding `names`: the layout plus a checkpoint, or a GGUF
/// (all shards of a split one; with several, the one named after `quant` if any).
fn choose(names: &[String], quant: &str) -> Option<Vec<String>> {
    if let Some(c) = CHECKPOINTS.iter().find(|c| names.iter().any(|n| n == *c)) {
        return Some(LAYOUT.iter().chain([c]).map(|s| s.to_string()).collect());
    }
    let gguf = pick_gguf(names, quant)?;
    Some(ShardName::parse(gguf).map_or_else(|| vec![gguf.to_string()], |s| s.all()))
}

/// Every file of `names` from the cache, or `None` if one is missing.
fn cached(cache: &Cache, repo: &Repo, names: &[String]) -> Option<Vec<PathBuf>> {
    let files = cache.repo(repo.clone());
    names.iter().map(|n| files.get(n)).collect()
}

/// The files of the revision's snapshot in the cache (the cache's layout:
/// `models--org--name/refs/REVISION` holds the commit, `snapshots/COMMIT/` the files).
fn snapshot_names(cache: &Cache, repo: &Repo) -> Vec<String> {
    let dir = cache.path().join(repo.folder_name());
    let Ok(commit) = std::fs::read_to_string(dir.join("refs").join(repo.revision())) else { return Vec::new() };
    let entries = std::fs::read_dir(dir.join("snapshots").join(commit.trim()));
    entries.into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

/// Downloads (or finds in the cache) the files of `repo_id` at `revision` and returns the path
/// of its weight file (the first shard of a split GGUF), the layout's files beside it.
pub fn fetch(repo_id: &str, revision: Option<&str>, quant: &str) -> Result<PathBuf> {
    let repo = Repo::with_revision(repo_id.to_string(), RepoType::Model, revision.unwrap_or("main").to_string());
    let cache = Cache::from_env();
    // A model fetched before is whole in the cache: no network needed.
    if let Some(choice) = choose(&snapshot_names(&cache, &repo), quant) {
        if let Some(paths) = cached(&cache, &repo, &choice) {
            return Ok(weights_of(&choice, paths));
        }
    }
    let api = ApiBuilder::from_env().with_progress(true).build().map_err(|e| hub_error(repo_id, "cannot reach the Hub", e))?;
    let remote: ApiRepo = api.repo(repo.clone());
    let info = remote
        .info()
        .map_err(|e| hub_error(repo_id, "cannot list the repository (check its name, --revision, the network or HF_ENDPOINT)", e))?;
    let names: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
    let choice = choose(&names, quant).ok_or_else(|| {
        EngineError::InvalidInput(format!("{repo_id} holds no pytorch_model.bin, model.safetensors or .gguf file"))
    })?;
    let mut paths = Vec::new();
    for name in &choice {
        paths.push(remote.get(name).map_err(|e| hub_error(repo_id, &format!("cannot download {name}"), e))?);
    }
    Ok(weights_of(&choice, paths))
}

/// The weight file among `paths`: after the layout's files, or the first GGUF shard.
fn weights_of(choice: &[String], paths: Vec<PathBuf>) -> PathBuf {
    let at = choice.iter().position(|n| !LAYOUT.contains(&n.as_str())).unwrap_or(0);
    paths[at].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn repo_ids_and_paths() {
        assert!(is_repo_id("microsoft/DialoGPT-medium"));
        for not in ["/no/such/model", "./a/b", "a/b/c", "model.gguf", "a//b", "../x"] {
            assert!(!is_repo_id(not), "{not}");
        }
    }

    #[test]
    fn chooses_a_checkpoint_then_a_gguf_with_all_its_shards() {
        let hub = names(&["config.json", "vocab.json", "merges.txt", "model.safetensors", "pytorch_model.bin", "README.md"]);
        assert_eq!(choose(&hub, "q8_0").unwrap(), names(&["config.json", "vocab.json", "merges.txt", "pytorch_model.bin"]));
        let ggufs = names(&["m-Q8_0.gguf", "m-q4_k-00002-of-00002.gguf", "m-q4_k-00001-of-00002.gguf", "README.md"]);
        assert_eq!(choose(&ggufs, "q4_k").unwrap(), names(&["m-q4_k-00001-of-00002.gguf", "m-q4_k-00002-of-00002.gguf"]));
        assert_eq!(choose(&names(&["README.md"]), "q8_0"), None);
    }
}
