//! `dialogpt bench`: load time and peak memory, then prefill and decode speed on a fixed
//! synthetic prompt (greedy, eos ignored so every run decodes the same number of tokens).

use super::model_files::load_model;
use super::peak_alloc::PeakAlloc;
use super::BenchArgs;
use crate::engine::model::Gpt2Model;
use crate::engine::sampling::argmax;
use crate::engine::{EngineError, Result};
use std::time::Instant;

#[derive(serde::Serialize)]
struct Report {
    model: String,
    weights: String,
    threads: usize,
    prompt_tokens: usize,
    gen_tokens: usize,
    runs: usize,
    load_seconds: f64,
    load_peak_mb: f64,
    model_mb: f64,
    ttft_ms: f64,
    prefill_tok_s: f64,
    decode_tok_s: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn run(args: BenchArgs, alloc: &'static PeakAlloc) -> Result<()> {
    // A repo id is fetched before the clock starts: load time is the model's, not the network's.
    let path = args.model.resolve()?;
    alloc.reset_peak();
    let base = alloc.live();
    let t0 = Instant::now();
    let loaded = load_model(&path, args.model.quant)?;
    let model_bytes = loaded.store.size_in_bytes();
    let mut model = Gpt2Model::from_store(&loaded.config, loaded.store)?;
    let load_seconds = t0.elapsed().as_secs_f64();
    let load_peak = alloc.peak() - base;
    let cfg = model.config().clone();
    if args.prompt_tokens == 0 || args.prompt_tokens + args.gen_tokens > cfg.n_positions {
        return Err(EngineError::InvalidInput(format!(
            "prompt + generated tokens must be between 1 and the context size {}",
            cfg.n_positions
        )));
    }
    // A deterministic prompt of ordinary (non-eos) tokens.
    let prompt: Vec<u32> = (0..args.prompt_tokens).map(|i| ((i * 7919 + 13) % 50000) as u32).collect();
    let (mut ttft, mut prefill, mut decode) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.runs.max(1) {
        model.truncate_cache(0);
        let t = Instant::now();
        let logits = model.forward(&prompt)?;
        let prefill_s = t.elapsed().as_secs_f64();
        let mut next = argmax(&logits);
        ttft.push(t.elapsed().as_secs_f64() * 1e3);
        prefill.push(args.prompt_tokens as f64 / prefill_s);
        let t = Instant::now();
        for _ in 0..args.gen_tokens {
            let logits = model.forward(&[next])?;
            next = argmax(&logits);
        }
        decode.push(args.gen_tokens as f64 / t.elapsed().as_secs_f64());
    }
    let report = Report {
        model: args.model.model.display().to_string(),
        weights: model.weight_type_label(),
        threads: candle_core::utils::get_num_threads(),
        prompt_tokens: args.prompt_tokens,
        gen_tokens: args.gen_tokens,
        runs: args.runs.max(1),
        load_seconds,
        load_peak_mb: load_peak as f64 / 1e6,
        model_mb: model_bytes as f64 / 1e6,
        ttft_ms: median(ttft),
        prefill_tok_s: median(prefill),
        decode_tok_s: median(decode),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report).unwrap());
    } else {
        println!(
            "{} [{}], {} thread(s)\n  load {:.2} s, peak heap while loading {:.0} MB (weights {:.0} MB)\n  prefill {} tokens: {:.1} tok/s, time to first token {:.1} ms\n  decode {} tokens: {:.2} tok/s",
            report.model, report.weights, report.threads, report.load_seconds, report.load_peak_mb, report.model_mb,
            report.prompt_tokens, report.prefill_tok_s, report.ttft_ms, report.gen_tokens, report.decode_tok_s
        );
    }
    Ok(())
}
