//! Keeping the conversation: localStorage after every change (so a reload loses nothing)
//! and the Export buttons (JSON to import later, Markdown to read).

use super::super::browser;
use super::super::persist::{SavedChat, CHAT_KEY, DRAFT_KEY};
use super::App;

fn today() -> String {
    String::from(js_sys::Date::new_0().to_iso_string()).chars().take(10).collect()
}

impl App {
    pub(super) fn save_chat(&mut self) {
        let json = SavedChat::of(&self.chat, self.model_label()).to_json();
        if let Err(e) = browser::storage_set(CHAT_KEY, &json) {
            self.storage_warning = Some(format!("This conversation is not being saved in the browser ({e}); export it to keep it."));
        }
    }

    pub(super) fn save_draft(&mut self) {
        let _ = browser::storage_set(DRAFT_KEY, &self.draft);
    }

    pub(super) fn export(&mut self, markdown: bool) {
        let saved = SavedChat::of(&self.chat, self.model_label());
        let result = if markdown {
            browser::download_text(&format!("dialogpt-chat-{}.md", today()), "text/markdown", &saved.to_markdown())
        } else {
            browser::download_text(&format!("dialogpt-chat-{}.json", today()), "application/json", &saved.to_json())
        };
        if let Err(e) = result {
            self.hint = Some(format!("Export failed: {e}"));
        }
    }
}
