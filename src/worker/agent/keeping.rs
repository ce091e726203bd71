//! The agent's side of keeping a downloaded model (`worker/keep.rs`): the entry is opened
//! after Ready, then one slice is written per task while no reply runs, then committed.

use super::{ChatWorker, Msg};
use crate::worker::keep::{not_kept, KeepPlan, Keeping};
use crate::worker::load_clock::now_ms;
use crate::worker::protocol::{FromWorker, KeepState, Store};
use gloo_worker::WorkerScope;

/// How often the page hears how far keeping the model has got.
const KEEP_REPORT_EVERY_MS: f64 = 250.0;

impl ChatWorker {
    /// Opens the storage entry for the model just loaded; the writing starts once it is open.
    pub(super) fn begin_keeping(&mut self, scope: &WorkerScope<Self>, generation: u64, plan: KeepPlan) {
        self.keep_ready_ms = now_ms();
        self.keep_reported_ms = self.keep_ready_ms;
        self.send(scope, FromWorker::Keeping(KeepState::Writing { done: 0, total: plan.file.total() }));
        let scope = scope.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = Keeping::begin(plan).await;
            scope.send_message(Msg::KeepBegun { generation, result });
        });
    }

    /// Keeping writes only while no reply runs: each turn's end calls this.
    pub(super) fn resume_keeping(&self) {
        if self.keeping.is_some() {
            self.keep_ticker.tick(0);
        }
    }

    fn keep_failed(&self, scope: &WorkerScope<Self>, why: &str) {
        self.send(scope, FromWorker::Notice(not_kept(why)));
        self.send(scope, FromWorker::Keeping(KeepState::NotKept));
    }

    pub(super) fn keep_slice(&mut self, scope: &WorkerScope<Self>) {
        if self.active.is_some() {
            return; // the reply goes first; its end resumes keeping
        }
        let (Some(keeping), Some(session)) = (self.keeping.as_mut(), self.session.as_ref()) else { return };
        match keeping.write_slice(session) {
            Ok(false) => {
                if now_ms() - self.keep_reported_ms >= KEEP_REPORT_EVERY_MS {
                    self.keep_reported_ms = now_ms();
                    let (done, total) = keeping.progress();
                    self.send(scope, FromWorker::Keeping(KeepState::Writing { done, total }));
                }
                self.keep_ticker.tick(0);
            }
            Ok(true) => {
                let keeping = self.keeping.take().expect("checked above");
                let (scope, generation) = (scope.clone(), self.load_generation.get());
                wasm_bindgen_futures::spawn_local(async move {
                    let result = keeping.commit().await;
                    scope.send_message(Msg::Kept { generation, result });
                });
            }
            Err(e) => {
                let keeping = self.keeping.take().expect("checked above");
                wasm_bindgen_futures::spawn_local(keeping.abort());
                self.keep_failed(scope, &e);
            }
        }
    }

    pub(super) fn on_keep_begun(&mut self, scope: &WorkerScope<Self>, generation: u64, result: Result<Keeping, String>) {
        match result {
            // Another model was loaded meanwhile: this one is not kept.
            Ok(keeping) if generation != self.load_generation.get() => wasm_bindgen_futures::spawn_local(keeping.abort()),
            Ok(keeping) => {
                self.keeping = Some(keeping);
                self.keep_ticker.tick(0);
            }
            Err(why) if generation == self.load_generation.get() => self.keep_failed(scope, &why),
            Err(_) => {}
        }
    }

    pub(super) fn on_kept(&mut self, scope: &WorkerScope<Self>, generation: u64, result: Result<Store, String>) {
        let current = generation == self.load_generation.get();
        match result {
            Ok(store) => {
                if current {
                    self.send(scope, FromWorker::Keeping(KeepState::Kept { store, ms: now_ms() - self.keep_ready_ms }));
                }
                self.send_stored_list(scope, None);
            }
            Err(why) if current => self.keep_failed(scope, &why),
            Err(_) => {}
        }
    }
}
