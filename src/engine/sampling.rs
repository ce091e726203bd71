//! Choosing the next token: greedy by default (what the classic DialoGPT demo does), or
//! sampling with temperature / top-k / top-p, after the same logits processors as
//! transformers' `generate` (repetition penalty, no-repeat n-grams), in the same order.

use super::error::{EngineError, Result};
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationConfig {
    /// Upper bound on reply tokens; the context window may allow fewer.
    pub max_new_tokens: usize,
    /// 0 means greedy decoding.
    pub temperature: f64,
    /// 0 disables top-k.
    pub top_k: usize,
    /// 1.0 disables nucleus sampling.
    pub top_p: f64,
    /// 1.0 disables the penalty (transformers' CTRL-style penalty over all ids so far).
    pub repetition_penalty: f32,
    /// 0 disables; otherwise no n-gram of this size appears twice.
    pub no_repeat_ngram_size: usize,
    pub seed: u64,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        Self {
            max_new_tokens: 128,
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            repetition_penalty: 1.0,
            no_repeat_ngram_size: 0,
            seed: 42,
        }
    }
}

impl GenerationConfig {
    pub fn greedy(max_new_tokens: usize) -> Self {
        Self { max_new_tokens, ..Self::default() }
    }

    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }

    /// Refuses settings that would make generation meaningless, with a message saying why.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(EngineError::InvalidInput(m.to_string()));
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return bad("temperature must be 0 (greedy) or a positive number");
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad("top_p must be in (0, 1]");
        }
        if !(self.repetition_penalty.is_finite() && self.repetition_penalty > 0.0) {
            return bad("repetition_penalty must be a positive number (1.0 = off)");
        }
        if self.max_new_tokens == 0 {
            return bad("max_new_tokens must be at least 1");
        }
        Ok(())
    }
}

/// Divides positive logits by the penalty and multiplies negative ones, once per distinct
/// token of `context` — transformers' `RepetitionPenaltyLogitsProcessor`.
pub fn apply_repetition_penalty(logits: &mut [f32], penalty: f32, context: &[u32]) {
    if penalty == 1.0 {
        return;
    }
    let mut seen = std::collections::HashSet::with_capacity(context.len());
    for &id in context {
        if seen.insert(id) {
            if let Some(l) = logits.get_mut(id as usize) {
                *l = if *l < 0.0 { *l * penalty } else { *l / penalty };
            }
        }
    }
}

/// Tokens that would repeat an n-gram of `context` — transformers' `NoRepeatNGramLogitsProcessor`.
pub fn banned_ngram_tokens(context: &[u32], n: usize) -> Vec<u32> {
    if n == 0 || context.len() + 1 < n {
        return Vec::new();
    }
    let prefix = &context[context.len() + 1 - n..];
    context
        .windows(n)
        .filter(|w| &w[..n - 1] == prefix)
        .map(|w| w[n - 1])
        .collect()
}

/// Index of the largest logit; the first one on ties, like `torch.argmax`.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best as u32
}

pub struct Sampler {
    config: GenerationConfig,
    processor: Option<LogitsProcessor>,
}

impl Sampler {
    pub fn new(config: &GenerationConfig) -> Result<Self> {
        config.validate()?;
        let processor = (!config.is_greedy()).then(|| {
            let temperature = config.temperature;
            let k = config.top_k;
            let p = config.top_p;
            let sampling = match (k > 0, p < 1.0) {
                (false, false) => Sampling::All { temperature },
                (true, false) => Sampling::TopK { k, temperature },
                (false, true) => Sampling::TopP { p, temperature },
                (true, true) => Sampling::TopKThenTopP { k, p, temperature },
            };
            LogitsProcessor::from_sampling(config.seed, sampling)
        });
        Ok(Self { config: config.clone(), processor })
    }

    /// Picks the next token given the logits and every id so far (prompt and reply).
    pub fn next(&mut self, mut logits: Vec<f32>, context: &[u32]) -> Result<u32> {
        apply_repetition_penalty(&mut logits, self.config.repetition_penalty, context);
        for id in banned_ngram_tokens(context, self.config.no_repeat_ngram_size) {
            if let Some(l) = logits.get_mut(id as usize) {
                *l = f32::NEG_INFINITY;
            }
        }
        match &mut self.processor {
            None => Ok(argmax(&logits)),
            Some(p) => {
                let n = logits.len();
                let t = Tensor::from_vec(logits, n, &Device::Cpu)?;
                Ok(p.sample(&t)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalty_matches_transformers_rule() {
        let mut l = vec![2.0, -2.0, 0.0, 1.0];
        apply_repetition_penalty(&mut l, 2.0, &[0, 1, 1, 2]);
        assert_eq!(l, vec![1.0, -4.0, 0.0, 1.0]);
    }

    #[test]
    fn bans_repeated_ngrams() {
        // "a b c a b" with n=3: the prefix "a b" was followed by c, so c is banned.
        assert_eq!(banned_ngram_tokens(&[1, 2, 3, 1, 2], 3), vec![3]);
        assert!(banned_ngram_tokens(&[1, 2], 3).is_empty());
        assert_eq!(banned_ngram_tokens(&[5, 5], 1), vec![5, 5]);
    }

    #[test]
    fn seeded_sampling_is_reproducible() {
        let cfg = GenerationConfig { temperature: 1.0, top_k: 5, top_p: 0.9, seed: 7, ..Default::default() };
        let logits: Vec<f32> = (0..100).map(|i| (i as f32 * 0.37).sin()).collect();
        let run = || {
            let mut s = Sampler::new(&cfg).unwrap();
            (0..20).map(|_| s.next(logits.clone(), &[]).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        let picks = run();
        assert!(picks.iter().any(|p| *p != picks[0]), "sampling should vary: {picks:?}");
    }

    #[test]
    fn rejects_bad_settings() {
        assert!(Sampler::new(&GenerationConfig { temperature: -1.0, ..Default::default() }).is_err());
        assert!(Sampler::new(&GenerationConfig { top_p: 0.0, ..Default::default() }).is_err());
        assert!(Sampler::new(&GenerationConfig { max_new_tokens: 0, ..Default::default() }).is_err());
    }
}
