//! The root component: owns the page state (conversation, token history, settings, load
//! status) and the bridge to the inference worker. Its other duties have their own files:
//! loading a model (`app/loading.rs`), turns: send, stop, new chat (`app/turns.rs`), worker
//! events and crash recovery (`app/worker_events.rs`), saving, export, import and copy
//! (`app/saving.rs`), a host page's `postMessage` commands (`app/host.rs`), what it shows
//! (`app/view.rs`).

use super::browser;
use super::conversation::Conversation;
use super::device::{suggest, Suggestion};
use super::embed::AllowList;
use super::format::RateMeter;
use super::params::UrlParams;
use super::site_config::SiteConfig;
use super::persist::{SavedChat, CHAT_KEY, DRAFT_KEY};
use super::status::LoadStatus;
use crate::worker::protocol::{FromWorker, GenerationConfig, LoadRequest, ModelInfo, ModelSizes, ModelSource, Quantization, StoredListing, ToWorker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

mod host;
mod loading;
mod saving;
mod turns;
mod view;
mod worker_events;

use worker_events::{spawn_worker, ThreadFallback, WorkerHandle, WorkerState};

/// While a reply is due, a worker silent this long (and 5x longer than its slowest step so
/// far) is taken for dead: a terminated worker or a trap that raised no event.
const WATCHDOG_MS: f64 = 20_000.0;

pub enum Msg {
    /// From the worker with this number (see `WorkerHandle::number`).
    Worker(u32, FromWorker),
    Load(String, Quantization),
    Retry,
    CancelLoad,
    Draft(String),
    Send,
    Stop,
    NewChat,
    Regenerate,
    Edit,
    /// The picker shows another model: its sizes are wanted.
    Picked(String),
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
    /// Once a second: is the worker still answering? Is a new release waiting?
    Watchdog,
    /// The update banner's Reload.
    AcceptUpdate,
    /// `dialogpt-site.json`, when the site has one.
    SiteConfig(Option<Result<SiteConfig, String>>),
}

pub struct App {
    worker: WorkerHandle,
    /// Set when a threaded worker failed: the visit goes on with one thread.
    thread_fallback: Option<ThreadFallback>,
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
    stored: Option<StoredListing>,
    /// What this device is suggested to load.
    suggestion: Suggestion,
    /// The model the picker shows, and its sizes once the worker has answered.
    picked: Option<ModelSource>,
    sizes: Option<ModelSizes>,
    /// New replies asked for the last message (each samples with another seed).
    regenerations: u64,
    copied: Option<usize>,
    /// When the worker last sent anything, and the longest silence seen during a turn.
    last_heard_ms: f64,
    slowest_step_ms: f64,
    /// wasm memory of the worker after the last reply (for the meter's `data-worker-memory`).
    worker_memory: Option<f64>,
    download_rate: RateMeter,
    _host_listener: Option<Closure<dyn FnMut(web_sys::MessageEvent)>>,
    _watchdog: Option<Closure<dyn FnMut()>>,
    /// A new release of the app is installed and waits for a reload.
    update_ready: bool,
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
        let worker = spawn_worker(ctx, &params, false, 0);
        worker.send(ToWorker::ListStored);
        let watchdog = {
            let link = ctx.link().clone();
            let tick = Closure::<dyn FnMut()>::new(move || link.send_message(Msg::Watchdog));
            web_sys::window()
                .and_then(|w| w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 1000).ok())
                .map(|_| tick)
        };
        let mut app = App {
            worker,
            thread_fallback: None,
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
            suggestion: browser::device_suggestion(suggest),
            picked: None,
            sizes: None,
            regenerations: 0,
            copied: None,
            last_heard_ms: js_sys::Date::now(),
            slowest_step_ms: 0.0,
            worker_memory: None,
            download_rate: RateMeter::default(),
            _host_listener: host_listener,
            _watchdog: watchdog,
            update_ready: false,
        };
        // A model in the URL starts loading at once (the bridge queues until the worker is up).
        if let Some(model) = app.params.model.clone() {
            app.load(&model, app.params.quant.unwrap_or_default());
        } else {
            let link = ctx.link().clone();
            wasm_bindgen_futures::spawn_local(async move { link.send_message(Msg::SiteConfig(browser::site_config().await)) });
        }
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Worker(number, _) if number != self.worker.number => return false,
            Msg::Worker(_, out) => {
                let now = js_sys::Date::now();
                if self.chat.generating {
                    self.slowest_step_ms = self.slowest_step_ms.max(now - self.last_heard_ms);
                }
                self.last_heard_ms = now;
                self.worker.state = WorkerState::Running;
                self.on_worker(ctx, out);
            }
            Msg::Watchdog => {
                // web/offline.js marks the root when a new release is installed and waiting.
                if !self.update_ready && browser::root_attribute("update").as_deref() == Some("ready") {
                    self.update_ready = true;
                    return true;
                }
                if self.check_worker_started(ctx) {
                    return true;
                }
                let silent = js_sys::Date::now() - self.last_heard_ms;
                if !(self.chat.generating && silent > WATCHDOG_MS.max(5.0 * self.slowest_step_ms)) {
                    return false;
                }
                let secs = silent / 1000.0;
                self.on_crash(ctx, format!("it stopped responding ({secs:.0} s without an answer)"));
            }
            Msg::AcceptUpdate => {
                // The conversation and the draft are saved as they change: the reload keeps them.
                browser::window_event("dialogpt-update-accept");
                return false;
            }
            Msg::Load(model, quant) => {
                loading::remember_in_url(&model, quant);
                self.load(&model, quant);
            }
            Msg::Retry => {
                if self.worker.state == WorkerState::Stuck {
                    self.respawn_worker(ctx);
                }
                if let Some(req) = self.last_load.clone() {
                    self.start_load(req);
                }
            }
            Msg::CancelLoad => {
                self.worker.send(ToWorker::CancelLoad);
                self.announce = "Download cancelled".into();
                self.set_status(LoadStatus::Cancelled);
            }
            Msg::Draft(text) => {
                self.draft = text;
                self.hint = None;
                self.save_draft();
            }
            Msg::Send => self.send(),
            Msg::Stop => self.stop(),
            Msg::NewChat => self.new_chat(),
            Msg::Regenerate => {
                if let Err(e) = self.regenerate() {
                    self.hint = Some(e);
                }
            }
            Msg::Edit => self.edit(),
            Msg::Picked(model) => return self.picked(&model),
            Msg::Settings(config) => self.settings = config,
            Msg::RefreshStored => self.worker.send(ToWorker::ListStored),
            Msg::DeleteStored(key) => self.worker.send(ToWorker::DeleteStored { key }),
            Msg::Copy(i) => return self.copy(ctx, i),
            Msg::Copied(i, result) => self.copied(i, result),
            Msg::ExportJson => self.export(false),
            Msg::ExportMarkdown => self.export(true),
            Msg::Import(file) => return self.import(ctx, file),
            Msg::Imported(result) => self.imported(result),
            Msg::Host(origin, json) => self.on_host(origin, json),
            Msg::SiteConfig(found) => match found {
                // Unless something was loaded meanwhile (the picker, a host page's command).
                Some(Ok(site)) if self.last_load.is_none() && self.params.model.is_none() => {
                    self.params.quant = self.params.quant.or(site.quant);
                    self.params.model = Some(site.model.clone());
                    self.load(&site.model, self.params.quant.unwrap_or_default());
                }
                Some(Err(warning)) => self.params.warnings.push(warning),
                _ => return false,
            },
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        self.render(ctx)
    }
}
