//! Where the model stands: a progress bar with text while downloading, "Ready" with a short
//! summary, or the error with a Retry button (the page never goes blank).

use yew::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub enum LoadStatus {
    Idle,
    Loading { text: String, fraction: Option<f64> },
    /// `keeping`: how far writing the model to storage has got, while it does.
    Ready { summary: String, keeping: Option<String> },
    Failed(String),
    /// The user cancelled the download.
    Cancelled,
}

impl LoadStatus {
    /// The `data-status` hook on the page root.
    pub fn as_str(&self) -> &'static str {
        match self {
            LoadStatus::Idle => "idle",
            LoadStatus::Loading { .. } => "loading",
            LoadStatus::Ready { .. } => "ready",
            LoadStatus::Failed(_) => "error",
            LoadStatus::Cancelled => "cancelled",
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct StatusProps {
    pub status: LoadStatus,
    /// False when there is nothing to retry (e.g. the model name itself was wrong).
    pub can_retry: bool,
    pub on_retry: Callback<()>,
    pub on_cancel: Callback<()>,
}

#[component]
pub fn StatusPanel(props: &StatusProps) -> Html {
    match &props.status {
        LoadStatus::Idle => html! {
            <div class="status idle"><p>{ "Pick a model and press Load. It downloads once and runs on this device." }</p></div>
        },
        LoadStatus::Loading { text, fraction } => html! {
            <div class="status loading">
                // No value = an indeterminate bar, for servers that send no Content-Length.
                <progress max="1" value={fraction.map(|f| f.to_string())} aria-label="Model download"></progress>
                <div class="progress-row">
                    <p class="progress-text">{ text.clone() }</p>
                    <button type="button" onclick={props.on_cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
                </div>
            </div>
        },
        LoadStatus::Cancelled => html! {
            <div class="status idle">
                <p>{ "Download cancelled: nothing was stored. " }</p>
                if props.can_retry {
                    <button type="button" onclick={props.on_retry.reform(|_: MouseEvent| ())}>{ "Load again" }</button>
                }
            </div>
        },
        LoadStatus::Ready { summary, keeping } => html! {
            <div class="status ready">
                <p>
                    <strong>{ "Ready" }</strong>{ " · " }{ summary.clone() }
                    if let Some(k) = keeping {
                        <span class="keeping">{ " · " }{ k.clone() }</span>
                    }
                </p>
            </div>
        },
        LoadStatus::Failed(message) => {
            let retry = props.on_retry.reform(|_: MouseEvent| ());
            html! {
                <div class="status error" role="alert">
                    <p><strong>{ "Could not load the model. " }</strong>{ message.clone() }</p>
                    if props.can_retry {
                        <button type="button" onclick={retry}>{ "Retry" }</button>
                    }
                </div>
            }
        }
    }
}
