//! What the root component shows: header and picker, status, messages, composer, meter and
//! the panels, wired to the component's messages.

use super::super::chat_tools::ChatTools;
use super::super::composer::Composer;
use super::super::format::context_meter;
use super::super::messages::MessageList;
use super::super::picker::ModelPicker;
use super::super::settings::Settings;
use super::super::status::StatusPanel;
use super::super::stored::StoredModels;
use super::{App, Msg};
use crate::worker::protocol::Quantization;
use yew::prelude::*;

impl App {
    /// The stored models, for the picker's "on this device" marks.
    fn on_device(&self) -> Vec<(String, String, u64)> {
        let models = self.stored.as_ref().map_or(&[][..], |s| &s.models[..]);
        models.iter().map(|m| (m.label.clone(), m.quant.clone(), m.bytes)).collect()
    }

    pub(super) fn render(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let meter = self.model.as_ref().map(|m| context_meter(self.chat.history.len(), m.n_positions));
        // An embed that names its model needs no picker.
        let show_header = !(self.params.compact && self.params.model.is_some());
        html! {
            <main class="app" data-status={self.status.as_str()}>
                if show_header {
                    <header class="top">
                        <h1>{ "DialoGPT" }<span class="tag">{ "runs in your browser" }</span></h1>
                        // Keyed by the model: the site's default, read after the first render,
                        // starts the picker again with it.
                        <ModelPicker key={self.params.model.clone().unwrap_or_default()}
                            initial={self.params.model.clone().unwrap_or_else(|| self.suggestion.model.to_string())}
                            quant={self.params.quant.unwrap_or(if self.params.model.is_some() { Quantization::default() } else { self.suggestion.quant })}
                            suggestion={self.suggestion.why} sizes={self.sizes.clone()} on_device={self.on_device()}
                            on_pick={link.callback(Msg::Picked)} on_load={link.callback(|(m, q)| Msg::Load(m, q))} />
                    </header>
                }
                if self.update_ready {
                    <p class="update" role="status">
                        { "A new version of this app is available. " }
                        <button onclick={link.callback(|_| Msg::AcceptUpdate)}>{ "Reload" }</button>
                    </p>
                }
                { for self.params.warnings.iter().chain(&self.storage_warning).map(|w| html! { <p class="warning">{ w.clone() }</p> }) }
                <StatusPanel status={self.status.clone()} can_retry={self.last_load.is_some()}
                    on_retry={link.callback(|_| Msg::Retry)} on_cancel={link.callback(|_| Msg::CancelLoad)} />
                <MessageList messages={self.chat.messages.clone()} greeting={self.params.greeting.clone()}
                    copied={self.copied} reading={self.chat.reading} on_copy={link.callback(Msg::Copy)}
                    can_redo={self.chat.last_turn().is_some() && self.model.is_some()}
                    on_regenerate={link.callback(|_| Msg::Regenerate)} on_edit={link.callback(|_| Msg::Edit)} />
                <Composer draft={self.draft.clone()} ready={self.model.is_some()} generating={self.chat.generating}
                    hint={self.hint.clone()} on_input={link.callback(Msg::Draft)} on_send={link.callback(|_| Msg::Send)}
                    on_stop={link.callback(|_| Msg::Stop)} on_new_chat={link.callback(|_| Msg::NewChat)} />
                <footer class="meter" data-worker-memory={self.worker_memory.map(|m| m.to_string())}>
                    <span class="context" title="Tokens of the conversation the model sees / its window">
                        { meter.unwrap_or_default() }
                    </span>
                    <span class="speed">{ self.speed.clone().unwrap_or_default() }</span>
                </footer>
                if !self.params.compact {
                    <div class="panels">
                        <Settings config={self.settings.clone()} defaults={self.params.generation.clone()} on_change={link.callback(Msg::Settings)} />
                        <StoredModels listing={self.stored.clone()} on_refresh={link.callback(|_| Msg::RefreshStored)}
                            on_delete={link.callback(Msg::DeleteStored)} />
                        <ChatTools has_messages={!self.chat.messages.is_empty()}
                            on_export_json={link.callback(|_| Msg::ExportJson)}
                            on_export_markdown={link.callback(|_| Msg::ExportMarkdown)}
                            on_import={link.callback(Msg::Import)} />
                    </div>
                }
                <div class="sr-only" aria-live="polite">{ self.announce.clone() }</div>
            </main>
        }
    }
}
