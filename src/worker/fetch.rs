//! `fetch` from inside a worker, with the body read as a stream of chunks so that a model
//! of hundreds of MB never has to sit in memory as one buffer.

use crate::js_message::js_message;
use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStreamDefaultReader, RequestInit, Response, WorkerGlobalScope};

fn global() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

thread_local! {
    static IGNORE: Closure<dyn FnMut(JsValue)> = Closure::new(|_| ());
}

/// Requests start together and some are never awaited (the first failure ends a load):
/// marking each as handled keeps a failed one from becoming an unhandled rejection. Whoever
/// awaits the promise still gets its error.
fn handled(p: Promise) -> Promise {
    IGNORE.with(|ignore| {
        let _ = p.catch(ignore);
    });
    p
}

/// Starts a GET; headers arrive when the promise resolves.
pub fn start(url: &str) -> Promise {
    handled(global().fetch_with_str(url))
}

/// Starts a HEAD, or a GET of the bytes from `range_from` on. A single open range is a
/// CORS-safelisted header, so neither needs a preflight the server might refuse.
pub fn start_with(url: &str, method: &str, range_from: Option<u64>) -> Promise {
    let init = RequestInit::new();
    init.set_method(method);
    if let (Some(from), Ok(headers)) = (range_from, Headers::new()) {
        let _ = headers.set("range", &format!("bytes={from}-"));
        init.set_headers(&headers);
    }
    handled(global().fetch_with_str_and_init(url, &init))
}

/// A header the server sent and CORS lets us read.
pub fn header(r: &Response, name: &str) -> Option<String> {
    r.headers().get(name).ok().flatten().filter(|v| !v.is_empty())
}

/// Waits `ms` milliseconds without blocking the worker.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = global().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// Why a request got no HTTP answer at all (the end of such an error message).
pub const UNREACHABLE: &str = "the network is down, the address is wrong, or the server does not allow cross-origin requests (CORS)";

/// Waits for the response headers. A rejection means no HTTP answer at all.
pub async fn response(promise: Promise, url: &str) -> Result<Response, String> {
    match JsFuture::from(promise).await {
        Ok(r) => Ok(r.unchecked_into()),
        Err(e) => Err(format!("could not download {url} ({}): {UNREACHABLE}", js_message(&e))),
    }
}

/// The body of a successful (2xx) response as text; `None` on any failure (for what is only
/// consulted, like the Hub's file listing).
pub async fn ok_text(promise: Promise, url: &str) -> Option<String> {
    let r = response(promise, url).await.ok().filter(|r| r.ok())?;
    JsFuture::from(r.text().ok()?).await.ok()?.as_string()
}

/// What identifies the bytes behind a URL without reading them: ETag when CORS exposes it
/// (the Hub does), else Last-Modified, with the size. `None` when the server says nothing.
pub fn source_identity(r: &Response) -> Option<String> {
    let tag = header(r, "etag").or_else(|| header(r, "last-modified"));
    let size = content_length(r);
    (tag.is_some() || size.is_some()).then(|| format!("{}|{}", tag.unwrap_or_default(), size.map(|s| s.to_string()).unwrap_or_default()))
}

/// `Content-Length`, when the server sent it.
pub fn content_length(r: &Response) -> Option<u64> {
    header(r, "content-length").and_then(|v| v.trim().parse().ok())
}

/// Abandons a response's body (e.g. the big weights after a small file failed).
pub fn discard(r: &Response) {
    if let Some(body) = r.body() {
        let _ = handled(body.cancel());
    }
}

/// Reads a response body chunk by chunk.
pub struct BodyReader {
    reader: ReadableStreamDefaultReader,
}

impl BodyReader {
    pub fn new(r: &Response) -> Result<Self, String> {
        let body = r.body().ok_or("the server sent an empty response")?;
        Ok(Self::from_stream(body))
    }

    /// Reads any byte stream (e.g. a stored file's `File.stream()`).
    pub fn from_stream(stream: web_sys::ReadableStream) -> Self {
        Self { reader: stream.get_reader().unchecked_into() }
    }

    /// The next chunk as the browser hands it over (still outside wasm memory), or `None` at
    /// the end of the body: the caller copies it once, to where it belongs.
    pub async fn next_array(&mut self) -> Result<Option<Uint8Array>, String> {
        let result = JsFuture::from(self.reader.read())
            .await
            .map_err(|e| format!("the download was interrupted: {}", js_message(&e)))?;
        let done = Reflect::get(&result, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = Reflect::get(&result, &"value".into()).map_err(|e| js_message(&e))?;
        Ok(Some(Uint8Array::new(&value)))
    }

    /// The next chunk, copied into wasm memory, or `None` at the end of the body.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        Ok(self.next_array().await?.map(|a| a.to_vec()))
    }

    pub fn cancel(&self) {
        let _ = handled(self.reader.cancel());
    }
}
