//! How many bytes a model takes once converted and written as GGUF, from its shapes alone, so
//! the page can say what a choice costs before anything is downloaded.

use super::config::Gpt2Config;
use super::quantize::Quantization;
use super::weights::names::{expected_shape, required_names};

/// GGUF aligns every tensor's data to this many bytes.
const ALIGNMENT: u64 = 32;
/// The GGUF metadata of a model with GPT-2's tokenizer (50257 tokens and 50000 merges as
/// strings, their types, the hyper-parameters): measured on the fixture, which carries the
/// real vocabulary (see the test below).
pub const GPT2_METADATA_BYTES: u64 = 1_766_945;

/// Bytes of a tensor's entry in a GGUF header: name (u64 length + bytes), dims (u32 count +
/// u64 each), type (u32), offset (u64).
pub fn table_entry_bytes(name: &str, dims: usize) -> u64 {
    8 + name.len() as u64 + 4 + 8 * dims as u64 + 4 + 8
}

/// Bytes of the GGUF file a float checkpoint of `cfg` becomes at `quant` (tied head, as
/// DialoGPT has), within a few kB: metadata plus each tensor's entry and aligned data.
pub fn gguf_bytes(cfg: &Gpt2Config, quant: Quantization) -> u64 {
    let tensors: u64 = required_names(cfg.n_layer)
        .iter()
        .map(|name| {
            let shape = expected_shape(cfg, name).expect("a GPT-2 tensor");
            let block = quant.block_type_for(name, &shape);
            let elements: usize = shape.iter().product();
            let data = (elements / block.block() * block.block_bytes()) as u64;
            table_entry_bytes(name, shape.len()) + data.div_ceil(ALIGNMENT) * ALIGNMENT
        })
        .sum();
    GPT2_METADATA_BYTES + tensors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn medium() -> Gpt2Config {
        Gpt2Config {
            vocab_size: 50257,
            n_positions: 1024,
            n_embd: 1024,
            n_layer: 24,
            n_head: 16,
            n_inner: 4096,
            layer_norm_epsilon: 1e-5,
            eos_token_id: 50256,
            bos_token_id: 50256,
        }
    }

    #[test]
    fn medium_sizes_match_the_files_quantize_writes() {
        // `dialogpt quantize` of a medium-shaped checkpoint: 383 MB at q8_0, 219 MB at q4_k
        // (BENCHMARKS.md); f16 and f32 follow from the parameter count (355 M).
        let mb = |q| gguf_bytes(&medium(), q) as f64 / 1e6;
        assert!((mb(Quantization::Q8_0) - 383.0).abs() < 2.0, "{}", mb(Quantization::Q8_0));
        assert!((mb(Quantization::Q4K) - 219.0).abs() < 2.0, "{}", mb(Quantization::Q4K));
        assert!(mb(Quantization::F16) > 700.0 && mb(Quantization::F16) < 720.0, "{}", mb(Quantization::F16));
        assert!(mb(Quantization::F32) > 1400.0 && mb(Quantization::F32) < 1440.0, "{}", mb(Quantization::F32));
    }
}
