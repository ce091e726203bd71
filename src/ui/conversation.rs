//! The conversation as the page holds it: the messages shown and the token history that is
//! sent with every turn (the worker keeps no conversation state of its own). Plain Rust,
//! tested natively; the Yew components only render it.

use crate::worker::protocol::{StopReason, TurnDone};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    User,
    Bot,
}

impl Author {
    /// The `data-author` hook of a message element.
    pub fn as_str(self) -> &'static str {
        match self {
            Author::User => "user",
            Author::Bot => "bot",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BubbleState {
    Streaming,
    Done,
    Stopped,
    Failed,
}

impl BubbleState {
    /// The `data-state` hook: tests wait for `done`/`stopped`.
    pub fn as_str(self) -> &'static str {
        match self {
            BubbleState::Streaming => "streaming",
            BubbleState::Done => "done",
            BubbleState::Stopped => "stopped",
            BubbleState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    pub author: Author,
    pub text: String,
    pub state: BubbleState,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Conversation {
    pub messages: Vec<ChatMessage>,
    /// Every token id so far (user turns and replies): sent back with the next turn.
    pub history: Vec<u32>,
    /// The history the last user turn was sent with: what Regenerate and Edit go back to.
    pub before_last_turn: Option<Vec<u32>>,
    /// Id of the latest turn; replies to older ids are ignored.
    turn: u64,
    pub generating: bool,
    /// Prompt tokens processed / total while a long prompt is being read (before the first token).
    pub reading: Option<(usize, usize)>,
}

impl Conversation {
    /// Turn id of the reply in progress, if any.
    pub fn running_turn(&self) -> Option<u64> {
        self.generating.then_some(self.turn)
    }

    /// Shows the user's message and an empty bot bubble; returns the new turn's id.
    pub fn start_turn(&mut self, text: &str) -> u64 {
        self.messages.push(ChatMessage { author: Author::User, text: text.to_string(), state: BubbleState::Done });
        self.before_last_turn = Some(self.history.clone());
        self.open_reply()
    }

    fn open_reply(&mut self) -> u64 {
        self.turn += 1;
        self.generating = true;
        self.messages.push(ChatMessage { author: Author::Bot, text: String::new(), state: BubbleState::Streaming });
        self.turn
    }

    /// The last exchange (user text, and the history it was sent with) when it can be asked
    /// again or edited: nothing is running and the chat ends with a user message and its reply.
    pub fn last_turn(&self) -> Option<(&str, &[u32])> {
        let before = self.before_last_turn.as_deref()?;
        match self.messages.as_slice() {
            [.., user, bot] if !self.generating && user.author == Author::User && bot.author == Author::Bot => Some((&user.text, before)),
            _ => None,
        }
    }

    /// Regenerate: the last reply gives way to a new one for the same message. Returns the
    /// new turn's id, the text and the history to send.
    pub fn regenerate(&mut self) -> Option<(u64, String, Vec<u32>)> {
        let (text, before) = self.last_turn().map(|(t, b)| (t.to_string(), b.to_vec()))?;
        self.messages.pop();
        self.history = before.clone();
        Some((self.open_reply(), text, before))
    }

    /// Edit: the last message and its reply are taken back (the history with them); returns
    /// the message's text for the Message box.
    pub fn take_back_last_turn(&mut self) -> Option<String> {
        let (text, before) = self.last_turn().map(|(t, b)| (t.to_string(), b.to_vec()))?;
        self.messages.truncate(self.messages.len() - 2);
        self.history = before;
        self.before_last_turn = None;
        self.turn += 1;
        Some(text)
    }

    fn bot_bubble(&mut self, turn: u64) -> Option<&mut ChatMessage> {
        if turn != self.turn || !self.generating {
            return None;
        }
        self.messages.last_mut().filter(|m| m.author == Author::Bot)
    }

    pub fn on_prefill(&mut self, turn: u64, done: usize, total: usize) {
        if self.bot_bubble(turn).is_some() {
            self.reading = Some((done, total));
        }
    }

    pub fn on_token(&mut self, turn: u64, text: &str) {
        if let Some(m) = self.bot_bubble(turn) {
            m.text.push_str(text);
            self.reading = None;
        }
    }

    /// Returns true when the reply belonged to the current turn.
    pub fn on_done(&mut self, d: &TurnDone) -> bool {
        let Some(m) = self.bot_bubble(d.turn) else { return false };
        m.text = d.text.clone();
        m.state = if d.stop == StopReason::Cancelled { BubbleState::Stopped } else { BubbleState::Done };
        self.history = d.history.clone();
        self.generating = false;
        self.reading = None;
        true
    }

    pub fn on_error(&mut self, turn: u64, message: &str) {
        if let Some(m) = self.bot_bubble(turn) {
            m.text = format!("(no reply: {message})");
            m.state = BubbleState::Failed;
            self.generating = false;
            self.reading = None;
        }
    }

    /// "New chat": forgets messages and history; replies still on their way are ignored.
    pub fn clear(&mut self) {
        self.replace(Conversation::default());
    }

    /// A conversation read back from storage or a file (nothing running).
    pub fn restored(messages: Vec<ChatMessage>, history: Vec<u32>, before_last_turn: Option<Vec<u32>>) -> Conversation {
        Conversation { messages, history, before_last_turn, turn: 0, generating: false, reading: None }
    }

    /// Takes `other`'s messages and history; replies still on their way are ignored.
    pub fn replace(&mut self, other: Conversation) {
        let turn = self.turn.max(other.turn) + 1;
        *self = Conversation { turn, generating: false, reading: None, ..other };
    }

    /// The reply in progress can no longer finish (the worker stopped): say so, keep the rest.
    /// The history is untouched, so the next turn continues from the last finished reply.
    pub fn abandon_running(&mut self, why: &str) {
        if let Some(turn) = self.running_turn() {
            self.on_error(turn, why);
        }
        self.turn += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::TurnStats;

    fn done(turn: u64, text: &str, history: Vec<u32>, stop: StopReason) -> TurnDone {
        TurnDone { turn, text: text.into(), history, stop, stats: TurnStats::default(), elapsed_ms: 1.0, first_token_ms: None, memory_bytes: None }
    }

    #[test]
    fn a_turn_streams_then_settles() {
        let mut c = Conversation::default();
        let t = c.start_turn("hi");
        assert_eq!(c.running_turn(), Some(t));
        c.on_token(t, " hel");
        c.on_token(t, "lo");
        assert_eq!(c.messages[1].text, " hello");
        assert!(c.on_done(&done(t, " hello!", vec![1, 2, 3], StopReason::Eos)));
        assert_eq!((c.messages[1].state, c.history.clone(), c.generating), (BubbleState::Done, vec![1, 2, 3], false));
        assert_eq!(c.messages.iter().map(|m| m.author.as_str()).collect::<Vec<_>>(), ["user", "bot"]);
    }

    #[test]
    fn stale_replies_are_ignored_after_new_chat() {
        let mut c = Conversation::default();
        let t = c.start_turn("hi");
        c.clear();
        c.on_token(t, "late");
        assert!(!c.on_done(&done(t, "late", vec![9], StopReason::Cancelled)));
        assert!(c.messages.is_empty() && c.history.is_empty());
        let t2 = c.start_turn("again");
        assert!(t2 > t);
        c.on_error(t2, "boom");
        assert_eq!(c.messages[1].state, BubbleState::Failed);
        assert!(!c.generating);
    }

    #[test]
    fn a_crashed_worker_fails_the_running_reply_but_keeps_the_history() {
        let mut c = Conversation::default();
        let t = c.start_turn("one");
        c.on_done(&done(t, " a", vec![5, 50256, 6, 50256], StopReason::Eos));
        let t2 = c.start_turn("two");
        c.on_token(t2, " partial");
        c.abandon_running("the model stopped");
        assert_eq!((c.messages[3].state, c.generating), (BubbleState::Failed, false));
        assert!(c.messages[3].text.contains("the model stopped"));
        assert_eq!(c.history, vec![5, 50256, 6, 50256]);
        c.on_token(t2, "late");
        assert!(!c.messages[3].text.contains("late"));
        assert!(c.start_turn("three") > t2);
    }

    #[test]
    fn replacing_keeps_turn_ids_increasing() {
        let mut c = Conversation::default();
        let t = c.start_turn("hi");
        c.replace(Conversation::restored(vec![], vec![1, 50256], None));
        assert_eq!((c.history.clone(), c.generating), (vec![1, 50256], false));
        assert!(!c.on_done(&done(t, "late", vec![9], StopReason::Eos)));
        assert!(c.start_turn("next") > t);
    }

    #[test]
    fn regenerate_replaces_the_last_reply_with_the_same_history() {
        let mut c = Conversation::default();
        let t = c.start_turn("one");
        c.on_done(&done(t, " a", vec![5, 50256, 6, 50256], StopReason::Eos));
        let t2 = c.start_turn("two");
        c.on_done(&done(t2, " b", vec![5, 50256, 6, 50256, 7, 50256, 8, 50256], StopReason::Eos));
        let (t3, text, history) = c.regenerate().unwrap();
        assert_eq!((text.as_str(), history.clone()), ("two", vec![5, 50256, 6, 50256]));
        assert!(t3 > t2 && c.generating);
        assert_eq!(c.messages.len(), 4);
        assert_eq!(c.messages[3].state, BubbleState::Streaming);
        assert!(c.regenerate().is_none(), "not while a reply runs");
        // A late token of the replaced reply is ignored.
        c.on_token(t2, "late");
        assert!(c.on_done(&done(t3, " c", vec![5, 50256, 6, 50256, 7, 50256, 9, 50256], StopReason::Eos)));
        assert_eq!(c.messages[3].text, " c");
        assert_eq!(c.before_last_turn.as_deref(), Some(&[5, 50256, 6, 50256][..]));
    }

    #[test]
    fn edit_takes_back_the_last_turn() {
        let mut c = Conversation::default();
        assert!(c.take_back_last_turn().is_none());
        let t = c.start_turn("one");
        c.on_done(&done(t, " a", vec![5, 50256, 6, 50256], StopReason::Eos));
        let t2 = c.start_turn("two");
        c.on_done(&done(t2, " b", vec![5, 50256, 6, 50256, 7, 50256, 8, 50256], StopReason::Eos));
        assert_eq!(c.take_back_last_turn().as_deref(), Some("two"));
        assert_eq!((c.messages.len(), c.history.clone()), (2, vec![5, 50256, 6, 50256]));
        // The turn before cannot be edited in turn: its history is not known any more.
        assert!(c.take_back_last_turn().is_none());
        let t3 = c.start_turn("two, edited");
        assert!(t3 > t2);
        assert_eq!(c.before_last_turn.as_deref(), Some(&[5, 50256, 6, 50256][..]));
    }
}
