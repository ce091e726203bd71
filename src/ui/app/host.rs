//! The embedding API of the root component: commands a host page sends with `postMessage`
//! (checked against the `allow_origins` list) and the events posted back to it.

use super::super::browser;
use super::super::embed::{parse_command, AllowList, HostCommand, HostEvent};
use super::super::status::LoadStatus;
use super::App;
use crate::worker::protocol::Quantization;

impl App {
    /// Tells the host page (when embedded and allowed) what happened.
    pub(super) fn emit(&self, event: HostEvent) {
        if self.params.allow != AllowList::Nobody && browser::framed() {
            browser::post_to_parent(&event.to_json(), &self.params.allow.targets());
        }
    }

    pub(super) fn on_host(&mut self, origin: String, json: Option<String>) {
        if !self.params.allow.allows(&origin) {
            return; // not an origin the page was told to trust: ignored, no answer
        }
        let command = match json.as_deref().map(parse_command) {
            None => Err("the message is not plain data".to_string()),
            Some(r) => r,
        };
        let result = match command {
            Ok(None) => return, // someone else's message
            Ok(Some(HostCommand::Send(text))) => self.send_text(&text),
            Ok(Some(HostCommand::Stop)) => Ok(self.stop()),
            Ok(Some(HostCommand::NewChat)) => Ok(self.new_chat()),
            Ok(Some(HostCommand::Regenerate)) => self.regenerate(),
            Ok(Some(HostCommand::Edit(text))) => self.edit_last(&text),
            Ok(Some(HostCommand::Load { model, quant })) => {
                match quant.map(|q| q.parse::<Quantization>()).transpose() {
                    Ok(q) => Ok(self.load(&model, q.or(self.params.quant).unwrap_or_default())),
                    Err(e) => Err(e.to_string()),
                }
            }
            Ok(Some(HostCommand::Status)) => {
                let event = match (&self.model, &self.status) {
                    (Some(m), _) => HostEvent::Ready { model: m.name.clone() },
                    (None, LoadStatus::Failed(e)) => HostEvent::Error { message: e.clone() },
                    (None, LoadStatus::Loading { text, fraction }) => HostEvent::Loading { text: text.clone(), fraction: *fraction },
                    _ => HostEvent::Loading { text: "no model loaded".into(), fraction: None },
                };
                Ok(self.emit(event))
            }
            Err(reason) => Err(reason),
        };
        if let Err(reason) = result {
            self.emit(HostEvent::Rejected { reason });
        }
    }
}
