//! The stored models as the worker sees them: one entry per source + quant, in whichever store
//! the policy allows. An entry's metadata holds the source's identity when it was downloaded
//! (a changed file upstream makes the entry stale), a checksum of the body (checked on every
//! read), size and date for the list the page shows. An entry becomes visible only once its
//! model has built.

pub use super::body::StoredBody;
use super::entry::EntryMeta;
use super::{cache_api, indexed_db, opfs};
use crate::worker::protocol::{StoragePolicy, Store, StoredListing, StoredModel};
use js_sys::Reflect;
use std::io::{Seek, Write};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// A stored entry found for a key.
pub struct Found {
    pub meta: EntryMeta,
    pub body: StoredBody,
    pub store: Store,
}

fn allows(policy: StoragePolicy, store: Store) -> bool {
    match policy {
        StoragePolicy::Auto => true,
        StoragePolicy::Opfs => store == Store::Opfs,
        StoragePolicy::IndexedDb => store == Store::IndexedDb,
        StoragePolicy::CacheApi => store == Store::CacheApi,
        StoragePolicy::None => false,
    }
}

/// The stored entry and its body, or `None`.
pub async fn lookup(key: &str, policy: StoragePolicy) -> Option<Found> {
    let found = |(meta, body), store| Some(Found { meta, body, store });
    if allows(policy, Store::Opfs) {
        if let Some((meta, body)) = opfs::lookup(key).await {
            return found((meta, body), Store::Opfs);
        }
    }
    if allows(policy, Store::IndexedDb) {
        if let Some((meta, body)) = indexed_db::lookup(key).await {
            return found((meta, StoredBody::Chunks(body)), Store::IndexedDb);
        }
    }
    if allows(policy, Store::CacheApi) {
        if let Some((meta, body)) = cache_api::lookup(key).await {
            return found((meta, StoredBody::Stream(body)), Store::CacheApi);
        }
    }
    None
}

/// Where a body goes while it is produced.
pub enum Pending {
    Opfs(opfs::Pending),
    /// Collected in memory for a store that takes a body whole.
    Memory { to: Store, body: std::io::Cursor<Vec<u8>> },
}

impl Pending {
    pub fn writer(&mut self) -> &mut dyn WriteSeek {
        match self {
            Pending::Opfs(p) => &mut p.writer,
            Pending::Memory { body, .. } => body,
        }
    }

    /// The body will be `bytes` long: one allocation for a body held in memory, instead of
    /// doubling (and copying) its way up to a model's size.
    pub fn expect_bytes(&mut self, bytes: u64) {
        if let Pending::Memory { body, .. } = self {
            // Where that much cannot be had at once, the writes find out for themselves.
            let _ = body.get_mut().try_reserve_exact(bytes as usize);
        }
    }
}

fn in_memory(to: Store) -> Pending {
    Pending::Memory { to, body: Default::default() }
}

pub trait WriteSeek: Write + Seek {}
impl<T: Write + Seek> WriteSeek for T {}

/// Starts an entry under `key` (replacing an older one), or says why nothing can be kept.
pub async fn begin(key: &str, policy: StoragePolicy) -> Result<Pending, String> {
    match policy {
        StoragePolicy::None => Err("storage is turned off for this page (storage=none)".into()),
        StoragePolicy::Opfs => opfs::begin(key).await.map(Pending::Opfs),
        StoragePolicy::IndexedDb => indexed_db::available().await.map(|_| in_memory(Store::IndexedDb)),
        StoragePolicy::CacheApi => cache_api::available().map(|_| in_memory(Store::CacheApi)),
        StoragePolicy::Auto => {
            let opfs_why = match opfs::begin(key).await {
                Ok(p) => return Ok(Pending::Opfs(p)),
                Err(why) => why,
            };
            let idb_why = match indexed_db::available().await {
                Ok(()) => return Ok(in_memory(Store::IndexedDb)),
                Err(why) => why,
            };
            cache_api::available().map(|_| in_memory(Store::CacheApi)).map_err(|cache_why| format!("{opfs_why}; {idb_why}; {cache_why}"))
        }
    }
}

/// Makes the entry visible once its model has built. The error is for a notice (e.g. the
/// quota is exceeded): the model in memory still works.
pub async fn commit(key: &str, pending: Pending, mut meta: EntryMeta) -> Result<Store, String> {
    meta.stored_ms = js_sys::Date::now();
    match pending {
        Pending::Opfs(p) => opfs::commit(p, meta).await.map(|_| Store::Opfs),
        Pending::Memory { to, body } => {
            let body = body.into_inner();
            meta.digest = super::digest::Digest::of(&body);
            meta.bytes = body.len() as u64;
            match to {
                Store::IndexedDb => indexed_db::store_entry(key, &meta, &body).await,
                _ => cache_api::store(key, &meta, &body).await,
            }
            .map(|_| to)
        }
    }
}

/// Drops an entry that will not be committed.
pub async fn abort(pending: Pending) {
    if let Pending::Opfs(p) = pending {
        opfs::abort(p).await;
    }
}

/// Drops an entry (broken, stale, or deleted by the user) from every store.
pub async fn remove(key: &str) {
    opfs::remove(key).await;
    indexed_db::remove(key).await;
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

/// Every stored model in either store, newest first.
pub async fn list() -> StoredListing {
    let (usage, quota) = estimate().await;
    let stores = [(Store::Opfs, opfs::list().await), (Store::IndexedDb, indexed_db::list().await), (Store::CacheApi, cache_api::list().await)];
    // Only when no store at all can be read is that worth telling.
    let error = stores.iter().all(|(_, r)| r.is_err()).then(|| {
        stores.iter().filter_map(|(_, r)| r.as_ref().err().cloned()).collect::<Vec<_>>().join("; ")
    });
    let mut models: Vec<StoredModel> = stores
        .into_iter()
        .flat_map(|(store, r)| r.unwrap_or_default().into_iter().map(move |(key, m)| (key, m, store)))
        .map(|(key, m, store)| StoredModel { key, label: m.label, quant: m.quant, bytes: m.bytes, stored_ms: m.stored_ms, store })
        .collect();
    models.sort_by(|a, b| b.stored_ms.total_cmp(&a.stored_ms));
    StoredListing { models, usage, quota, error }
}
