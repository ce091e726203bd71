//! The models kept in browser storage: name, quantization, size, date, and a Delete button
//! for each, with how much of the site's storage quota is used.

use super::format::mb;
use crate::worker::protocol::{StoredListing, StoredModel};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StoredProps {
    /// `None` until the worker has answered.
    pub listing: Option<StoredListing>,
    pub on_refresh: Callback<()>,
    pub on_delete: Callback<String>,
}

fn row(m: &StoredModel, on_delete: &Callback<String>) -> Html {
    let key = m.key.clone();
    let delete = on_delete.reform(move |_: MouseEvent| key.clone());
    let date = js_sys::Date::new(&m.stored_ms.into()).to_locale_date_string("default", &wasm_bindgen::JsValue::UNDEFINED);
    let name = format!("{} ({})", m.label, m.quant);
    html! {
        <li class="stored-model" data-key={m.key.clone()} data-store={m.store.as_str()}>
            <span class="name" title={m.label.clone()}>{ name.clone() }</span>
            <span class="size">{ format!("{} MB", mb(m.bytes)) }</span>
            <span class="date">{ String::from(date) }</span>
            <button type="button" onclick={delete} aria-label={format!("Delete {name}")}>{ "Delete" }</button>
        </li>
    }
}

#[component]
pub fn StoredModels(props: &StoredProps) -> Html {
    let ontoggle = props.on_refresh.reform(|_: Event| ());
    let summary = match &props.listing {
        Some(l) => {
            let total: u64 = l.models.iter().map(|m| m.bytes).sum();
            format!("Stored models ({}, {} MB)", l.models.len(), mb(total))
        }
        None => "Stored models".to_string(),
    };
    html! {
        <details class="panel stored" {ontoggle}>
            <summary>{ summary }</summary>
            { match &props.listing {
                None => html! { <p class="help">{ "Reading browser storage…" }</p> },
                Some(l) => html! {
                    <>
                    if let Some(e) = &l.error {
                        <p class="hint" role="alert">{ format!("Browser storage could not be read: {e}") }</p>
                    } else if l.models.is_empty() {
                        <p class="help">{ "No model stored yet. A loaded model is kept here so the next visit needs no download." }</p>
                    }
                    <ul class="stored-list">{ for l.models.iter().map(|m| row(m, &props.on_delete)) }</ul>
                    if let (Some(u), Some(q)) = (l.usage, l.quota) {
                        <p class="help">{ format!("This site uses {} MB of {} MB the browser allows.", mb(u as u64), mb(q as u64)) }</p>
                    }
                    </>
                },
            } }
        </details>
    }
}
