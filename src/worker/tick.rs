//! Yields to the worker's event loop between two tokens, so a Cancel sent by the page is
//! handled before the next token.
//!
//! A `MessageChannel` post is a real task with no 4 ms clamp (unlike `setTimeout`), and is
//! what Chromium and Firefox run fastest. But engines choose freely between task sources, and
//! WebKit delivers a worker's own port messages late (well over 100 ms each) while the page's
//! messages wait: there a Stop took seconds. So a tick goes through a timer at least every
//! [`TIMER_EVERY_MS`], which every engine interleaves with incoming messages, and a worker
//! whose port messages arrive slower than [`SLOW_PORT_MS`] several times in a row uses timers
//! only (one slow arrival can be a busy machine; WebKit's are all slow).
//!
//! Two timer ticks never follow each other (outside timers-only): a timer set from a timer's
//! callback counts as nested, and from the fifth level on browsers hold it back at least 4 ms:
//! 4 ms added to every token once tokens take longer than the timer interval. A timer set from
//! a port message's task is not nested and runs at once.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageChannel, MessageEvent, MessagePort, WorkerGlobalScope};

const TIMER_EVERY_MS: f64 = 16.0;
/// A port message that takes longer than this to arrive is slower than a timer.
const SLOW_PORT_MS: f64 = 8.0;
/// Slow arrivals in a row before ports are given up.
const SLOW_IN_A_ROW: u32 = 3;

fn now_ms() -> f64 {
    js_sys::Date::now()
}

struct State {
    last_timer_ms: Cell<f64>,
    /// When the port message in flight was posted.
    port_posted_ms: Cell<Option<f64>>,
    slow_in_a_row: Cell<u32>,
    timers_only: Cell<bool>,
    /// The tick in flight is a timer's.
    timer_in_flight: Cell<bool>,
}

pub struct Ticker {
    port: MessagePort,
    _channel: MessageChannel,
    _handler: Closure<dyn FnMut(MessageEvent)>,
    on_timer: Closure<dyn FnMut(JsValue)>,
    state: Rc<State>,
}

impl Ticker {
    /// `on_tick` gets the number passed to [`Ticker::tick`].
    pub fn new(on_tick: impl FnMut(u64) + 'static) -> Self {
        let on_tick = Rc::new(RefCell::new(on_tick));
        let state = Rc::new(State { last_timer_ms: Cell::new(now_ms()), port_posted_ms: Cell::new(None), slow_in_a_row: Cell::new(0), timers_only: Cell::new(false), timer_in_flight: Cell::new(false) });
        let channel = MessageChannel::new().expect("MessageChannel is available in workers");
        let (by_port, seen) = (on_tick.clone(), state.clone());
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(posted) = seen.port_posted_ms.take() {
                let slow = if now_ms() - posted > SLOW_PORT_MS { seen.slow_in_a_row.get() + 1 } else { 0 };
                seen.slow_in_a_row.set(slow);
                if slow >= SLOW_IN_A_ROW {
                    seen.timers_only.set(true);
                }
            }
            (by_port.borrow_mut())(e.data().as_f64().unwrap_or(0.0) as u64)
        });
        let on_timer = Closure::<dyn FnMut(JsValue)>::new(move |n: JsValue| (on_tick.borrow_mut())(n.as_f64().unwrap_or(0.0) as u64));
        // Setting onmessage also starts the port.
        channel.port1().set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Self { port: channel.port2(), _channel: channel, _handler: handler, on_timer, state }
    }

    pub fn tick(&self, n: u64) {
        let now = now_ms();
        let s = &self.state;
        let timer_due = !s.timer_in_flight.get() && now - s.last_timer_ms.get() >= TIMER_EVERY_MS;
        s.timer_in_flight.set(false);
        if s.timers_only.get() || timer_due {
            s.last_timer_ms.set(now);
            let global: WorkerGlobalScope = js_sys::global().unchecked_into();
            let args = js_sys::Array::of1(&JsValue::from_f64(n as f64));
            if global.set_timeout_with_callback_and_timeout_and_arguments(self.on_timer.as_ref().unchecked_ref(), 0, &args).is_ok() {
                s.timer_in_flight.set(true);
                return;
            }
        }
        s.port_posted_ms.set(Some(now));
        let _ = self.port.post_message(&JsValue::from_f64(n as f64));
    }
}
