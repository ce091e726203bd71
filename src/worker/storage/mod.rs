//! Converted models kept in the browser, so a reload needs no weight download: in the Origin
//! Private File System where the browser has it (written straight to disk while the GGUF is
//! produced, `opfs.rs`), else in IndexedDB (`indexed_db.rs`), else in the Cache API
//! (`cache_api.rs`); `body.rs` reads any of them back (`opfs_reader.rs`: OPFS without a
//! stream); `models.rs` picks the store (`storage=` in the page URL can force one, or
//! none) and is what the rest of the worker calls. [`digest`] is the checksum every stored
//! body is read back against.

pub mod digest;

#[cfg(target_arch = "wasm32")]
mod body;
#[cfg(target_arch = "wasm32")]
mod cache_api;
#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod indexed_db;
#[cfg(target_arch = "wasm32")]
mod models;
#[cfg(target_arch = "wasm32")]
mod opfs;
#[cfg(target_arch = "wasm32")]
mod opfs_reader;

#[cfg(target_arch = "wasm32")]
pub use entry::{key, EntryMeta, QUOTA_FULL};
#[cfg(target_arch = "wasm32")]
pub use models::{abort, begin, commit, list, lookup, remove, Found, Pending, StoredBody, WriteSeek};
#[cfg(target_arch = "wasm32")]
pub use opfs_reader::READ_BYTES;
