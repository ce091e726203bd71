//! Downloads a model's files and converts the weights while they arrive: every chunk of the
//! weight file goes straight into `engine::ModelLoader::push`, so peak memory is the
//! converted model plus one tensor, not the whole file.

use super::fetch;
use super::integrity::{self, Expected};
use super::load_clock::LoadClock;
use super::protocol::{LoadRequest, LoadStep, ModelSource, Progress, Stage};
use super::resume::{http_error, receive, ChunkSink};
use super::source::{FileRole, FileSpec};
use crate::engine::{HubFiles, HubParts, LoadedModel, ModelLoader};
use sha2::{Digest as _, Sha256};
use js_sys::Uint8Array;
use web_sys::Response;

/// How often progress is posted to the page while bytes flow.
const PROGRESS_EVERY_MS: f64 = 100.0;

pub struct Fetched {
    pub model: LoadedModel,
    pub source_id: Option<String>,
    pub source_url: String,
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

/// Where the bytes of one file go: kept whole (small files) or into the weight loader; hashed
/// when the Hub gave a checksum.
struct FileSink<'a, 'm> {
    loader: Option<&'a mut ModelLoader>,
    buf: Vec<u8>,
    sha: Option<Sha256>,
    meter: &'a mut Meter<'m>,
    name: &'a str,
    clock: &'a LoadClock,
}

impl FileSink<'_, '_> {
    /// Copies `bytes` (a JS array) into the loader's next space, a tensor's own buffer where the
    /// bytes are its data; checksummed there.
    fn fill_loader(&mut self, bytes: &Uint8Array) -> Result<(), String> {
        let (clock, len) = (self.clock, bytes.length());
        let loader = self.loader.as_mut().expect("called with a loader");
        let mut at = 0;
        while at < len {
            let room = clock.time(LoadStep::Convert, || loader.space((len - at) as usize)).map_err(|e| format!("{}: {e}", self.name))?;
            let n = room.len() as u32;
            clock.time(LoadStep::Convert, || bytes.subarray(at, at + n).copy_to(room));
            if let Some(sha) = self.sha.as_mut() {
                clock.time(LoadStep::Verify, || sha.update(&room[..]));
            }
            clock.time(LoadStep::Convert, || loader.filled(n as usize)).map_err(|e| format!("{}: {e}", self.name))?;
            at += n;
        }
        Ok(())
    }
}

impl ChunkSink for FileSink<'_, '_> {
    fn take(&mut self, chunk: &Uint8Array) -> Result<(), String> {
        if self.loader.is_some() {
            self.fill_loader(chunk)?;
        } else {
            let start = self.buf.len();
            self.buf.resize(start + chunk.length() as usize, 0);
            chunk.copy_to(&mut self.buf[start..]);
            if let Some(sha) = self.sha.as_mut() {
                sha.update(&self.buf[start..]);
            }
        }
        self.meter.add(chunk.length() as usize, false);
        Ok(())
    }

    fn received(&self) -> u64 {
        self.meter.progress.file_done
    }
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

/// Starts every request at once (sizes, for one overall bar, and 404s are known early) and
/// waits for each file's headers.
async fn open_all(files: &[FileSpec]) -> Result<Vec<Option<(Response, String)>>, String> {
    let started: Vec<_> = files.iter().map(|f| fetch::start(&f.urls[0])).collect();
    let mut responses = Vec::new();
    for (f, p) in files.iter().zip(started) {
        match open(f, p).await {
            Ok(r) => responses.push(Some(r)),
            Err(e) => {
                discard_all(&responses);
                return Err(e);
            }
        }
    }
    Ok(responses)
}

fn discard_all(responses: &[Option<(Response, String)>]) {
    responses.iter().flatten().for_each(|(r, _)| fetch::discard(r));
}

/// The bytes of all `files` together, from HEADs made at once (no bodies): how the shards of a
/// split GGUF are sized for one overall bar, and the picker's size of any `.gguf` source. The
/// shards themselves are opened one at a time, when their turn comes: a browser keeps about
/// six connections per host, and a shard whose body waits unread holds one, so opening ten at
/// once would never finish. A missing file is found here, before any byte is read.
pub(super) async fn total_size(files: &[FileSpec]) -> Result<Option<u64>, String> {
    let started: Vec<_> = files.iter().map(|f| fetch::start_with(&f.urls[0], "HEAD", None)).collect();
    let mut total = Some(0u64);
    for (f, p) in files.iter().zip(started) {
        let r = fetch::response(p, &f.urls[0]).await?;
        if !r.ok() {
            return Err(http_error(&f.name, &f.urls[0], &r));
        }
        total = total.zip(fetch::content_length(&r)).map(|(a, b)| a + b);
    }
    Ok(total)
}

/// The SHA-256 the Hub lists for the file at `file_url`, if the listing can be had.
async fn expected_checksum(listing: js_sys::Promise, list_url: &str, file_url: &str) -> Option<Expected> {
    let text = fetch::ok_text(listing, list_url).await?;
    let name = file_url.rsplit('/').next()?;
    let found = integrity::expected_sha256(&text, name);
    if found.is_none() {
        web_sys::console::info_1(&format!("no SHA-256 listed for {name}: the download is checked by its structure only").into());
    }
    found
}

fn check_sha(name: &str, expected: &Expected, sha: Sha256) -> Result<(), String> {
    let got = integrity::hex(&sha.finalize());
    if got == expected.sha256 {
        return Ok(());
    }
    Err(format!(
        "{name} arrived damaged: its SHA-256 is {}…, the Hub lists {}…; nothing was kept, press Retry to download it again",
        &got[..12],
        &expected.sha256[..12]
    ))
}

/// The small file of `role` among those read so far.
fn small<'a>(files: &[FileSpec], bodies: &'a [Option<Vec<u8>>], role: FileRole) -> &'a [u8] {
    files.iter().zip(bodies).find(|(f, _)| f.role == role).and_then(|(_, b)| b.as_deref()).unwrap_or_default()
}

/// Downloads and converts.
pub async fn download(req: &LoadRequest, report: &dyn Fn(Progress), alive: &dyn Fn() -> bool, clock: &LoadClock) -> Result<Fetched, String> {
    let files = req.source.files();
    // The Hub lists the SHA-256 of each weight file; asked alongside (a mirror may not have it).
    let mut listing = match &req.source {
        ModelSource::Hub { hub, repo } => {
            let url = integrity::tree_url(hub, repo);
            Some((fetch::start(&url), url))
        }
        _ => None,
    };
    let (mut responses, total) = if req.source.is_split() {
        let total = total_size(&files).await?;
        (files.iter().map(|_| None).collect::<Vec<_>>(), total)
    } else {
        let responses = open_all(&files).await?;
        let total = responses.iter().flatten().map(|(r, _)| fetch::content_length(r)).sum::<Option<u64>>();
        (responses, total)
    };
    let progress = Progress { stage: Stage::Downloading, file: String::new(), file_done: 0, file_total: None, done: 0, total };
    let mut meter = Meter { report, progress, last_ms: 0.0 };
    let mut bodies: Vec<Option<Vec<u8>>> = Vec::new();
    let mut loader: Option<ModelLoader> = None;
    let mut source = None;
    for (i, f) in files.iter().enumerate() {
        let (r, url) = match responses[i].take() {
            Some(opened) => opened,
            None => open(f, fetch::start(&f.urls[0])).await?,
        };
        let (r, url) = (&r, &url);
        meter.progress.file = f.name.clone();
        meter.progress.file_done = 0;
        meter.progress.file_total = fetch::content_length(r);
        meter.add(0, true);
        let weights = f.role == FileRole::Weights;
        if let (true, Some(l)) = (weights, loader.as_mut()) {
            // The next shard of a split GGUF: the previous one must have been whole.
            let previous = &files[i - 1].name;
            l.next_shard().map_err(|e| format!("{previous}: {e}"))?;
        } else if weights {
            let hub = match &req.source {
                ModelSource::Gguf { .. } => None, // config and tokenizer are inside
                _ => Some(
                    HubParts::from_files(HubFiles {
                        config_json: small(&files, &bodies, FileRole::Config),
                        vocab_json: small(&files, &bodies, FileRole::Vocab),
                        merges_txt: small(&files, &bodies, FileRole::Merges),
                    })
                    .map_err(|e| e.to_string())?,
                ),
            };
            loader = Some(ModelLoader::new(hub, req.quant));
            source = Some((fetch::source_identity(r), url.clone()));
        }
        let expected = match listing.take_if(|_| weights) {
            Some((promise, list_url)) => expected_checksum(promise, &list_url, url).await,
            None => None,
        };
        let mut sink = FileSink {
            loader: loader.as_mut().filter(|_| weights),
            buf: Vec::new(),
            sha: expected.as_ref().map(|_| Sha256::new()),
            meter: &mut meter,
            name: &f.name,
            clock,
        };
        if let Err(e) = receive(f, url, r, &mut sink, alive).await {
            discard_all(&responses[i + 1..]);
            return Err(e);
        }
        if let (Some(exp), Some(sha)) = (expected, sink.sha.take()) {
            check_sha(&f.name, &exp, sha)?;
        }
        bodies.push((!weights).then_some(sink.buf));
        meter.add(0, true);
    }
    report(Progress { stage: Stage::Converting, ..meter.progress.clone() });
    let last = &files.last().expect("a source has files").name;
    let loader = loader.ok_or("no weight file in the model")?;
    let model = clock.time(LoadStep::Convert, || loader.finish()).map_err(|e| if req.source.is_split() { format!("{last}: {e}") } else { e.to_string() })?;
    let (source_id, source_url) = source.expect("set with the loader");
    Ok(Fetched { model, source_id, source_url })
}
