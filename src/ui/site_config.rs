//! `dialogpt-site.json`, next to `index.html`: the site owner's default model, written by
//! `scripts/build-web.sh --model …`. The page reads it at start; the URL's own parameters win.
//!
//! ```json
//! { "model": "models/dialogpt-medium-q4_k-00001-of-00010.gguf", "quant": "q4_k" }
//! ```
//! `model` is what the `model` URL parameter takes (a Hub repo id, an http(s) URL, or a path
//! relative to the page); `quant` is optional.

use crate::worker::protocol::Quantization;
use serde::Deserialize;

/// The file's name, fetched relative to the page.
pub const SITE_CONFIG_FILE: &str = "dialogpt-site.json";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    model: String,
    #[serde(default)]
    quant: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SiteConfig {
    pub model: String,
    pub quant: Option<Quantization>,
}

impl SiteConfig {
    /// The file's text, or a message for the page that names the file and what is wrong.
    pub fn parse(json: &str) -> Result<SiteConfig, String> {
        let bad = |why: String| format!("{SITE_CONFIG_FILE} is not usable ({why}); the site's default model is ignored");
        let raw: Raw = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let model = raw.model.trim().to_string();
        if model.is_empty() {
            return Err(bad("`model` is empty".into()));
        }
        let quant = match raw.quant.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(q) => Some(q.parse::<Quantization>().map_err(|e| bad(e.to_string()))?),
        };
        Ok(SiteConfig { model, quant })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_model_and_quant() {
        let c = SiteConfig::parse(r#"{"model": " models/x-00001-of-00003.gguf ", "quant": "q4_k"}"#).unwrap();
        assert_eq!(c, SiteConfig { model: "models/x-00001-of-00003.gguf".into(), quant: Some(Quantization::Q4K) });
        let c = SiteConfig::parse(r#"{"model": "microsoft/DialoGPT-small"}"#).unwrap();
        assert_eq!(c.quant, None);
    }

    #[test]
    fn refuses_what_it_cannot_use_with_the_file_named() {
        for bad in ["", "{", r#"{"model": ""}"#, r#"{"model": "a/b", "quant": "q3"}"#, r#"{"modle": "a/b"}"#, "[1]"] {
            let e = SiteConfig::parse(bad).unwrap_err();
            assert!(e.starts_with("dialogpt-site.json is not usable"), "{bad}: {e}");
        }
    }
}
