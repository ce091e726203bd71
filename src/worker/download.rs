//! Downloads a model's files and converts the weights while they arrive: every chunk of the
//! weight file goes straight into `engine::ModelLoader::push`, so peak memory is the
//! converted model plus one tensor, not the whole file.

use super::fetch::{self, BodyReader};
use super::protocol::{LoadRequest, Progress, Stage};
use super::source::{FileRole, FileSpec};
use crate::engine::{ChatSession, HubParts, ModelLoader};
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

/// Downloads and converts. `alive` turns false when a newer Load replaced this one; the
/// download then stops at the next chunk.
pub async fn load_model(
    req: &LoadRequest,
    report: &dyn Fn(Progress),
    alive: &dyn Fn() -> bool,
) -> Result<ChatSession, String> {
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
                    Some(l) => l.push(&chunk).map_err(|e| format!("{}: {e}", f.name))?,
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
    model.into_session().map_err(|e| e.to_string())
}
