//! Converted models kept in the browser's Cache API, so a reload needs no weight download.
//!
//! One entry per source + quant. Its headers describe it: the source's identity when it was
//! downloaded (ETag or Last-Modified, and size: a changed file upstream makes the entry
//! stale), a checksum of the body (checked on every read), size and date for the list the
//! page shows. `Cache.put` is atomic, so a failed or interrupted write leaves no entry.

use super::digest::Digest;
use super::fetch::{js_message, BodyReader};
use super::protocol::{CacheListing, CachedModel};
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Headers, Request, Response, ResponseInit, WorkerGlobalScope};

/// Bump to drop every stored model (e.g. when the GGUF writer changes).
const CACHE_NAME: &str = "dialogpt-models-v1";
const H_LABEL: &str = "x-dialogpt-label";
const H_QUANT: &str = "x-dialogpt-quant";
const H_SOURCE: &str = "x-dialogpt-source";
const H_SOURCE_URL: &str = "x-dialogpt-source-url";
const H_DIGEST: &str = "x-dialogpt-digest";
const H_BYTES: &str = "x-dialogpt-bytes";
const H_STORED: &str = "x-dialogpt-stored";

/// What is known about a stored model besides its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryMeta {
    pub label: String,
    pub quant: String,
    /// The weights file's identity at download time (see `download::source_identity`).
    pub source_id: Option<String>,
    /// The URL the weights came from, to ask the server whether they changed.
    pub source_url: Option<String>,
    pub digest: String,
    pub bytes: u64,
}

/// A synthetic URL (`.invalid` never resolves): hex of the source label, then what it holds.
pub fn key(label: &str, what: &str) -> String {
    let hex: String = label.bytes().map(|b| format!("{b:02x}")).collect();
    format!("https://dialogpt-cache.invalid/{hex}/{what}")
}

async fn open() -> Result<Cache, String> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    // `caches` is missing on insecure origins and in some private modes.
    let storage = global.caches().map_err(|e| format!("browser storage is not available here ({})", js_message(&e)))?;
    let cache = JsFuture::from(storage.open(CACHE_NAME)).await.map_err(|e| {
        if error_name(&e) == "SecurityError" {
            // Typically an iframe on another site with third-party storage blocked.
            "the browser does not let this page store data here (blocked storage, e.g. in an embedded frame)".to_string()
        } else {
            js_message(&e)
        }
    })?;
    Ok(cache.unchecked_into())
}

fn error_name(e: &JsValue) -> String {
    Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default()
}

// Header values must be ISO-8859-1; labels are URLs or repo ids, but be safe.
fn encode(v: &str) -> String {
    js_sys::encode_uri_component(v).into()
}

fn header(h: &Headers, name: &str) -> Option<String> {
    let v = h.get(name).ok().flatten()?;
    js_sys::decode_uri_component(&v).ok().map(String::from)
}

fn meta_of(r: &Response) -> Option<EntryMeta> {
    let h = r.headers();
    Some(EntryMeta {
        label: header(&h, H_LABEL)?,
        quant: header(&h, H_QUANT)?,
        source_id: header(&h, H_SOURCE).filter(|s| !s.is_empty()),
        source_url: header(&h, H_SOURCE_URL).filter(|s| !s.is_empty()),
        digest: header(&h, H_DIGEST)?,
        bytes: header(&h, H_BYTES)?.parse().ok()?,
    })
}

/// The stored entry and its body, or `None` when there is none (or no Cache API at all).
/// An entry without our headers (an older layout) counts as none and is dropped.
pub async fn lookup(key: &str) -> Option<(EntryMeta, BodyReader)> {
    let cache = open().await.ok()?;
    let found = JsFuture::from(cache.match_with_str(key)).await.ok()?;
    if found.is_undefined() {
        return None;
    }
    let response: Response = found.unchecked_into();
    let Some(meta) = meta_of(&response) else {
        remove(key).await;
        return None;
    };
    Some((meta, BodyReader::new(&response).ok()?))
}

/// Stores `bytes` with `meta` (whose digest and size are computed here). The error is for a
/// notice (e.g. the quota is exceeded): the model in memory still works.
pub async fn store(key: &str, meta: EntryMeta, bytes: &[u8]) -> Result<(), String> {
    let cache = open().await?;
    let headers = Headers::new().map_err(|e| js_message(&e))?;
    let set = |k: &str, v: &str| headers.set(k, &encode(v)).map_err(|e| js_message(&e));
    set("content-type", "application/octet-stream")?;
    set(H_LABEL, &meta.label)?;
    set(H_QUANT, &meta.quant)?;
    set(H_SOURCE, meta.source_id.as_deref().unwrap_or(""))?;
    set(H_SOURCE_URL, meta.source_url.as_deref().unwrap_or(""))?;
    set(H_DIGEST, &Digest::of(bytes))?;
    set(H_BYTES, &bytes.len().to_string())?;
    set(H_STORED, &js_sys::Date::now().to_string())?;
    let init = ResponseInit::new();
    init.set_headers(&headers);
    let body: JsValue = Uint8Array::from(bytes).into();
    let response = Response::new_with_opt_buffer_source_and_init(Some(body.unchecked_ref()), &init)
        .map_err(|e| js_message(&e))?;
    JsFuture::from(cache.put_with_str(key, &response)).await.map_err(|e| {
        if error_name(&e) == "QuotaExceededError" {
            "the browser's storage for this site is full (QuotaExceededError): delete cached models \
             or free disk space"
                .to_string()
        } else {
            js_message(&e)
        }
    })?;
    Ok(())
}

/// Drops an entry (broken, stale, or deleted by the user).
pub async fn remove(key: &str) {
    if let Ok(cache) = open().await {
        let _ = JsFuture::from(cache.delete_with_str(key)).await;
    }
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
    let mut listing = CacheListing { models: Vec::new(), usage, quota, error: None };
    let result: Result<(), String> = async {
        let cache = open().await?;
        let keys: Array = JsFuture::from(cache.keys()).await.map_err(|e| js_message(&e))?.unchecked_into();
        for request in keys.iter() {
            let request: Request = request.unchecked_into();
            let found = JsFuture::from(cache.match_with_request(&request)).await.map_err(|e| js_message(&e))?;
            if found.is_undefined() {
                continue;
            }
            let response: Response = found.unchecked_into();
            let stored_ms = header(&response.headers(), H_STORED).and_then(|s| s.parse().ok()).unwrap_or(0.0);
            if let Some(meta) = meta_of(&response) {
                listing.models.push(CachedModel {
                    key: request.url(),
                    label: meta.label,
                    quant: meta.quant,
                    bytes: meta.bytes,
                    stored_ms,
                });
            }
        }
        Ok(())
    }
    .await;
    listing.error = result.err();
    listing.models.sort_by(|a, b| b.stored_ms.total_cmp(&a.stored_ms));
    listing
}
