//! Keeping the conversation: localStorage after every change (so a reload loses nothing),
//! the Export buttons (JSON to import later, Markdown to read), Import, and Copy.

use super::super::browser;
use super::super::messages::shown_text;
use super::super::persist::{SavedChat, CHAT_KEY, DRAFT_KEY};
use super::{App, Msg};
use yew::prelude::*;

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

    /// Reads a picked file; `Msg::Imported` follows. No re-render until then.
    pub(super) fn import(&mut self, ctx: &Context<Self>, file: web_sys::File) -> bool {
        let link = ctx.link().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = browser::read_file(file).await.and_then(|t| SavedChat::from_json(&t));
            link.send_message(Msg::Imported(result));
        });
        false
    }

    pub(super) fn imported(&mut self, result: Result<SavedChat, String>) {
        match result {
            Ok(saved) => {
                self.stop();
                let n = saved.messages.len();
                self.chat.replace(saved.into_conversation());
                self.speed = None;
                self.copied = None;
                self.hint = None;
                self.announce = format!("Imported a conversation of {n} messages");
                self.save_chat();
            }
            Err(e) => self.hint = Some(format!("Could not import that file: {e}")),
        }
    }

    /// Copies message `i`; `Msg::Copied` follows.
    pub(super) fn copy(&mut self, ctx: &Context<Self>, i: usize) -> bool {
        let Some(text) = self.chat.messages.get(i).map(|m| shown_text(m).to_string()) else { return false };
        let link = ctx.link().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = browser::copy_text(&text).await;
            link.send_message(Msg::Copied(i, result));
        });
        false
    }

    pub(super) fn copied(&mut self, i: usize, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.copied = Some(i);
                self.announce = "Copied to the clipboard".into();
            }
            Err(e) => self.hint = Some(format!("Could not copy ({e}): select the text and copy it instead.")),
        }
    }
}
