//! The data section of safetensors and GGUF files is a list of tensors at known byte ranges.
//! This walks such a list as bytes stream past, collecting the ranges that are wanted and
//! handing each over the moment its last byte arrives.

use super::alloc_bytes;
use crate::engine::error::{EngineError, Result};

pub struct Range<T> {
    pub name: String,
    pub start: usize,
    pub end: usize,
    pub wanted: bool,
    /// Format-specific description (dtype, shape).
    pub info: T,
}

pub struct RangeWalker<T> {
    ranges: Vec<Range<T>>,
    /// Stream position of the next byte to arrive.
    pos: usize,
    next: usize,
    current: Vec<u8>,
}

impl<T> RangeWalker<T> {
    /// `ranges` in any order; positions count from the first byte that will be consumed.
    pub fn new(mut ranges: Vec<Range<T>>, what: &str) -> Result<Self> {
        ranges.sort_by_key(|r| r.start);
        for pair in ranges.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(EngineError::Corrupt(format!("overlapping tensors in {what}")));
            }
        }
        Ok(Self { ranges, pos: 0, next: 0, current: Vec::new() })
    }

    /// Consumes the next bytes of the stream, calling `emit` for every completed wanted range.
    pub fn consume(&mut self, mut bytes: &[u8], mut emit: impl FnMut(&Range<T>, Vec<u8>) -> Result<()>) -> Result<()> {
        while self.next < self.ranges.len() {
            let r = &self.ranges[self.next];
            if self.pos < r.start {
                if bytes.is_empty() {
                    break;
                }
                // A gap: alignment padding, or a header already handled elsewhere.
                let skip = (r.start - self.pos).min(bytes.len());
                self.pos += skip;
                bytes = &bytes[skip..];
                continue;
            }
            let take = (r.end - self.pos).min(bytes.len());
            if r.wanted {
                if self.current.is_empty() {
                    self.current = alloc_bytes(r.end - r.start)?;
                }
                self.current.extend_from_slice(&bytes[..take]);
            }
            self.pos += take;
            bytes = &bytes[take..];
            if self.pos < r.end {
                break;
            }
            if r.wanted {
                emit(r, std::mem::take(&mut self.current))?;
            }
            self.next += 1;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The first range not yet complete, if any.
    pub fn unfinished(&self) -> Option<&Range<T>> {
        self.ranges.get(self.next)
    }
}
