//! Keeping a downloaded model on this device once it is already answering: its GGUF file is
//! written from the running model a slice at a time, between the worker's other work (a reply
//! always goes first), so the store no longer stands between the download and the first reply.
//! The entry becomes visible only once the whole file is written: a tab closed half-way leaves
//! nothing that is ever read (and the next store under the key clears it).

use super::fetch;
use super::protocol::{StoragePolicy, Store};
use super::storage::{self, EntryMeta, Pending};
use crate::engine::model_file::ModelFile;
use crate::engine::{ChatSession, Quantization};
use std::io::Write;

/// How much of the file one slice writes: long enough that the per-slice cost vanishes, short
/// enough that a message sent meanwhile (a new question, Stop) waits only a few tens of ms.
const SLICE_BYTES: usize = 4 << 20;

/// How long the browser may take to make a written entry visible before it is given up.
/// A store that never answers (an IndexedDB transaction held by a frozen page of this site)
/// must not leave the model "being kept" forever.
const COMMIT_TIMEOUT_MS: i32 = 20_000;

/// What to keep, decided by the load.
pub struct KeepPlan {
    pub key: String,
    pub meta: EntryMeta,
    pub policy: StoragePolicy,
    /// The file, laid out from the model just built.
    pub file: ModelFile,
}

impl KeepPlan {
    /// `quant` is what the file's metadata says the weights were quantized to.
    pub fn new(key: String, meta: EntryMeta, policy: StoragePolicy, session: &ChatSession, quant: Quantization) -> Result<Self, String> {
        let file = ModelFile::new(session, &meta.label, quant).map_err(|e| e.to_string())?;
        Ok(Self { key, meta, policy, file })
    }
}

/// A model being written to storage.
pub struct Keeping {
    key: String,
    meta: EntryMeta,
    pending: Pending,
    file: ModelFile,
}

/// Remembers the first failure of the store's writer, so a full disk reads as a storage
/// problem rather than as whatever the writer makes of an i/o error.
struct Recorded<'a> {
    inner: &'a mut dyn storage::WriteSeek,
    error: Option<String>,
}

impl Write for Recorded<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            self.error.get_or_insert_with(|| e.to_string());
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            self.error.get_or_insert_with(|| e.to_string());
        })
    }
}

/// The notice for a model that is not kept.
pub fn not_kept(why: &str) -> String {
    format!("not kept on this device ({why}): it will download again next visit")
}

impl Keeping {
    /// Opens the entry (the browser may refuse: no storage, blocked, turned off by the URL).
    pub async fn begin(plan: KeepPlan) -> Result<Self, String> {
        let mut pending = storage::begin(&plan.key, plan.policy).await?;
        pending.expect_bytes(plan.file.total());
        Ok(Self { key: plan.key, meta: plan.meta, pending, file: plan.file })
    }

    /// (bytes written, bytes in all).
    pub fn progress(&self) -> (u64, u64) {
        (self.file.written(), self.file.total())
    }

    /// Writes the next slice of the file; true once all of it is written.
    pub fn write_slice(&mut self, session: &ChatSession) -> Result<bool, String> {
        let mut out = Recorded { inner: self.pending.writer(), error: None };
        let written = self.file.write_next(session, &mut out, SLICE_BYTES);
        written.map_err(|e| out.error.take().unwrap_or_else(|| e.to_string()))?;
        Ok(self.file.is_complete())
    }

    /// Makes the whole file visible as the stored entry.
    pub async fn commit(self) -> Result<Store, String> {
        use futures::future::{select, Either};
        let commit = storage::commit(&self.key, self.pending, self.meta);
        match select(std::pin::pin!(commit), std::pin::pin!(fetch::sleep(COMMIT_TIMEOUT_MS))).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(format!("the browser did not finish storing it within {} s", COMMIT_TIMEOUT_MS / 1000)),
        }
    }

    /// Drops what was written (another model was loaded, or writing failed).
    pub async fn abort(self) {
        storage::abort(self.pending).await;
    }
}
