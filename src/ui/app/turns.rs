//! A turn of the conversation: sending the draft (or a host page's text), stopping a reply,
//! starting a new chat.

use super::App;
use crate::worker::protocol::ToWorker;

impl App {
    /// Starts a turn with `text`; the error says why it cannot be sent now.
    pub(super) fn send_text(&mut self, text: &str) -> Result<(), String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Type a message first: empty messages are not sent.".into());
        }
        if self.model.is_none() {
            return Err("The model is not ready yet: wait for \"Ready\" above.".into());
        }
        if self.chat.generating {
            return Err("A reply is still being written: wait for it or press Stop.".into());
        }
        let history = self.chat.history.clone();
        let turn = self.chat.start_turn(text);
        self.last_heard_ms = js_sys::Date::now();
        let config = self.settings.clone();
        self.bridge.send(ToWorker::Chat { turn, text: text.to_string(), history, config });
        self.save_chat();
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

    pub(super) fn stop(&mut self) {
        if let Some(turn) = self.chat.running_turn() {
            self.bridge.send(ToWorker::Cancel { turn });
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
