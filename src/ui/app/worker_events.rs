//! The page's side of the inference worker: which build to spawn, its events turned into
//! page state, and recovery when it crashes.

use super::super::browser;
use super::super::embed::HostEvent;
use super::super::format::{keeping_text, load_steps_text, load_timings_json, mb, progress_fraction, progress_text, speed_text, threads_text};
use super::super::params::{UrlParams, MAX_DEFAULT_THREADS};
use super::super::status::LoadStatus;
use super::{App, Msg};
use crate::worker::protocol::{FromWorker, KeepState, ToWorker};
use crate::worker::ChatWorker;
use gloo_worker::{Spawnable, WorkerBridge};
use yew::prelude::*;

/// The worker's loader (`web/worker_loader.js`) with the build to start: the plain simd128
/// one, the one with relaxed-SIMD kernels (index.html builds both), or a threaded one of each
/// kind (`scripts/build-threads-worker.sh`), which also gets the number of threads.
const WORKER_LOADER: &str = "./worker_loader.js?build=worker";
const RELAXED_WORKER_LOADER: &str = "./worker_loader.js?build=worker_relaxed";
const THREADED_WORKER_LOADER: &str = "./worker_loader.js?build=worker_threads&threads=";
const RELAXED_THREADED_WORKER_LOADER: &str = "./worker_loader.js?build=worker_threads_relaxed&threads=";
/// A second crash this soon after the first is not retried automatically (no crash loop).
const CRASH_WINDOW_MS: f64 = 30_000.0;
/// A worker that has said nothing this long after it was started is taken for stuck at its
/// start (its wasm never arrived, or the browser never ran it: Firefox has left a threaded
/// worker so, now and then, on pages isolated by the service worker). From the network: long
/// enough for a slow connection to bring the worker's wasm (about 500 KiB compressed); from the
/// service worker's cache, a healthy worker answers within a second, even on a slow phone.
const START_TIMEOUT_MS: f64 = 30_000.0;
const START_TIMEOUT_FROM_CACHE_MS: f64 = 8_000.0;

/// The worker the page talks to and how it was started.
pub(super) struct WorkerHandle {
    pub bridge: WorkerBridge<ChatWorker>,
    /// Counts the workers of this page: 0 for the first.
    pub number: u32,
    /// A threaded build was started (the page could run wasm threads and wanted more than one).
    pub threaded: bool,
    pub started_ms: f64,
    /// How long it may take to say something before it is taken for stuck.
    pub start_timeout_ms: f64,
    pub state: WorkerState,
}

/// Whether the worker has shown that it runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum WorkerState {
    /// Started, silent so far.
    Starting,
    /// It has sent something since it started.
    Running,
    /// A one-thread worker that never started (not replaced by itself: Retry starts another).
    Stuck,
}

/// Why the page runs one thread although it could run more.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum ThreadFallback {
    NotStarted,
    Crashed,
}

impl ThreadFallback {
    /// The root's `data-thread-fallback`.
    fn as_str(self) -> &'static str {
        match self {
            ThreadFallback::NotStarted => "not-started",
            ThreadFallback::Crashed => "crashed",
        }
    }

    /// For the ready line.
    fn explain(self) -> &'static str {
        match self {
            ThreadFallback::NotStarted => "the threaded worker did not start",
            ThreadFallback::Crashed => "after the threaded worker stopped",
        }
    }
}

/// A threaded worker where the page can run wasm threads and more than one is wanted
/// (`threads=N`, else the device's cores up to a cap), else a one-thread worker; of each, the
/// relaxed-SIMD build where the browser validates relaxed SIMD (about 1.5x faster on q4_K/q6_K
/// weights), unless the URL asks for `simd=baseline`. The kernels are shown as the root's `data-kernels`; the threads
/// that compute, once the worker says, as `data-threads`. `one_thread` overrides the URL and the
/// device: after a threaded worker crashed or never started, the page goes on with one thread.
pub(super) fn spawn_worker(ctx: &Context<App>, params: &UrlParams, one_thread: bool, number: u32) -> WorkerHandle {
    let threads = if one_thread { 1 } else { params.threads.unwrap_or_else(|| browser::cores().min(MAX_DEFAULT_THREADS)) };
    let relaxed = !params.baseline_simd && browser::relaxed_simd();
    browser::set_root_attribute("kernels", if relaxed { "simd128+relaxed" } else { "simd128" });
    let threaded = threads > 1 && browser::wasm_threads();
    let loader = match (threaded, relaxed) {
        (true, true) => format!("{RELAXED_THREADED_WORKER_LOADER}{threads}"),
        (true, false) => format!("{THREADED_WORKER_LOADER}{threads}"),
        (false, true) => RELAXED_WORKER_LOADER.to_string(),
        (false, false) => WORKER_LOADER.to_string(),
    };
    // A replaced worker that wakes up late is not heard: its messages carry its number.
    let cb = ctx.link().callback(move |out| Msg::Worker(number, out));
    let bridge = ChatWorker::spawner()
        .callback(move |out| cb.emit(out))
        // trunk builds workers as no-modules scripts, started by a loader.
        .with_loader(true)
        .as_module(false)
        .spawn(&loader);
    let start_timeout_ms = if browser::served_by_service_worker() { START_TIMEOUT_FROM_CACHE_MS } else { START_TIMEOUT_MS };
    WorkerHandle { bridge, number, threaded, started_ms: js_sys::Date::now(), start_timeout_ms, state: WorkerState::Starting }
}

impl WorkerHandle {
    pub fn send(&self, message: ToWorker) {
        self.bridge.send(message);
    }
}

impl App {
    /// Starts a fresh worker in place of one that crashed or never started. A threaded worker
    /// that failed is replaced by a one-thread one for the rest of the visit: whatever went
    /// wrong (memory for the threads, a browser that cannot start them) is not worth a second
    /// try, and one thread gives the same replies.
    fn replace_worker(&mut self, ctx: &Context<Self>, why: ThreadFallback) {
        if self.worker.threaded {
            self.thread_fallback = Some(why);
            browser::set_root_attribute("thread-fallback", why.as_str());
        }
        self.respawn_worker(ctx);
    }

    /// A fresh worker in place of the current one (with one thread once a threaded one failed).
    /// The page's `Worker` (web/compute_threads.js) ends the one before with its compute threads.
    pub(super) fn respawn_worker(&mut self, ctx: &Context<Self>) {
        self.worker = spawn_worker(ctx, &self.params, self.thread_fallback.is_some(), self.worker.number + 1);
    }

    /// Called once a second: a worker silent since it started is replaced; the load it was
    /// sent starts again on the new one. A one-thread worker that does not start either gets
    /// a clear failure (Retry starts another).
    pub(super) fn check_worker_started(&mut self, ctx: &Context<Self>) -> bool {
        let silent = js_sys::Date::now() - self.worker.started_ms;
        if self.worker.state != WorkerState::Starting || silent < self.worker.start_timeout_ms {
            return false;
        }
        let secs = silent / 1000.0;
        web_sys::console::error_1(&format!("the inference worker said nothing in {secs:.0} s after it started").into());
        let loading = matches!(self.status, LoadStatus::Loading { .. });
        if self.worker.threaded {
            self.replace_worker(ctx, ThreadFallback::NotStarted);
            // What the silent worker was asked and never answered.
            self.worker.send(ToWorker::ListStored);
            if let Some(source) = self.picked.clone() {
                self.worker.send(ToWorker::Sizes { source });
            }
            if let (true, Some(req)) = (loading, self.last_load.clone()) {
                self.start_load(req);
            }
        } else {
            // Once: the next tick must not fail it again.
            self.worker.state = WorkerState::Stuck;
            if loading {
                self.fail(format!(
                    "the inference worker did not start in {secs:.0} s: its files could not be fetched, or this browser \
                     stopped it. Reload the page, or press Retry"
                ));
            }
        }
        true
    }

    pub(super) fn on_crash(&mut self, ctx: &Context<Self>, error: String) {
        web_sys::console::error_1(&format!("inference worker crashed: {error}").into());
        self.chat.abandon_running("the model stopped unexpectedly; your conversation is kept");
        self.save_chat();
        self.model = None;
        // The crashed worker is unusable: start a fresh one at once.
        self.replace_worker(ctx, ThreadFallback::Crashed);
        let now = js_sys::Date::now();
        let again = self.last_crash_ms.is_some_and(|t| now - t < CRASH_WINDOW_MS);
        self.last_crash_ms = Some(now);
        match self.last_load.clone() {
            Some(req) if !again => {
                self.start_load(req);
                self.set_status(LoadStatus::Loading { text: "The model stopped unexpectedly: restarting it".into(), fraction: None });
            }
            _ => self.fail(format!(
                "the inference worker stopped ({error}). It may have run out of memory: try q4_k or a smaller model, \
                 or press Retry"
            )),
        }
    }

    /// The ready line says while the downloaded model is being written to storage (the chat
    /// works meanwhile), then that it is kept.
    fn on_keeping(&mut self, state: KeepState) {
        browser::set_root_attribute("keep", state.as_str());
        let LoadStatus::Ready { summary, keeping } = &mut self.status else { return };
        *keeping = match state {
            KeepState::Writing { done, total } => Some(keeping_text(done, total)),
            KeepState::Kept { ms, .. } => {
                summary.push_str(&format!(" · kept on this device for the next visit ({:.1} s)", ms / 1000.0));
                None
            }
            KeepState::NotKept => None,
        };
    }

    pub(super) fn on_worker(&mut self, ctx: &Context<Self>, out: FromWorker) {
        match out {
            // A progress report or a failure already on its way when the user pressed Cancel
            // must not bring back the progress bar of a download that has stopped.
            FromWorker::Progress(_) | FromWorker::LoadError(_) if self.status == LoadStatus::Cancelled => {}
            FromWorker::Progress(p) => {
                self.download_rate.push(js_sys::Date::now(), p.done);
                let text = progress_text(&p, self.download_rate.rate());
                self.set_status(LoadStatus::Loading { text, fraction: progress_fraction(&p) });
            }
            FromWorker::Ready(info) => {
                let how = if info.read_from.is_some() { "loaded from storage" } else { "loaded" };
                let mut summary = format!("{} ({}, {} layers) {how} in {:.1} s", info.name, info.weight_types, info.n_layer, info.load_ms / 1000.0);
                if let Some(steps) = load_steps_text(&info) {
                    summary.push_str(&format!(" ({steps})"));
                }
                browser::set_root_attribute("load-timings", &load_timings_json(&info));
                browser::set_root_attribute("threads", &info.threads.to_string());
                summary.push_str(&format!(" · {}", threads_text(info.threads)));
                if let Some(why) = self.thread_fallback {
                    summary.push_str(&format!(" ({})", why.explain()));
                }
                if let Some(m) = info.memory_bytes {
                    summary.push_str(&format!(" · {} MB of memory", mb(m as u64)));
                }
                if let Some(n) = self.notice.take() {
                    summary.push_str(&format!(" · {n}"));
                }
                self.announce = format!("Ready: {summary}");
                self.emit(HostEvent::Ready { model: info.name.clone() });
                // A downloaded model is written to storage from now on, while the chat works.
                browser::set_root_attribute("keep", if info.keeping { "writing" } else { "" });
                let keeping = info.keeping.then(|| keeping_text(0, 1));
                self.set_status(LoadStatus::Ready { summary, keeping });
                self.model = Some(info);
                browser::focus_unless_typing("textarea[aria-label=Message]");
            }
            FromWorker::Notice(n) => match &mut self.status {
                LoadStatus::Ready { summary, .. } => summary.push_str(&format!(" · {n}")),
                _ => self.notice = Some(n),
            },
            FromWorker::LoadError(e) => self.fail(e),
            FromWorker::Prefill { turn, done, total } => self.chat.on_prefill(turn, done, total),
            FromWorker::Token { turn, text } => {
                if self.chat.running_turn() == Some(turn) {
                    self.emit(HostEvent::Token { turn, text: text.clone() });
                }
                self.chat.on_token(turn, &text);
            }
            FromWorker::Done(d) => {
                if self.chat.on_done(&d) {
                    self.speed = Some(speed_text(&d));
                    self.worker_memory = d.memory_bytes;
                    self.announce = format!("Bot: {}", d.text.trim());
                    self.emit(HostEvent::Reply { turn: d.turn, text: d.text.trim_start().to_string(), stop: d.stop });
                    self.save_chat();
                }
            }
            FromWorker::TurnError { turn, message } => {
                if self.chat.running_turn() == Some(turn) {
                    self.emit(HostEvent::Error { message: message.clone() });
                }
                self.chat.on_error(turn, &message);
                self.save_chat();
            }
            FromWorker::Crashed(e) => self.on_crash(ctx, e),
            FromWorker::Stored(listing) => self.stored = Some(listing),
            FromWorker::Keeping(state) => self.on_keeping(state),
            // Sizes of a model the picker no longer shows are dropped.
            FromWorker::Sizes(sizes) if Some(&sizes.source) == self.picked.as_ref() => self.sizes = Some(sizes),
            FromWorker::Sizes(_) => {}
        }
    }
}
