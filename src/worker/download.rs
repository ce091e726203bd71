//! Downloads a model's files and converts the weights while they arrive: every chunk of the
//! weight file goes straight into `engine::ModelLoader::push`, so peak memory is the
//! converted model plus one tensor, not the whole file. A dropped connection is resumed
//! where it broke (HTTP Range; a server without Range support resends from the start and
//! the bytes already converted are skipped).

use super::digest::Digest;
use super::fetch::{self, BodyReader};
use super::integrity::{self, Expected};
use super::model_cache::{self, EntryMeta, WriteSeek};
use super::protocol::{LoadRequest, ModelSource, Progress, Stage};
use super::source::{FileRole, FileSpec};
use crate::engine::{ChatSession, HubFiles, HubParts, LoadedModel, ModelLoader};
use sha2::{Digest as _, Sha256};
use web_sys::Response;

/// How often progress is posted to the page while bytes flow.
const PROGRESS_EVERY_MS: f64 = 100.0;
/// Reconnections per file before the download is given up.
const MAX_RESUMES: u32 = 5;
const SUPERSEDED: &str = "superseded by another model";

fn http_error(name: &str, url: &str, r: &Response) -> String {
    let status = r.status();
    let why = match status {
        404 => "not found: check the model name or URL".to_string(),
        401 | 403 => "access denied: the repository may be private or gated".to_string(),
        416 => "the server could not resume the download".to_string(),
        _ => format!("the server answered {} {}", status, r.status_text()),
    };
    format!("{name} (HTTP {status}) at {url}: {why}")
}

/// Opens `f`, trying its fallback URLs while the server says 404; returns the URL that worked.
async fn open(f: &FileSpec, first: js_sys::Promise) -> Result<(Response, String), String> {
    let mut pending = Some(first);
    for (i, url) in f.urls.iter().enumerate() {
        let promise = pending.take().unwrap_or_else(|| fetch::start(url));
        let r = fetch::response(promise, url).await?;
        if r.ok() {
            return Ok((r, url.clone()));
        }
        if r.status() != 404 || i + 1 == f.urls.len() {
            return Err(http_error(&f.name, url, &r));
        }
        fetch::discard(&r);
    }
    unreachable!("a file has at least one URL")
}

/// What identifies the bytes behind a URL without reading them: ETag when CORS exposes it
/// (the Hub does), else Last-Modified, with the size. `None` when the server says nothing.
fn source_identity(r: &Response) -> Option<String> {
    let tag = fetch::header(r, "etag").or_else(|| fetch::header(r, "last-modified"));
    let size = fetch::content_length(r);
    (tag.is_some() || size.is_some()).then(|| format!("{}|{}", tag.unwrap_or_default(), size.map(|s| s.to_string()).unwrap_or_default()))
}

struct Meter<'a> {
    report: &'a dyn Fn(Progress),
    progress: Progress,
    last_ms: f64,
}

impl Meter<'_> {
    fn add(&mut self, n: usize, force: bool) {
        self.progress.file_done += n as u64;
        self.progress.done += n as u64;
        let now = js_sys::Date::now();
        if force || now - self.last_ms >= PROGRESS_EVERY_MS {
            self.last_ms = now;
            (self.report)(self.progress.clone());
        }
    }
}

pub struct Loaded {
    pub session: ChatSession,
    pub from_cache: bool,
    /// A model was written to (or dropped from) storage: the page's list is out of date.
    pub cache_changed: bool,
}

/// Whether a stored entry still matches its source. Asks the server for the weight file's
/// headers only (HEAD, no body); offline or without an answer the entry is trusted.
async fn still_current(meta: &EntryMeta) -> bool {
    let (Some(url), Some(stored)) = (&meta.source_url, &meta.source_id) else { return true };
    match fetch::response(fetch::start_with(url, "HEAD", None), url).await {
        Ok(r) if r.ok() => source_identity(&r).is_none_or(|now| &now == stored),
        _ => true,
    }
}

/// The cached model if there is one, else downloads and converts, then caches the result.
/// `alive` turns false when a newer Load (or Cancel) replaced this one; work then stops at
/// the next chunk. `notice` gets problems that do not fail the load (e.g. storage is full).
pub async fn load_model(
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    notice: &dyn Fn(String),
    alive: &dyn Fn() -> bool,
) -> Result<Loaded, String> {
    let gguf = matches!(req.source, ModelSource::Gguf { .. });
    let label = req.source.label();
    // A .gguf is stored as downloaded; a Hub model as the converted GGUF at this quant.
    let quant = if gguf { "gguf".to_string() } else { req.quant.as_str().to_string() };
    let key = model_cache::key(&label, &quant);
    let mut cache_changed = false;
    if let Some((meta, body)) = model_cache::lookup(&key).await {
        if !still_current(&meta).await {
            body.cancel();
            model_cache::remove(&key).await;
            cache_changed = true;
            notice("the model changed on the server since it was stored: downloading the new one".into());
        } else {
            match read_cached(body, &meta, req, report, alive).await {
                Ok(session) => return Ok(Loaded { session, from_cache: true, cache_changed }),
                Err(e) if !alive() => return Err(e),
                Err(e) => {
                    web_sys::console::warn_1(&format!("cached model unusable, downloading again: {e}").into());
                    model_cache::remove(&key).await;
                    cache_changed = true;
                    notice(format!("the stored copy was damaged ({e}) and was downloaded again"));
                }
            }
        }
    }
    // What is stored goes to storage as it is produced (OPFS: straight to disk, never a second
    // copy in memory): a .gguf file while it downloads, a converted model as it is serialized.
    // The entry becomes visible only once the model has built.
    let mut pending = model_cache::begin(&key).await;
    let fetched = download(req, report, alive, gguf.then(|| pending.writer())).await;
    let Fetched { model, raw_written, source_id, source_url } = match fetched {
        Ok(f) => f,
        Err(e) => {
            model_cache::abort(pending).await;
            return Err(e);
        }
    };
    let written = match raw_written {
        Some(result) => result,
        None => model.write_gguf(&label, &mut pending.writer()).map_err(|e| e.to_string()),
    };
    let session = match model.into_session() {
        Ok(s) => s,
        Err(e) => {
            model_cache::abort(pending).await;
            return Err(e.to_string());
        }
    };
    let meta = EntryMeta { label, quant, source_id, source_url: Some(source_url), digest: String::new(), bytes: 0, stored_ms: 0.0 };
    let stored = match written {
        Ok(()) => model_cache::commit(&key, pending, meta).await,
        Err(e) => {
            model_cache::abort(pending).await;
            Err(e)
        }
    };
    match stored {
        Ok(()) => cache_changed = true,
        Err(e) => notice(format!("not saved for next time: {e}; it will download again")),
    }
    Ok(Loaded { session, from_cache: false, cache_changed })
}

/// Streams a cached GGUF into the loader, checking size and checksum before it is used.
async fn read_cached(
    mut body: BodyReader,
    meta: &EntryMeta,
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    alive: &dyn Fn() -> bool,
) -> Result<ChatSession, String> {
    let mut progress =
        Progress { stage: Stage::FromCache, file: String::new(), file_done: 0, file_total: Some(meta.bytes), done: 0, total: Some(meta.bytes) };
    report(progress.clone());
    let mut loader = ModelLoader::new(None, req.quant);
    let mut digest = Digest::default();
    while let Some(chunk) = body.next().await? {
        if !alive() {
            body.cancel();
            return Err(SUPERSEDED.into());
        }
        digest.update(&chunk);
        loader.push(&chunk).map_err(|e| e.to_string())?;
        progress.done += chunk.len() as u64;
    }
    report(progress.clone());
    if progress.done != meta.bytes || digest.finish() != meta.digest {
        return Err(format!("checksum mismatch ({} of {} bytes read)", progress.done, meta.bytes));
    }
    loader.finish().and_then(LoadedModel::into_session).map_err(|e| e.to_string())
}

struct Fetched {
    model: LoadedModel,
    /// For a `.gguf` source: whether its bytes all reached the store's writer.
    raw_written: Option<Result<(), String>>,
    source_id: Option<String>,
    source_url: String,
}

/// Where the bytes of one file go: buffered (small files) or into the weight loader.
struct Sink<'a, 'w> {
    loader: Option<&'a mut ModelLoader>,
    buf: &'a mut Vec<u8>,
    /// A copy of the bytes for the store (a `.gguf` kept as downloaded).
    raw: Option<&'a mut (dyn WriteSeek + 'w)>,
    /// The first write error of `raw`: storing stops, the download goes on.
    raw_error: &'a mut Option<String>,
    /// Hashes the bytes in file order when the Hub gave a checksum to compare with.
    sha: Option<Sha256>,
}

impl Sink<'_, '_> {
    fn push(&mut self, chunk: &[u8], name: &str) -> Result<(), String> {
        match self.loader.as_mut() {
            Some(l) => l.push(chunk).map_err(|e| format!("{name}: {e}"))?,
            None => self.buf.extend_from_slice(chunk),
        }
        if let (Some(raw), None) = (self.raw.as_mut(), self.raw_error.as_ref()) {
            if let Err(e) = raw.write_all(chunk) {
                *self.raw_error = Some(e.to_string());
            }
        }
        if let Some(sha) = self.sha.as_mut() {
            sha.update(chunk);
        }
        Ok(())
    }
}

/// Reads one file's body into `sink`, reconnecting (Range) when the connection drops.
async fn receive(
    f: &FileSpec,
    url: &str,
    response: &Response,
    sink: &mut Sink<'_, '_>,
    meter: &mut Meter<'_>,
    alive: &dyn Fn() -> bool,
) -> Result<(), String> {
    let mut body = BodyReader::new(response)?;
    let mut resumes = 0;
    // Bytes to drop from the front of a response that restarted from zero.
    let mut skip = 0u64;
    loop {
        match body.next().await {
            Ok(None) => return Ok(()),
            Ok(Some(chunk)) => {
                if !alive() {
                    body.cancel();
                    return Err(SUPERSEDED.into());
                }
                let drop = skip.min(chunk.len() as u64) as usize;
                skip -= drop as u64;
                let fresh = &chunk[drop..];
                if !fresh.is_empty() {
                    sink.push(fresh, &f.name).inspect_err(|_| body.cancel())?;
                    meter.add(fresh.len(), false);
                }
            }
            Err(e) => {
                if resumes == MAX_RESUMES || !alive() {
                    return Err(format!("{}: {e} (after {resumes} attempts to resume)", f.name));
                }
                resumes += 1;
                fetch::sleep(250 * resumes as i32).await;
                let from = meter.progress.file_done;
                let r = fetch::response(fetch::start_with(url, "GET", Some(from)), url).await?;
                match r.status() {
                    206 => {
                        // Content-Range is not always readable (CORS); when it is, check it.
                        let start = fetch::header(&r, "content-range")
                            .and_then(|v| v.strip_prefix("bytes ")?.split('-').next()?.parse::<u64>().ok());
                        if start.is_some_and(|s| s != from) {
                            fetch::discard(&r);
                            return Err(format!("{}: the server resumed at the wrong place", f.name));
                        }
                        skip = 0;
                    }
                    200 => skip = from,
                    _ => return Err(http_error(&f.name, url, &r)),
                }
                web_sys::console::info_1(&format!("{}: connection lost at byte {from}, resumed ({})", f.name, r.status()).into());
                body = BodyReader::new(&r)?;
            }
        }
    }
}

/// The SHA-256 the Hub lists for the file at `file_url`, if the listing can be had.
async fn expected_checksum(listing: js_sys::Promise, list_url: &str, file_url: &str) -> Option<Expected> {
    let r = fetch::response(listing, list_url).await.ok().filter(|r| r.ok())?;
    let text = wasm_bindgen_futures::JsFuture::from(r.text().ok()?).await.ok()?.as_string()?;
    let name = file_url.rsplit('/').next()?;
    let found = integrity::expected_sha256(&text, name);
    if found.is_none() {
        web_sys::console::info_1(&format!("no SHA-256 listed for {name}: the download is checked by its structure only").into());
    }
    found
}

/// Downloads and converts; a `.gguf` file's bytes are also written to `raw` as they arrive.
async fn download(
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    alive: &dyn Fn() -> bool,
    mut raw: Option<&mut dyn WriteSeek>,
) -> Result<Fetched, String> {
    let keep_raw = raw.is_some();
    let mut raw_error = None;
    let files = req.source.files();
    // The Hub lists the SHA-256 of each weight file; asked alongside (a mirror may not have it).
    let listing = match &req.source {
        ModelSource::Hub { hub, repo } => {
            let url = integrity::tree_url(hub, repo);
            Some((fetch::start(&url), url))
        }
        _ => None,
    };
    // Start every request at once: sizes (for one overall bar) and 404s are known early.
    let started: Vec<_> = files.iter().map(|f| fetch::start(&f.urls[0])).collect();
    let mut responses = Vec::new();
    for (f, p) in files.iter().zip(started) {
        match open(f, p).await {
            Ok(r) => responses.push(r),
            Err(e) => {
                responses.iter().for_each(|(r, _)| fetch::discard(r));
                return Err(e);
            }
        }
    }
    let total = responses.iter().map(|(r, _)| fetch::content_length(r)).sum::<Option<u64>>();
    let mut meter = Meter {
        report,
        progress: Progress { stage: Stage::Downloading, file: String::new(), file_done: 0, file_total: None, done: 0, total },
        last_ms: 0.0,
    };
    let mut small: Vec<Vec<u8>> = Vec::new();
    let mut loader: Option<ModelLoader> = None;
    let mut source = None;
    let mut listing = listing;
    for (i, (f, (r, url))) in files.iter().zip(&responses).enumerate() {
        meter.progress.file = f.name.clone();
        meter.progress.file_done = 0;
        meter.progress.file_total = fetch::content_length(r);
        meter.add(0, true);
        if f.role == FileRole::Weights {
            let hub = match small.as_slice() {
                [config_json, vocab_json, merges_txt] => {
                    Some(HubParts::from_files(HubFiles { config_json, vocab_json, merges_txt }).map_err(|e| e.to_string())?)
                }
                _ => None,
            };
            loader = Some(ModelLoader::new(hub, req.quant));
            source = Some((source_identity(r), url.clone()));
        }
        let mut buf = Vec::new();
        let weights = f.role == FileRole::Weights;
        let expected = match listing.take_if(|_| weights) {
            Some((promise, list_url)) => expected_checksum(promise, &list_url, url).await,
            None => None,
        };
        let sha = expected.as_ref().map(|_| Sha256::new());
        let mut sink = Sink {
            loader: loader.as_mut().filter(|_| weights),
            buf: &mut buf,
            raw: raw.as_deref_mut().filter(|_| weights),
            raw_error: &mut raw_error,
            sha,
        };
        if let Err(e) = receive(f, url, r, &mut sink, &mut meter, alive).await {
            responses[i + 1..].iter().for_each(|(r, _)| fetch::discard(r));
            return Err(e);
        }
        if let (Some(exp), Some(sha)) = (expected, sink.sha.take()) {
            let got = integrity::hex(&sha.finalize());
            if got != exp.sha256 {
                return Err(format!(
                    "{} arrived damaged: its SHA-256 is {}…, the Hub lists {}…; nothing was kept, press Retry to download it again",
                    f.name,
                    &got[..12],
                    &exp.sha256[..12]
                ));
            }
        }
        meter.add(0, true);
        if !weights {
            small.push(buf);
        }
    }
    report(Progress { stage: Stage::Converting, ..meter.progress.clone() });
    let model = loader.ok_or("no weight file in the model")?.finish().map_err(|e| e.to_string())?;
    let (source_id, source_url) = source.expect("set with the loader");
    let raw_written = keep_raw.then(|| raw_error.map_or(Ok(()), Err));
    Ok(Fetched { model, raw_written, source_id, source_url })
}
