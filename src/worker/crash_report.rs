//! A worker that panics or traps is unusable: the page must hear of it at once (and start a
//! new worker) rather than wait for a reply that will never come.

use std::cell::RefCell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

thread_local! {
    /// Where a crash is reported: set to the page's bridge once the page has spoken.
    static REPORT_TO: RefCell<Option<Box<dyn Fn(String)>>> = const { RefCell::new(None) };
}

/// The worker's wasm memory size in bytes (grows, never shrinks).
pub fn memory_bytes() -> Option<f64> {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().dyn_into().ok()?;
    // A SharedArrayBuffer in the threaded build, an ArrayBuffer otherwise.
    let buffer = memory.buffer();
    match buffer.dyn_ref::<js_sys::ArrayBuffer>() {
        Some(plain) => Some(plain.byte_length() as f64),
        None => Some(buffer.dyn_into::<js_sys::SharedArrayBuffer>().ok()?.byte_length() as f64),
    }
}

/// Crashes are reported through `report` from now on.
pub fn send_to(report: impl Fn(String) + 'static) {
    REPORT_TO.with(|r| *r.borrow_mut() = Some(Box::new(report)));
}

fn report(text: String) {
    REPORT_TO.with(|r| {
        if let Ok(r) = r.try_borrow() {
            if let Some(report) = r.as_ref() {
                report(text);
            }
        }
    });
}

/// Reports panics, and uncaught errors (a wasm trap such as an allocation failure skips the
/// panic hook).
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let text = info.to_string();
        web_sys::console::error_1(&text.clone().into());
        report(text);
    }));
    // addEventListener, not `onerror`: the global's `onerror` is called with (message, source,
    // line, column, error), not with the event.
    let handler = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(|e: wasm_bindgen::JsValue| {
        let message = js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        report(format!("{message} (uncaught error in the worker)"));
    });
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = global.add_event_listener_with_callback("error", handler.as_ref().unchecked_ref());
    // Lives as long as the worker.
    handler.forget();
}
