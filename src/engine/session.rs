//! A chat session with the classic DialoGPT demo's semantics,
//! `predict(input, history) -> (reply, history)`:
//! each user turn is `text + eos` appended to the history ids, the reply is generated until
//! eos and appended too, and the history (all ids) belongs to the caller. The session keeps
//! the model's KV cache for the longest prefix shared with the last history it saw, so
//! handing the same history back costs only the new tokens.

use super::context::plan_context;
use super::error::{EngineError, Result};
use super::model::Gpt2Model;
use super::sampling::{GenerationConfig, Sampler};
use super::stream_decode::Utf8Stream;
use super::tokenizer::Gpt2Tokenizer;
use super::turn::{Reply, Step, StopReason, Turn, TurnStats};

/// Prompt tokens processed per `step` call: small enough that a Stop or a heartbeat gets in
/// between (about a second for DialoGPT-medium in a browser), large enough for batched matmuls.
pub const PREFILL_STEP: usize = 32;

/// Most tokens [`ChatSession::settle`] feeds in one go: it runs between two messages, so it
/// must stay short enough not to delay a message sent right away.
pub const SETTLE_MAX: usize = 4;

pub struct ChatSession {
    model: Gpt2Model,
    tokenizer: Gpt2Tokenizer,
    /// The ids whose keys/values are in the model's cache, in order.
    cached: Vec<u32>,
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl ChatSession {
    pub fn new(model: Gpt2Model, tokenizer: Gpt2Tokenizer) -> Self {
        Self { model, tokenizer, cached: Vec::new() }
    }

    pub fn model(&self) -> &Gpt2Model {
        &self.model
    }

    pub fn tokenizer(&self) -> &Gpt2Tokenizer {
        &self.tokenizer
    }

    pub fn eos(&self) -> u32 {
        self.model.config().eos_token_id
    }

    /// The ids of a user message as DialoGPT expects it: the text, then end-of-text.
    pub fn encode_user_turn(&self, input: &str) -> Result<Vec<u32>> {
        if input.trim().is_empty() {
            return Err(EngineError::InvalidInput(
                "the message is empty: type something before sending".into(),
            ));
        }
        let mut ids = self.tokenizer.encode(input)?;
        ids.push(self.eos());
        Ok(ids)
    }

    /// Starts a turn: encodes the message, applies the context policy. No compute yet.
    pub fn begin(&mut self, input: &str, history: &[u32], config: &GenerationConfig) -> Result<Turn> {
        let vocab = self.model.config().vocab_size as u32;
        if let Some(bad) = history.iter().find(|t| **t >= vocab) {
            return Err(EngineError::InvalidInput(format!("the history holds token id {bad}, outside the vocabulary")));
        }
        let sampler = Sampler::new(config)?;
        let input_ids = self.encode_user_turn(input)?;
        let cfg = self.model.config();
        let plan = plan_context(history, &input_ids, self.eos(), cfg.n_positions, config.max_new_tokens);
        let stats = TurnStats {
            prompt_tokens: plan.prompt.len(),
            dropped_tokens: plan.dropped_tokens,
            truncated_input_tokens: plan.truncated_input_tokens,
            ..Default::default()
        };
        Ok(Turn {
            context: plan.prompt.clone(),
            plan,
            sampler,
            max_new_tokens: config.max_new_tokens,
            reply_ids: Vec::new(),
            unfed: None,
            fed: None,
            text: Utf8Stream::new(),
            stop: None,
            stats,
        })
    }

    /// Feeds tokens after the cache; on failure the cache is dropped rather than trusted.
    fn feed(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        match self.model.forward(tokens) {
            Ok(l) => {
                self.cached.extend_from_slice(tokens);
                Ok(l)
            }
            Err(e) => {
                self.reset_cache();
                Err(e)
            }
        }
    }

    /// Between turns, while the user reads and types: brings the KV cache up to `history`
    /// (normally the last reply's final token, which [`ChatSession::step`] hands out without
    /// feeding), so that the next turn's prompt is only the new message. Does nothing unless
    /// the cache is a prefix of `history` short of at most [`SETTLE_MAX`] tokens that fit the
    /// context. Returns the number of tokens fed.
    pub fn settle(&mut self, history: &[u32]) -> Result<usize> {
        let (have, want) = (self.cached.len(), history.len());
        let fits = want <= self.model.config().n_positions;
        if want <= have || want - have > SETTLE_MAX || !fits || history[..have] != self.cached[..] {
            return Ok(0);
        }
        let tail = &history[have..];
        if let Err(e) = self.model.extend_cache(tail) {
            self.reset_cache();
            return Err(e);
        }
        self.cached.extend_from_slice(tail);
        Ok(tail.len())
    }

    /// Forgets the KV cache (e.g. after "new chat").
    pub fn reset_cache(&mut self) {
        self.cached.clear();
        self.model.truncate_cache(0);
    }

    /// Positions currently cached.
    pub fn cached_tokens(&self) -> usize {
        self.cached.len()
    }

    /// Processes the next [`PREFILL_STEP`] prompt tokens after the reused cache prefix;
    /// returns the logits once the whole prompt is in.
    fn prefill_some(&mut self, turn: &mut Turn) -> Result<Option<Vec<f32>>> {
        let total = turn.plan.prompt.len();
        let start = match turn.fed {
            // The cache still holds exactly what this turn fed so far.
            Some(fed) if self.cached.len() == fed => fed,
            _ => {
                // At least one token must run to produce logits.
                let reuse = common_prefix(&self.cached, &turn.plan.prompt).min(total - 1);
                self.cached.truncate(reuse);
                self.model.truncate_cache(reuse);
                turn.stats.reused_tokens = reuse;
                turn.stats.prefilled_tokens = total - reuse;
                reuse
            }
        };
        let end = (start + PREFILL_STEP).min(total);
        let chunk = turn.plan.prompt[start..end].to_vec();
        let logits = self.feed(&chunk)?;
        turn.fed = Some(end);
        Ok((end == total).then_some(logits))
    }

    /// Advances the turn by one token (the first call also processes the prompt).
    pub fn step(&mut self, turn: &mut Turn) -> Result<Step> {
        if let Some(stop) = turn.stop {
            return Ok(Step::Finished(self.finish(turn, stop)));
        }
        let logits = match turn.unfed.take() {
            Some(id) => self.feed(&[id])?,
            None => match self.prefill_some(turn)? {
                Some(l) => l,
                None => return Ok(Step::Prefill { done: turn.fed.unwrap_or(0), total: turn.plan.prompt.len() }),
            },
        };
        let id = turn.sampler.next(logits, &turn.context)?;
        turn.context.push(id);
        turn.reply_ids.push(id);
        turn.stats.generated_tokens += 1;
        if id == self.eos() {
            turn.stop = Some(StopReason::Eos);
            return Ok(Step::Token { id, text: String::new() });
        }
        let text = turn.text.push(self.tokenizer.token_bytes(id));
        if turn.reply_ids.len() >= turn.plan.reply_budget {
            let full = turn.plan.reply_budget < turn.max_new_tokens;
            turn.stop = Some(if full { StopReason::ContextFull } else { StopReason::MaxTokens });
        } else {
            turn.unfed = Some(id);
        }
        Ok(Step::Token { id, text })
    }

    /// Ends a turn early (Stop button). The partial reply is kept and closed with eos so
    /// the next turn starts cleanly.
    pub fn cancel(&mut self, mut turn: Turn) -> Reply {
        if turn.reply_ids.last() != Some(&self.eos()) {
            turn.reply_ids.push(self.eos());
        }
        self.finish(&mut turn, StopReason::Cancelled)
    }

    fn finish(&mut self, turn: &mut Turn, stop: StopReason) -> Reply {
        let mut history = turn.plan.prompt.clone();
        history.extend_from_slice(&turn.reply_ids);
        Reply {
            text: self.tokenizer.decode(&turn.reply_ids),
            reply_ids: turn.reply_ids.clone(),
            input_ids: turn.plan.prompt.clone(),
            history,
            stop,
            stats: turn.stats.clone(),
        }
    }

    /// Runs a whole turn, calling `on_token` with each token and its text; returning
    /// `false` from it stops the reply there.
    pub fn predict_streaming(
        &mut self,
        input: &str,
        history: &[u32],
        config: &GenerationConfig,
        mut on_token: impl FnMut(u32, &str) -> bool,
    ) -> Result<Reply> {
        let mut turn = self.begin(input, history, config)?;
        loop {
            match self.step(&mut turn)? {
                Step::Prefill { .. } => {}
                Step::Token { id, text } => {
                    if !on_token(id, &text) {
                        return Ok(self.cancel(turn));
                    }
                }
                Step::Finished(reply) => return Ok(reply),
            }
        }
    }

    /// The classic demo's `predict(input, history) -> (reply, history)`.
    pub fn predict(&mut self, input: &str, history: &[u32], config: &GenerationConfig) -> Result<Reply> {
        self.predict_streaming(input, history, config, |_, _| true)
    }
}
