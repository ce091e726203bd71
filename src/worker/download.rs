//! Downloads a model's files and converts the weights while they arrive: every chunk of the
//! weight file goes straight into `engine::ModelLoader::push`, so peak memory is the
//! converted model plus one tensor, not the whole file.

use super::fetch::{self, BodyReader};
use super::model_cache;
use super::protocol::{LoadRequest, ModelSource, Progress, Stage};
use super::source::{FileRole, FileSpec};
use crate::engine::{ChatSession, HubParts, LoadedModel, ModelLoader};
use web_sys::Response;

/// How often progress is posted to the page while bytes flow.
const PROGRESS_EVERY_MS: f64 = 100.0;

fn http_error(f: &FileSpec, url: &str, r: &Response) -> String {
    let status = r.status();
    let why = match status {
        404 => "not found: check the model name or URL".to_string(),
        401 | 403 => "access denied: the repository may be private or gated".to_string(),
        _ => format!("the server answered {} {}", status, r.status_text()),
    };
    format!("{} (HTTP {status}) at {url}: {why}", f.name)
}

/// Opens `f`, trying its fallback URLs while the server says 404.
async fn open(f: &FileSpec, first: js_sys::Promise) -> Result<Response, String> {
    let mut pending = Some(first);
    for (i, url) in f.urls.iter().enumerate() {
        let promise = pending.take().unwrap_or_else(|| fetch::start(url));
        let r = fetch::response(promise, url).await?;
        if r.ok() {
            return Ok(r);
        }
        if r.status() != 404 || i + 1 == f.urls.len() {
            return Err(http_error(f, url, &r));
        }
        fetch::discard(&r);
    }
    unreachable!("a file has at least one URL")
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
}

/// The cached model if there is one, else downloads and converts, then caches the result.
/// `alive` turns false when a newer Load replaced this one; work then stops at the next chunk.
/// `notice` gets problems that do not fail the load (the cache could not be written).
pub async fn load_model(
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    notice: &dyn Fn(String),
    alive: &dyn Fn() -> bool,
) -> Result<Loaded, String> {
    let gguf = matches!(req.source, ModelSource::Gguf { .. });
    // A .gguf is stored as downloaded; a Hub model as the converted GGUF at this quant.
    let key = model_cache::key(&req.source.label(), &if gguf { "gguf".into() } else { req.quant.as_str().to_string() });
    if let Some(body) = model_cache::lookup(&key).await {
        match read_cached(body, req, report, alive).await {
            Ok(session) => return Ok(Loaded { session, from_cache: true }),
            Err(e) if !alive() => return Err(e),
            Err(e) => {
                web_sys::console::warn_1(&format!("cached model unusable, downloading again: {e}").into());
                model_cache::remove(&key).await;
            }
        }
    }
    let (model, raw) = download(req, report, alive, gguf).await?;
    let bytes = match raw {
        Some(raw) => Ok(raw),
        None => model.to_gguf(&req.source.label()).map_err(|e| e.to_string()),
    };
    let session = model.into_session().map_err(|e| e.to_string())?;
    // Only a model that built fine is stored; a failed write costs a download next time, no more.
    if let Err(e) = async { model_cache::store(&key, &bytes?).await }.await {
        notice(format!("the model could not be saved for next time ({e}); it will download again"));
    }
    Ok(Loaded { session, from_cache: false })
}

/// Streams a cached GGUF into the loader.
async fn read_cached(
    mut body: BodyReader,
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    alive: &dyn Fn() -> bool,
) -> Result<ChatSession, String> {
    let mut progress = Progress { stage: Stage::FromCache, file: String::new(), file_done: 0, file_total: None, done: 0, total: None };
    report(progress.clone());
    let mut loader = ModelLoader::new(None, req.quant);
    while let Some(chunk) = body.next().await? {
        if !alive() {
            body.cancel();
            return Err("superseded by another model".into());
        }
        loader.push(&chunk).map_err(|e| e.to_string())?;
        progress.done += chunk.len() as u64;
    }
    report(progress);
    loader.finish().and_then(LoadedModel::into_session).map_err(|e| e.to_string())
}

/// Downloads and converts; for a `.gguf` also returns its bytes (to cache them as they are).
async fn download(
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    alive: &dyn Fn() -> bool,
    keep_raw: bool,
) -> Result<(LoadedModel, Option<Vec<u8>>), String> {
    let files = req.source.files();
    // Start every request at once: sizes (for one overall bar) and 404s are known early.
    let started: Vec<_> = files.iter().map(|f| fetch::start(&f.urls[0])).collect();
    let mut responses = Vec::new();
    for (f, p) in files.iter().zip(started) {
        match open(f, p).await {
            Ok(r) => responses.push(r),
            Err(e) => {
                responses.iter().for_each(fetch::discard);
                return Err(e);
            }
        }
    }
    let total = responses.iter().map(fetch::content_length).sum::<Option<u64>>();
    let mut meter = Meter {
        report,
        progress: Progress { stage: Stage::Downloading, file: String::new(), file_done: 0, file_total: None, done: 0, total },
        last_ms: 0.0,
    };
    let mut small: Vec<Vec<u8>> = Vec::new();
    let mut loader: Option<ModelLoader> = None;
    let mut raw: Option<Vec<u8>> = keep_raw.then(Vec::new);
    for (i, (f, r)) in files.iter().zip(&responses).enumerate() {
        meter.progress.file = f.name.clone();
        meter.progress.file_done = 0;
        meter.progress.file_total = fetch::content_length(r);
        meter.add(0, true);
        if f.role == FileRole::Weights {
            let hub = match small.as_slice() {
                [config, vocab, merges] => Some(HubParts::from_files(config, vocab, merges).map_err(|e| e.to_string())?),
                _ => None,
            };
            loader = Some(ModelLoader::new(hub, req.quant));
        }
        let mut body = BodyReader::new(r)?;
        let mut buf = Vec::new();
        let outcome: Result<(), String> = async {
            while let Some(chunk) = body.next().await? {
                if !alive() {
                    return Err("superseded by another model".into());
                }
                match loader.as_mut() {
                    Some(l) => {
                        l.push(&chunk).map_err(|e| format!("{}: {e}", f.name))?;
                        if let Some(raw) = raw.as_mut() {
                            raw.extend_from_slice(&chunk);
                        }
                    }
                    None => buf.extend_from_slice(&chunk),
                }
                meter.add(chunk.len(), false);
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            body.cancel();
            responses[i + 1..].iter().for_each(fetch::discard);
            return Err(e);
        }
        meter.add(0, true);
        if loader.is_none() {
            small.push(buf);
        }
    }
    report(Progress { stage: Stage::Converting, ..meter.progress.clone() });
    let model = loader.ok_or("no weight file in the model")?.finish().map_err(|e| e.to_string())?;
    Ok((model, raw))
}
