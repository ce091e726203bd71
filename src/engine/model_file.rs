//! A built model written out as a GGUF file a slice at a time, so the model can answer between
//! two slices: the browser keeps a downloaded model while it is already in use, and the file
//! is the one `gguf_write` would have written from the weights before the build.

use super::error::{EngineError, Result};
use super::gguf_encode::{self, TensorOut, ALIGNMENT};
use super::gguf_meta::gguf_metadata;
use super::model::SavedTensor;
use super::quantize::Quantization;
use super::session::ChatSession;
use std::io::Write;

pub struct ModelFile {
    /// Everything before the tensor data.
    header: Vec<u8>,
    /// Each tensor's data length, in file order (checked again at every slice: the model written
    /// must be the one the header describes).
    lengths: Vec<usize>,
    total: u64,
    written: u64,
}

fn padded(n: usize) -> usize {
    n.next_multiple_of(ALIGNMENT)
}

fn tensor_table<'a>(tensors: &'a [SavedTensor]) -> Vec<TensorOut<'a>> {
    tensors.iter().map(|t| TensorOut { name: &t.name, dtype: t.dtype, dims: &t.dims, bytes: t.bytes.into() }).collect()
}

impl ModelFile {
    /// The file of `session`'s model; `quant` is what its metadata says it was quantized to.
    pub fn new(session: &ChatSession, name: &str, quant: Quantization) -> Result<Self> {
        let model = session.model();
        let tensors = model.saved_tensors();
        let header = gguf_encode::header(&gguf_metadata(model.config(), session.tokenizer(), quant, name), &tensor_table(&tensors))?;
        let lengths: Vec<usize> = tensors.iter().map(|t| t.bytes.len()).collect();
        let total = header.len() as u64 + lengths.iter().map(|&n| padded(n) as u64).sum::<u64>();
        Ok(Self { header, lengths, total, written: 0 })
    }

    /// The whole file's size in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn is_complete(&self) -> bool {
        self.written == self.total
    }

    /// Writes the next bytes of the file, about `max` of them (a slice ends where a piece of
    /// the file does), to `out`.
    pub fn write_next<W: Write>(&mut self, session: &ChatSession, out: &mut W, max: usize) -> Result<()> {
        let tensors = session.model().saved_tensors();
        if tensors.len() != self.lengths.len() || tensors.iter().zip(&self.lengths).any(|(t, &n)| t.bytes.len() != n) {
            return Err(EngineError::InvalidInput("the model changed while it was being written".into()));
        }
        let zeros = [0u8; ALIGNMENT];
        let mut budget = max.max(1);
        // Walks the file's pieces (header, then each tensor with its padding) to where the
        // last slice stopped.
        let mut start = 0u64;
        let pieces = std::iter::once((self.header.as_slice(), 0)).chain(tensors.iter().map(|t| (t.bytes, padded(t.bytes.len()) - t.bytes.len())));
        for (bytes, pad) in pieces {
            let end = start + (bytes.len() + pad) as u64;
            if self.written < end && budget > 0 {
                let from = (self.written - start) as usize;
                if from < bytes.len() {
                    let upto = bytes.len().min(from + budget);
                    out.write_all(&bytes[from..upto])?;
                    budget -= upto - from;
                    self.written += (upto - from) as u64;
                }
                if self.written >= start + bytes.len() as u64 && budget > 0 {
                    let left = (end - self.written) as usize;
                    out.write_all(&zeros[..left])?;
                    self.written = end;
                    budget = budget.saturating_sub(left);
                }
            }
            start = end;
        }
        Ok(())
    }
}
