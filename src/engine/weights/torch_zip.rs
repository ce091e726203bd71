//! Reader for PyTorch's zip checkpoint format (`torch.save` since 1.6).
//!
//! A zip archive's directory sits at its end, so this format cannot be converted while it
//! downloads: the bytes are collected and parsed on `finish`. The Hub's DialoGPT files use
//! the legacy format, which does stream (see `torch_legacy`).

use super::pickle_tensors::{state_dict_tensors, unpickle_prefix, Unpickled};
use super::{TensorSink, WeightStream};
use crate::engine::error::{EngineError, Result};
use std::io::{Cursor, Read};

#[derive(Default)]
pub struct TorchZipStream {
    bytes: Vec<u8>,
}

impl TorchZipStream {
    pub fn new() -> Self {
        Self::default()
    }
}

fn zip_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt(format!("bad zip archive: {e}"))
}

fn read_entry(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>> {
    let mut file = archive
        .by_name(name)
        .map_err(|_| EngineError::Corrupt(format!("the archive has no `{name}`")))?;
    let mut out = Vec::with_capacity(file.size() as usize);
    file.read_to_end(&mut out).map_err(zip_err)?;
    Ok(out)
}

impl WeightStream for TorchZipStream {
    fn push(&mut self, bytes: &[u8], _sink: &mut dyn TensorSink) -> Result<()> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        let bytes = std::mem::take(&mut self.bytes);
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).map_err(zip_err)?;
        let pkl_name = archive
            .file_names()
            .filter_map(|n| n.ok())
            .find(|n| n.ends_with("data.pkl"))
            .map(|n| n.to_string())
            .ok_or_else(|| EngineError::UnsupportedFormat("zip file without data.pkl".into()))?;
        let prefix = pkl_name.trim_end_matches("data.pkl").to_string();
        let pkl = read_entry(&mut archive, &pkl_name)?;
        let object = match unpickle_prefix(&pkl)? {
            Unpickled::Done { object, .. } => object,
            Unpickled::NeedMore => return Err(EngineError::Corrupt("data.pkl is cut short".into())),
        };
        for t in state_dict_tensors(&object)? {
            if !sink.wants(&t.name) {
                continue;
            }
            let dtype = t.storage.dtype.ok_or_else(|| {
                EngineError::UnsupportedFormat(format!("tensor `{}` is not a float tensor", t.name))
            })?;
            let data = read_entry(&mut archive, &format!("{prefix}data/{}", t.storage.key))?;
            let bytes = data.get(t.byte_range()).ok_or_else(|| {
                EngineError::Corrupt(format!("tensor `{}` lies outside its storage", t.name))
            })?;
            sink.float_tensor(&t.name, dtype, &t.shape, bytes)?;
        }
        Ok(())
    }
}
