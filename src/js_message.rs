//! The text of a JS exception (`Error.message`, or the value's string form): for messages
//! to the user from both sides of the page/worker door (wasm32 only).

use js_sys::Reflect;
use wasm_bindgen::JsValue;

pub fn js_message(v: &JsValue) -> String {
    Reflect::get(v, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| v.as_string())
        .unwrap_or_else(|| format!("{v:?}"))
}
