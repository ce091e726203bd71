//! Reading one file's body to its end, whatever the network does: a dropped connection is
//! resumed where it broke (HTTP Range; a server without Range support resends from the start
//! and the bytes already taken are skipped), up to a few times.

use super::fetch::{self, BodyReader};
/// A load replaced by a newer one (or cancelled) stops with this.
pub const SUPERSEDED: &str = "superseded by another model";
use super::source::FileSpec;
use js_sys::Uint8Array;
use web_sys::Response;

/// Reconnections per file before the download is given up.
const MAX_RESUMES: u32 = 5;

/// Where a file's bytes go, in order.
pub trait ChunkSink {
    /// The next new bytes, as the browser handed them over (the sink copies them where they
    /// belong: no copy on the way); an error ends the download.
    fn take(&mut self, chunk: &Uint8Array) -> Result<(), String>;
    /// Bytes of this file taken so far: where a resumed request starts.
    fn received(&self) -> u64;
}

pub fn http_error(name: &str, url: &str, r: &Response) -> String {
    let status = r.status();
    let why = match status {
        404 => "not found: check the model name or URL".to_string(),
        401 | 403 => "access denied: the repository may be private or gated".to_string(),
        416 => "the server could not resume the download".to_string(),
        _ => format!("the server answered {} {}", status, r.status_text()),
    };
    format!("{name} (HTTP {status}) at {url}: {why}")
}

/// Whether `error` (from [`http_error`]) says the server has no `name`.
pub fn is_not_found(error: &str, name: &str) -> bool {
    error.starts_with(&format!("{name} (HTTP 404)"))
}

/// Reads `response`'s body (the file `f` at `url`) into `sink`.
pub async fn receive(f: &FileSpec, url: &str, response: &Response, sink: &mut dyn ChunkSink, alive: &dyn Fn() -> bool) -> Result<(), String> {
    let mut body = BodyReader::new(response)?;
    let mut resumes = 0;
    // Bytes to drop from the front of a response that restarted from zero.
    let mut skip = 0u64;
    loop {
        match body.next_array().await {
            Ok(None) => return Ok(()),
            Ok(Some(chunk)) => {
                if !alive() {
                    body.cancel();
                    return Err(SUPERSEDED.into());
                }
                let len = chunk.length();
                let drop = skip.min(len as u64) as u32;
                skip -= drop as u64;
                if drop < len {
                    let new = if drop == 0 { chunk } else { chunk.subarray(drop, len) };
                    sink.take(&new).inspect_err(|_| body.cancel())?;
                }
            }
            Err(e) => {
                if resumes == MAX_RESUMES || !alive() {
                    return Err(format!("{}: {e} (after {resumes} attempts to resume)", f.name));
                }
                resumes += 1;
                fetch::sleep(250 * resumes as i32).await;
                let from = sink.received();
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
