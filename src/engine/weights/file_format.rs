//! Recognises a weight file by its first bytes, whatever its name or URL says.

use super::gguf_shards::GgufShards;
use super::safetensors_stream::SafetensorsStream;
use super::torch_legacy::{LegacyTorchStream, LEGACY_MAGIC};
use super::torch_zip::TorchZipStream;
use super::{TensorSink, WeightStream};
use crate::engine::error::{EngineError, Result};
use candle_core::quantized::gguf_file::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileFormat {
    /// `torch.save` before PyTorch 1.6: the Hub's DialoGPT `pytorch_model.bin`.
    TorchLegacy,
    /// `torch.save` zip archive.
    TorchZip,
    Safetensors,
    Gguf,
}

/// Bytes needed to tell the formats apart.
pub const SNIFF_LEN: usize = 16;

impl FileFormat {
    /// Names the format of a file from its first bytes ([`SNIFF_LEN`] are enough).
    pub fn sniff(head: &[u8]) -> Result<FileFormat> {
        if head.starts_with(b"GGUF") {
            return Ok(FileFormat::Gguf);
        }
        if head.starts_with(b"PK\x03\x04") {
            return Ok(FileFormat::TorchZip);
        }
        if head.len() >= LEGACY_MAGIC.len() && head[..LEGACY_MAGIC.len()] == LEGACY_MAGIC {
            return Ok(FileFormat::TorchLegacy);
        }
        if head.len() >= 9 {
            let n = u64::from_le_bytes(head[..8].try_into().unwrap());
            if n < (100 << 20) && head[8] == b'{' {
                return Ok(FileFormat::Safetensors);
            }
        }
        let cut_magic = |magic: &[u8]| head.len() < magic.len() && magic.starts_with(head);
        if cut_magic(&LEGACY_MAGIC) || cut_magic(b"GGUF") || cut_magic(b"PK\x03\x04") {
            return Err(EngineError::Incomplete(format!("the weight file is only {} bytes long", head.len())));
        }
        let text = String::from_utf8_lossy(&head[..head.len().min(SNIFF_LEN)]).to_lowercase();
        if text.trim_start().starts_with('<') {
            return Err(EngineError::UnsupportedFormat(
                "the server sent a web page (HTML), not model weights; check the URL".into(),
            ));
        }
        if text.trim_start().starts_with('{') || text.starts_with("version https://") {
            return Err(EngineError::UnsupportedFormat(
                "this is a text file (JSON or a Git LFS pointer), not model weights".into(),
            ));
        }
        Err(EngineError::UnsupportedFormat(
            "unknown weight format: expected pytorch_model.bin, model.safetensors or a .gguf file".into(),
        ))
    }

    pub fn label(self) -> &'static str {
        match self {
            FileFormat::TorchLegacy => "PyTorch (legacy)",
            FileFormat::TorchZip => "PyTorch (zip)",
            FileFormat::Safetensors => "safetensors",
            FileFormat::Gguf => "GGUF",
        }
    }
}

enum Inner {
    Undecided(Vec<u8>),
    Legacy(LegacyTorchStream),
    Zip(TorchZipStream),
    Safetensors(SafetensorsStream),
    Gguf(GgufShards),
}

/// A stream that sniffs the format from the first bytes, then hands over to its parser.
pub struct AnyWeightStream {
    inner: Inner,
}

impl Default for AnyWeightStream {
    fn default() -> Self {
        Self::new()
    }
}

impl AnyWeightStream {
    pub fn new() -> Self {
        Self { inner: Inner::Undecided(Vec::new()) }
    }

    pub fn format(&self) -> Option<FileFormat> {
        match &self.inner {
            Inner::Undecided(_) => None,
            Inner::Legacy(_) => Some(FileFormat::TorchLegacy),
            Inner::Zip(_) => Some(FileFormat::TorchZip),
            Inner::Safetensors(_) => Some(FileFormat::Safetensors),
            Inner::Gguf(_) => Some(FileFormat::Gguf),
        }
    }

    /// GGUF metadata (hyper-parameters and tokenizer) once the header has been read.
    pub fn gguf_metadata(&mut self) -> Option<HashMap<String, Value>> {
        match &mut self.inner {
            Inner::Gguf(g) => g.take_metadata(),
            _ => None,
        }
    }

    fn decide(&mut self, force: bool) -> Result<Option<Vec<u8>>> {
        let Inner::Undecided(head) = &mut self.inner else { return Ok(None) };
        if head.len() < SNIFF_LEN && !force {
            return Ok(None);
        }
        if head.is_empty() {
            return Err(EngineError::Incomplete("the weight file is empty".into()));
        }
        let format = FileFormat::sniff(head)?;
        let head = std::mem::take(head);
        self.inner = match format {
            FileFormat::TorchLegacy => Inner::Legacy(LegacyTorchStream::new()),
            FileFormat::TorchZip => Inner::Zip(TorchZipStream::new()),
            FileFormat::Safetensors => Inner::Safetensors(SafetensorsStream::new()),
            FileFormat::Gguf => Inner::Gguf(GgufShards::new()),
        };
        Ok(Some(head))
    }

    /// The current file is complete and the next shard of a split GGUF follows.
    pub fn next_shard(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        if let Some(head) = self.decide(true)? {
            self.parser().push(&head, sink)?;
        }
        match &mut self.inner {
            Inner::Gguf(g) => g.next_shard(sink),
            _ => Err(EngineError::UnsupportedFormat("only GGUF models come in several files (shards)".into())),
        }
    }

    /// Where the next bytes go when they can be written in place (GGUF tensor data); `None`
    /// where they must be pushed.
    pub fn space(&mut self, max: usize) -> Result<Option<&mut [u8]>> {
        match &mut self.inner {
            Inner::Gguf(g) => g.space(max),
            _ => Ok(None),
        }
    }

    /// `n` bytes were written into the last [`AnyWeightStream::space`].
    pub fn filled(&mut self, n: usize, sink: &mut dyn TensorSink) -> Result<()> {
        match &mut self.inner {
            Inner::Gguf(g) => g.filled(n, sink),
            _ => unreachable!("only GGUF streams give space"),
        }
    }

    fn parser(&mut self) -> &mut dyn WeightStream {
        match &mut self.inner {
            Inner::Legacy(s) => s,
            Inner::Zip(s) => s,
            Inner::Safetensors(s) => s,
            Inner::Gguf(s) => s,
            Inner::Undecided(_) => unreachable!("called after decide"),
        }
    }
}

impl WeightStream for AnyWeightStream {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()> {
        if let Inner::Undecided(head) = &mut self.inner {
            head.extend_from_slice(bytes);
            return match self.decide(false)? {
                Some(head) => self.parser().push(&head, sink),
                None => Ok(()),
            };
        }
        self.parser().push(bytes, sink)
    }

    fn finish(&mut self, sink: &mut dyn TensorSink) -> Result<()> {
        if let Some(head) = self.decide(true)? {
            self.parser().push(&head, sink)?;
        }
        self.parser().finish(sink)
    }
}
