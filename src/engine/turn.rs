//! One turn of a chat and what it yields: the steps a caller drives it through, and the
//! finished reply with its statistics.

use super::context::ContextPlan;
use super::sampling::Sampler;
use super::stream_decode::Utf8Stream;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its turn.
    Eos,
    /// `max_new_tokens` reached.
    MaxTokens,
    /// The context window is full.
    ContextFull,
    /// The caller stopped it.
    Cancelled,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnStats {
    /// Tokens in this turn's prompt (kept history + new message).
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys/values came from the cache.
    pub reused_tokens: usize,
    /// Prompt tokens that had to be computed.
    pub prefilled_tokens: usize,
    pub generated_tokens: usize,
    pub dropped_tokens: usize,
    pub truncated_input_tokens: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    /// Generated ids, including the final eos when the model produced it.
    pub reply_ids: Vec<u32>,
    /// The prompt ids of this turn (after the context policy).
    pub input_ids: Vec<u32>,
    /// The history to hand back next turn: `input_ids + reply_ids`.
    pub history: Vec<u32>,
    pub stop: StopReason,
    pub stats: TurnStats,
}

/// One turn in progress; advance it with [`ChatSession::step`].
pub struct Turn {
    pub(super) plan: ContextPlan,
    pub(super) sampler: Sampler,
    pub(super) max_new_tokens: usize,
    /// Prompt plus reply so far: the context the logits processors look at.
    pub(super) context: Vec<u32>,
    pub(super) reply_ids: Vec<u32>,
    /// The token returned by the last step, fed to the model at the start of the next one so
    /// that it reaches the page a forward pass earlier (time to first token = the prompt only).
    pub(super) unfed: Option<u32>,
    /// Prompt tokens in the KV cache so far; `None` until prompt processing starts.
    pub(super) fed: Option<usize>,
    pub(super) text: Utf8Stream,
    pub(super) stop: Option<StopReason>,
    pub(super) stats: TurnStats,
}

impl Turn {
    pub fn prompt(&self) -> &[u32] {
        &self.plan.prompt
    }
    pub fn stats(&self) -> &TurnStats {
        &self.stats
    }
}

pub enum Step {
    /// Part of a long prompt was processed (`done` of `total` prompt tokens are in the cache);
    /// no token yet. Lets a caller stay responsive (and cancel) during a long prefill.
    Prefill { done: usize, total: usize },
    /// A new token and the text it completes (possibly empty mid-character).
    Token { id: u32, text: String },
    Finished(Reply),
}
