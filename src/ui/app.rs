//! The root component: owns the page state (conversation, token history, settings, load
//! status) and the bridge to the inference worker. Its other duties have their own files:
//! loading a model (`app/loading.rs`), turns: send, stop, new chat (`app/turns.rs`), worker
//! events and crash recovery (`app/worker_events.rs`), saving and export (`app/saving.rs`),
//! a host page's `postMessage` commands (`app/host.rs`).

use super::browser;
use super::chat_tools::ChatTools;
use super::composer::Composer;
use super::conversation::Conversation;
use super::embed::AllowList;
use super::format::{context_meter, RateMeter};
use super::messages::{shown_text, MessageList};
use super::params::UrlParams;
use super::persist::{SavedChat, CHAT_KEY, DRAFT_KEY};
use super::picker::ModelPicker;
use super::settings::Settings;
use super::status::{LoadStatus, StatusPanel};
use super::stored::StoredModels;
use crate::engine::{GenerationConfig, Quantization};
use crate::worker::protocol::{CacheListing, FromWorker, LoadRequest, ModelInfo, ToWorker};
use crate::worker::ChatWorker;
use gloo_worker::WorkerBridge;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

mod host;
mod loading;
mod saving;
mod turns;
mod worker_events;

use worker_events::spawn_worker;

/// While a reply is due, a worker silent this long (and 5x longer than its slowest step so
/// far) is taken for dead: a terminated worker or a trap that raised no event.
const WATCHDOG_MS: f64 = 20_000.0;

pub enum Msg {
    Worker(FromWorker),
    Load(String, Quantization),
    Retry,
    CancelLoad,
    Draft(String),
    Send,
    Stop,
    NewChat,
    Settings(GenerationConfig),
    RefreshStored,
    DeleteStored(String),
    Copy(usize),
    Copied(usize, Result<(), String>),
    ExportJson,
    ExportMarkdown,
    Import(web_sys::File),
    Imported(Result<SavedChat, String>),
    /// A `message` event: the sender's origin and the data as JSON.
    Host(String, Option<String>),
    /// Once a second: is the worker still answering?
    Watchdog,
}

pub struct App {
    bridge: WorkerBridge<ChatWorker>,
    params: UrlParams,
    settings: GenerationConfig,
    status: LoadStatus,
    model: Option<ModelInfo>,
    last_load: Option<LoadRequest>,
    last_crash_ms: Option<f64>,
    chat: Conversation,
    draft: String,
    hint: Option<String>,
    speed: Option<String>,
    /// Text for screen readers (an aria-live region): milestones, not every token.
    announce: String,
    /// A non-fatal worker notice (e.g. the model could not be cached), shown with "Ready".
    notice: Option<String>,
    /// Problems with this browser's storage (the chat is not being saved).
    storage_warning: Option<String>,
    stored: Option<CacheListing>,
    copied: Option<usize>,
    /// When the worker last sent anything, and the longest silence seen during a turn.
    last_heard_ms: f64,
    slowest_step_ms: f64,
    /// wasm memory of the worker after the last reply (for the meter's `data-worker-memory`).
    worker_memory: Option<f64>,
    download_rate: RateMeter,
    _host_listener: Option<Closure<dyn FnMut(web_sys::MessageEvent)>>,
    _watchdog: Option<Closure<dyn FnMut()>>,
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let params = UrlParams::parse(&query);
        browser::set_root_attribute("theme", params.theme.as_str());
        browser::set_root_attribute("compact", if params.compact { "true" } else { "false" });
        let mut storage_warning = None;
        let chat = match browser::storage_get(CHAT_KEY).map(|j| SavedChat::from_json(&j)) {
            Some(Ok(saved)) => saved.into_conversation(),
            Some(Err(e)) => {
                // Keep the unreadable copy aside rather than overwrite it with the next save.
                if let Some(raw) = browser::storage_get(CHAT_KEY) {
                    let _ = browser::storage_set(&format!("{CHAT_KEY}.unreadable"), &raw);
                }
                storage_warning = Some(format!("The saved conversation could not be read ({e}); a new one starts."));
                Conversation::default()
            }
            None => Conversation::default(),
        };
        let host_listener = (params.allow != AllowList::Nobody)
            .then(|| {
                let cb = ctx.link().callback(|(origin, json)| Msg::Host(origin, json));
                browser::listen_messages(move |origin, json| cb.emit((origin, json)))
            })
            .flatten();
        let bridge = spawn_worker(ctx, &params);
        bridge.send(ToWorker::ListCached);
        let watchdog = {
            let link = ctx.link().clone();
            let tick = Closure::<dyn FnMut()>::new(move || link.send_message(Msg::Watchdog));
            web_sys::window()
                .and_then(|w| w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 1000).ok())
                .map(|_| tick)
        };
        let mut app = App {
            bridge,
            settings: params.generation.clone(),
            params,
            status: LoadStatus::Idle,
            model: None,
            last_load: None,
            last_crash_ms: None,
            chat,
            draft: browser::storage_get(DRAFT_KEY).unwrap_or_default(),
            hint: None,
            speed: None,
            announce: String::new(),
            notice: None,
            storage_warning,
            stored: None,
            copied: None,
            last_heard_ms: js_sys::Date::now(),
            slowest_step_ms: 0.0,
            worker_memory: None,
            download_rate: RateMeter::default(),
            _host_listener: host_listener,
            _watchdog: watchdog,
        };
        // A model in the URL starts loading at once (the bridge queues until the worker is up).
        if let Some(model) = app.params.model.clone() {
            app.load(&model, app.params.quant);
        }
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Worker(out) => {
                let now = js_sys::Date::now();
                if self.chat.generating {
                    self.slowest_step_ms = self.slowest_step_ms.max(now - self.last_heard_ms);
                }
                self.last_heard_ms = now;
                self.on_worker(ctx, out);
            }
            Msg::Watchdog => {
                let silent = js_sys::Date::now() - self.last_heard_ms;
                if !(self.chat.generating && silent > WATCHDOG_MS.max(5.0 * self.slowest_step_ms)) {
                    return false;
                }
                let secs = silent / 1000.0;
                self.on_crash(ctx, format!("it stopped responding ({secs:.0} s without an answer)"));
            }
            Msg::Load(model, quant) => {
                loading::remember_in_url(&model, quant);
                self.load(&model, quant);
            }
            Msg::Retry => {
                if let Some(req) = self.last_load.clone() {
                    self.start_load(req);
                }
            }
            Msg::CancelLoad => {
                self.bridge.send(ToWorker::CancelLoad);
                self.announce = "Download cancelled".into();
                self.status = LoadStatus::Cancelled;
            }
            Msg::Draft(text) => {
                self.draft = text;
                self.hint = None;
                self.save_draft();
            }
            Msg::Send => self.send(),
            Msg::Stop => self.stop(),
            Msg::NewChat => self.new_chat(),
            Msg::Settings(config) => self.settings = config,
            Msg::RefreshStored => self.bridge.send(ToWorker::ListCached),
            Msg::DeleteStored(key) => self.bridge.send(ToWorker::DeleteCached { key }),
            Msg::Copy(i) => {
                let Some(text) = self.chat.messages.get(i).map(|m| shown_text(m).to_string()) else { return false };
                let link = ctx.link().clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let result = browser::copy_text(&text).await;
                    link.send_message(Msg::Copied(i, result));
                });
                return false;
            }
            Msg::Copied(i, result) => match result {
                Ok(()) => {
                    self.copied = Some(i);
                    self.announce = "Copied to the clipboard".into();
                }
                Err(e) => self.hint = Some(format!("Could not copy ({e}): select the text and copy it instead.")),
            },
            Msg::ExportJson => self.export(false),
            Msg::ExportMarkdown => self.export(true),
            Msg::Import(file) => {
                let link = ctx.link().clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let result = browser::read_file(file).await.and_then(|t| SavedChat::from_json(&t));
                    link.send_message(Msg::Imported(result));
                });
                return false;
            }
            Msg::Imported(Ok(saved)) => {
                self.stop();
                let n = saved.messages.len();
                self.chat.replace(saved.into_conversation());
                self.speed = None;
                self.copied = None;
                self.hint = None;
                self.announce = format!("Imported a conversation of {n} messages");
                self.save_chat();
            }
            Msg::Imported(Err(e)) => self.hint = Some(format!("Could not import that file: {e}")),
            Msg::Host(origin, json) => self.on_host(origin, json),
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let meter = self.model.as_ref().map(|m| context_meter(self.chat.history.len(), m.n_positions));
        // An embed that names its model needs no picker.
        let show_header = !(self.params.compact && self.params.model.is_some());
        html! {
            <main class="app" data-status={self.status.as_str()}>
                if show_header {
                    <header class="top">
                        <h1>{ "DialoGPT" }<span class="tag">{ "runs in your browser" }</span></h1>
                        <ModelPicker initial={self.params.model.clone()} quant={self.params.quant}
                            on_load={link.callback(|(m, q)| Msg::Load(m, q))} />
                    </header>
                }
                { for self.params.warnings.iter().chain(&self.storage_warning).map(|w| html! { <p class="warning">{ w.clone() }</p> }) }
                <StatusPanel status={self.status.clone()} can_retry={self.last_load.is_some()}
                    on_retry={link.callback(|_| Msg::Retry)} on_cancel={link.callback(|_| Msg::CancelLoad)} />
                <MessageList messages={self.chat.messages.clone()} greeting={self.params.greeting.clone()}
                    copied={self.copied} reading={self.chat.reading} on_copy={link.callback(Msg::Copy)} />
                <Composer draft={self.draft.clone()} ready={self.model.is_some()} generating={self.chat.generating}
                    hint={self.hint.clone()} on_input={link.callback(Msg::Draft)} on_send={link.callback(|_| Msg::Send)}
                    on_stop={link.callback(|_| Msg::Stop)} on_new_chat={link.callback(|_| Msg::NewChat)} />
                <footer class="meter" data-worker-memory={self.worker_memory.map(|m| m.to_string())}>
                    <span class="context" title="Tokens of the conversation the model sees / its window">
                        { meter.unwrap_or_default() }
                    </span>
                    <span class="speed">{ self.speed.clone().unwrap_or_default() }</span>
                </footer>
                if !self.params.compact {
                    <div class="panels">
                        <Settings config={self.settings.clone()} defaults={self.params.generation.clone()} on_change={link.callback(Msg::Settings)} />
                        <StoredModels listing={self.stored.clone()} on_refresh={link.callback(|_| Msg::RefreshStored)}
                            on_delete={link.callback(Msg::DeleteStored)} />
                        <ChatTools has_messages={!self.chat.messages.is_empty()}
                            on_export_json={link.callback(|_| Msg::ExportJson)}
                            on_export_markdown={link.callback(|_| Msg::ExportMarkdown)}
                            on_import={link.callback(Msg::Import)} />
                    </div>
                }
                <div class="sr-only" aria-live="polite">{ self.announce.clone() }</div>
            </main>
        }
    }
}
