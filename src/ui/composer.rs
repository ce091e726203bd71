//! The input area: the Message box (Enter sends, Shift+Enter adds a line), Send, Stop while a
//! reply is being written, New chat, and a hint line for refused input.

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ComposerProps {
    pub draft: String,
    /// The model is loaded.
    pub ready: bool,
    pub generating: bool,
    pub hint: Option<String>,
    pub on_input: Callback<String>,
    pub on_send: Callback<()>,
    pub on_stop: Callback<()>,
    pub on_new_chat: Callback<()>,
}

#[component]
pub fn Composer(props: &ComposerProps) -> Html {
    let input = use_node_ref();
    let oninput = props.on_input.reform(|e: InputEvent| e.target_unchecked_into::<HtmlTextAreaElement>().value());
    let onkeydown = {
        let send = props.on_send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
                e.prevent_default();
                send.emit(());
            }
        })
    };
    // After a click on Send, typing goes on in the Message box.
    let onsubmit = {
        let (send, input) = (props.on_send.clone(), input.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            send.emit(());
            if let Some(el) = input.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        })
    };
    let stop = props.on_stop.reform(|_: MouseEvent| ());
    let new_chat = props.on_new_chat.reform(|_: MouseEvent| ());
    let placeholder = if props.ready { "Type a message…" } else { "The model is not loaded yet" };
    html! {
        <form class="composer" {onsubmit}>
             <textarea ref={input} aria-label="Message" rows="2" {placeholder} value={props.draft.clone()}
                {oninput} {onkeydown} aria-describedby="composer-hint" />
            <div class="actions">
                <button type="submit" class="primary" disabled={!props.ready || props.generating}>{ "Send" }</button>
                if props.generating {
                    <button type="button" class="stop" onclick={stop}>{ "Stop" }</button>
                }
                <button type="button" onclick={new_chat}>{ "New chat" }</button>
            </div>
            <p id="composer-hint" class="hint" role="status">{ props.hint.clone().unwrap_or_default() }</p>
        </form>
    }
}
