//! Loading a model: from the picker, the page's URL, a retry or a host page's command; the
//! status line and the announcements that go with it.

use super::super::browser;
use super::super::embed::HostEvent;
use super::super::status::LoadStatus;
use super::App;
use crate::worker::protocol::{LoadRequest, ModelSource, Quantization, ToWorker};

/// Relative model URLs are resolved against the page; the worker has no page URL.
fn resolve_model(model: &str) -> String {
    let relative = model.starts_with('/') || model.starts_with("./") || model.starts_with("../")
        || (model.to_ascii_lowercase().contains(".gguf") && !model.contains("://"));
    let href = web_sys::window().and_then(|w| w.location().href().ok());
    match (relative, href) {
        (true, Some(base)) => web_sys::Url::new_with_base(model, &base).map(|u| u.href()).unwrap_or(model.into()),
        _ => model.to_string(),
    }
}

/// What the user typed or picked, as the worker will fetch it.
pub(super) fn source_of(model: &str, hub: &str) -> Result<ModelSource, String> {
    ModelSource::parse(&resolve_model(model), hub)
}

/// Keeps the chosen model in the address bar so the page can be reloaded or shared.
pub(super) fn remember_in_url(model: &str, quant: Quantization) {
    let Some(w) = web_sys::window() else { return };
    let Ok(url) = w.location().href().and_then(|h| web_sys::Url::new(&h)) else { return };
    url.search_params().set("model", model);
    url.search_params().set("quant", quant.as_str());
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
    }
}

impl App {
    pub(super) fn load(&mut self, model: &str, quant: Quantization) {
        match source_of(model, &self.params.hub) {
            Ok(source) => {
                let req = LoadRequest { source, quant, storage: self.params.storage };
                self.last_load = Some(req.clone());
                self.start_load(req);
            }
            Err(e) => {
                // Retry would repeat the model that was there before: not what was asked.
                self.last_load = None;
                self.fail(e);
            }
        }
    }

    /// Loads `req`. The conversation stays: its token history is GPT-2's vocabulary, which
    /// every DialoGPT size shares (the worker refuses ids a model does not know).
    pub(super) fn start_load(&mut self, req: LoadRequest) {
        if self.chat.generating {
            // The worker drops the old model and its turn; that reply will not finish.
            self.chat.abandon_running("stopped: another model is loading");
            self.save_chat();
        }
        self.announce = format!("Loading {}", req.source.label());
        self.set_status(LoadStatus::Loading { text: format!("Connecting to {}", req.source.label()), fraction: None });
        self.model = None;
        self.notice = None;
        self.download_rate.clear();
        browser::set_root_attribute("keep", "");
        self.worker.send(ToWorker::Load(req));
    }

    pub(super) fn fail(&mut self, message: String) {
        self.announce = format!("Could not load the model: {message}");
        self.emit(HostEvent::Error { message: message.clone() });
        self.set_status(LoadStatus::Failed(message));
    }

    /// Every change of the load status goes through here. A page whose model is loading stays
    /// out of the back/forward cache.
    pub(super) fn set_status(&mut self, status: LoadStatus) {
        if let LoadStatus::Loading { text, fraction } = &status {
            self.emit(HostEvent::Loading { text: text.clone(), fraction: *fraction });
        }
        super::super::browser::keep_out_of_page_cache(matches!(status, LoadStatus::Loading { .. }));
        self.status = status;
    }

    pub(super) fn model_label(&self) -> Option<String> {
        self.last_load.as_ref().map(|r| r.source.label())
    }

    /// The picker shows `model`: asks the worker what it downloads and keeps. Returns whether
    /// the page changed.
    pub(super) fn picked(&mut self, model: &str) -> bool {
        self.picked = source_of(model, &self.params.hub).ok();
        self.sizes = None;
        match self.picked.clone() {
            Some(source) => {
                self.worker.send(ToWorker::Sizes { source });
                true
            }
            None => false,
        }
    }
}
