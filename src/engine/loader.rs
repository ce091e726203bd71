//! From bytes to a ready chat session. The caller supplies bytes (a `fetch` stream, a
//! cache entry, a file); this module never touches a file system.

use super::config::Gpt2Config;
use super::error::{EngineError, Result};
use super::gguf_meta::{config_from_gguf, tokenizer_from_gguf};
use super::gguf_write::{write_gguf, write_gguf_shards, write_gguf_to};
use super::model::Gpt2Model;
use super::quantize::Quantization;
use super::session::ChatSession;
use super::tokenizer::Gpt2Tokenizer;
use super::weights::file_format::{AnyWeightStream, FileFormat};
use super::weights::store::WeightStore;
use super::weights::WeightStream;

/// Config and tokenizer that come as separate files in the Hub's layout.
pub struct HubParts {
    pub config: Gpt2Config,
    pub tokenizer: Gpt2Tokenizer,
}

/// The bytes of the files `microsoft/DialoGPT-*` ship beside the weights, by name.
pub struct HubFiles<'a> {
    pub config_json: &'a [u8],
    pub vocab_json: &'a [u8],
    pub merges_txt: &'a [u8],
}

impl HubParts {
    pub fn from_files(files: HubFiles) -> Result<Self> {
        Ok(Self {
            config: Gpt2Config::from_hf_json(files.config_json)?,
            tokenizer: Gpt2Tokenizer::from_vocab_and_merges(files.vocab_json, files.merges_txt)?,
        })
    }
}

/// Converts a weight file while it arrives: push chunks (or fill [`ModelLoader::space`]),
/// then `finish`.
pub struct ModelLoader {
    hub: Option<HubParts>,
    stream: AnyWeightStream,
    store: WeightStore,
    /// Bytes that cannot be written in place are read here and pushed.
    scratch: Vec<u8>,
    /// The last `space` was the stream's own (tensor data), not `scratch`.
    in_place: bool,
}

/// Everything needed to run or to save the model.
pub struct LoadedModel {
    pub config: Gpt2Config,
    pub tokenizer: Gpt2Tokenizer,
    pub store: WeightStore,
    pub format: FileFormat,
}

impl ModelLoader {
    /// `hub` may be `None` only for GGUF files, which carry config and tokenizer inside.
    /// `quant` applies to float checkpoints; GGUF tensors keep their stored types.
    pub fn new(hub: Option<HubParts>, quant: Quantization) -> Self {
        Self { hub, stream: AnyWeightStream::new(), store: WeightStore::new(quant), scratch: Vec::new(), in_place: false }
    }

    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.push(bytes, &mut self.store)
    }

    /// Where a reader should write the next bytes of the file (at most `max`, maybe fewer):
    /// a GGUF tensor's own buffer when the bytes are its data, so they are never copied again;
    /// else a scratch buffer. Then call [`ModelLoader::filled`] with the count written.
    pub fn space(&mut self, max: usize) -> Result<&mut [u8]> {
        self.in_place = self.stream.space(max)?.is_some();
        if self.in_place {
            return Ok(self.stream.space(max)?.expect("just seen"));
        }
        self.scratch.resize(max, 0);
        Ok(&mut self.scratch)
    }

    /// The first `n` bytes of the last [`ModelLoader::space`] hold the file's next bytes.
    pub fn filled(&mut self, n: usize) -> Result<()> {
        if self.in_place {
            return self.stream.filled(n, &mut self.store);
        }
        let scratch = std::mem::take(&mut self.scratch);
        let pushed = self.push(&scratch[..n]);
        self.scratch = scratch;
        pushed
    }

    /// The weight file pushed so far is complete and the next shard of a split GGUF
    /// (`…-00002-of-0000N.gguf`) follows.
    pub fn next_shard(&mut self) -> Result<()> {
        self.stream.next_shard(&mut self.store)
    }

    pub fn finish(mut self) -> Result<LoadedModel> {
        self.stream.finish(&mut self.store)?;
        let format = self.stream.format().expect("finish decided the format");
        let (config, tokenizer) = match self.stream.gguf_metadata() {
            Some(md) => {
                let config = config_from_gguf(&md)?;
                let tokenizer = match self.hub {
                    Some(h) => h.tokenizer,
                    None => tokenizer_from_gguf(&md)?,
                };
                (config, tokenizer)
            }
            None => {
                let h = self.hub.ok_or_else(|| {
                    EngineError::Config(format!(
                        "a {} checkpoint needs its config.json and tokenizer files",
                        format.label()
                    ))
                })?;
                (h.config, h.tokenizer)
            }
        };
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(EngineError::Config(format!(
                "the tokenizer has {} tokens but the model only {}",
                tokenizer.vocab_size(),
                config.vocab_size
            )));
        }
        Ok(LoadedModel { config, tokenizer, store: self.store, format })
    }
}

impl LoadedModel {
    /// Reads a complete file held in memory (GGUF alone, or a checkpoint with its Hub parts).
    pub fn from_bytes(hub: Option<HubParts>, quant: Quantization, bytes: &[u8]) -> Result<Self> {
        let mut loader = ModelLoader::new(hub, quant);
        for chunk in bytes.chunks(1 << 20) {
            loader.push(chunk)?;
        }
        loader.finish()
    }

    /// The model as a GGUF file with its tokenizer, ready to cache or host.
    pub fn to_gguf(&self, name: &str) -> Result<Vec<u8>> {
        write_gguf(&self.config, &self.tokenizer, &self.store, name)
    }

    /// Streams the same GGUF file into `out` without building it in memory first.
    pub fn write_gguf<W: std::io::Write + std::io::Seek>(&self, name: &str, out: &mut W) -> Result<()> {
        write_gguf_to(&self.config, &self.tokenizer, &self.store, name, out)
    }

    /// Writes llama.cpp's split GGUF: shards of at most `max_bytes`, `open(no, count)` giving
    /// the writer of shard `no` (from 1). Returns the shard count.
    pub fn write_gguf_shards<W: std::io::Write + std::io::Seek>(
        &self,
        name: &str,
        max_bytes: u64,
        open: impl FnMut(usize, usize) -> Result<W>,
    ) -> Result<usize> {
        write_gguf_shards(&self.config, &self.tokenizer, &self.store, name, max_bytes, open)
    }

    pub fn into_session(self) -> Result<ChatSession> {
        let model = Gpt2Model::from_store(&self.config, self.store)?;
        Ok(ChatSession::new(model, self.tokenizer))
    }
}
