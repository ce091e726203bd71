//! The generation settings: greedy by default (the classic demo's replies); sampling with
//! temperature, top-k, top-p, repetition penalty, no-repeat n-gram, reply length and seed.
//! A value that does not parse or validate is shown as an error and not applied.

use crate::worker::protocol::GenerationConfig;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub config: GenerationConfig,
    /// What Reset goes back to: the page's URL parameters, else the greedy defaults.
    pub defaults: GenerationConfig,
    pub on_change: Callback<GenerationConfig>,
}

type Apply = fn(&mut GenerationConfig, &str) -> Result<(), String>;

fn num<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim().parse().map_err(|_| format!("`{v}` is not a valid number"))
}

/// (label, help, current value, step, how to apply a typed value)
fn fields(c: &GenerationConfig) -> [(&'static str, &'static str, String, &'static str, Apply); 7] {
    [
        ("Max new tokens", "Longest reply, in tokens", c.max_new_tokens.to_string(), "1", |c, v| Ok(c.max_new_tokens = num(v)?)),
        ("Temperature", "0 = greedy (always the most likely token)", c.temperature.to_string(), "0.05", |c, v| Ok(c.temperature = num(v)?)),
        ("Top-k", "Sample among the k most likely tokens; 0 = off", c.top_k.to_string(), "1", |c, v| Ok(c.top_k = num(v)?)),
        ("Top-p", "Sample among the most likely tokens holding this probability; 1 = off", c.top_p.to_string(), "0.05", |c, v| Ok(c.top_p = num(v)?)),
        ("Repetition penalty", "Above 1 discourages repeating earlier tokens; 1 = off", c.repetition_penalty.to_string(), "0.05", |c, v| {
            Ok(c.repetition_penalty = num(v)?)
        }),
        ("No-repeat n-gram", "Never repeat a sequence of this many tokens; 0 = off", c.no_repeat_ngram_size.to_string(), "1", |c, v| {
            Ok(c.no_repeat_ngram_size = num(v)?)
        }),
        ("Seed", "Same seed, same settings and same chat give the same sampled reply", c.seed.to_string(), "1", |c, v| Ok(c.seed = num(v)?)),
    ]
}

#[component]
pub fn Settings(props: &SettingsProps) -> Html {
    let error = use_state(|| None::<String>);
    // What is typed in a field until it is applied: the page re-renders often (download
    // progress, streamed tokens) and would otherwise put the applied value back mid-typing.
    let typing = use_state(|| None::<(usize, String)>);
    let inputs = fields(&props.config).into_iter().enumerate().map(|(i, (label, help, value, step, apply))| {
        let value = match &*typing {
            Some((field, text)) if *field == i => text.clone(),
            _ => value,
        };
        let oninput = {
            let typing = typing.clone();
            Callback::from(move |e: InputEvent| typing.set(Some((i, e.target_unchecked_into::<HtmlInputElement>().value()))))
        };
        // Applied when the field is left or Enter is pressed in it.
        let commit = {
            let (config, on_change, error, typing) = (props.config.clone(), props.on_change.clone(), error.clone(), typing.clone());
            Callback::from(move |typed: String| {
                let mut next = config.clone();
                match apply(&mut next, &typed).and_then(|_| next.validate().map_err(|e| e.to_string())) {
                    Ok(()) => {
                        error.set(None);
                        typing.set(None);
                        on_change.emit(next);
                    }
                    // The refused text stays in the field, with the reason beside it.
                    Err(m) => error.set(Some(format!("{label}: {m}"))),
                }
            })
        };
        let onchange = commit.reform(|e: Event| e.target_unchecked_into::<HtmlInputElement>().value());
        let onkeydown = {
            let commit = commit.clone();
            Callback::from(move |e: KeyboardEvent| {
                if e.key() == "Enter" {
                    commit.emit(e.target_unchecked_into::<HtmlInputElement>().value());
                }
            })
        };
        let id = format!("setting-{i}");
        html! {
            <div class="field">
                <label for={id.clone()} title={help}>{ label }</label>
                <input {id} type="number" inputmode="decimal" min="0" {step} {value} {oninput} {onchange} {onkeydown} title={help} />
            </div>
        }
    });
    let reset = {
        let (on_change, error, defaults, typing) = (props.on_change.clone(), error.clone(), props.defaults.clone(), typing.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            typing.set(None);
            on_change.emit(defaults.clone());
        })
    };
    let mode = if props.config.is_greedy() { "greedy" } else { "sampling" };
    html! {
        <details class="panel settings">
            <summary>{ "Settings" }<span class="summary-note">{ mode }</span></summary>
            <div class="fields">{ for inputs }</div>
            <p class="help">{ "Greedy (temperature 0) gives the same replies as the classic transformers demo. Changes apply to the next message." }</p>
            if let Some(e) = (*error).clone() {
                <p class="hint" role="alert">{ e }</p>
            }
            <button type="button" onclick={reset}>{ "Reset to defaults" }</button>
        </details>
    }
}
