//! The fallback store: the Cache API, where OPFS is missing. Each entry is one `Response`
//! whose headers carry its [`EntryMeta`]; `Cache.put` is atomic, so a failed write leaves no
//! entry. The body must be whole in memory when it is put.

use super::entry::{storage_error, EntryMeta};
use crate::js_message::js_message;
use crate::worker::fetch::BodyReader;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Headers, Request, Response, ResponseInit, WorkerGlobalScope};

/// Bump to drop every stored model (e.g. when the GGUF writer changes).
const CACHE_NAME: &str = "dialogpt-models-v1";
/// The entry's metadata as JSON, URI-encoded (header values must be ISO-8859-1).
const H_META: &str = "x-dialogpt-meta";

/// A synthetic URL for a key (`.invalid` never resolves).
fn url(key: &str) -> String {
    format!("https://dialogpt-cache.invalid/{key}")
}

/// The Cache API of this worker, or why there is none (`caches` is missing on insecure
/// origins and in some private modes).
fn storage() -> Result<web_sys::CacheStorage, String> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let has = js_sys::Reflect::get(&global, &"caches".into()).map(|c| !c.is_undefined()).unwrap_or(false);
    if !has {
        return Err("this browser offers no Cache API here".into());
    }
    global.caches().map_err(|e| format!("the Cache API is not available here ({})", js_message(&e)))
}

pub fn available() -> Result<(), String> {
    storage().map(|_| ())
}

async fn open() -> Result<Cache, String> {
    let storage = storage()?;
    let cache = JsFuture::from(storage.open(CACHE_NAME)).await.map_err(|e| storage_error(&e))?;
    Ok(cache.unchecked_into())
}

fn meta_of(r: &Response) -> Option<EntryMeta> {
    let v = r.headers().get(H_META).ok().flatten()?;
    let json = String::from(js_sys::decode_uri_component(&v).ok()?);
    serde_json::from_str(&json).ok()
}

pub async fn lookup(key: &str) -> Option<(EntryMeta, BodyReader)> {
    let cache = open().await.ok()?;
    let found = JsFuture::from(cache.match_with_str(&url(key))).await.ok()?;
    if found.is_undefined() {
        return None;
    }
    let response: Response = found.unchecked_into();
    let Some(meta) = meta_of(&response) else {
        remove(key).await; // an older layout
        return None;
    };
    Some((meta, BodyReader::new(&response).ok()?))
}

/// Stores `bytes` with `meta` (digest and size filled in by the caller).
pub async fn store(key: &str, meta: &EntryMeta, bytes: &[u8]) -> Result<(), String> {
    let cache = open().await?;
    let json = serde_json::to_string(&meta).map_err(|e| e.to_string())?;
    let headers = Headers::new().map_err(|e| js_message(&e))?;
    headers.set("content-type", "application/octet-stream").map_err(|e| js_message(&e))?;
    headers.set(H_META, &String::from(js_sys::encode_uri_component(&json))).map_err(|e| js_message(&e))?;
    let init = ResponseInit::new();
    init.set_headers(&headers);
    let body: JsValue = Uint8Array::from(bytes).into();
    let response = Response::new_with_opt_buffer_source_and_init(Some(body.unchecked_ref()), &init)
        .map_err(|e| js_message(&e))?;
    JsFuture::from(cache.put_with_str(&url(key), &response)).await.map_err(|e| storage_error(&e))?;
    Ok(())
}

pub async fn remove(key: &str) {
    if let Ok(cache) = open().await {
        let _ = JsFuture::from(cache.delete_with_str(&url(key))).await;
    }
}

/// Every entry: (key, metadata).
pub async fn list() -> Result<Vec<(String, EntryMeta)>, String> {
    let cache = open().await?;
    let keys: Array = JsFuture::from(cache.keys()).await.map_err(|e| js_message(&e))?.unchecked_into();
    let mut out = Vec::new();
    for request in keys.iter() {
        let request: Request = request.unchecked_into();
        let found = JsFuture::from(cache.match_with_request(&request)).await.map_err(|e| js_message(&e))?;
        if found.is_undefined() {
            continue;
        }
        let key = request.url().rsplit('/').next().unwrap_or_default().to_string();
        if let Some(meta) = meta_of(&found.unchecked_into()) {
            out.push((key, meta));
        }
    }
    Ok(out)
}
