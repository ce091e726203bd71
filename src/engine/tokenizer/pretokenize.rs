//! GPT-2's pre-tokenizer: splits text into the pieces BPE then works on, exactly as the
//! regular expression GPT-2 ships with does,
//!
//! `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
//!
//! but written out by hand: a regex engine with Unicode tables is most of the size of a
//! tokenizer library in the browser build. Each alternative is tried in that order at the
//! current position (leftmost-first), and every character belongs to some piece.

use super::unicode_classes::{is_letter, is_number};

#[derive(Clone, Copy, PartialEq)]
enum Class {
    Letter,
    Number,
    Space,
    /// Anything else: punctuation, symbols, marks, controls that are not white space.
    Other,
}

fn class(c: char) -> Class {
    if is_letter(c) {
        Class::Letter
    } else if is_number(c) {
        Class::Number
    } else if c.is_whitespace() {
        // Rust's `is_whitespace` is Unicode's White_Space property, which is `\s`.
        Class::Space
    } else {
        Class::Other
    }
}

/// The pieces of `text`, in order; they concatenate back to `text`.
pub fn split(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let classes: Vec<Class> = chars.iter().map(|&(_, c)| class(c)).collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let end = piece_end(&chars, &classes, i);
        pieces.push(&text[byte_at(i)..byte_at(end)]);
        i = end;
    }
    pieces
}

/// Where the piece starting at char `i` ends (exclusive, in chars).
fn piece_end(chars: &[(usize, char)], classes: &[Class], i: usize) -> usize {
    let at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let run_end = |from: usize, class: Class| from + classes[from..].iter().take_while(|&&c| c == class).count();

    // 's 't 're 've 'm 'll 'd (case-sensitive, whatever follows).
    if at(i) == Some('\'') {
        match (at(i + 1), at(i + 2)) {
            (Some('r'), Some('e')) | (Some('v'), Some('e')) | (Some('l'), Some('l')) => return i + 3,
            (Some('s' | 't' | 'm' | 'd'), _) => return i + 2,
            _ => {}
        }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run of
    // one class. A space followed by white space (or nothing) matches none of them.
    let start = if at(i) == Some(' ') { i + 1 } else { i };
    if let Some(&c) = classes.get(start) {
        if c != Class::Space {
            return run_end(start, c);
        }
    }
    // White space. `\s+(?!\S)` takes the whole run when it ends the text, else all of it but
    // the last character (which then leads the next piece, e.g. " word"); a single white
    // space before a non-space falls through to `\s+` and stands alone.
    let end = run_end(i, Class::Space);
    if end == chars.len() || end - i == 1 {
        end
    } else {
        end - 1
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_the_gpt2_pattern() {
        let cases: &[(&str, &[&str])] = &[
            ("Hello world", &["Hello", " world"]),
            ("I'm here, they'll see", &["I", "'m", " here", ",", " they", "'ll", " see"]),
            ("'sup 're'", &["'s", "up", " '", "re", "'"]),
            ("a  b", &["a", " ", " b"]),
            ("a \n\nb", &["a", " \n", "\n", "b"]),
            ("end   ", &["end", "   "]),
            ("x\ty", &["x", "\t", "y"]),
            ("42 apples, 3.5!!", &["42", " apples", ",", " 3", ".", "5", "!!"]),
            ("!'s", &["!'", "s"]),
            ("café naïve", &["café", " naïve"]),
            ("你好，世界", &["你好", "，", "世界"]),
            ("😀 👍", &["😀", " 👍"]),
            ("", &[]),
            (" ", &[" "]),
        ];
        for (text, want) in cases {
            assert_eq!(&split(text), want, "{text:?}");
        }
    }
}
