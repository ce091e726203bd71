//! `dialogpt quantize`: any supported checkpoint in, a self-contained GGUF out.

use super::model_files::load_model;
use super::QuantizeArgs;
use crate::engine::{EngineError, Result};

pub fn run(args: QuantizeArgs) -> Result<()> {
    let loaded = load_model(&args.input, args.quant)?;
    let name = args.name.clone().unwrap_or_else(|| {
        args.input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "dialogpt".into())
    });
    let bytes = loaded.to_gguf(&name)?;
    std::fs::write(&args.output, &bytes)
        .map_err(|e| EngineError::InvalidInput(format!("cannot write {}: {e}", args.output.display())))?;
    eprintln!(
        "wrote {} ({:.1} MB, {} from {}, {} tensors)",
        args.output.display(),
        bytes.len() as f64 / 1e6,
        args.quant,
        loaded.format.label(),
        loaded.store.len()
    );
    Ok(())
}
