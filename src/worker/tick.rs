//! Yields to the worker's event loop between two tokens, so a Cancel sent by the page is
//! handled before the next token.
//!
//! A `MessageChannel` post is a real task with no 4 ms clamp (unlike `setTimeout`), and is
//! what Chromium and Firefox run fastest. But engines choose freely between task sources:
//! WebKit delivers a worker's own port messages late and lets the page's messages wait behind
//! them (a Stop took 280 ms there in a busy loop of port ticks). So at least every
//! [`TIMER_EVERY_MS`] one tick goes through a timer instead, which every engine interleaves
//! with incoming messages: the Stop latency stays bounded in all of them.

use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageChannel, MessageEvent, MessagePort, WorkerGlobalScope};

const TIMER_EVERY_MS: f64 = 16.0;

pub struct Ticker {
    port: MessagePort,
    _channel: MessageChannel,
    _handler: Closure<dyn FnMut(MessageEvent)>,
    on_timer: Closure<dyn FnMut(JsValue)>,
    last_timer_ms: Cell<f64>,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Ticker {
    /// `on_tick` gets the number passed to [`Ticker::tick`].
    pub fn new(on_tick: impl FnMut(u64) + 'static) -> Self {
        let on_tick = Rc::new(std::cell::RefCell::new(on_tick));
        let channel = MessageChannel::new().expect("MessageChannel is available in workers");
        let by_port = on_tick.clone();
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| (by_port.borrow_mut())(e.data().as_f64().unwrap_or(0.0) as u64));
        let on_timer = Closure::<dyn FnMut(JsValue)>::new(move |n: JsValue| (on_tick.borrow_mut())(n.as_f64().unwrap_or(0.0) as u64));
        // Setting onmessage also starts the port.
        channel.port1().set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Self { port: channel.port2(), _channel: channel, _handler: handler, on_timer, last_timer_ms: Cell::new(now_ms()) }
    }

    pub fn tick(&self, n: u64) {
        let now = now_ms();
        if now - self.last_timer_ms.get() >= TIMER_EVERY_MS {
            self.last_timer_ms.set(now);
            let global: WorkerGlobalScope = js_sys::global().unchecked_into();
            let args = js_sys::Array::of1(&JsValue::from_f64(n as f64));
            if global
                .set_timeout_with_callback_and_timeout_and_arguments(self.on_timer.as_ref().unchecked_ref(), 0, &args)
                .is_ok()
            {
                return;
            }
        }
        let _ = self.port.post_message(&JsValue::from_f64(n as f64));
    }
}
