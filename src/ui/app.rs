//! The root component: owns the page state (conversation, token history, load status) and the
//! bridge to the inference worker, and turns worker events into state.

use super::composer::Composer;
use super::conversation::Conversation;
use super::format::{context_meter, progress_fraction, progress_text, speed_text};
use super::messages::MessageList;
use super::params::UrlParams;
use super::picker::ModelPicker;
use super::status::{LoadStatus, StatusPanel};
use crate::engine::QuantType;
use crate::worker::protocol::{FromWorker, LoadRequest, ModelInfo, ModelSource, ToWorker};
use crate::worker::ChatWorker;
use gloo_worker::{Spawnable, WorkerBridge};
use yew::prelude::*;

/// The loader script trunk writes for the `worker` bin (`data-loader-shim`).
const WORKER_LOADER: &str = "./worker_loader.js";

pub enum Msg {
    Worker(FromWorker),
    Load(String, QuantType),
    Retry,
    Draft(String),
    Send,
    Stop,
    NewChat,
}

pub struct App {
    bridge: WorkerBridge<ChatWorker>,
    params: UrlParams,
    status: LoadStatus,
    model: Option<ModelInfo>,
    last_load: Option<LoadRequest>,
    /// The worker panicked: Retry must start a new one.
    crashed: bool,
    chat: Conversation,
    draft: String,
    hint: Option<String>,
    speed: Option<String>,
    /// Text for screen readers (an aria-live region): milestones, not every token.
    announce: String,
    /// A non-fatal worker notice (e.g. the model could not be cached), shown with "Ready".
    notice: Option<String>,
}

fn spawn_worker(ctx: &Context<App>) -> WorkerBridge<ChatWorker> {
    let cb = ctx.link().callback(Msg::Worker);
    ChatWorker::spawner()
        .callback(move |out| cb.emit(out))
        // trunk builds workers as no-modules scripts with a loader shim.
        .with_loader(true)
        .as_module(false)
        .spawn(WORKER_LOADER)
}

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

/// Keeps the chosen model in the address bar so the page can be reloaded or shared.
fn remember_in_url(model: &str, quant: QuantType) {
    let Some(w) = web_sys::window() else { return };
    let Ok(url) = w.location().href().and_then(|h| web_sys::Url::new(&h)) else { return };
    url.search_params().set("model", model);
    url.search_params().set("quant", quant.as_str());
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
    }
}

impl App {
    fn load(&mut self, model: &str, quant: QuantType) {
        match ModelSource::parse(&resolve_model(model), &self.params.hub) {
            Ok(source) => {
                let req = LoadRequest { source, quant };
                self.last_load = Some(req.clone());
                self.start_load(req);
            }
            Err(e) => {
                // Retry would repeat the model that was there before: not what was asked.
                self.last_load = None;
                self.status = LoadStatus::Failed(e);
            }
        }
    }

    fn start_load(&mut self, req: LoadRequest) {
        self.announce = format!("Loading {}", req.source.label());
        self.status = LoadStatus::Loading { text: format!("Connecting to {}", req.source.label()), fraction: None };
        self.model = None;
        self.notice = None;
        self.chat.clear();
        self.speed = None;
        self.bridge.send(ToWorker::Load(req));
    }

    fn send(&mut self) {
        let text = self.draft.trim().to_string();
        if text.is_empty() {
            self.hint = Some("Type a message first: empty messages are not sent.".into());
            return;
        }
        if self.model.is_none() {
            self.hint = Some("The model is not ready yet: wait for \"Ready\" above.".into());
            return;
        }
        if self.chat.generating {
            return;
        }
        self.hint = None;
        self.draft.clear();
        let history = self.chat.history.clone();
        let turn = self.chat.start_turn(&text);
        let config = self.params.generation.clone();
        self.bridge.send(ToWorker::Chat { turn, text, history, config });
    }

    fn on_worker(&mut self, out: FromWorker) {
        match out {
            FromWorker::Progress(p) => {
                self.status = LoadStatus::Loading { text: progress_text(&p), fraction: progress_fraction(&p) };
            }
            FromWorker::Ready(info) => {
                let how = if info.from_cache { "loaded from cache" } else { "loaded" };
                let mut summary = format!("{} ({}, {} layers) {how} in {:.1} s", info.name, info.weight_types, info.n_layer, info.load_ms / 1000.0);
                if let Some(n) = self.notice.take() {
                    summary.push_str(&format!(" · {n}"));
                }
                self.announce = format!("Ready: {summary}");
                self.status = LoadStatus::Ready { summary };
                self.model = Some(info);
            }
            FromWorker::Notice(n) => match &mut self.status {
                LoadStatus::Ready { summary } => summary.push_str(&format!(" · {n}")),
                _ => self.notice = Some(n),
            },
            FromWorker::LoadError(e) => {
                self.announce = format!("Could not load the model: {e}");
                self.status = LoadStatus::Failed(e);
            }
            FromWorker::Token { turn, text } => self.chat.on_token(turn, &text),
            FromWorker::Done(d) => {
                if self.chat.on_done(&d) {
                    self.speed = Some(speed_text(&d));
                    self.announce = format!("Bot: {}", d.text.trim());
                }
            }
            FromWorker::TurnError { turn, message } => self.chat.on_error(turn, &message),
            FromWorker::Crashed(e) => {
                self.crashed = true;
                self.model = None;
                self.chat.generating = false;
                self.status = LoadStatus::Failed(format!("the inference worker stopped: {e}"));
            }
        }
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let params = UrlParams::parse(&query);
        let mut app = App {
            bridge: spawn_worker(ctx),
            params,
            status: LoadStatus::Idle,
            model: None,
            last_load: None,
            crashed: false,
            chat: Conversation::default(),
            draft: String::new(),
            hint: None,
            speed: None,
            announce: String::new(),
            notice: None,
        };
        // A model in the URL starts loading at once (the bridge queues until the worker is up).
        if let Some(model) = app.params.model.clone() {
            app.load(&model, app.params.quant);
        }
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Worker(out) => self.on_worker(out),
            Msg::Load(model, quant) => {
                remember_in_url(&model, quant);
                self.load(&model, quant);
            }
            Msg::Retry => {
                if std::mem::take(&mut self.crashed) {
                    self.bridge = spawn_worker(ctx);
                }
                if let Some(req) = self.last_load.clone() {
                    self.start_load(req);
                }
            }
            Msg::Draft(text) => {
                self.draft = text;
                self.hint = None;
            }
            Msg::Send => self.send(),
            Msg::Stop => {
                if let Some(turn) = self.chat.running_turn() {
                    self.bridge.send(ToWorker::Cancel { turn });
                }
            }
            Msg::NewChat => {
                if let Some(turn) = self.chat.running_turn() {
                    self.bridge.send(ToWorker::Cancel { turn });
                }
                self.chat.clear();
                self.speed = None;
                self.announce = "New chat".into();
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let meter = self.model.as_ref().map(|m| context_meter(self.chat.history.len(), m.n_positions));
        html! {
            <div class="app" data-status={self.status.as_str()}>
                <header class="top">
                    <h1>{ "DialoGPT" }<span class="tag">{ "runs in your browser" }</span></h1>
                    <ModelPicker initial={self.params.model.clone()} quant={self.params.quant}
                        on_load={link.callback(|(m, q)| Msg::Load(m, q))} />
                </header>
                { for self.params.warnings.iter().map(|w| html! { <p class="warning">{ w.clone() }</p> }) }
                <StatusPanel status={self.status.clone()} can_retry={self.last_load.is_some()} on_retry={link.callback(|_| Msg::Retry)} />
                <MessageList messages={self.chat.messages.clone()} />
                <Composer draft={self.draft.clone()} ready={self.model.is_some()} generating={self.chat.generating}
                    hint={self.hint.clone()} on_input={link.callback(Msg::Draft)} on_send={link.callback(|_| Msg::Send)}
                    on_stop={link.callback(|_| Msg::Stop)} on_new_chat={link.callback(|_| Msg::NewChat)} />
                <footer class="meter">
                    <span class="context" title="Tokens of the conversation the model sees / its window">
                        { meter.unwrap_or_default() }
                    </span>
                    <span class="speed">{ self.speed.clone().unwrap_or_default() }</span>
                </footer>
                <div class="sr-only" aria-live="polite">{ self.announce.clone() }</div>
            </div>
        }
    }
}
