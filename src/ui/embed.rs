//! The `postMessage` API for a page that embeds the chat in an iframe. Pure (tested
//! natively): which origins may talk to us, what a host may ask, what we tell it.
//!
//! Off unless the page URL has `allow_origins=https://a.example,https://b.example` (or `*`
//! for any origin, which also lets any embedder read the conversation). Messages are
//! objects with `"type": "dialogpt"`:
//! - host → chat: `{action: "send", text}`, `{action: "stop"}`, `{action: "new_chat"}`,
//!   `{action: "regenerate"}` (a new reply to the last message), `{action: "edit", text}`
//!   (the last message replaced by `text`, and answered), `{action: "load", model, quant?}`,
//!   `{action: "status"}`;
//! - chat → host: `{event: "loading", text, fraction}`, `{event: "ready", model}`,
//!   `{event: "error", message}`, `{event: "token", turn, text}`,
//!   `{event: "reply", turn, text, stop}`, `{event: "rejected", reason}`.

use crate::worker::protocol::StopReason;
use serde::Serialize;
use serde_json::Value;

pub const TYPE: &str = "dialogpt";

#[derive(Debug, Clone, PartialEq)]
pub enum AllowList {
    /// No `allow_origins`: the API is off.
    Nobody,
    Any,
    Origins(Vec<String>),
}

/// `https://a.example/,https://b.example:8443` → origins as browsers write them.
pub fn parse_allow_list(value: Option<&str>) -> (AllowList, Vec<String>) {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return (AllowList::Nobody, vec![]) };
    if value == "*" {
        return (AllowList::Any, vec![]);
    }
    let mut origins = Vec::new();
    let mut warnings = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let origin = item.trim_end_matches('/');
        let scheme_ok = origin.starts_with("https://") || origin.starts_with("http://");
        let rest = origin.split_once("://").map(|(_, r)| r).unwrap_or("");
        if !scheme_ok || rest.is_empty() || rest.contains('/') {
            warnings.push(format!("ignored allow_origins entry `{item}`: expected an origin like https://example.com"));
        } else {
            origins.push(origin.to_ascii_lowercase());
        }
    }
    (if origins.is_empty() { AllowList::Nobody } else { AllowList::Origins(origins) }, warnings)
}

impl AllowList {
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            AllowList::Nobody => false,
            AllowList::Any => true,
            AllowList::Origins(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
        }
    }

    /// Where events may be posted: `postMessage` delivers only to a matching parent.
    pub fn targets(&self) -> Vec<String> {
        match self {
            AllowList::Nobody => vec![],
            AllowList::Any => vec!["*".into()],
            AllowList::Origins(list) => list.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum HostCommand {
    Send(String),
    Stop,
    NewChat,
    Regenerate,
    Edit(String),
    Load { model: String, quant: Option<String> },
    Status,
}

/// `Ok(None)` for messages that are not for us (other libraries share `message` events);
/// `Err` for ours with a wrong shape (answered with a `rejected` event).
pub fn parse_command(json: &str) -> Result<Option<HostCommand>, String> {
    let Ok(v) = serde_json::from_str::<Value>(json) else { return Ok(None) };
    if v.get("type").and_then(Value::as_str) != Some(TYPE) {
        return Ok(None);
    }
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let action = text("action").ok_or("`action` must be a string")?;
    Ok(Some(match action.as_str() {
        "send" | "edit" => {
            let t = text("text").ok_or(format!("`{action}` needs a string `text`"))?;
            if t.trim().is_empty() {
                return Err(format!("`{action}` needs a non-empty `text`"));
            }
            if action == "send" {
                HostCommand::Send(t)
            } else {
                HostCommand::Edit(t)
            }
        }
        "stop" => HostCommand::Stop,
        "new_chat" => HostCommand::NewChat,
        "regenerate" => HostCommand::Regenerate,
        "load" => HostCommand::Load { model: text("model").ok_or("`load` needs a string `model`")?, quant: text("quant") },
        "status" => HostCommand::Status,
        other => return Err(format!("unknown action `{other}`")),
    }))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum HostEvent {
    Loading { text: String, fraction: Option<f64> },
    Ready { model: String },
    Error { message: String },
    Token { turn: u64, text: String },
    Reply { turn: u64, text: String, stop: StopReason },
    Rejected { reason: String },
}

impl HostEvent {
    /// The JSON posted to the host (`type` added so hosts can filter).
    pub fn to_json(&self) -> String {
        let mut v = serde_json::to_value(self).expect("plain data serializes");
        v["type"] = TYPE.into();
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists() {
        let (a, w) = parse_allow_list(Some("https://Docs.Example.com/, http://127.0.0.1:8000,javascript:alert(1),https://x.org/path"));
        assert_eq!(a, AllowList::Origins(vec!["https://docs.example.com".into(), "http://127.0.0.1:8000".into()]));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(a.allows("https://docs.example.com") && a.allows("http://127.0.0.1:8000"));
        assert!(!a.allows("https://evil.example.com") && !a.allows("null") && !a.allows("http://127.0.0.1:8001"));
        assert_eq!(parse_allow_list(None).0, AllowList::Nobody);
        assert!(!parse_allow_list(Some("")).0.allows("https://a.b"));
        assert!(parse_allow_list(Some("*")).0.allows("https://any.where"));
        assert_eq!(parse_allow_list(Some("*")).0.targets(), vec!["*"]);
    }

    #[test]
    fn commands() {
        let p = |s: &str| parse_command(s);
        assert_eq!(p(r#"{"type":"dialogpt","action":"send","text":"hi"}"#), Ok(Some(HostCommand::Send("hi".into()))));
        assert_eq!(p(r#"{"type":"dialogpt","action":"stop"}"#), Ok(Some(HostCommand::Stop)));
        assert_eq!(p(r#"{"type":"dialogpt","action":"regenerate"}"#), Ok(Some(HostCommand::Regenerate)));
        assert_eq!(p(r#"{"type":"dialogpt","action":"edit","text":"hi again"}"#), Ok(Some(HostCommand::Edit("hi again".into()))));
        assert!(p(r#"{"type":"dialogpt","action":"edit"}"#).is_err());
        assert!(p(r#"{"type":"dialogpt","action":"edit","text":5}"#).is_err());
        assert_eq!(
            p(r#"{"type":"dialogpt","action":"load","model":"m","quant":"q4_k"}"#),
            Ok(Some(HostCommand::Load { model: "m".into(), quant: Some("q4_k".into()) }))
        );
        // Not ours: ignored silently.
        assert_eq!(p(r#"{"type":"other","action":"send"}"#), Ok(None));
        assert_eq!(p("[1,2]"), Ok(None));
        assert_eq!(p("garbage"), Ok(None));
        // Ours but malformed: rejected with a reason.
        assert!(p(r#"{"type":"dialogpt"}"#).is_err());
        assert!(p(r#"{"type":"dialogpt","action":"send","text":42}"#).is_err());
        assert!(p(r#"{"type":"dialogpt","action":"send","text":"  "}"#).is_err());
        assert!(p(r#"{"type":"dialogpt","action":"format_disk"}"#).unwrap_err().contains("format_disk"));
    }

    #[test]
    fn events_carry_the_type() {
        let j = HostEvent::Reply { turn: 3, text: " hi".into(), stop: StopReason::MaxTokens }.to_json();
        let v: Value = serde_json::from_str(&j).unwrap();
        assert_eq!((v["type"].as_str(), v["event"].as_str(), v["turn"].as_u64()), (Some("dialogpt"), Some("reply"), Some(3)));
        assert_eq!(v["stop"].as_str(), Some("max_tokens"));
    }
}
