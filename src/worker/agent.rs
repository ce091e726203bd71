//! The gloo-worker `Worker`: owns the model and the chat session, runs one token per
//! event-loop turn (so replies stream and a Cancel gets in between two tokens).

use super::crash_report::{self, memory_bytes};
use super::keep::Keeping;
use super::load::{load_model, Loaded};
use super::load_clock::{now_ms, LoadClock};
use super::protocol::{FromWorker, LoadRequest, ModelInfo, ModelSource, StepTime, Store, ToWorker, TurnDone};
use super::{sizes, storage};
use super::tick::Ticker;
use crate::engine::{ChatSession, Step, Turn};
use gloo_worker::{HandlerId, Worker, WorkerScope};
use std::cell::Cell;
use std::rc::Rc;

mod keeping;

pub enum Msg {
    Loaded { generation: u64, name: String, result: Result<Loaded, String>, load_ms: f64, steps: Vec<StepTime> },
    /// Advance the turn with this id by one token.
    Step(u64),
    /// A reply is done: put its last token into the KV cache before the next message.
    Settle,
    /// The entry for the model of load `generation` is open (or could not be).
    KeepBegun { generation: u64, result: Result<Keeping, String> },
    /// Write the next slice of the model being kept.
    KeepSlice,
    /// The model of load `generation` is stored, or why not.
    Kept { generation: u64, result: Result<Store, String> },
}

/// When a turn started and when its first token came (for TTFT).
#[derive(Clone, Copy)]
struct TurnClock {
    id: u64,
    started_ms: f64,
    first_token_ms: Option<f64>,
}

struct ActiveTurn {
    clock: TurnClock,
    turn: Turn,
}

pub struct ChatWorker {
    client: Option<HandlerId>,
    session: Option<ChatSession>,
    active: Option<ActiveTurn>,
    /// Bumped by every Load; a download whose number is stale stops.
    load_generation: Rc<Cell<u64>>,
    ticker: Ticker,
    /// The history of the reply just finished, for [`Msg::Settle`].
    unsettled: Option<Vec<u32>>,
    settle_ticker: Ticker,
    /// The downloaded model being written to storage, between replies.
    keeping: Option<Keeping>,
    keep_ticker: Ticker,
    /// When the model being kept was ready, and when the page last heard of its progress.
    keep_ready_ms: f64,
    keep_reported_ms: f64,
}

impl ChatWorker {
    fn send(&self, scope: &WorkerScope<Self>, out: FromWorker) {
        if let Some(id) = self.client {
            scope.respond(id, out);
        }
    }

    fn load(&mut self, scope: &WorkerScope<Self>, req: LoadRequest) {
        // Free the old model first: two big models may not fit in wasm memory.
        if let Some(k) = self.keeping.take() {
            wasm_bindgen_futures::spawn_local(k.abort());
        }
        self.session = None;
        self.active = None;
        self.unsettled = None;
        let generation = self.load_generation.get() + 1;
        self.load_generation.set(generation);
        let (scope, current, id) = (scope.clone(), self.load_generation.clone(), self.client);
        wasm_bindgen_futures::spawn_local(async move {
            let started = now_ms();
            let clock = LoadClock::default();
            let alive = || current.get() == generation;
            let report = |p: super::protocol::Progress| {
                if let (true, Some(id)) = (alive(), id) {
                    scope.respond(id, FromWorker::Progress(p));
                }
            };
            let notice = |n: String| {
                if let (true, Some(id)) = (alive(), id) {
                    scope.respond(id, FromWorker::Notice(n));
                }
            };
            let result = load_model(&req, &report, &notice, &alive, &clock).await;
            let load_ms = now_ms() - started;
            scope.send_message(Msg::Loaded { generation, name: req.source.label(), result, load_ms, steps: clock.steps() });
        });
    }

    fn chat(&mut self, scope: &WorkerScope<Self>, turn: u64, text: String, history: Vec<u32>, config: crate::engine::GenerationConfig) {
        let Some(session) = self.session.as_mut() else {
            let message = "the model is not loaded yet".to_string();
            return self.send(scope, FromWorker::TurnError { turn, message });
        };
        // A new turn replaces one still running (the page cancels first; this is a guard).
        if let Some(old) = self.active.take() {
            session.cancel(old.turn);
        }
        match session.begin(&text, &history, &config) {
            Ok(t) => {
                self.active = Some(ActiveTurn { clock: TurnClock { id: turn, started_ms: js_sys::Date::now(), first_token_ms: None }, turn: t });
                self.ticker.tick(turn);
            }
            Err(e) => self.send(scope, FromWorker::TurnError { turn, message: e.to_string() }),
        }
    }

    fn done(&mut self, scope: &WorkerScope<Self>, clock: TurnClock, r: crate::engine::Reply) {
        // After the reply is out (a task of its own, so Done is not held back by it).
        self.unsettled = Some(r.history.clone());
        self.settle_ticker.tick(0);
        self.resume_keeping();
        let elapsed_ms = js_sys::Date::now() - clock.started_ms;
        let d = TurnDone {
            turn: clock.id,
            text: r.text,
            history: r.history,
            stop: r.stop,
            stats: r.stats,
            elapsed_ms,
            first_token_ms: clock.first_token_ms,
            memory_bytes: memory_bytes(),
        };
        self.send(scope, FromWorker::Done(d));
    }

    /// Feeds the finished reply's last token while the user reads it (one forward pass
    /// without logits), unless a new turn has already started.
    fn settle(&mut self) {
        let (Some(history), Some(session)) = (self.unsettled.take(), self.session.as_mut()) else { return };
        if self.active.is_some() {
            return;
        }
        if let Err(e) = session.settle(&history) {
            // Not fatal: the cache was dropped and the next turn reads its whole prompt.
            web_sys::console::warn_1(&format!("could not extend the cache after the reply: {e}").into());
        }
    }

    /// Answers with the stored models after `delete` (a key, or nothing) is done.
    fn send_stored_list(&self, scope: &WorkerScope<Self>, delete: Option<String>) {
        let (scope, id) = (scope.clone(), self.client);
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(key) = delete {
                storage::remove(&key).await;
            }
            let listing = storage::list().await;
            if let Some(id) = id {
                scope.respond(id, FromWorker::Stored(listing));
            }
        });
    }

    /// Answers with what `source` downloads and keeps (may ask its server).
    fn send_sizes(&self, scope: &WorkerScope<Self>, source: ModelSource) {
        let (scope, id) = (scope.clone(), self.client);
        wasm_bindgen_futures::spawn_local(async move {
            let found = sizes::sizes(&source).await;
            if let Some(id) = id {
                scope.respond(id, FromWorker::Sizes(found));
            }
        });
    }

    fn step(&mut self, scope: &WorkerScope<Self>, id: u64) {
        let (Some(session), Some(active)) = (self.session.as_mut(), self.active.as_mut()) else { return };
        if active.clock.id != id {
            return; // a tick of a turn that was cancelled or replaced
        }
        match session.step(&mut active.turn) {
            Ok(Step::Prefill { done, total }) => {
                self.send(scope, FromWorker::Prefill { turn: id, done, total });
                self.ticker.tick(id);
            }
            Ok(Step::Token { text, .. }) => {
                if active.clock.first_token_ms.is_none() {
                    active.clock.first_token_ms = Some(js_sys::Date::now() - active.clock.started_ms);
                }
                if !text.is_empty() {
                    self.send(scope, FromWorker::Token { turn: id, text });
                }
                self.ticker.tick(id);
            }
            Ok(Step::Finished(reply)) => {
                let clock = self.active.take().expect("checked above").clock;
                self.done(scope, clock, reply);
            }
            Err(e) => {
                self.active = None;
                self.send(scope, FromWorker::TurnError { turn: id, message: e.to_string() });
                self.resume_keeping();
            }
        }
    }
}

impl Worker for ChatWorker {
    type Message = Msg;
    type Input = ToWorker;
    type Output = FromWorker;

    fn create(scope: &WorkerScope<Self>) -> Self {
        crash_report::install();
        let s = scope.clone();
        let ticker = Ticker::new(move |id| s.send_message(Msg::Step(id)));
        let s = scope.clone();
        let settle_ticker = Ticker::new(move |_| s.send_message(Msg::Settle));
        let s = scope.clone();
        let keep_ticker = Ticker::new(move |_| s.send_message(Msg::KeepSlice));
        let load_generation = Rc::new(Cell::new(0));
        let (keeping, keep_ready_ms, keep_reported_ms) = (None, 0.0, 0.0);
        Self { client: None, session: None, active: None, load_generation, ticker, unsettled: None, settle_ticker, keeping, keep_ticker, keep_ready_ms, keep_reported_ms }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, msg: Msg) {
        match msg {
            Msg::Loaded { generation, name, result, load_ms, steps } => {
                if generation != self.load_generation.get() {
                    return; // replaced by a newer Load
                }
                match result {
                    Ok(Loaded { session, read_from, storage_changed, keep }) => {
                        let cfg = session.model().config();
                        let info = ModelInfo {
                            name,
                            n_positions: cfg.n_positions,
                            weight_types: session.model().weight_type_label(),
                            n_layer: cfg.n_layer,
                            n_embd: cfg.n_embd,
                            load_ms,
                            steps,
                            read_from,
                            memory_bytes: memory_bytes(),
                            threads: crate::engine::kernels::parallel::threads(),
                            keeping: keep.is_some(),
                        };
                        self.session = Some(session);
                        self.send(scope, FromWorker::Ready(info));
                        if storage_changed {
                            self.send_stored_list(scope, None);
                        }
                        if let Some(plan) = keep {
                            self.begin_keeping(scope, generation, plan);
                        }
                    }
                    Err(e) => self.send(scope, FromWorker::LoadError(e)),
                }
            }
            Msg::Step(id) => self.step(scope, id),
            Msg::Settle => self.settle(),
            Msg::KeepBegun { generation, result } => self.on_keep_begun(scope, generation, result),
            Msg::KeepSlice => self.keep_slice(scope),
            Msg::Kept { generation, result } => self.on_kept(scope, generation, result),
        }
    }

    fn received(&mut self, scope: &WorkerScope<Self>, msg: ToWorker, id: HandlerId) {
        self.client = Some(id);
        let to = scope.clone();
        crash_report::send_to(move |text| to.respond(id, FromWorker::Crashed(text)));
        match msg {
            ToWorker::Load(req) => self.load(scope, req),
            ToWorker::Chat { turn, text, history, config } => self.chat(scope, turn, text, history, config),
            ToWorker::Cancel { turn } => {
                if self.active.as_ref().map(|a| a.clock.id) == Some(turn) {
                    let active = self.active.take().expect("checked above");
                    let session = self.session.as_mut().expect("a turn implies a session");
                    let reply = session.cancel(active.turn);
                    self.done(scope, active.clock, reply);
                }
            }
            ToWorker::CancelLoad => {
                // The download sees a newer generation at its next chunk and stops; nothing
                // of it is stored (entries are written only once a model is complete).
                self.load_generation.set(self.load_generation.get() + 1);
            }
            ToWorker::ListStored => self.send_stored_list(scope, None),
            ToWorker::DeleteStored { key } => self.send_stored_list(scope, Some(key)),
            ToWorker::Sizes { source } => self.send_sizes(scope, source),
        }
    }
}
