//! Export the conversation (JSON to import again, Markdown to read) and import a JSON file.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChatToolsProps {
    pub has_messages: bool,
    pub on_export_json: Callback<()>,
    pub on_export_markdown: Callback<()>,
    pub on_import: Callback<web_sys::File>,
}

#[component]
pub fn ChatTools(props: &ChatToolsProps) -> Html {
    let json = props.on_export_json.reform(|_: MouseEvent| ());
    let md = props.on_export_markdown.reform(|_: MouseEvent| ());
    let onchange = {
        let on_import = props.on_import.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                on_import.emit(file);
            }
            // The same file can be picked again later.
            input.set_value("");
        })
    };
    html! {
        <div class="chat-tools">
            <button type="button" onclick={json} disabled={!props.has_messages}>{ "Export JSON" }</button>
            <button type="button" onclick={md} disabled={!props.has_messages}>{ "Export Markdown" }</button>
            <label class="button">{ "Import…" }
                <input type="file" accept=".json,application/json" aria-label="Import chat" class="sr-only" {onchange} />
            </label>
        </div>
    }
}
