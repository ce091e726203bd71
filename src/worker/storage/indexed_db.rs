//! Stored models in IndexedDB, for browsers without an Origin Private File System (WebKit
//! without `navigator.storage`). IndexedDB keeps data across visits and between workers where
//! that WebKit's Cache API keeps a worker's entries only while the worker lives.
//!
//! A body is a run of numbered chunks (`[key, n]` → ArrayBuffer) in one object store, its
//! [`EntryMeta`] a JSON record in another. The metadata is written last, in its own
//! transaction once every chunk has committed: an entry without it is an unfinished write,
//! never read, and removed on the next store.

use super::entry::{storage_error, EntryMeta};
use crate::js_message::js_message;
use js_sys::{Array, Promise, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode, WorkerGlobalScope};

const DB_NAME: &str = "dialogpt-models";
const META: &str = "meta";
const CHUNKS: &str = "chunks";
/// Bytes per stored chunk: each put copies one chunk, so this bounds the extra memory.
const CHUNK_BYTES: usize = 8 << 20;

thread_local! {
    /// The database's opening, pending or done, shared by every caller: callers that overlap
    /// (the page asks for the stored list, the sizes and a load at once) wait on one connection
    /// instead of each opening its own.
    static DB: RefCell<Option<Promise>> = const { RefCell::new(None) };
}

/// A promise for a request's result (or its error).
fn settled(req: &IdbRequest) -> Promise {
    Promise::new(&mut |resolve, reject| {
        let r = req.clone();
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::UNDEFINED, &r.result().unwrap_or(JsValue::UNDEFINED));
        });
        let r = req.clone();
        let failed = Closure::once_into_js(move || {
            let e = r.error().ok().flatten().map(JsValue::from).unwrap_or_else(|| "IndexedDB request failed".into());
            let _ = reject.call1(&JsValue::UNDEFINED, &e);
        });
        req.set_onsuccess(Some(ok.unchecked_ref()));
        req.set_onerror(Some(failed.unchecked_ref()));
    })
}

/// Waits until `tx` has committed; a full quota shows up here, as an abort.
async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        });
        let t = tx.clone();
        let failed = Closure::once_into_js(move || {
            let e = t.error().map(JsValue::from).unwrap_or_else(|| "IndexedDB transaction aborted".into());
            let _ = reject.call1(&JsValue::UNDEFINED, &e);
        });
        tx.set_oncomplete(Some(ok.unchecked_ref()));
        tx.set_onabort(Some(failed.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ()).map_err(|e| storage_error(&e))
}

async fn request(req: Result<IdbRequest, JsValue>) -> Result<JsValue, String> {
    let req = req.map_err(|e| storage_error(&e))?;
    JsFuture::from(settled(&req)).await.map_err(|e| storage_error(&e))
}

/// The database (opened once per worker), or why there is none.
async fn db() -> Result<IdbDatabase, String> {
    let (opening, opened_here) = match DB.with(|d| d.borrow().clone()) {
        Some(opening) => (opening, false),
        None => {
            let opening = settled(&open()?);
            DB.with(|d| *d.borrow_mut() = Some(opening.clone()));
            (opening, true)
        }
    };
    match JsFuture::from(opening.clone()).await {
        Ok(db) => {
            let db: IdbDatabase = db.unchecked_into();
            if opened_here {
                let_go_on_version_change(&db);
            }
            Ok(db)
        }
        Err(e) => {
            // The next use tries again (unless another opening has taken this one's place).
            DB.with(|d| {
                if d.borrow().as_ref().is_some_and(|p| JsValue::from(p) == JsValue::from(&opening)) {
                    *d.borrow_mut() = None;
                }
            });
            Err(storage_error(&e))
        }
    }
}

/// Asks to open the database, creating its stores the first time.
fn open() -> Result<IdbRequest, String> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let factory = global.indexed_db().map_err(|e| storage_error(&e))?.ok_or("this browser offers no IndexedDB here")?;
    let open = factory.open_with_u32(DB_NAME, 1).map_err(|e| storage_error(&e))?;
    let r = open.clone();
    let upgrade = Closure::once_into_js(move || {
        if let Ok(db) = r.result() {
            let db: IdbDatabase = db.unchecked_into();
            let _ = db.create_object_store(META);
            let _ = db.create_object_store(CHUNKS);
        }
    });
    open.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    Ok(open.into())
}

/// Another page deleting or upgrading the database waits for this connection to close: it is
/// let go at once (the next use opens it again).
fn let_go_on_version_change(db: &IdbDatabase) {
    let closing = db.clone();
    let on_change = Closure::once_into_js(move || {
        closing.close();
        DB.with(|d| *d.borrow_mut() = None);
    });
    db.set_onversionchange(Some(on_change.unchecked_ref()));
}

fn store(db: &IdbDatabase, name: &str, mode: IdbTransactionMode) -> Result<(IdbTransaction, IdbObjectStore), String> {
    let tx = db.transaction_with_str_and_mode(name, mode).map_err(|e| storage_error(&e))?;
    let store = tx.object_store(name).map_err(|e| storage_error(&e))?;
    Ok((tx, store))
}

fn chunk_key(key: &str, n: u32) -> JsValue {
    Array::of2(&key.into(), &n.into()).into()
}

pub async fn available() -> Result<(), String> {
    db().await.map(|_| ())
}

/// Stores `body` under `key`, then its metadata (digest and size filled in by the caller).
pub async fn store_entry(key: &str, meta: &EntryMeta, body: &[u8]) -> Result<(), String> {
    let db = db().await?;
    remove_in(&db, key).await?;
    let result = async {
        for (n, chunk) in body.chunks(CHUNK_BYTES).enumerate() {
            let (tx, chunks) = store(&db, CHUNKS, IdbTransactionMode::Readwrite)?;
            let bytes = Uint8Array::from(chunk).buffer();
            chunks.put_with_key(&bytes, &chunk_key(key, n as u32)).map_err(|e| storage_error(&e))?;
            committed(&tx).await?;
        }
        let json = serde_json::to_string(meta).map_err(|e| e.to_string())?;
        let (tx, metas) = store(&db, META, IdbTransactionMode::Readwrite)?;
        metas.put_with_key(&json.into(), &key.into()).map_err(|e| storage_error(&e))?;
        committed(&tx).await
    }
    .await;
    if result.is_err() {
        let _ = remove_in(&db, key).await;
    }
    result
}

async fn remove_in(db: &IdbDatabase, key: &str) -> Result<(), String> {
    // Metadata first: chunks without it are never read.
    let (tx, metas) = store(db, META, IdbTransactionMode::Readwrite)?;
    metas.delete(&key.into()).map_err(|e| storage_error(&e))?;
    committed(&tx).await?;
    let range = IdbKeyRange::bound(&chunk_key(key, 0), &chunk_key(key, u32::MAX)).map_err(|e| js_message(&e))?;
    let (tx, chunks) = store(db, CHUNKS, IdbTransactionMode::Readwrite)?;
    chunks.delete(&range).map_err(|e| storage_error(&e))?;
    committed(&tx).await
}

pub async fn remove(key: &str) {
    if let Ok(db) = db().await {
        let _ = remove_in(&db, key).await;
    }
}

async fn meta_of(db: &IdbDatabase, key: &str) -> Option<EntryMeta> {
    let (_tx, metas) = store(db, META, IdbTransactionMode::Readonly).ok()?;
    let json = request(metas.get(&key.into())).await.ok()?.as_string()?;
    serde_json::from_str(&json).ok()
}

/// Reads a stored body chunk by chunk.
pub struct ChunkReader {
    db: IdbDatabase,
    key: String,
    next: u32,
}

impl ChunkReader {
    /// The next chunk, or `None` after the last one.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        let (_tx, chunks) = store(&self.db, CHUNKS, IdbTransactionMode::Readonly)?;
        let value = request(chunks.get(&chunk_key(&self.key, self.next))).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        self.next += 1;
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }
}

/// The entry's metadata and a reader of its body, if it is complete.
pub async fn lookup(key: &str) -> Option<(EntryMeta, ChunkReader)> {
    let db = db().await.ok()?;
    let meta = meta_of(&db, key).await?;
    Some((meta, ChunkReader { db, key: key.into(), next: 0 }))
}

/// Every complete entry: (key, metadata).
pub async fn list() -> Result<Vec<(String, EntryMeta)>, String> {
    let db = db().await?;
    let (_tx, metas) = store(&db, META, IdbTransactionMode::Readonly)?;
    // Both requests are made before either is awaited: a transaction with nothing pending
    // commits as soon as the worker returns to its event loop.
    let (keys, values) = (metas.get_all_keys(), metas.get_all());
    let keys: Array = request(keys).await?.unchecked_into();
    let values: Array = request(values).await?.unchecked_into();
    Ok(keys
        .iter()
        .zip(values.iter())
        .filter_map(|(k, v)| Some((k.as_string()?, serde_json::from_str(&v.as_string()?).ok()?)))
        .collect())
}
