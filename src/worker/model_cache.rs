//! Converted models kept in the browser, so a reload needs no weight download: in the Origin
//! Private File System where the browser has it (written straight to disk while the GGUF is
//! produced, see `opfs.rs`), else in the Cache API (`cache_api.rs`).
//!
//! One entry per source + quant. Its metadata holds the source's identity when it was
//! downloaded (ETag or Last-Modified, and size: a changed file upstream makes the entry
//! stale), a checksum of the body (checked on every read), size and date for the list the
//! page shows. An entry becomes visible only once its model has built.

use super::cache_api;
use super::digest::Digest;
use super::fetch::BodyReader;
use super::opfs;
use super::protocol::{CacheListing, CachedModel};
use js_sys::Reflect;
use serde::{Deserialize, Serialize};
use std::io::{Seek, Write};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryMeta {
    pub label: String,
    pub quant: String,
    /// The weights file's identity at download time (see `download::source_identity`).
    pub source_id: Option<String>,
    /// The URL the weights came from, to ask the server whether they changed.
    pub source_url: Option<String>,
    /// Filled in by the store.
    pub digest: String,
    pub bytes: u64,
    pub stored_ms: f64,
}

/// A storage failure as the user should read it: a full quota and blocked storage (e.g. an
/// iframe on another site) are named; anything else keeps the browser's message.
pub fn storage_error(e: &wasm_bindgen::JsValue) -> String {
    let name = Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    match name.as_str() {
        "QuotaExceededError" => {
            "the browser's storage for this site is full (QuotaExceededError): delete stored models or free disk space".into()
        }
        "SecurityError" => {
            "the browser does not let this page store data here (blocked storage, e.g. in an embedded frame)".into()
        }
        _ => super::fetch::js_message(e),
    }
}

/// A file-name-safe key for a source and what is stored of it.
pub fn key(label: &str, what: &str) -> String {
    let safe: String = what.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    format!("m-{}-{safe}", Digest::of(label.as_bytes()))
}

/// The stored entry and its body, or `None`.
pub async fn lookup(key: &str) -> Option<(EntryMeta, BodyReader)> {
    match opfs::lookup(key).await {
        Some(found) => Some(found),
        None => cache_api::lookup(key).await,
    }
}

/// Where a body goes while it is produced.
pub enum Pending {
    Opfs(opfs::Pending),
    /// No OPFS: collected in memory for the Cache API.
    Memory(std::io::Cursor<Vec<u8>>),
}

impl Pending {
    pub fn writer(&mut self) -> &mut dyn WriteSeek {
        match self {
            Pending::Opfs(p) => &mut p.writer,
            Pending::Memory(c) => c,
        }
    }
}

pub trait WriteSeek: Write + Seek {}
impl<T: Write + Seek> WriteSeek for T {}

/// Starts an entry under `key` (replacing an older one).
pub async fn begin(key: &str) -> Pending {
    match opfs::begin(key).await {
        Ok(p) => Pending::Opfs(p),
        Err(e) => {
            web_sys::console::info_1(&format!("OPFS unavailable ({e}); using the Cache API").into());
            Pending::Memory(std::io::Cursor::new(Vec::new()))
        }
    }
}

/// Makes the entry visible once its model has built. The error is for a notice (e.g. the
/// quota is exceeded): the model in memory still works.
pub async fn commit(key: &str, pending: Pending, mut meta: EntryMeta) -> Result<(), String> {
    meta.stored_ms = js_sys::Date::now();
    match pending {
        Pending::Opfs(p) => opfs::commit(p, meta).await,
        Pending::Memory(c) => cache_api::store(key, meta, &c.into_inner()).await,
    }
}

/// Drops an entry that will not be committed.
pub async fn abort(pending: Pending) {
    if let Pending::Opfs(p) = pending {
        opfs::abort(p).await;
    }
}

/// Drops an entry (broken, stale, or deleted by the user) from both stores.
pub async fn remove(key: &str) {
    opfs::remove(key).await;
    cache_api::remove(key).await;
}

/// `navigator.storage.estimate()`: (usage, quota) in bytes, when the browser tells.
async fn estimate() -> (Option<f64>, Option<f64>) {
    let global = js_sys::global();
    let storage = Reflect::get(&global, &"navigator".into()).and_then(|n| Reflect::get(&n, &"storage".into()));
    let Ok(storage) = storage else { return (None, None) };
    let Ok(f) = Reflect::get(&storage, &"estimate".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) else {
        return (None, None);
    };
    let Ok(p) = f.call0(&storage).and_then(|p| p.dyn_into::<js_sys::Promise>()) else { return (None, None) };
    let Ok(e) = JsFuture::from(p).await else { return (None, None) };
    let num = |k: &str| Reflect::get(&e, &k.into()).ok().and_then(|v| v.as_f64());
    (num("usage"), num("quota"))
}

/// Every stored model, newest first.
pub async fn list() -> CacheListing {
    let (usage, quota) = estimate().await;
    let (opfs, cache) = (opfs::list().await, cache_api::list().await);
    let error = match (&opfs, &cache) {
        (Err(a), Err(b)) => Some(format!("{a}; {b}")),
        _ => None,
    };
    let mut models: Vec<CachedModel> = opfs
        .unwrap_or_default()
        .into_iter()
        .chain(cache.unwrap_or_default())
        .map(|(key, m)| CachedModel { key, label: m.label, quant: m.quant, bytes: m.bytes, stored_ms: m.stored_ms })
        .collect();
    models.sort_by(|a, b| b.stored_ms.total_cmp(&a.stored_ms));
    CacheListing { models, usage, quota, error }
}
