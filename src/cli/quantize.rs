//! `dialogpt quantize`: any supported checkpoint in, a self-contained GGUF out, in one file
//! or in llama.cpp's split layout for static hosts that limit file sizes.

use super::model_files::{load_model, resolve};
use super::QuantizeArgs;
use crate::engine::weights::gguf_split::shard_file_name;
use crate::engine::{EngineError, Result};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Writes go to `NAME.part` and are renamed when complete: a file under its real name is
/// always whole.
struct PartFile {
    part: PathBuf,
    path: PathBuf,
}

impl PartFile {
    fn create(path: &Path) -> Result<(PartFile, BufWriter<std::fs::File>)> {
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let file = std::fs::File::create(&part).map_err(|e| cannot_write(path, e))?;
        Ok((PartFile { part, path: path.to_path_buf() }, BufWriter::with_capacity(1 << 20, file)))
    }

    fn commit(self) -> Result<()> {
        std::fs::rename(&self.part, &self.path).map_err(|e| cannot_write(&self.path, e))
    }
}

fn cannot_write(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::InvalidInput(format!("cannot write {}: {e}", path.display()))
}

fn size_of(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

pub fn run(args: QuantizeArgs) -> Result<()> {
    let input = resolve(&args.input, args.revision.as_deref(), args.quant)?;
    let loaded = load_model(&input, args.quant)?;
    // The name a user knows the model by: the repo's or the file's.
    let name = args.name.clone().unwrap_or_else(|| {
        args.input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "dialogpt".into())
    });
    let written: Vec<PathBuf> = match args.split_max_size {
        None => {
            let (part, mut out) = PartFile::create(&args.output)?;
            loaded.write_gguf(&name, &mut out)?;
            out.into_inner().map_err(|e| cannot_write(&args.output, e.into_error()))?.sync_all()?;
            part.commit()?;
            vec![args.output.clone()]
        }
        Some(max) => {
            let out = args.output.to_string_lossy();
            let prefix = out.strip_suffix(".gguf").unwrap_or(&out).to_string();
            let mut parts = Vec::new();
            let mut paths = Vec::new();
            loaded.write_gguf_shards(&name, max, |no, count| {
                let path = PathBuf::from(shard_file_name(&prefix, no, count));
                let (part, out) = PartFile::create(&path)?;
                parts.push(part);
                paths.push(path);
                Ok(out)
            })?;
            // Every shard is written before any takes its real name.
            for part in parts {
                part.commit()?;
            }
            paths
        }
    };
    let total: u64 = written.iter().map(|p| size_of(p)).sum();
    let largest = written.iter().map(|p| size_of(p)).max().unwrap_or(0);
    let files = match written.len() {
        1 => written[0].display().to_string(),
        n => format!("{n} shards {} … (largest {:.1} MB)", written[0].display(), largest as f64 / 1e6),
    };
    eprintln!(
        "wrote {files} ({:.1} MB, {} from {}, {} tensors)",
        total as f64 / 1e6,
        args.quant,
        loaded.format.label(),
        loaded.store.len()
    );
    Ok(())
}
