//! What both stores keep beside a model's bytes, the key it is filed under, and how their
//! failures read to the user.

use super::digest::Digest;
use js_sys::Reflect;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryMeta {
    pub label: String,
    pub quant: String,
    /// The weights file's identity at download time (ETag or Last-Modified, and size).
    pub source_id: Option<String>,
    /// The URL the weights came from, to ask the server whether they changed.
    pub source_url: Option<String>,
    /// Checksum of the body ([`Digest`]), filled in by the store.
    pub digest: String,
    pub bytes: u64,
    pub stored_ms: f64,
}

/// A file-name-safe key for a source and what is stored of it.
pub fn key(label: &str, what: &str) -> String {
    let safe: String = what.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    format!("m-{}-{safe}", Digest::of(label.as_bytes()))
}

/// A storage failure as the user should read it: a full quota and blocked storage (e.g. an
/// iframe on another site) are named; anything else keeps the browser's message.
pub fn storage_error(e: &wasm_bindgen::JsValue) -> String {
    let name = Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    match name.as_str() {
        "QuotaExceededError" => QUOTA_FULL.into(),
        "SecurityError" => "the browser does not let this page store data here (blocked storage, e.g. in an embedded frame)".into(),
        _ => crate::js_message::js_message(e),
    }
}

pub const QUOTA_FULL: &str = "the browser's storage for this site is full: delete stored models or free disk space";
