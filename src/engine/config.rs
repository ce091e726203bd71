//! GPT-2 hyper-parameters, read from the Hub's `config.json` or from GGUF metadata.

use super::error::{EngineError, Result};
use serde::{Deserialize, Serialize};

/// The end-of-text token of GPT-2's vocabulary; DialoGPT uses it to end every turn.
pub const EOS_TOKEN_ID: u32 = 50256;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gpt2Config {
    pub vocab_size: usize,
    pub n_positions: usize,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// Width of the MLP's hidden layer; `None` in config.json means 4 * n_embd.
    pub n_inner: usize,
    pub layer_norm_epsilon: f64,
    pub eos_token_id: u32,
    pub bos_token_id: u32,
}

/// The subset of transformers' GPT2Config that the model needs; unknown keys are ignored.
#[derive(Deserialize)]
struct HfConfigJson {
    vocab_size: Option<usize>,
    n_positions: Option<usize>,
    n_ctx: Option<usize>,
    n_embd: usize,
    n_layer: usize,
    n_head: usize,
    n_inner: Option<usize>,
    layer_norm_epsilon: Option<f64>,
    eos_token_id: Option<u32>,
    bos_token_id: Option<u32>,
    activation_function: Option<String>,
}

impl Gpt2Config {
    /// Parses the Hub's `config.json` of a GPT-2 family model such as `microsoft/DialoGPT-medium`.
    pub fn from_hf_json(bytes: &[u8]) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| EngineError::Config(format!("config.json is not valid JSON: {e}")))?;
        // Another architecture is named as such, not as a missing GPT-2 field.
        if let Some(mt) = value.get("model_type").and_then(|v| v.as_str()) {
            if mt != "gpt2" {
                return Err(EngineError::Config(format!(
                    "model_type is `{mt}`, only `gpt2` (DialoGPT) is supported"
                )));
            }
        }
        let raw: HfConfigJson = serde_json::from_value(value)
            .map_err(|e| EngineError::Config(format!("config.json is not a GPT-2 config: {e}")))?;
        if let Some(act) = &raw.activation_function {
            if act != "gelu_new" && act != "gelu_pytorch_tanh" {
                return Err(EngineError::Config(format!(
                    "activation `{act}` is not supported (DialoGPT uses gelu_new)"
                )));
            }
        }
        let cfg = Gpt2Config {
            vocab_size: raw.vocab_size.unwrap_or(50257),
            n_positions: raw.n_positions.or(raw.n_ctx).unwrap_or(1024),
            n_embd: raw.n_embd,
            n_layer: raw.n_layer,
            n_head: raw.n_head,
            n_inner: raw.n_inner.unwrap_or(4 * raw.n_embd),
            layer_norm_epsilon: raw.layer_norm_epsilon.unwrap_or(1e-5),
            eos_token_id: raw.eos_token_id.unwrap_or(EOS_TOKEN_ID),
            bos_token_id: raw.bos_token_id.unwrap_or(EOS_TOKEN_ID),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(EngineError::Config(m));
        if self.n_embd == 0 || self.n_head == 0 || self.n_layer == 0 || self.vocab_size == 0 {
            return bad(format!("empty dimension in {self:?}"));
        }
        if self.n_embd % self.n_head != 0 {
            return bad(format!("n_embd {} is not divisible by n_head {}", self.n_embd, self.n_head));
        }
        if self.n_positions < 2 {
            return bad(format!("n_positions {} is too small", self.n_positions));
        }
        if self.eos_token_id as usize >= self.vocab_size {
            return bad(format!("eos id {} outside the vocabulary", self.eos_token_id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dialogpt_medium_config() {
        let json = br#"{"activation_function":"gelu_new","architectures":["GPT2LMHeadModel"],
            "bos_token_id":50256,"eos_token_id":50256,"layer_norm_epsilon":1e-05,"model_type":"gpt2",
            "n_ctx":1024,"n_embd":1024,"n_head":16,"n_layer":24,"n_positions":1024,"vocab_size":50257}"#;
        let cfg = Gpt2Config::from_hf_json(json).unwrap();
        assert_eq!((cfg.n_embd, cfg.n_layer, cfg.n_head, cfg.n_inner), (1024, 24, 16, 4096));
        assert_eq!(cfg.head_dim(), 64);
    }

    #[test]
    fn rejects_other_architectures_and_garbage() {
        let llama = br#"{"model_type":"llama","n_embd":8,"n_layer":1,"n_head":2}"#;
        assert!(Gpt2Config::from_hf_json(llama).unwrap_err().to_string().contains("llama"));
        assert!(Gpt2Config::from_hf_json(b"<html>").is_err());
        let odd = br#"{"n_embd":10,"n_layer":1,"n_head":3}"#;
        assert!(Gpt2Config::from_hf_json(odd).is_err());
    }
}
