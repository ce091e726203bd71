//! Model picker: the three DialoGPT sizes or any Hub repo id / URL, a quantization choice, and
//! a Load button; under them, what the choice downloads and keeps on this device, and the
//! choice suggested for this device. Models already stored on this device (they open without
//! the network) are marked in both lists.

use super::format::mb;
use crate::worker::protocol::{ModelSizes, Quantization};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

pub const PRESETS: [(&str, &str); 3] = [
    ("microsoft/DialoGPT-small", "DialoGPT small"),
    ("microsoft/DialoGPT-medium", "DialoGPT medium"),
    ("microsoft/DialoGPT-large", "DialoGPT large"),
];
const CUSTOM: &str = "custom";

#[derive(Properties, PartialEq)]
pub struct PickerProps {
    /// Preselected: the model in the page URL, else the one suggested for this device.
    pub initial: String,
    pub quant: Quantization,
    /// Why the suggested choice suits this device (one line).
    pub suggestion: String,
    /// Sizes of the model currently picked, once the worker has answered.
    pub sizes: Option<ModelSizes>,
    /// The models stored on this device: (source label, `q8_0`… or `gguf`, bytes).
    pub on_device: Vec<(String, String, u64)>,
    /// The picked model changed (its sizes are wanted).
    pub on_pick: Callback<String>,
    pub on_load: Callback<(String, Quantization)>,
}

fn stored_size(sizes: Option<&ModelSizes>, q: Quantization) -> Option<u64> {
    sizes?.stored.iter().find(|(k, _)| *k == q)?.1
}

/// The stored size of `model` at `quant` (or, without a quant, at any), when it is stored
/// here. A `.gguf` is kept as downloaded, whatever the quantization asked for.
fn stored_here(on_device: &[(String, String, u64)], model: &str, quant: Option<Quantization>) -> Option<u64> {
    let model = model.trim();
    let found = on_device
        .iter()
        .find(|(label, q, _)| label.eq_ignore_ascii_case(model) && quant.is_none_or(|quant| q == quant.as_str() || q == "gguf"));
    found.map(|(_, _, bytes)| *bytes)
}

/// What the option of a stored choice adds to its name.
const ON_DEVICE: &str = " · on this device";

/// "Download 863 MB · keeps 383 MB on this device", or that it is stored already.
fn sizes_line(sizes: Option<&ModelSizes>, quant: Quantization, stored: Option<u64>) -> String {
    if let Some(bytes) = stored {
        return format!("Stored on this device ({} MB): it opens without the network", mb(bytes));
    }
    let Some(s) = sizes else { return "Finding out the download size…".into() };
    let download = s.download.map_or("download size unknown".to_string(), |d| format!("Download {} MB", mb(d)));
    let kept = stored_size(Some(s), quant).map_or(String::new(), |k| format!(" · keeps {} MB on this device", mb(k)));
    let error = s.error.as_ref().map_or(String::new(), |e| format!(" ({e})"));
    format!("{download}{kept}{error}")
}

#[component]
pub fn ModelPicker(props: &PickerProps) -> Html {
    let is_preset = PRESETS.iter().any(|(id, _)| *id == props.initial);
    let choice = use_state(|| if is_preset { props.initial.clone() } else { CUSTOM.to_string() });
    let custom = use_state(|| if is_preset { String::new() } else { props.initial.clone() });
    let quant = use_state(|| props.quant);
    {
        let (on_pick, initial) = (props.on_pick.clone(), props.initial.clone());
        use_effect_with((), move |_| on_pick.emit(initial));
    }
    let on_choice = {
        let (choice, custom, on_pick) = (choice.clone(), custom.clone(), props.on_pick.clone());
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            on_pick.emit(if value == CUSTOM { (*custom).clone() } else { value.clone() });
            choice.set(value);
        })
    };
    let on_custom = {
        let custom = custom.clone();
        Callback::from(move |e: InputEvent| custom.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    // Sizes of a typed model are asked for when the field is left, not at every key.
    let on_custom_done = props.on_pick.reform(|e: Event| e.target_unchecked_into::<HtmlInputElement>().value());
    let on_quant = {
        let quant = quant.clone();
        Callback::from(move |e: Event| {
            if let Ok(q) = e.target_unchecked_into::<HtmlSelectElement>().value().parse() {
                quant.set(q);
            }
        })
    };
    let onsubmit = {
        let (choice, custom, quant, on_load) = (choice.clone(), custom.clone(), quant.clone(), props.on_load.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let model = if *choice == CUSTOM { custom.trim().to_string() } else { (*choice).clone() };
            on_load.emit((model, *quant));
        })
    };
    let sizes = props.sizes.as_ref();
    let picked = if *choice == CUSTOM { (*custom).clone() } else { (*choice).clone() };
    let here = |model: &str, q: Option<Quantization>| stored_here(&props.on_device, model, q);
    html! {
        <form class="picker" {onsubmit}>
            <div class="picker-row">
                <select aria-label="Model" onchange={on_choice}>
                    { for PRESETS.iter().map(|(id, label)| html! {
                        <option value={*id} selected={*choice == *id}>{ format!("{label}{}", if here(id, None).is_some() { ON_DEVICE } else { "" }) }</option>
                    }) }
                    <option value={CUSTOM} selected={*choice == CUSTOM}>{ "Other…" }</option>
                </select>
                if *choice == CUSTOM {
                    <input type="text" aria-label="Custom model" value={(*custom).clone()} oninput={on_custom}
                        onchange={on_custom_done} placeholder="owner/repo, or URL of a .gguf file or a folder" />
                }
                <select aria-label="Quantization" onchange={on_quant}>
                    { for Quantization::ALL.iter().map(|q| html! {
                        <option value={q.as_str()} selected={*quant == *q}>{ match (here(&picked, Some(*q)), stored_size(sizes, *q)) {
                            (Some(n), _) => format!("{} · {} MB{ON_DEVICE}", q.as_str(), mb(n)),
                            (None, Some(n)) => format!("{} · {} MB", q.as_str(), mb(n)),
                            (None, None) => q.as_str().to_string(),
                        } }</option>
                    }) }
                </select>
                <button type="submit">{ "Load" }</button>
            </div>
            <p class="picker-note sizes">{ sizes_line(sizes, *quant, here(&picked, Some(*quant))) }</p>
            <p class="picker-note suggestion">{ props.suggestion.clone() }</p>
        </form>
    }
}
