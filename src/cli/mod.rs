//! The `dialogpt` command-line tool: chat in a terminal, convert/quantize weights for
//! static hosting, and benchmark, all on the same engine the browser runs.

pub mod bench;
pub mod chat;
pub mod hub_download;
pub mod model_files;
pub mod peak_alloc;
pub mod quantize;

use crate::engine::weights::gguf_split::parse_split_size;
use crate::engine::{GenerationConfig, Quantization};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "dialogpt", version, about = "DialoGPT chat, conversion and benchmarks on the dialogpt-web engine")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads for matrix products (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Chat in the terminal, or run a script of turns non-interactively.
    Chat(ChatArgs),
    /// Convert weights (Hub dir, .bin, .safetensors, .gguf) to a quantized GGUF file.
    Quantize(QuantizeArgs),
    /// Measure load time, peak load memory, prefill and decode speed.
    Bench(BenchArgs),
}

#[derive(Args, Clone)]
pub struct ModelArgs {
    /// A directory in the Hub's layout (config.json, weights, vocab.json, merges.txt), a .gguf
    /// file (a split one by its first shard), or a Hub repo id (org/name, into the Hugging Face cache).
    #[arg(long)]
    pub model: PathBuf,
    /// The Hub revision (branch, tag or commit) of a repo id.
    #[arg(long)]
    pub revision: Option<String>,
    /// Storage type for float checkpoints: q8_0, q4_k, f16 or f32 (GGUF files keep theirs).
    #[arg(long, default_value = "q8_0")]
    pub quant: Quantization,
}

#[derive(Args, Clone)]
pub struct SamplingArgs {
    #[arg(long, default_value_t = 128)]
    pub max_new_tokens: usize,
    /// 0 = greedy (default, like the classic demo).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    #[arg(long, default_value_t = 1.0)]
    pub repetition_penalty: f32,
    #[arg(long, default_value_t = 0)]
    pub no_repeat_ngram_size: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl ModelArgs {
    /// The model as a path on disk (a Hub repo id fetched into the cache first).
    pub fn resolve(&self) -> crate::engine::Result<PathBuf> {
        model_files::resolve(&self.model, self.revision.as_deref(), self.quant)
    }
}

impl SamplingArgs {
    pub fn config(&self) -> GenerationConfig {
        GenerationConfig {
            max_new_tokens: self.max_new_tokens,
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            repetition_penalty: self.repetition_penalty,
            no_repeat_ngram_size: self.no_repeat_ngram_size,
            seed: self.seed,
        }
    }
}

#[derive(Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Read user turns from this file, one per line, instead of the terminal.
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// Print one JSON object per turn (with --script).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct QuantizeArgs {
    /// Hub-layout directory, weight file, or Hub repo id (org/name).
    pub input: PathBuf,
    /// Output .gguf file.
    pub output: PathBuf,
    #[arg(long = "type", default_value = "q8_0")]
    pub quant: Quantization,
    /// Model name stored in the GGUF metadata (default: the input's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The Hub revision (branch, tag or commit) when the input is a repo id.
    #[arg(long)]
    pub revision: Option<String>,
    /// Write llama.cpp's split GGUF instead of one file: OUT-00001-of-0000N.gguf, … each at
    /// most this size (M = 10^6 bytes, G = 10^9; e.g. 24M for a 25 MiB per-file host limit).
    #[arg(long, value_parser = parse_split_size)]
    pub split_max_size: Option<u64>,
}

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long, default_value_t = 64)]
    pub prompt_tokens: usize,
    #[arg(long, default_value_t = 64)]
    pub gen_tokens: usize,
    /// Repetitions; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    #[arg(long)]
    pub json: bool,
}

/// Entry point of the `dialogpt` binary; `alloc` is the binary's global allocator.
pub fn main(alloc: &'static peak_alloc::PeakAlloc) -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        // candle sizes its barrier pool (which also runs our kernels) from this variable;
        // set it before any work starts.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    let result = match cli.command {
        Command::Chat(a) => chat::run(a),
        Command::Quantize(a) => quantize::run(a),
        Command::Bench(a) => bench::run(a, alloc),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
