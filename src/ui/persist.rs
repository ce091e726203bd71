//! The conversation as saved: in localStorage (so a reload keeps it) and as files the user
//! exports and imports (JSON, which round-trips with the token history; Markdown, to read).
//! Pure, tested natively; an imported file is checked before it replaces anything.

use super::conversation::{Author, BubbleState, ChatMessage, Conversation};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "dialogpt-web-chat";
pub const VERSION: u32 = 1;
/// localStorage keys.
pub const CHAT_KEY: &str = "dialogpt-web.chat";
pub const DRAFT_KEY: &str = "dialogpt-web.draft";
/// A file bigger than this is not a saved chat (the context window is 1024 tokens).
const MAX_IMPORT_BYTES: usize = 20_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedMessage {
    pub author: String,
    pub text: String,
    /// `done`, `stopped` or `failed`.
    #[serde(default)]
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedChat {
    pub format: String,
    pub version: u32,
    /// The model the chat was held with (repo id or URL), for the reader.
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<SavedMessage>,
    /// Token ids the model saw: the next turn continues from exactly these.
    pub history: Vec<u32>,
    /// The history the last message was sent with (for Regenerate and Edit after a reload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_last_turn: Option<Vec<u32>>,
}

impl SavedChat {
    pub fn of(chat: &Conversation, model: Option<String>) -> SavedChat {
        let messages = chat
            .messages
            .iter()
            .map(|m| SavedMessage {
                author: m.author.as_str().into(),
                // A reply still streaming is saved as interrupted: its tokens are not in the history.
                state: match m.state {
                    BubbleState::Streaming => BubbleState::Failed.as_str().into(),
                    s => s.as_str().into(),
                },
                text: match m.state {
                    BubbleState::Streaming => format!("{}(interrupted)", m.text),
                    _ => m.text.clone(),
                },
            })
            .collect();
        SavedChat {
            format: FORMAT.into(),
            version: VERSION,
            model,
            messages,
            history: chat.history.clone(),
            before_last_turn: chat.before_last_turn.clone(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes")
    }

    /// Reads a saved or exported chat; the message says what is wrong with a bad file.
    pub fn from_json(text: &str) -> Result<SavedChat, String> {
        if text.len() > MAX_IMPORT_BYTES {
            return Err("the file is too large to be a saved chat".into());
        }
        let chat: SavedChat = serde_json::from_str(text).map_err(|e| format!("not a chat exported by this app: {e}"))?;
        if chat.format != FORMAT {
            return Err(format!("not a chat exported by this app (format `{}`)", chat.format));
        }
        if chat.version > VERSION {
            return Err(format!("the file is from a newer version of this app (version {})", chat.version));
        }
        if let Some(m) = chat.messages.iter().find(|m| m.author != "user" && m.author != "bot") {
            return Err(format!("unknown message author `{}`", m.author));
        }
        Ok(chat)
    }

    /// Into the page's conversation (messages and token history).
    pub fn into_conversation(self) -> Conversation {
        let messages = self
            .messages
            .into_iter()
            .map(|m| ChatMessage {
                author: if m.author == "user" { Author::User } else { Author::Bot },
                text: m.text,
                state: match m.state.as_str() {
                    "stopped" => BubbleState::Stopped,
                    "failed" => BubbleState::Failed,
                    _ => BubbleState::Done,
                },
            })
            .collect();
        Conversation::restored(messages, self.history, self.before_last_turn)
    }

    /// A transcript for people: a heading, then one paragraph per message.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# Chat with DialoGPT\n\n");
        if let Some(m) = &self.model {
            out.push_str(&format!("Model: `{m}`\n\n"));
        }
        for m in &self.messages {
            let who = if m.author == "user" { "You" } else { "Bot" };
            let text = m.text.trim();
            // Keep the user's text literal: escape what Markdown would interpret at line starts.
            let quoted: Vec<String> = text.lines().map(escape_markdown_line).collect();
            let note = if m.state == "stopped" { " *(stopped)*" } else { "" };
            out.push_str(&format!("**{who}:** {}{note}\n\n", quoted.join("  \n")));
        }
        out
    }
}

fn escape_markdown_line(line: &str) -> String {
    let mut s = String::with_capacity(line.len());
    for c in line.chars() {
        if "\\`*_[]<>#|".contains(c) {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Conversation {
        let mut c = Conversation::default();
        let t = c.start_turn("Hi <b>there</b>\nsecond line");
        c.on_token(t, " hello");
        let done = crate::worker::protocol::TurnDone {
            turn: t,
            text: " hello *you*".into(),
            history: vec![1, 2, 50256, 3, 50256],
            stop: crate::worker::protocol::StopReason::Eos,
            stats: Default::default(),
            elapsed_ms: 1.0,
            first_token_ms: Some(0.5),
            memory_bytes: None,
        };
        c.on_done(&done);
        c.start_turn("still typing?");
        c
    }

    #[test]
    fn json_round_trip_keeps_messages_and_history() {
        let c = sample();
        let saved = SavedChat::of(&c, Some("microsoft/DialoGPT-small".into()));
        let back = SavedChat::from_json(&saved.to_json()).unwrap();
        assert_eq!(back, saved);
        let restored = back.into_conversation();
        assert_eq!(restored.history, vec![1, 2, 50256, 3, 50256]);
        assert_eq!(restored.messages.len(), 4);
        assert!(!restored.generating);
        // The reply that was streaming is kept as interrupted, not resumed.
        assert_eq!(restored.messages[3].state, BubbleState::Failed);
        assert!(restored.messages[3].text.contains("interrupted"));
        assert_eq!(restored.messages[0].text, "Hi <b>there</b>\nsecond line");
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        assert!(SavedChat::from_json("not json").unwrap_err().contains("not a chat"));
        assert!(SavedChat::from_json(r#"{"format":"x","version":1,"messages":[],"history":[]}"#).unwrap_err().contains("format"));
        let newer = r#"{"format":"dialogpt-web-chat","version":99,"messages":[],"history":[]}"#;
        assert!(SavedChat::from_json(newer).unwrap_err().contains("newer"));
        let author = r#"{"format":"dialogpt-web-chat","version":1,"messages":[{"author":"admin","text":"x"}],"history":[]}"#;
        assert!(SavedChat::from_json(author).unwrap_err().contains("author"));
        let ids = r#"{"format":"dialogpt-web-chat","version":1,"messages":[],"history":[-1]}"#;
        assert!(SavedChat::from_json(ids).is_err());
    }

    #[test]
    fn markdown_is_escaped_and_readable() {
        let md = SavedChat::of(&sample(), Some("m".into())).to_markdown();
        assert!(md.starts_with("# Chat with DialoGPT\n\nModel: `m`"));
        assert!(md.contains("**You:** Hi \\<b\\>there\\</b\\>  \nsecond line"), "{md}");
        assert!(md.contains("**Bot:** hello \\*you\\*"), "{md}");
    }
}
