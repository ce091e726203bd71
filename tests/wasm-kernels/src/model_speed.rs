//! Whole-model prefill and decode speed on wasm32 in node (`tests/wasm-kernels/run.sh
//! model FILE.gguf`), the same loop as `dialogpt bench`, so a node CPU profile
//! (`--cpu-prof`) shows where a browser token's time goes outside the matrix kernels.

use super::{now, say};
use dialogpt_web::engine::model::Gpt2Model;
use dialogpt_web::engine::{LoadedModel, Quantization};

fn argmax(v: &[f32]) -> u32 {
    v.iter().enumerate().fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b }).0 as u32
}

pub fn run(gguf: &[u8], prompt_tokens: usize, gen_tokens: usize, probe: bool) {
    let t0 = now();
    let loaded = match LoadedModel::from_bytes(None, Quantization::Q8_0, gguf) {
        Ok(l) => l,
        Err(e) => return say(&format!("load failed: {e}")),
    };
    let mut model = Gpt2Model::from_store(&loaded.config, loaded.store).expect("model");
    say(&format!("loaded {} in {:.0} ms", model.weight_type_label(), now() - t0));
    let prompt: Vec<u32> = (0..prompt_tokens).map(|i| ((i * 7919 + 13) % 50000) as u32).collect();
    for run in 0..2 {
        model.truncate_cache(0);
        let t = now();
        let mut next = argmax(&model.forward(&prompt).unwrap());
        let prefill_ms = now() - t;
        let t = now();
        for _ in 0..gen_tokens {
            next = argmax(&model.forward(&[next]).unwrap());
        }
        let decode_ms = now() - t;
        say(&format!(
            "run {run}: prefill {prompt_tokens} tokens {:.1} tok/s ({prefill_ms:.0} ms), decode {gen_tokens} tokens {:.2} tok/s",
            prompt_tokens as f64 / prefill_ms * 1e3,
            gen_tokens as f64 / decode_ms * 1e3
        ));
    }
    if !probe {
        return;
    }
    // A new 14-token message on an empty cache vs after 570 cached positions (turn 1 vs turn
    // 20 of a conversation): the difference is attention over the longer context.
    let message: Vec<u32> = (0..14).map(|i| ((i * 104_729 + 7) % 50000) as u32).collect();
    let history: Vec<u32> = (0..570).map(|i| ((i * 7919 + 13) % 50000) as u32).collect();
    for context in [0, 570, 0, 570] {
        model.truncate_cache(0);
        if context > 0 {
            model.forward(&history).unwrap();
        }
        let t = now();
        std::hint::black_box(model.forward(&message).unwrap());
        say(&format!("14 new tokens after {context} cached: {:.0} ms", now() - t));
    }
}
