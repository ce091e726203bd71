//! The page's side of the inference worker: which build to spawn, its events turned into
//! page state, and recovery when it crashes.

use super::super::browser;
use super::super::embed::HostEvent;
use super::super::format::{load_steps_text, load_timings_json, mb, progress_fraction, progress_text, speed_text, threads_text};
use super::super::params::{UrlParams, MAX_DEFAULT_THREADS};
use super::super::status::LoadStatus;
use super::{App, Msg};
use crate::worker::protocol::FromWorker;
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

/// A threaded worker where the page can run wasm threads and more than one is wanted
/// (`threads=N`, else the device's cores up to a cap), else a one-thread worker; of each, the
/// relaxed-SIMD build where the browser validates relaxed SIMD (about 1.5x faster on q4_K/q6_K
/// weights), unless the URL asks for `simd=baseline`. The kernels are shown as the root's `data-kernels`; the threads
/// that compute, once the worker says, as `data-threads`.
pub(super) fn spawn_worker(ctx: &Context<App>, params: &UrlParams) -> WorkerBridge<ChatWorker> {
    let threads = params.threads.unwrap_or_else(|| browser::cores().min(MAX_DEFAULT_THREADS));
    let relaxed = !params.baseline_simd && browser::relaxed_simd();
    browser::set_root_attribute("kernels", if relaxed { "simd128+relaxed" } else { "simd128" });
    let loader = match (threads > 1 && browser::wasm_threads(), relaxed) {
        (true, true) => format!("{RELAXED_THREADED_WORKER_LOADER}{threads}"),
        (true, false) => format!("{THREADED_WORKER_LOADER}{threads}"),
        (false, true) => RELAXED_WORKER_LOADER.to_string(),
        (false, false) => WORKER_LOADER.to_string(),
    };
    let cb = ctx.link().callback(Msg::Worker);
    ChatWorker::spawner()
        .callback(move |out| cb.emit(out))
        // trunk builds workers as no-modules scripts, started by a loader.
        .with_loader(true)
        .as_module(false)
        .spawn(&loader)
}

impl App {
    pub(super) fn on_crash(&mut self, ctx: &Context<Self>, error: String) {
        web_sys::console::error_1(&format!("inference worker crashed: {error}").into());
        self.chat.abandon_running("the model stopped unexpectedly; your conversation is kept");
        self.save_chat();
        self.model = None;
        // The crashed worker is unusable: start a fresh one at once.
        self.bridge = spawn_worker(ctx, &self.params);
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
                if let Some(m) = info.memory_bytes {
                    summary.push_str(&format!(" · {} MB of memory", mb(m as u64)));
                }
                if let Some(n) = self.notice.take() {
                    summary.push_str(&format!(" · {n}"));
                }
                self.announce = format!("Ready: {summary}");
                self.emit(HostEvent::Ready { model: info.name.clone() });
                self.set_status(LoadStatus::Ready { summary });
                self.model = Some(info);
                browser::focus_unless_typing("textarea[aria-label=Message]");
            }
            FromWorker::Notice(n) => match &mut self.status {
                LoadStatus::Ready { summary } => summary.push_str(&format!(" · {n}")),
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
            // Sizes of a model the picker no longer shows are dropped.
            FromWorker::Sizes(sizes) if Some(&sizes.source) == self.picked.as_ref() => self.sizes = Some(sizes),
            FromWorker::Sizes(_) => {}
        }
    }
}
