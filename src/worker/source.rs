//! Turns what the user typed (`microsoft/DialoGPT-medium`, a `.gguf` URL, a folder URL) into
//! the list of files to download. Pure string work, tested natively.

use super::protocol::ModelSource;
use crate::engine::weights::gguf_split::ShardName;

/// What a file is for; the loader needs the small ones before the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    Config,
    Vocab,
    Merges,
    Weights,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    pub name: String,
    pub role: FileRole,
    /// Candidate URLs, tried in order while the server answers 404.
    pub urls: Vec<String>,
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://") || s.starts_with("blob:")
}

/// The path part of a URL, without query or fragment, for extension checks.
fn path_of(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn is_repo_id(s: &str) -> bool {
    let ok_part = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() <= 2 && parts.iter().all(|p| ok_part(p)) && !s.starts_with('.')
}

impl ModelSource {
    /// `model` as given in the URL or the picker; relative URLs must already be resolved
    /// against the page (the page does that, the worker has no page URL).
    pub fn parse(model: &str, hub: &str) -> Result<ModelSource, String> {
        let model = model.trim();
        if model.is_empty() {
            return Err("no model given: pick one or type a Hub repo id / URL".into());
        }
        if is_url(model) {
            let url = model.to_string();
            return Ok(if path_of(model).to_ascii_lowercase().ends_with(".gguf") {
                // A split GGUF is given by its first shard, as llama.cpp takes it.
                if let Some(shard) = ShardName::parse(&url) {
                    shard.require_first().map_err(|e| e.to_string())?;
                }
                ModelSource::Gguf { url }
            } else {
                ModelSource::Folder { url: url.trim_end_matches('/').to_string() }
            });
        }
        if is_repo_id(model) {
            let hub = hub.trim().trim_end_matches('/');
            if !is_url(hub) {
                return Err(format!("the hub `{hub}` is not an http(s) URL"));
            }
            return Ok(ModelSource::Hub { hub: hub.to_string(), repo: model.to_string() });
        }
        Err(format!(
            "`{model}` is neither a Hub repo id (like microsoft/DialoGPT-medium) nor an http(s) URL"
        ))
    }

    /// Short name for the UI.
    pub fn label(&self) -> String {
        match self {
            ModelSource::Hub { repo, .. } => repo.clone(),
            ModelSource::Gguf { url } | ModelSource::Folder { url } => url.clone(),
        }
    }

    fn base(&self) -> Option<String> {
        match self {
            ModelSource::Hub { hub, repo } => Some(format!("{hub}/{repo}/resolve/main")),
            ModelSource::Folder { url } => Some(url.clone()),
            ModelSource::Gguf { .. } => None,
        }
    }

    /// A split GGUF: several weight files, read in order as one model.
    pub fn is_split(&self) -> bool {
        matches!(self, ModelSource::Gguf { url } if ShardName::parse(url).is_some_and(|s| s.count > 1))
    }

    /// The files to fetch, small ones first; a split GGUF's shards in order.
    pub fn files(&self) -> Vec<FileSpec> {
        let Some(base) = self.base() else {
            let ModelSource::Gguf { url } = self else { unreachable!() };
            let urls = ShardName::parse(url).map_or_else(|| vec![url.clone()], |s| s.all());
            return urls
                .into_iter()
                .map(|u| {
                    let name = path_of(&u).rsplit('/').next().unwrap_or("model.gguf").to_string();
                    FileSpec { name, role: FileRole::Weights, urls: vec![u] }
                })
                .collect();
        };
        let one = |name: &str, role| FileSpec { name: name.into(), role, urls: vec![format!("{base}/{name}")] };
        vec![
            one("config.json", FileRole::Config),
            one("vocab.json", FileRole::Vocab),
            one("merges.txt", FileRole::Merges),
            FileSpec {
                name: "pytorch_model.bin".into(),
                role: FileRole::Weights,
                // Newer GPT-2 repos ship only safetensors.
                urls: vec![format!("{base}/pytorch_model.bin"), format!("{base}/model.safetensors")],
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::DEFAULT_HUB;

    #[test]
    fn hub_repo_files() {
        let s = ModelSource::parse("microsoft/DialoGPT-small", "http://127.0.0.1:9/").unwrap();
        assert_eq!(s, ModelSource::Hub { hub: "http://127.0.0.1:9".into(), repo: "microsoft/DialoGPT-small".into() });
        let f = s.files();
        assert_eq!(f[0].urls[0], "http://127.0.0.1:9/microsoft/DialoGPT-small/resolve/main/config.json");
        assert_eq!(f[3].role, FileRole::Weights);
        assert_eq!(f[3].urls.len(), 2);
    }

    #[test]
    fn gguf_and_folder_urls() {
        let g = ModelSource::parse("https://x.org/m/model-q8_0.gguf?download=1", DEFAULT_HUB).unwrap();
        assert!(matches!(g, ModelSource::Gguf { .. }));
        assert_eq!(g.files()[0].name, "model-q8_0.gguf");
        let d = ModelSource::parse("https://x.org/models/tiny/", DEFAULT_HUB).unwrap();
        assert_eq!(d.files()[1].urls[0], "https://x.org/models/tiny/vocab.json");
    }

    #[test]
    fn split_gguf_is_every_shard_from_the_first() {
        let s = ModelSource::parse("http://h/models/m-q4_k-00001-of-00003.gguf", DEFAULT_HUB).unwrap();
        assert!(s.is_split());
        let f = s.files();
        assert_eq!(f.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["m-q4_k-00001-of-00003.gguf", "m-q4_k-00002-of-00003.gguf", "m-q4_k-00003-of-00003.gguf"]);
        assert!(f.iter().all(|f| f.role == FileRole::Weights && f.urls.len() == 1));
        assert_eq!(f[2].urls[0], "http://h/models/m-q4_k-00003-of-00003.gguf");
        let e = ModelSource::parse("http://h/models/m-q4_k-00002-of-00003.gguf", DEFAULT_HUB).unwrap_err();
        assert!(e.contains("shard 2 of 3") && e.contains("m-q4_k-00001-of-00003.gguf"), "{e}");
        assert!(!ModelSource::parse("http://h/m.gguf", DEFAULT_HUB).unwrap().is_split());
    }

    #[test]
    fn refuses_nonsense() {
        assert!(ModelSource::parse("", DEFAULT_HUB).is_err());
        assert!(ModelSource::parse("a b", DEFAULT_HUB).is_err());
        assert!(ModelSource::parse("a/b/c", DEFAULT_HUB).is_err());
        assert!(ModelSource::parse("gpt2", "ftp://hub").is_err());
        assert!(ModelSource::parse("gpt2", DEFAULT_HUB).is_ok());
    }
}
