//! Turns generated tokens into text as they arrive without ever emitting half a character:
//! a byte-level BPE token can end in the middle of a multi-byte UTF-8 sequence (emoji, CJK).

use super::tokenizer::Gpt2Tokenizer;

#[derive(Default, Debug, Clone)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes, returns the text that is now complete. Bytes that can never form valid
    /// UTF-8 come out as U+FFFD; an unfinished sequence at the end waits for more bytes.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(good).unwrap());
                    match e.error_len() {
                        Some(n) => {
                            out.push('\u{FFFD}');
                            rest = &bad[n..];
                        }
                        None => {
                            rest = bad;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        out
    }

    /// Ends the stream: an unfinished sequence becomes U+FFFD.
    pub fn finish(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        out
    }
}

/// Token-by-token decoder over a tokenizer.
pub struct TokenTextStream<'a> {
    tokenizer: &'a Gpt2Tokenizer,
    bytes: Utf8Stream,
}

impl<'a> TokenTextStream<'a> {
    pub fn new(tokenizer: &'a Gpt2Tokenizer) -> Self {
        Self { tokenizer, bytes: Utf8Stream::new() }
    }

    pub fn push(&mut self, id: u32) -> String {
        self.bytes.push(self.tokenizer.token_bytes(id))
    }

    pub fn finish(&mut self) -> String {
        self.bytes.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_splits_a_character() {
        let text = "héllo 😀 中文";
        let mut s = Utf8Stream::new();
        let mut out = String::new();
        for b in text.as_bytes() {
            let piece = s.push(&[*b]);
            assert!(!piece.contains('\u{FFFD}'));
            out.push_str(&piece);
        }
        out.push_str(&s.finish());
        assert_eq!(out, text);
    }

    #[test]
    fn invalid_bytes_become_replacement_chars() {
        let mut s = Utf8Stream::new();
        assert_eq!(s.push(&[b'a', 0xff, b'b']), "a\u{FFFD}b");
        assert_eq!(s.push(&[0xe4, 0xb8]), "");
        assert_eq!(s.finish(), "\u{FFFD}");
    }
}
