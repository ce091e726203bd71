//! Loading a model, start to finish: the stored copy when there is a current one, else a
//! download (converted while it arrives), which the worker keeps for the next visit once the
//! model answers (`keep.rs`).

use super::download::{download, Fetched};
use super::fetch;
use super::integrity;
use super::keep::{not_kept, KeepPlan};
use super::load_clock::{now_ms, LoadClock};
use super::protocol::{LoadRequest, LoadStep, ModelSource, Progress, Quantization, Stage, StoragePolicy, Store};
use super::resume::{is_not_found, SUPERSEDED};
use super::storage::{self, digest::Digest, EntryMeta, StoredBody, READ_BYTES};
use crate::engine::weights::gguf_split::pick_gguf;
use crate::engine::{ChatSession, LoadedModel, ModelLoader};

pub struct Loaded {
    pub session: ChatSession,
    /// Where the model was read from, when it came from browser storage.
    pub read_from: Option<Store>,
    /// A model was dropped from storage: the page's list is out of date.
    pub storage_changed: bool,
    /// A downloaded model to keep on this device, once it is in use.
    pub keep: Option<KeepPlan>,
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
            (Ok(session), true) => return Ok(Loaded { session, read_from: Some(store), storage_changed, keep: None }),
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
    let fetched = clock.remainder(LoadStep::Download, download(req, report, alive, clock)).await;
    let Fetched { model, source_id, source_url } = match fetched {
        Ok(f) => f,
        // Offline, the one thing worth knowing is that this model was never kept here.
        Err(e) if e.ends_with(fetch::UNREACHABLE) && req.storage != StoragePolicy::None => {
            return Err(format!("{label} ({quant}) is not stored on this device, so it needs the network: {e}"));
        }
        Err(e) => return Err(e),
    };
    // A Hub model's file says the quantization it was converted to; a .gguf's, what its weights are.
    let file_quant = if gguf { None } else { Some(req.quant) };
    let session = clock.time(LoadStep::Build, || model.into_session()).map_err(|e| e.to_string())?;
    // Kept once the model answers (see keep.rs): a .gguf as one file (a split one merged), a Hub
    // model as the converted GGUF at this quant.
    let meta = EntryMeta { label, quant, source_id, source_url: Some(source_url), digest: String::new(), bytes: 0, stored_ms: 0.0 };
    let quant = file_quant.unwrap_or_else(|| session.model().quantization());
    let keep = match KeepPlan::new(key, meta, req.storage, &session, quant) {
        Ok(plan) => Some(plan),
        Err(e) => {
            notice(not_kept(&e));
            None
        }
    };
    Ok(Loaded { session, read_from: None, storage_changed, keep })
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
