//! Model picker: the three DialoGPT sizes or any Hub repo id / URL, a quantization choice, and
//! a Load button.

use crate::engine::Quantization;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

pub const PRESETS: [(&str, &str); 3] = [
    ("microsoft/DialoGPT-small", "DialoGPT small"),
    ("microsoft/DialoGPT-medium", "DialoGPT medium"),
    ("microsoft/DialoGPT-large", "DialoGPT large"),
];
pub const DEFAULT_MODEL: &str = "microsoft/DialoGPT-medium";
const CUSTOM: &str = "custom";

#[derive(Properties, PartialEq)]
pub struct PickerProps {
    /// The model in the page URL, if any (preselected).
    pub initial: Option<String>,
    pub quant: Quantization,
    pub on_load: Callback<(String, Quantization)>,
}

#[component]
pub fn ModelPicker(props: &PickerProps) -> Html {
    let initial = props.initial.clone().unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let is_preset = PRESETS.iter().any(|(id, _)| *id == initial);
    let choice = use_state(|| if is_preset { initial.clone() } else { CUSTOM.to_string() });
    let custom = use_state(|| if is_preset { String::new() } else { initial.clone() });
    let quant = use_state(|| props.quant);

    let on_choice = {
        let choice = choice.clone();
        Callback::from(move |e: Event| choice.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_custom = {
        let custom = custom.clone();
        Callback::from(move |e: InputEvent| custom.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
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
    html! {
        <form class="picker" {onsubmit}>
            <select aria-label="Model" onchange={on_choice}>
                { for PRESETS.iter().map(|(id, label)| html! {
                    <option value={*id} selected={*choice == *id}>{ *label }</option>
                }) }
                <option value={CUSTOM} selected={*choice == CUSTOM}>{ "Other…" }</option>
            </select>
            if *choice == CUSTOM {
                <input type="text" aria-label="Custom model" value={(*custom).clone()} oninput={on_custom}
                    placeholder="owner/repo, or URL of a .gguf file or a folder" />
            }
            <select aria-label="Quantization" onchange={on_quant}>
                { for Quantization::ALL.iter().map(|q| html! {
                    <option value={q.as_str()} selected={*quant == *q}>{ q.as_str() }</option>
                }) }
            </select>
            <button type="submit">{ "Load" }</button>
        </form>
    }
}
