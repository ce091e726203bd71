//! Small wrappers over browser APIs the page uses (storage, files, clipboard, the host
//! frame). Each returns a `Result` or does nothing when the API is missing, so a locked-down
//! browser degrades to "not saved" or "could not copy" instead of a broken page.

use js_sys::Array;
use super::site_config::{SiteConfig, SITE_CONFIG_FILE};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, MessageEvent, Url, Window};

fn window() -> Option<Window> {
    web_sys::window()
}

pub use crate::js_message::js_message;

thread_local! {
    static UNLOAD_LISTENER: std::cell::RefCell<Option<Closure<dyn FnMut()>>> = const { std::cell::RefCell::new(None) };
}

/// While a model downloads, keeps the page out of the back/forward cache. A cached page's
/// worker is frozen with its downloads still open, and WebKit keeps those connections to the
/// model's host busy: every later request there (this app in another tab, the next visit)
/// waits behind them for good. An `unload` listener rules a page out of that cache in WebKit
/// and Firefox; it is removed when the download ends, so a ready page is cached as usual.
pub fn keep_out_of_page_cache(keep_out: bool) {
    let Some(w) = window() else { return };
    UNLOAD_LISTENER.with(|slot| {
        let mut slot = slot.borrow_mut();
        match (keep_out, slot.as_ref()) {
            (true, None) => {
                let listener = Closure::<dyn FnMut()>::new(|| {});
                if w.add_event_listener_with_callback("unload", listener.as_ref().unchecked_ref()).is_ok() {
                    *slot = Some(listener);
                }
            }
            (false, Some(listener)) => {
                let _ = w.remove_event_listener_with_callback("unload", listener.as_ref().unchecked_ref());
                *slot = None;
            }
            _ => {}
        }
    });
}

/// The site's default model from `dialogpt-site.json` beside the page: `None` when the site
/// has none (404, no network, or a host that answers every path with the page itself).
pub async fn site_config() -> Option<Result<SiteConfig, String>> {
    let response: web_sys::Response = JsFuture::from(window()?.fetch_with_str(SITE_CONFIG_FILE)).await.ok()?.dyn_into().ok()?;
    let html = response.headers().get("content-type").ok().flatten().is_some_and(|t| t.contains("html"));
    if response.status() == 404 || html {
        return None;
    }
    if !response.ok() {
        return Some(Err(format!("{SITE_CONFIG_FILE} could not be read (HTTP {}); the site's default model is ignored", response.status())));
    }
    let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
    Some(SiteConfig::parse(&text))
}

pub fn storage_get(key: &str) -> Option<String> {
    window()?.local_storage().ok()??.get_item(key).ok()?
}

/// Writes `value`; the error (storage disabled, quota) is for a visible notice.
pub fn storage_set(key: &str, value: &str) -> Result<(), String> {
    let storage = window().and_then(|w| w.local_storage().ok().flatten()).ok_or("this browser does not allow the page to store data")?;
    storage.set_item(key, value).map_err(|e| js_message(&e))
}

/// Offers `text` as a file download named `name`.
pub fn download_text(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let doc = window().and_then(|w| w.document()).ok_or("no document")?;
    let parts = Array::of1(&JsValue::from_str(text));
    let props = BlobPropertyBag::new();
    props.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &props).map_err(|e| js_message(&e))?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|e| js_message(&e))?;
    let a: HtmlAnchorElement = doc.create_element("a").map_err(|e| js_message(&e))?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = Url::revoke_object_url(&url);
    Ok(())
}

/// The text of a file the user picked.
pub async fn read_file(file: web_sys::File) -> Result<String, String> {
    let text = JsFuture::from(file.text()).await.map_err(|e| js_message(&e))?;
    text.as_string().ok_or_else(|| "the file is not text".to_string())
}

/// Copies `text` with the async Clipboard API (needs a secure context; inside an iframe the
/// host must allow `clipboard-write`).
pub async fn copy_text(text: &str) -> Result<(), String> {
    let clipboard = window().map(|w| w.navigator().clipboard()).ok_or("no clipboard")?;
    JsFuture::from(clipboard.write_text(text)).await.map(|_| ()).map_err(|e| js_message(&e))
}

/// What `suggest` makes of this browser's user agent, memory and touch points.
pub fn device_suggestion<T>(suggest: fn(&str, Option<f64>, u32) -> T) -> T {
    let navigator = window().map(|w| w.navigator());
    let ua = navigator.as_ref().and_then(|n| n.user_agent().ok()).unwrap_or_default();
    // `deviceMemory` is Chromium's; others do not say.
    let memory = navigator.as_ref().and_then(|n| js_sys::Reflect::get(n, &"deviceMemory".into()).ok()).and_then(|v| v.as_f64());
    let touch = navigator.as_ref().map(|n| n.max_touch_points()).unwrap_or(0).max(0) as u32;
    suggest(&ua, memory, touch)
}

/// Moves the keyboard focus to the first element matching `selector`.
pub fn focus(selector: &str) {
    let el = window().and_then(|w| w.document()).and_then(|d| d.query_selector(selector).ok().flatten());
    if let Some(el) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// `focus`, unless the user is busy in another field (typing a model name, a setting).
pub fn focus_unless_typing(selector: &str) {
    let active = window().and_then(|w| w.document()).and_then(|d| d.active_element());
    let typing = active.is_some_and(|a| matches!(a.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
    if !typing {
        focus(selector);
    }
}

/// A minimal module using one relaxed-SIMD instruction (`i8x16.relaxed_swizzle`): it
/// validates only where the engine runs relaxed SIMD.
const RELAXED_SIMD_PROBE: [u8; 36] = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, 0x0f, 0x01, 0x0d, 0x00, // code: one body of 13 bytes, no locals
    0x41, 0x01, 0xfd, 0x0f, // i32.const 1, i8x16.splat
    0x41, 0x02, 0xfd, 0x0f, // i32.const 2, i8x16.splat
    0xfd, 0x80, 0x02, 0x0b, // i8x16.relaxed_swizzle (0xfd 256), end
];

/// Whether this browser runs relaxed-SIMD wasm (Chromium 114+ does).
pub fn relaxed_simd() -> bool {
    let bytes = js_sys::Uint8Array::from(&RELAXED_SIMD_PROBE[..]);
    js_sys::WebAssembly::validate(&bytes.into()).unwrap_or(false)
}

/// A minimal module that imports a shared memory and uses one atomic instruction
/// (`memory.atomic.notify`): it validates only where wasm threads run.
const ATOMICS_PROBE: [u8; 44] = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // types: () -> i32
    0x02, 0x09, 0x01, 0x01, 0x6d, 0x01, 0x6d, 0x02, 0x03, 0x01, 0x01, // import "m" "m": memory 1..1 shared
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, 0x0c, 0x01, 0x0a, 0x00, // code: one body of 10 bytes, no locals
    0x41, 0x00, 0x41, 0x00, // i32.const 0 (address), i32.const 0 (waiters)
    0xfe, 0x00, 0x02, 0x00, 0x0b, // memory.atomic.notify align=4 offset=0, end
];

/// The largest memory the threaded worker may grow to, in 64 KiB pages (4 GiB: the same
/// ceiling as the other builds). It is declared up front, so the probe asks for the same.
const THREADS_MAX_PAGES: u32 = 65536;

/// Whether the threaded worker can run here: the page is cross-origin isolated, and shared
/// wasm memory of the worker's size can be made, posted to a worker and used by atomics.
/// Anything missing means one thread, which computes the same replies. Asked once per page
/// (the probe reserves a 4 GiB shared memory, which the next garbage collection frees).
pub fn wasm_threads() -> bool {
    thread_local! {
        static CAN: bool = probe_wasm_threads();
    }
    CAN.with(|can| *can)
}

fn probe_wasm_threads() -> bool {
    let Some(w) = window() else { return false };
    let global: &JsValue = w.as_ref();
    let isolated = js_sys::Reflect::get(global, &"crossOriginIsolated".into()).ok().and_then(|v| v.as_bool());
    let has_sab = js_sys::Reflect::get(global, &"SharedArrayBuffer".into()).is_ok_and(|v| v.is_function());
    if isolated != Some(true) || !has_sab {
        return false;
    }
    let descriptor = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&descriptor, &k.into(), &v).is_ok();
    if !(set("initial", 1.into()) && set("maximum", THREADS_MAX_PAGES.into()) && set("shared", true.into())) {
        return false;
    }
    let Ok(memory) = js_sys::WebAssembly::Memory::new(&descriptor) else { return false };
    let buffer = memory.buffer();
    if !buffer.is_instance_of::<js_sys::SharedArrayBuffer>() {
        return false;
    }
    let posted = web_sys::MessageChannel::new().is_ok_and(|channel| channel.port1().post_message(&buffer).is_ok());
    let bytes = js_sys::Uint8Array::from(&ATOMICS_PROBE[..]);
    posted && js_sys::WebAssembly::validate(&bytes.into()).unwrap_or(false)
}

/// Whether the app's service worker answers this page: the build's files, the workers' wasm
/// included, then come from its cache (it activates only once every file is there).
pub fn served_by_service_worker() -> bool {
    let Some(w) = window() else { return false };
    js_sys::Reflect::get(&w.navigator(), &"serviceWorker".into())
        .and_then(|sw| js_sys::Reflect::get(&sw, &"controller".into()))
        .is_ok_and(|c| c.is_object())
}

/// The logical cores the browser reports (1 when it does not say).
pub fn cores() -> usize {
    window().map(|w| w.navigator().hardware_concurrency()).filter(|n| n.is_finite() && *n >= 1.0).map_or(1, |n| n as usize)
}

/// Sets `data-<name>` on `<html>` (theme, compact, threads…), so the whole page, scrollbars and
/// background included, can follow it, and tests and bug reports can read it.
pub fn set_root_attribute(name: &str, value: &str) {
    if let Some(root) = window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute(&format!("data-{name}"), value);
    }
}

/// The root element's `data-{name}` attribute.
pub fn root_attribute(name: &str) -> Option<String> {
    window()?.document()?.document_element()?.get_attribute(&format!("data-{name}"))
}

/// Sends a plain event named `name` to the window (what `web/offline.js` listens to).
pub fn window_event(name: &str) {
    if let (Some(w), Ok(event)) = (window(), web_sys::Event::new(name)) {
        let _ = w.dispatch_event(&event);
    }
}

/// True inside an iframe.
pub fn framed() -> bool {
    let Some(w) = window() else { return false };
    match (w.parent(), w.self_()) {
        (Ok(Some(parent)), me) => !JsValue::from(parent).loose_eq(&JsValue::from(me)),
        _ => false,
    }
}

/// Posts `json` (as a parsed object) to the parent frame, once per allowed target origin;
/// the browser delivers only where the parent's origin matches.
pub fn post_to_parent(json: &str, targets: &[String]) {
    let Some(parent) = window().and_then(|w| w.parent().ok().flatten()) else { return };
    let Ok(value) = js_sys::JSON::parse(json) else { return };
    for t in targets {
        let _ = parent.post_message(&value, t);
    }
}

/// Calls `on_message(origin, json)` for every `message` event; the JSON is the message data
/// as `JSON.stringify` writes it (`None` when it cannot be serialized). Keep the returned
/// closure alive as long as the listener should run.
pub fn listen_messages(mut on_message: impl FnMut(String, Option<String>) + 'static) -> Option<Closure<dyn FnMut(MessageEvent)>> {
    let w = window()?;
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let json = js_sys::JSON::stringify(&e.data()).ok().and_then(|s| s.as_string());
        on_message(e.origin(), json);
    });
    w.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref()).ok()?;
    Some(handler)
}
