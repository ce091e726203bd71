//! Where the time of one load goes: the ready line's "read 0.6 · convert 0.3 s" and the
//! benchmarks' stage timings. Each step sums its own intervals. The clock is shared by
//! reference through a load (the download's sink and the load's own code both report to it),
//! hence the interior mutability.

use super::protocol::{LoadStep, StepTime};
use std::cell::RefCell;
use std::future::Future;
use wasm_bindgen::JsCast;

/// Milliseconds with sub-millisecond resolution: a load adds up thousands of short intervals,
/// which `Date.now()` would round away.
pub fn now_ms() -> f64 {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    scope.performance().map_or_else(js_sys::Date::now, |p| p.now())
}

#[derive(Default)]
pub struct LoadClock {
    steps: RefCell<Vec<StepTime>>,
}

impl LoadClock {
    pub fn add(&self, step: LoadStep, ms: f64) {
        let mut steps = self.steps.borrow_mut();
        match steps.iter_mut().find(|s| s.step == step) {
            Some(s) => s.ms += ms,
            None => steps.push(StepTime { step, ms }),
        }
    }

    pub fn time<T>(&self, step: LoadStep, work: impl FnOnce() -> T) -> T {
        let start = now_ms();
        let out = work();
        self.add(step, now_ms() - start);
        out
    }

    pub async fn time_async<T>(&self, step: LoadStep, work: impl Future<Output = T>) -> T {
        let start = now_ms();
        let out = work.await;
        self.add(step, now_ms() - start);
        out
    }

    /// Runs `work` and counts as `step` the part of its time no other step claimed while it
    /// ran (a download: what is left once converting, storing and hashing are counted is
    /// waiting for the network).
    pub async fn remainder<T>(&self, step: LoadStep, work: impl Future<Output = T>) -> T {
        let (start, claimed_before) = (now_ms(), self.claimed());
        let out = work.await;
        let claimed = self.claimed() - claimed_before;
        self.add(step, (now_ms() - start - claimed).max(0.0));
        out
    }

    fn claimed(&self) -> f64 {
        self.steps.borrow().iter().map(|s| s.ms).sum()
    }

    pub fn steps(&self) -> Vec<StepTime> {
        self.steps.borrow().clone()
    }
}
