//! What a model costs before it is loaded: the bytes it downloads and the bytes it keeps in
//! browser storage at each quantization. Known for the DialoGPT repos without asking anyone;
//! for other sources the worker reads `config.json` and asks the server for the weights' size.

use super::protocol::{ModelSizes, ModelSource, Quantization};
use crate::engine::stored_size::gguf_bytes;
use crate::engine::Gpt2Config;

/// config.json, vocab.json and merges.txt of a GPT-2 repo.
const SMALL_FILES: u64 = 1_500_000;

/// The DialoGPT checkpoints on the Hub: (repo, n_embd, n_layer, n_head, pytorch_model.bin
/// bytes). The 2020 files are fp16 with the head stored twice and the attention masks kept.
const DIALOGPT: [(&str, usize, usize, usize, u64); 3] = [
    ("microsoft/DialoGPT-small", 768, 12, 12, 351_265_583),
    ("microsoft/DialoGPT-medium", 1024, 24, 16, 863_128_119),
    ("microsoft/DialoGPT-large", 1280, 36, 20, 1_752_292_771),
];

fn gpt2(n_embd: usize, n_layer: usize, n_head: usize) -> Gpt2Config {
    Gpt2Config {
        vocab_size: 50257,
        n_positions: 1024,
        n_embd,
        n_layer,
        n_head,
        n_inner: 4 * n_embd,
        layer_norm_epsilon: 1e-5,
        eos_token_id: 50256,
        bos_token_id: 50256,
    }
}

/// Stored bytes per quantization for a float checkpoint of `cfg`.
pub fn stored_per_quant(cfg: &Gpt2Config) -> Vec<(Quantization, Option<u64>)> {
    Quantization::ALL.iter().map(|&q| (q, Some(gguf_bytes(cfg, q)))).collect()
}

/// The sizes of a DialoGPT repo on the Hub, known without a request.
pub fn known(source: &ModelSource) -> Option<ModelSizes> {
    let ModelSource::Hub { repo, .. } = source else { return None };
    let &(_, n_embd, n_layer, n_head, weights) = DIALOGPT.iter().find(|d| d.0.eq_ignore_ascii_case(repo))?;
    Some(ModelSizes {
        source: source.clone(),
        download: Some(weights + SMALL_FILES),
        stored: stored_per_quant(&gpt2(n_embd, n_layer, n_head)),
        error: None,
    })
}

/// A `.gguf` file is kept as downloaded, whatever the quantization asked for.
pub fn of_gguf(source: &ModelSource, bytes: Option<u64>) -> ModelSizes {
    ModelSizes { source: source.clone(), download: bytes, stored: Quantization::ALL.iter().map(|&q| (q, bytes)).collect(), error: None }
}

#[cfg(target_arch = "wasm32")]
pub use fetched::sizes;

#[cfg(target_arch = "wasm32")]
mod fetched {
    use super::*;
    use crate::worker::download::total_size;
    use crate::worker::fetch;
    use crate::worker::source::FileRole;

    /// Bytes of the file at the first of `urls` that exists (HEAD: no body is read).
    async fn head_size(urls: &[String]) -> Result<Option<u64>, String> {
        for url in urls {
            let r = fetch::response(fetch::start_with(url, "HEAD", None), url).await?;
            if r.ok() {
                return Ok(fetch::content_length(&r));
            }
            if r.status() != 404 {
                return Err(format!("the server answered {} for {url}", r.status()));
            }
        }
        Err("no weight file found".into())
    }

    async fn config(url: &str) -> Result<Gpt2Config, String> {
        let r = fetch::response(fetch::start(url), url).await?;
        if !r.ok() {
            return Err(format!("config.json: the server answered {}", r.status()));
        }
        let text = wasm_bindgen_futures::JsFuture::from(r.text().map_err(|e| crate::js_message::js_message(&e))?)
            .await
            .map_err(|e| crate::js_message::js_message(&e))?;
        Gpt2Config::from_hf_json(text.as_string().unwrap_or_default().as_bytes()).map_err(|e| e.to_string())
    }

    /// Sizes of any source: the known ones at once, others by asking their server.
    pub async fn sizes(source: &ModelSource) -> ModelSizes {
        if let Some(s) = known(source) {
            return s;
        }
        let files = source.files();
        let weights = files.iter().find(|f| f.role == FileRole::Weights).expect("every source has weights");
        if matches!(source, ModelSource::Gguf { .. }) {
            // The file, or every shard of a split one.
            return match total_size(&files).await {
                Ok(n) => of_gguf(source, n),
                Err(e) => ModelSizes { error: Some(e), ..of_gguf(source, None) },
            };
        }
        let config_url = &files.iter().find(|f| f.role == FileRole::Config).expect("a Hub layout has a config").urls[0];
        let (cfg, size) = (config(config_url).await, head_size(&weights.urls).await);
        let unknown = Quantization::ALL.iter().map(|&q| (q, None)).collect();
        let error = [cfg.as_ref().err(), size.as_ref().err()].into_iter().flatten().next().cloned();
        ModelSizes {
            source: source.clone(),
            download: size.ok().flatten().map(|n| n + SMALL_FILES),
            stored: cfg.map(|c| stored_per_quant(&c)).unwrap_or(unknown),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialogpt_sizes_are_known() {
        let s = known(&ModelSource::Hub { hub: "https://huggingface.co".into(), repo: "microsoft/DialoGPT-medium".into() }).unwrap();
        assert_eq!(s.download, Some(863_128_119 + SMALL_FILES));
        let q8 = s.stored.iter().find(|(q, _)| *q == Quantization::Q8_0).unwrap().1.unwrap();
        let q4 = s.stored.iter().find(|(q, _)| *q == Quantization::Q4K).unwrap().1.unwrap();
        assert!(q4 < q8 && q8 < 863_128_119, "{q4} {q8}");
        assert!(known(&ModelSource::Hub { hub: "x".into(), repo: "gpt2".into() }).is_none());
        let g = of_gguf(&ModelSource::Gguf { url: "m.gguf".into() }, Some(42));
        assert!(g.stored.iter().all(|(_, n)| *n == Some(42)));
    }
}
