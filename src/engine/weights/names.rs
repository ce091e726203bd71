//! Maps the Hub's GPT-2 tensor names onto the GGUF names the engine uses internally.
//!
//! llama.cpp's `gpt2` names are the canonical ones, so a model converted here is written
//! to GGUF without renaming and a GGUF from llama.cpp loads without renaming.

use crate::engine::config::Gpt2Config;

/// How a tensor from a PyTorch/safetensors checkpoint must be changed on the way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub name: String,
    /// GPT-2's Conv1D stores weights as `[in, out]`; everything downstream wants `[out, in]`.
    pub transpose: bool,
}

/// Returns `None` for entries that are not weights (causal-mask buffers) or that GPT-2
/// ties to another weight (`lm_head.weight` is the token embedding).
pub fn map_hub_name(name: &str) -> Option<Mapped> {
    let name = name.strip_prefix("transformer.").unwrap_or(name);
    let plain = |n: &str| Some(Mapped { name: n.to_string(), transpose: false });
    match name {
        "wte.weight" => return plain("token_embd.weight"),
        "wpe.weight" => return plain("position_embd.weight"),
        "ln_f.weight" => return plain("output_norm.weight"),
        "ln_f.bias" => return plain("output_norm.bias"),
        _ => {}
    }
    let rest = name.strip_prefix("h.")?;
    let (layer, leaf) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (gguf_leaf, transpose) = match leaf {
        "ln_1.weight" => ("attn_norm.weight", false),
        "ln_1.bias" => ("attn_norm.bias", false),
        "attn.c_attn.weight" => ("attn_qkv.weight", true),
        "attn.c_attn.bias" => ("attn_qkv.bias", false),
        "attn.c_proj.weight" => ("attn_output.weight", true),
        "attn.c_proj.bias" => ("attn_output.bias", false),
        "ln_2.weight" => ("ffn_norm.weight", false),
        "ln_2.bias" => ("ffn_norm.bias", false),
        "mlp.c_fc.weight" => ("ffn_up.weight", true),
        "mlp.c_fc.bias" => ("ffn_up.bias", false),
        "mlp.c_proj.weight" => ("ffn_down.weight", true),
        "mlp.c_proj.bias" => ("ffn_down.bias", false),
        // attn.bias / attn.masked_bias are causal-mask buffers, not weights.
        _ => return None,
    };
    Some(Mapped { name: format!("blk.{layer}.{gguf_leaf}"), transpose })
}

/// Every tensor a GPT-2 of `n_layer` blocks needs, by GGUF name.
pub fn required_names(n_layer: usize) -> Vec<String> {
    let mut names: Vec<String> = ["token_embd.weight", "position_embd.weight", "output_norm.weight", "output_norm.bias"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for i in 0..n_layer {
        for leaf in [
            "attn_norm.weight", "attn_norm.bias", "attn_qkv.weight", "attn_qkv.bias",
            "attn_output.weight", "attn_output.bias", "ffn_norm.weight", "ffn_norm.bias",
            "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias",
        ] {
            names.push(format!("blk.{i}.{leaf}"));
        }
    }
    names
}

/// The shape (candle's row-major order) `cfg` gives the tensor `name`, if it is one GPT-2 has.
pub fn expected_shape(cfg: &Gpt2Config, name: &str) -> Option<Vec<usize>> {
    let (e, inner, vocab) = (cfg.n_embd, cfg.n_inner, cfg.vocab_size);
    let shape = match name {
        "token_embd.weight" | "output.weight" => vec![vocab, e],
        "position_embd.weight" => vec![cfg.n_positions, e],
        "output_norm.weight" | "output_norm.bias" => vec![e],
        _ => {
            let (layer, leaf) = name.strip_prefix("blk.")?.split_once('.')?;
            if layer.parse::<usize>().ok()? >= cfg.n_layer {
                return None;
            }
            match leaf {
                "attn_norm.weight" | "attn_norm.bias" | "ffn_norm.weight" | "ffn_norm.bias" => vec![e],
                "attn_output.bias" | "ffn_down.bias" => vec![e],
                "attn_qkv.weight" => vec![3 * e, e],
                "attn_qkv.bias" => vec![3 * e],
                "attn_output.weight" => vec![e, e],
                "ffn_up.weight" => vec![inner, e],
                "ffn_up.bias" => vec![inner],
                "ffn_down.weight" => vec![e, inner],
                _ => return None,
            }
        }
    };
    Some(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_with_and_without_prefix() {
        let a = map_hub_name("transformer.h.3.attn.c_attn.weight").unwrap();
        assert_eq!(a, Mapped { name: "blk.3.attn_qkv.weight".into(), transpose: true });
        assert_eq!(map_hub_name("h.3.attn.c_attn.weight"), Some(a));
        assert_eq!(map_hub_name("wte.weight").unwrap().name, "token_embd.weight");
        assert!(!map_hub_name("transformer.h.0.mlp.c_fc.bias").unwrap().transpose);
    }

    #[test]
    fn skips_buffers_and_tied_head() {
        for n in ["transformer.h.0.attn.bias", "h.1.attn.masked_bias", "lm_head.weight", "_metadata"] {
            assert_eq!(map_hub_name(n), None, "{n}");
        }
    }
}
