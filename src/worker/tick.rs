//! Yields to the worker's event loop between two tokens. A `MessageChannel` post is a real
//! task (unlike a promise, which would run before any incoming message), so a Cancel sent by
//! the page is handled before the next token; and it has no 4 ms clamp like `setTimeout`.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageChannel, MessageEvent, MessagePort};

pub struct Ticker {
    port: MessagePort,
    _channel: MessageChannel,
    _handler: Closure<dyn FnMut(MessageEvent)>,
}

impl Ticker {
    /// `on_tick` gets the number passed to [`Ticker::tick`].
    pub fn new(mut on_tick: impl FnMut(u64) + 'static) -> Self {
        let channel = MessageChannel::new().expect("MessageChannel is available in workers");
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            on_tick(e.data().as_f64().unwrap_or(0.0) as u64)
        });
        // Setting onmessage also starts the port.
        channel.port1().set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Self { port: channel.port2(), _channel: channel, _handler: handler }
    }

    pub fn tick(&self, n: u64) {
        let _ = self.port.post_message(&JsValue::from_f64(n as f64));
    }
}
