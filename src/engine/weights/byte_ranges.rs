//! The data section of safetensors and GGUF files is a list of tensors at known byte ranges.
//! This walks such a list as bytes stream past, collecting the ranges that are wanted and
//! handing each over the moment its last byte arrives. A reader that can write bytes where
//! they belong (a file read into memory) asks for the [`RangeWalker::space`] of the range in
//! progress and fills it directly: the tensor's bytes are then never copied on the way in.

use super::zeroed_bytes;
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
    /// The wanted range in progress, allocated whole; `have` of its bytes are in.
    current: Vec<u8>,
    have: usize,
}

impl<T> RangeWalker<T> {
    /// `ranges` in any order; positions count from the first byte that will be consumed.
    pub fn new(mut ranges: Vec<Range<T>>, what: &str) -> Result<Self> {
        ranges.sort_by_key(|r| r.start);
        for pair in ranges.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(EngineError::Corrupt(format!(
                    "overlapping tensors in {what}"
                )));
            }
        }
        Ok(Self {
            ranges,
            pos: 0,
            next: 0,
            current: Vec::new(),
            have: 0,
        })
    }

    /// Consumes the next bytes of the stream, calling `emit` for every completed wanted range.
    pub fn consume(
        &mut self,
        mut bytes: &[u8],
        mut emit: impl FnMut(&Range<T>, Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        while self.next < self.ranges.len() {
            let (start, end, wanted) = {
                let r = &self.ranges[self.next];
                (r.start, r.end, r.wanted)
            };
            if self.pos < start {
                if bytes.is_empty() {
                    break;
                }
                // A gap: alignment padding, or a header already handled elsewhere.
                let skip = (start - self.pos).min(bytes.len());
                self.pos += skip;
                bytes = &bytes[skip..];
                continue;
            }
            let take = (end - self.pos).min(bytes.len());
            if wanted {
                self.start_range()?;
                self.current[self.have..self.have + take].copy_from_slice(&bytes[..take]);
            }
            bytes = &bytes[take..];
            let finished = self.pos + take == end;
            self.advance(take, &mut emit)?;
            if !finished {
                break;
            }
        }
        Ok(())
    }

    /// Allocates the wanted range the stream is in, once.
    fn start_range(&mut self) -> Result<()> {
        let r = &self.ranges[self.next];
        if self.current.len() != r.end - r.start {
            self.current = zeroed_bytes(r.end - r.start)?;
            self.have = 0;
        }
        Ok(())
    }

    /// `n` more bytes of the range in progress are in (copied or filled in place).
    fn advance(
        &mut self,
        n: usize,
        emit: &mut impl FnMut(&Range<T>, Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let r = &self.ranges[self.next];
        self.pos += n;
        if r.wanted {
            self.have += n;
        }
        if self.pos == r.end {
            if r.wanted {
                self.have = 0;
                emit(r, std::mem::take(&mut self.current))?;
            }
            self.next += 1;
        }
        Ok(())
    }

    /// Where the next bytes of the stream go, at most `max` of them, when they are bytes of a
    /// wanted range; `None` elsewhere (a gap, an unwanted range, the end).
    pub fn space(&mut self, max: usize) -> Result<Option<&mut [u8]>> {
        match self.ranges.get(self.next) {
            Some(r) if r.wanted && self.pos >= r.start && max > 0 => {
                let take = (r.end - self.pos).min(max);
                self.start_range()?;
                Ok(Some(&mut self.current[self.have..self.have + take]))
            }
            _ => Ok(None),
        }
    }

    /// The first `n` bytes of the last [`RangeWalker::space`] were written.
    pub fn filled(
        &mut self,
        n: usize,
        mut emit: impl FnMut(&Range<T>, Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        self.advance(n, &mut emit)
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
