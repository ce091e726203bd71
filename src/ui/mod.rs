//! The page: a Yew single-page app on the main thread. It holds the conversation and talks
//! to the inference worker only through `worker::protocol`.
//!
//! Pure parts build everywhere and are tested natively: [`params`] (URL query),
//! [`conversation`] (messages + token history), [`format`] (progress and meter texts),
//! [`persist`] (saved/exported chats), [`embed`] (the host page's `postMessage` API), [`site_config`] (the site's default model).
//! The components need the browser.

pub mod conversation;
pub mod device;
pub mod embed;
pub mod format;
pub mod params;
pub mod persist;
pub mod site_config;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod chat_tools;
#[cfg(target_arch = "wasm32")]
mod composer;
#[cfg(target_arch = "wasm32")]
mod messages;
#[cfg(target_arch = "wasm32")]
mod picker;
#[cfg(target_arch = "wasm32")]
mod settings;
#[cfg(target_arch = "wasm32")]
mod status;
#[cfg(target_arch = "wasm32")]
mod stored;

/// Mounts the app on `<body>`.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
