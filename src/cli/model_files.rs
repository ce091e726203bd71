//! Finds a model on disk (a Hub-layout directory or a single file) and streams it through
//! the engine's loader, the same way the browser streams a download.

use super::hub_download;
use crate::engine::weights::file_format::FileFormat;
use crate::engine::weights::gguf_split::ShardName;
use crate::engine::{EngineError, Gpt2Config, Gpt2Tokenizer, HubParts, LoadedModel, ModelLoader, Quantization, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

const WEIGHT_NAMES: [&str; 3] = ["pytorch_model.bin", "model.safetensors", "model.gguf"];

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| EngineError::InvalidInput(format!("cannot read {}: {e}", path.display())))
}

/// The config and tokenizer next to a checkpoint, if they are there.
fn hub_parts(dir: &Path) -> Result<Option<HubParts>> {
    let config = dir.join("config.json");
    if !config.exists() {
        return Ok(None);
    }
    let tokenizer = if dir.join("vocab.json").exists() && dir.join("merges.txt").exists() {
        Gpt2Tokenizer::from_vocab_and_merges(&read(&dir.join("vocab.json"))?, &read(&dir.join("merges.txt"))?)?
    } else if dir.join("tokenizer.json").exists() {
        Gpt2Tokenizer::from_tokenizer_json(&read(&dir.join("tokenizer.json"))?)?
    } else {
        return Err(EngineError::Config(format!(
            "{} has config.json but no vocab.json + merges.txt or tokenizer.json",
            dir.display()
        )));
    };
    Ok(Some(HubParts { config: Gpt2Config::from_hf_json(&read(&config)?)?, tokenizer }))
}

/// Resolves `path` to (weight file, config + tokenizer when separate).
pub fn locate(path: &Path) -> Result<(PathBuf, Option<HubParts>)> {
    if path.is_dir() {
        let weights = WEIGHT_NAMES
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.exists())
            .or_else(|| {
                std::fs::read_dir(path).ok()?.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "gguf"))
            })
            .ok_or_else(|| {
                EngineError::InvalidInput(format!(
                    "{} holds no pytorch_model.bin, model.safetensors or .gguf file",
                    path.display()
                ))
            })?;
        return Ok((weights, hub_parts(path)?));
    }
    if !path.exists() {
        return Err(EngineError::InvalidInput(format!("{} does not exist", path.display())));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok((path.to_path_buf(), hub_parts(dir)?))
}

/// What `--model` names, on disk: a local path as it is, a Hub repo id (`org/name`) through
/// the Hugging Face cache (downloaded first if needed).
pub fn resolve(model: &Path, revision: Option<&str>, quant: Quantization) -> Result<PathBuf> {
    let text = model.to_string_lossy();
    if model.exists() || !hub_download::is_repo_id(&text) {
        if revision.is_some() {
            return Err(EngineError::InvalidInput("--revision applies to a Hub repo id (org/name), not to a path".into()));
        }
        return Ok(model.to_path_buf());
    }
    hub_download::fetch(&text, revision, quant.as_str())
}

/// Loads a model from disk, streaming the weights in 1 MiB chunks; a split GGUF is read
/// from its first shard on, every shard in order.
pub fn load_model(path: &Path, quant: Quantization) -> Result<LoadedModel> {
    let (weights, hub) = locate(path)?;
    let files = match ShardName::parse(&weights.to_string_lossy()) {
        Some(shard) => {
            shard.require_first()?;
            shard.all().into_iter().map(PathBuf::from).collect()
        }
        None => vec![weights],
    };
    let mut head = [0u8; 16];
    let n = open(&files[0])?.read(&mut head)?;
    let format = FileFormat::sniff(&head[..n])?;
    let hub = if format == FileFormat::Gguf { None } else { hub };
    let mut loader = ModelLoader::new(hub, quant);
    let mut buf = vec![0u8; 1 << 20];
    let total = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    let what = if format == FileFormat::Gguf { "loading".to_string() } else { format!("converting to {quant}") };
    let bar = progress_bar(total, &what);
    for (i, path) in files.iter().enumerate() {
        if i > 0 {
            loader.next_shard().map_err(|e| named(&files[i - 1], e))?;
        }
        let mut file = open(path)?;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            loader.push(&buf[..n]).map_err(|e| named(path, e))?;
            bar.inc(n as u64);
        }
    }
    bar.finish_and_clear();
    loader.finish().map_err(|e| if files.len() > 1 { named(files.last().expect("one at least"), e) } else { e })
}

/// A bar on stderr while a model loads or converts (drawn only on a terminal).
fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|e| EngineError::InvalidInput(format!("cannot open {}: {e}", path.display())))
}

/// An error of one shard, with the shard's file named.
fn named(path: &Path, e: EngineError) -> EngineError {
    EngineError::InvalidInput(format!("{}: {e}", path.display()))
}
