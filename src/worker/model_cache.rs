//! The converted model kept in the browser's Cache API, so a reload needs no weight download.
//! Keyed by source label + quant only (no size/ETag): a repo whose weights change under the
//! same name keeps serving the cached copy until the site bumps `CACHE_NAME`.

use super::fetch::{js_message, BodyReader};
use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response, WorkerGlobalScope};

/// Bump to drop every stored model (e.g. when the GGUF writer changes).
const CACHE_NAME: &str = "dialogpt-models-v1";

/// A synthetic URL (`.invalid` never resolves): hex of the source label, then what it holds.
pub fn key(label: &str, what: &str) -> String {
    let hex: String = label.bytes().map(|b| format!("{b:02x}")).collect();
    format!("https://dialogpt-cache.invalid/{hex}/{what}")
}

async fn open() -> Result<Cache, String> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    // `caches` is missing on insecure origins and in some private modes.
    let storage = global.caches().map_err(|e| js_message(&e))?;
    let cache = JsFuture::from(storage.open(CACHE_NAME)).await.map_err(|e| js_message(&e))?;
    Ok(cache.unchecked_into())
}

/// The stored entry's body, or `None` when there is none (or no Cache API at all).
pub async fn lookup(key: &str) -> Option<BodyReader> {
    let cache = open().await.ok()?;
    let found = JsFuture::from(cache.match_with_str(key)).await.ok()?;
    if found.is_undefined() {
        return None;
    }
    BodyReader::new(&found.unchecked_into::<Response>()).ok()
}

/// Stores `bytes`; the error (e.g. QuotaExceededError) is for a notice, not a failure.
pub async fn store(key: &str, bytes: &[u8]) -> Result<(), String> {
    let cache = open().await?;
    let body: JsValue = Uint8Array::from(bytes).into();
    let response = Response::new_with_opt_buffer_source(Some(body.unchecked_ref())).map_err(|e| js_message(&e))?;
    JsFuture::from(cache.put_with_str(key, &response)).await.map_err(|e| js_message(&e))?;
    Ok(())
}

/// Drops a broken entry so the next load downloads again.
pub async fn remove(key: &str) {
    if let Ok(cache) = open().await {
        let _ = JsFuture::from(cache.delete_with_str(key)).await;
    }
}
