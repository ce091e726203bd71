//! Loading a model, start to finish: the stored copy when there is a current one, else a
//! download (converted while it arrives) that is then stored for the next visit.

use super::download::{download, Fetched};
use super::fetch;
use super::integrity;
use super::load_clock::{now_ms, LoadClock};
use super::protocol::{LoadRequest, LoadStep, ModelSource, Progress, Quantization, Stage, StoragePolicy, Store};
use super::resume::{is_not_found, SUPERSEDED};
use super::storage::{self, digest::Digest, EntryMeta, StoredBody, READ_BYTES};
use crate::engine::weights::gguf_split::pick_gguf;
use crate::engine::{ChatSession, LoadedModel, ModelLoader};
use std::io::Write;

pub struct Loaded {
    pub session: ChatSession,
    /// Where the model was read from, when it came from browser storage.
    pub read_from: Option<Store>,
    /// A model was written to (or dropped from) storage: the page's list is out of date.
    pub storage_changed: bool,
}

/// How long storing a model may take before it is used without being kept. A store that never
/// answers (an IndexedDB transaction held by a frozen page of this site) must not keep a model
/// that is ready in memory from the chat.
const STORE_TIMEOUT_MS: i32 = 20_000;

async fn within<T>(ms: i32, work: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    use futures::future::{select, Either};
    match select(std::pin::pin!(work), std::pin::pin!(fetch::sleep(ms))).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(format!("the browser did not finish storing it within {} s", ms / 1000)),
    }
}

/// How long the question "is the stored model still current?" may take. Past that (a network
/// that accepts connections but hardly answers) the stored copy is used, as when offline.
const CHECK_TIMEOUT_MS: i32 = 5_000;

/// Whether a stored entry still matches its source. Asks the server for the weight file's
/// headers only (HEAD, no body); offline or without an answer in time the entry is trusted.
async fn still_current(meta: &EntryMeta) -> bool {
    use futures::future::{select, Either};
    let (Some(url), Some(stored)) = (&meta.source_url, &meta.source_id) else { return true };
    let ask = async {
        match fetch::response(fetch::start_with(url, "HEAD", None), url).await {
            Ok(r) if r.ok() => fetch::source_identity(&r).is_none_or(|now| &now == stored),
            _ => true,
        }
    };
    let answer = match select(std::pin::pin!(ask), std::pin::pin!(fetch::sleep(CHECK_TIMEOUT_MS))).await {
        Either::Left((current, _)) => current,
        Either::Right(_) => true,
    };
    answer
}

/// Remembers the first failure of the store's writer, so a full disk reads as a storage
/// problem rather than as whatever the GGUF writer makes of an i/o error.
struct Recorded<'a> {
    inner: &'a mut dyn storage::WriteSeek,
    error: Option<String>,
}

impl Recorded<'_> {
    fn note<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        result.inspect_err(|e| {
            self.error.get_or_insert_with(|| e.to_string());
        })
    }
}

impl Write for Recorded<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

// A buffered writer writes out what it holds before it seeks: that can fail too.
impl std::io::Seek for Recorded<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let r = self.inner.seek(to);
        self.note(r)
    }
}

/// A Hub repo without `config.json` may hold GGUF files instead (one model, or one per
/// quantization, perhaps split): the repo's listing names them. The one for `quant`, as a
/// `.gguf` source, or `None`.
async fn gguf_in_repo(hub: &str, repo: &str, quant: Quantization) -> Option<ModelSource> {
    let url = integrity::tree_url(hub, repo);
    let names = integrity::listed_files(&fetch::ok_text(fetch::start(&url), &url).await?)?;
    let name = pick_gguf(&names, quant.as_str())?;
    Some(ModelSource::Gguf { url: format!("{}/{repo}/resolve/main/{name}", hub.trim_end_matches('/')) })
}

/// The stored model if there is a current one, else downloads and converts, then stores the
/// result. `alive` turns false when a newer Load (or Cancel) replaced this one; work then
/// stops at the next chunk. `notice` gets problems that do not fail the load (storage full,
/// nothing can be kept).
pub async fn load_model(
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    notice: &dyn Fn(String),
    alive: &dyn Fn() -> bool,
    clock: &LoadClock,
) -> Result<Loaded, String> {
    match load_source(req, report, notice, alive, clock).await {
        Err(e) if is_not_found(&e, "config.json") => {
            let ModelSource::Hub { hub, repo } = &req.source else { return Err(e) };
            match gguf_in_repo(hub, repo, req.quant).await {
                Some(source) => load_source(&LoadRequest { source, ..req.clone() }, report, notice, alive, clock).await,
                None => Err(e),
            }
        }
        other => other,
    }
}

async fn load_source(
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    notice: &dyn Fn(String),
    alive: &dyn Fn() -> bool,
    clock: &LoadClock,
) -> Result<Loaded, String> {
    let gguf = matches!(req.source, ModelSource::Gguf { .. });
    let label = req.source.label();
    // A .gguf is stored as downloaded (a split one merged); a Hub model as the converted GGUF
    // at this quant.
    let quant = if gguf { "gguf".to_string() } else { req.quant.as_str().to_string() };
    let key = storage::key(&label, &quant);
    let mut storage_changed = false;
    if let Some(found) = clock.time_async(LoadStep::Open, storage::lookup(&key, req.storage)).await {
        let storage::Found { meta, body, store } = found;
        // The stored copy is read while the server is asked whether it is still current: the
        // answer almost never changes anything, so the read does not wait for it.
        let read_done = std::cell::Cell::new(0.0);
        let read = async {
            let r = read_stored(body, &meta, req, report, alive, clock).await;
            read_done.set(now_ms());
            r
        };
        let (read, current) = futures::future::join(read, still_current(&meta)).await;
        clock.add(LoadStep::Check, (now_ms() - read_done.get()).max(0.0));
        match (read, current) {
            (Err(e), _) if !alive() => return Err(e),
            (Ok(session), true) => return Ok(Loaded { session, read_from: Some(store), storage_changed }),
            (_, false) => {
                storage::remove(&key).await;
                storage_changed = true;
                notice("the model changed on the server since it was stored: downloading the new one".into());
            }
            (Err(e), true) => {
                web_sys::console::warn_1(&format!("stored model unusable, downloading again: {e}").into());
                storage::remove(&key).await;
                storage_changed = true;
                notice(format!("the stored copy was damaged ({e}) and was downloaded again"));
            }
        }
    }
    // What is stored goes to storage as it is produced (OPFS: straight to disk, never a second
    // copy in memory): a .gguf file while it downloads, a converted model as it is serialized.
    // The entry becomes visible only once the model has built.
    let mut pending = match storage::begin(&key, req.storage).await {
        Ok(p) => Some(p),
        Err(why) => {
            notice(format!("not kept on this device ({why}): it will download again next visit"));
            None
        }
    };
    // A split GGUF is stored as one file, written from the model like a converted one.
    let keep_raw = gguf && !req.source.is_split();
    let raw = pending.as_mut().filter(|_| keep_raw).map(|p| p.writer());
    let fetched = clock.remainder(LoadStep::Download, download(req, report, alive, raw, clock)).await;
    let Fetched { model, raw_written, source_id, source_url } = match fetched {
        Ok(f) => f,
        Err(e) => {
            if let Some(p) = pending {
                storage::abort(p).await;
            }
            // Offline, the one thing worth knowing is that this model was never kept here.
            if e.ends_with(fetch::UNREACHABLE) && req.storage != StoragePolicy::None {
                return Err(format!("{label} ({quant}) is not stored on this device, so it needs the network: {e}"));
            }
            return Err(e);
        }
    };
    let written = match (&mut pending, raw_written) {
        (None, _) => None,
        (Some(_), Some(result)) => Some(result),
        (Some(p), None) => {
            let mut out = Recorded { inner: p.writer(), error: None };
            let result = clock.time(LoadStep::Store, || model.write_gguf(&label, &mut out));
            Some(result.map_err(|e| out.error.take().unwrap_or_else(|| e.to_string())))
        }
    };
    let session = match clock.time(LoadStep::Build, || model.into_session()) {
        Ok(s) => s,
        Err(e) => {
            if let Some(p) = pending {
                storage::abort(p).await;
            }
            return Err(e.to_string());
        }
    };
    if let (Some(p), Some(written)) = (pending, written) {
        let meta = EntryMeta { label, quant, source_id, source_url: Some(source_url), digest: String::new(), bytes: 0, stored_ms: 0.0 };
        let stored = match written {
            Ok(()) => clock.time_async(LoadStep::Store, within(STORE_TIMEOUT_MS, storage::commit(&key, p, meta))).await,
            Err(e) => {
                storage::abort(p).await;
                Err(e)
            }
        };
        match stored {
            Ok(_) => storage_changed = true,
            Err(e) => notice(format!("not kept on this device ({e}): it will download again next visit")),
        }
    }
    Ok(Loaded { session, read_from: None, storage_changed })
}

/// How long reading a stored model runs before it lets other work of the worker in.
const YIELD_EVERY_MS: f64 = 100.0;

/// Streams a stored GGUF into the loader, checking size and checksum before it is used.
async fn read_stored(
    mut body: StoredBody,
    meta: &EntryMeta,
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    alive: &dyn Fn() -> bool,
    clock: &LoadClock,
) -> Result<ChatSession, String> {
    let mut progress =
        Progress { stage: Stage::FromStorage, file: String::new(), file_done: 0, file_total: Some(meta.bytes), done: 0, total: Some(meta.bytes) };
    report(progress.clone());
    let mut loader = ModelLoader::new(None, req.quant);
    let mut digest = Digest::default();
    let mut last_yield = now_ms();
    loop {
        if !alive() {
            body.cancel();
            return Err(SUPERSEDED.into());
        }
        let n = match &mut body {
            // A file read straight into the tensors' buffers.
            StoredBody::File(file) => {
                let room = clock.time(LoadStep::Convert, || loader.space(READ_BYTES)).map_err(|e| e.to_string())?;
                let n = clock.time(LoadStep::Read, || file.read_into(room))?;
                clock.time(LoadStep::Verify, || digest.update(&room[..n]));
                clock.time(LoadStep::Convert, || loader.filled(n)).map_err(|e| e.to_string())?;
                n
            }
            chunks => {
                let Some(chunk) = clock.time_async(LoadStep::Read, chunks.next()).await? else { break };
                clock.time(LoadStep::Verify, || digest.update(&chunk));
                clock.time(LoadStep::Convert, || loader.push(&chunk)).map_err(|e| e.to_string())?;
                chunk.len()
            }
        };
        if n == 0 {
            break;
        }
        progress.done += n as u64;
        // A synchronous read never waits: give the page's messages (Cancel) a turn now and then.
        if now_ms() - last_yield >= YIELD_EVERY_MS {
            report(progress.clone());
            clock.time_async(LoadStep::Read, fetch::sleep(0)).await;
            last_yield = now_ms();
        }
    }
    report(progress.clone());
    if progress.done != meta.bytes || digest.finish() != meta.digest {
        return Err(format!("checksum mismatch ({} of {} bytes read)", progress.done, meta.bytes));
    }
    clock.time(LoadStep::Build, || loader.finish().and_then(LoadedModel::into_session)).map_err(|e| e.to_string())
}
