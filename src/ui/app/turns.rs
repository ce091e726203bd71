//! A turn of the conversation: sending the draft (or a host page's text), stopping a reply,
//! asking for another reply, editing the last message, starting a new chat.

use super::super::browser;
use super::App;
use crate::worker::protocol::ToWorker;

impl App {
    fn can_start_turn(&self) -> Result<(), String> {
        if self.model.is_none() {
            return Err("The model is not ready yet: wait for \"Ready\" above.".into());
        }
        if self.chat.generating {
            return Err("A reply is still being written: wait for it or press Stop.".into());
        }
        Ok(())
    }

    fn start(&mut self, turn: u64, text: String, history: Vec<u32>) {
        self.last_heard_ms = js_sys::Date::now();
        let mut config = self.settings.clone();
        // Each new reply to the same message samples with another seed, so sampling gives a
        // new reply while a chat replayed from the start stays reproducible.
        config.seed = config.seed.wrapping_add(self.regenerations);
        self.worker.send(ToWorker::Chat { turn, text, history, config });
        self.save_chat();
    }

    /// Starts a turn with `text`; the error says why it cannot be sent now.
    pub(super) fn send_text(&mut self, text: &str) -> Result<(), String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Type a message first: empty messages are not sent.".into());
        }
        self.can_start_turn()?;
        let history = self.chat.history.clone();
        let turn = self.chat.start_turn(text);
        self.regenerations = 0;
        self.start(turn, text.to_string(), history);
        Ok(())
    }

    pub(super) fn send(&mut self) {
        // Enter pressed again while a reply streams: the draft waits, nothing is queued.
        if self.chat.generating && !self.draft.trim().is_empty() {
            return;
        }
        match self.send_text(&self.draft.clone()) {
            Ok(()) => {
                self.hint = None;
                self.draft.clear();
                self.save_draft();
            }
            Err(e) => self.hint = Some(e),
        }
    }

    /// A new reply to the last message, in place of the one shown.
    pub(super) fn regenerate(&mut self) -> Result<(), String> {
        self.can_start_turn()?;
        let (turn, text, history) = self.chat.regenerate().ok_or("There is no reply to write again yet.")?;
        self.regenerations += 1;
        self.announce = "Writing another reply".into();
        self.start(turn, text, history);
        Ok(())
    }

    /// Edit: the last message goes back into the Message box (its reply is dropped); sending
    /// it again makes a new turn. A draft in progress is not overwritten.
    pub(super) fn edit(&mut self) {
        if !self.draft.trim().is_empty() {
            self.hint = Some("Send or clear what you are typing first, then edit your last message.".into());
            return;
        }
        if let Err(e) = self.can_start_turn() {
            self.hint = Some(e);
            return;
        }
        if let Some(text) = self.chat.take_back_last_turn() {
            self.draft = text;
            self.save_draft();
            self.save_chat();
            self.announce = "Your last message is back in the Message box".into();
            browser::focus("textarea[aria-label=Message]");
        }
    }

    /// A host page's edit: the last message replaced by `text`, and answered.
    pub(super) fn edit_last(&mut self, text: &str) -> Result<(), String> {
        self.can_start_turn()?;
        self.chat.take_back_last_turn().ok_or("There is no message to edit yet.")?;
        self.send_text(text)
    }

    pub(super) fn stop(&mut self) {
        if let Some(turn) = self.chat.running_turn() {
            self.worker.send(ToWorker::Cancel { turn });
        }
    }

    pub(super) fn new_chat(&mut self) {
        self.stop();
        self.chat.clear();
        self.speed = None;
        self.copied = None;
        self.announce = "New chat".into();
        self.save_chat();
    }
}
