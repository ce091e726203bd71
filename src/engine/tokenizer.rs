//! GPT-2's byte-level BPE tokenizer, built from any of the places DialoGPT ships it:
//! `vocab.json` + `merges.txt` (the Hub repos), `tokenizer.json`, or a GGUF file's
//! `tokenizer.ggml.*` metadata. Encodes exactly as transformers' `GPT2TokenizerFast` does:
//! the end-of-text marker in the text is its special token, the rest is split by GPT-2's
//! pattern (`pretokenize.rs`), each piece's UTF-8 bytes become one token each and are then
//! merged by rank (`bpe.rs`). Our own code rather than the `tokenizers` crate: that crate's
//! regex engines and Unicode tables were about a third of the worker's download.

mod bpe;
mod pretokenize;
mod unicode_classes;

pub use unicode_classes::{is_letter, is_number};

use super::config::EOS_TOKEN_ID;
use super::error::{EngineError, Result};
use bpe::MergeTable;
use std::collections::HashMap;

pub const EOS_TOKEN: &str = "<|endoftext|>";

pub struct Gpt2Tokenizer {
    /// The token of each byte (the single-character tokens of GPT-2's byte alphabet).
    byte_ids: [u32; 256],
    merge_table: MergeTable,
    /// Token strings by id, as stored in the vocabulary (byte-level alphabet).
    tokens: Vec<String>,
    /// Merge rules in priority order, `"a b"`.
    merges: Vec<String>,
    /// Raw bytes of every token, for streaming decode.
    token_bytes: Vec<Vec<u8>>,
    eos_id: u32,
}

/// GPT-2's table from bytes to printable characters: printable Latin-1 bytes stand for
/// themselves, the others are shifted to code points 256 and up.
pub fn byte_to_char_table() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut shifted = 0u32;
    for b in 0..256u32 {
        let printable = (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
        table[b as usize] = if printable {
            char::from_u32(b).unwrap()
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).unwrap()
        };
    }
    table
}

fn char_to_byte_map() -> HashMap<char, u8> {
    byte_to_char_table().iter().enumerate().map(|(b, c)| (*c, b as u8)).collect()
}

fn parse_merges_txt(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with("#version") && !l.trim().is_empty())
        .map(|l| l.to_string())
        .collect()
}

impl Gpt2Tokenizer {
    /// From the Hub's `vocab.json` and `merges.txt`.
    pub fn from_vocab_and_merges(vocab_json: &[u8], merges_txt: &[u8]) -> Result<Self> {
        let vocab: HashMap<String, u32> = serde_json::from_slice(vocab_json)
            .map_err(|e| EngineError::Tokenizer(format!("vocab.json is not a token->id map: {e}")))?;
        let merges_text = std::str::from_utf8(merges_txt)
            .map_err(|_| EngineError::Tokenizer("merges.txt is not UTF-8 text".into()))?;
        Self::from_parts(vocab, parse_merges_txt(merges_text))
    }

    /// From a `tokenizer.json` of a GPT-2 style BPE model.
    pub fn from_tokenizer_json(bytes: &[u8]) -> Result<Self> {
        let json: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| EngineError::Tokenizer(format!("tokenizer.json is not JSON: {e}")))?;
        let model = &json["model"];
        if model["type"] != "BPE" {
            return Err(EngineError::Tokenizer("tokenizer.json does not hold a BPE model".into()));
        }
        let vocab: HashMap<String, u32> = serde_json::from_value(model["vocab"].clone())
            .map_err(|e| EngineError::Tokenizer(format!("bad vocab in tokenizer.json: {e}")))?;
        let merges = model["merges"]
            .as_array()
            .ok_or_else(|| EngineError::Tokenizer("tokenizer.json has no merges".into()))?
            .iter()
            .map(|m| match m {
                serde_json::Value::String(s) => Ok(s.clone()),
                serde_json::Value::Array(p) if p.len() == 2 => {
                    Ok(format!("{} {}", p[0].as_str().unwrap_or(""), p[1].as_str().unwrap_or("")))
                }
                _ => Err(EngineError::Tokenizer("bad merge entry in tokenizer.json".into())),
            })
            .collect::<Result<Vec<_>>>()?;
        Self::from_parts(vocab, merges)
    }

    /// From the token list and merges of a GGUF file (`tokenizer.ggml.tokens` / `.merges`).
    pub fn from_token_list(tokens: Vec<String>, merges: Vec<String>) -> Result<Self> {
        let vocab = tokens.into_iter().enumerate().map(|(i, t)| (t, i as u32)).collect();
        Self::from_parts(vocab, merges)
    }

    fn from_parts(vocab: HashMap<String, u32>, merges: Vec<String>) -> Result<Self> {
        if vocab.is_empty() {
            return Err(EngineError::Tokenizer("the vocabulary is empty".into()));
        }
        let eos_id = *vocab.get(EOS_TOKEN).unwrap_or(&EOS_TOKEN_ID);
        // Ids index a table below: a stray huge id must not allocate gigabytes.
        if let Some((t, id)) = vocab.iter().find(|(_, id)| **id as usize >= 4 * vocab.len() + 1024) {
            return Err(EngineError::Tokenizer(format!("token `{t}` has id {id}, far beyond the {} tokens of the vocabulary", vocab.len())));
        }
        let mut tokens = vec![String::new(); vocab.values().max().map_or(0, |m| *m as usize + 1)];
        for (t, id) in &vocab {
            tokens[*id as usize] = t.clone();
        }
        let pairs = merges
            .iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| EngineError::Tokenizer(format!("bad merge rule `{m}`")))
            })
            .collect::<Result<Vec<_>>>()?;
        let id_of = |t: &str| {
            vocab.get(t).copied().ok_or_else(|| EngineError::Tokenizer(format!("merge rule token `{t}` is not in the vocabulary")))
        };
        let mut merge_table = MergeTable::with_capacity(pairs.len());
        for (rank, (a, b)) in pairs.iter().enumerate() {
            let merged = id_of(&format!("{a}{b}"))?;
            // A pair listed twice keeps its last rank, as in `tokenizers` and transformers.
            merge_table.insert((id_of(a)?, id_of(b)?), (rank as u32, merged));
        }
        let mut byte_ids = [0u32; 256];
        for (b, c) in byte_to_char_table().iter().enumerate() {
            byte_ids[b] = *vocab.get(c.to_string().as_str()).ok_or_else(|| {
                EngineError::Tokenizer(format!("the vocabulary has no token for byte {b:#04x} (`{c}`): not a GPT-2 byte-level vocabulary"))
            })?;
        }
        let decode = char_to_byte_map();
        let token_bytes = tokens
            .iter()
            .enumerate()
            .map(|(id, t)| {
                if id as u32 == eos_id {
                    Vec::new()
                } else {
                    t.chars().filter_map(|c| decode.get(&c).copied()).collect()
                }
            })
            .collect();
        Ok(Self { byte_ids, merge_table, tokens, merges, token_bytes, eos_id })
    }

    pub fn eos_id(&self) -> u32 {
        self.eos_id
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    pub fn merges(&self) -> &[String] {
        &self.merges
    }

    /// The ids of `text`. `<|endoftext|>` written in the text is the end-of-text token, as
    /// transformers registers it (a special token: never split, never merged with its
    /// neighbours).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        for (i, part) in text.split(EOS_TOKEN).enumerate() {
            if i > 0 {
                ids.push(self.eos_id);
            }
            for piece in pretokenize::split(part) {
                let bytes: Vec<u32> = piece.bytes().map(|b| self.byte_ids[b as usize]).collect();
                ids.extend(bpe::merge(&bytes, &self.merge_table));
            }
        }
        Ok(ids)
    }

    /// The raw bytes a token stands for (empty for the end-of-text token).
    pub fn token_bytes(&self, id: u32) -> &[u8] {
        self.token_bytes.get(id as usize).map_or(&[], |b| b.as_slice())
    }

    /// Decodes ids to text, leaving out end-of-text markers; invalid UTF-8 becomes U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|id| self.token_bytes(*id).iter().copied()).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_matches_gpt2() {
        let t = byte_to_char_table();
        assert_eq!(t[b' ' as usize], 'Ġ');
        assert_eq!(t[b'\n' as usize], 'Ċ');
        assert_eq!(t[b'a' as usize], 'a');
        let distinct: std::collections::HashSet<char> = t.iter().copied().collect();
        assert_eq!(distinct.len(), 256);
    }
}
