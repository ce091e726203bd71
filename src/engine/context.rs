//! The context-window policy: what of the conversation the model sees this turn.
//!
//! DialoGPT's history is a flat list of ids in which every turn ends with the end-of-text
//! token. GPT-2 has `n_positions` positions (1024) for prompt *and* reply together, and the
//! classic demo crashes past them. Here the oldest whole turns are dropped until the prompt
//! leaves room for the reply; a single message too long by itself keeps its last tokens.

/// What one turn will feed the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextPlan {
    /// History that survives plus the new user turn (ending with end-of-text).
    pub prompt: Vec<u32>,
    /// Tokens of old history left out.
    pub dropped_tokens: usize,
    /// Tokens cut from the front of the user's own message.
    pub truncated_input_tokens: usize,
    /// How many tokens the reply may have.
    pub reply_budget: usize,
}

/// Splits history into turns, each ending with `eos` (a trailing piece without it counts too).
pub fn split_turns(history: &[u32], eos: u32) -> Vec<&[u32]> {
    history.split_inclusive(|t| *t == eos).collect()
}

/// Plans the prompt for `input` (the new turn's ids, ending with `eos`) after `history`.
pub fn plan_context(history: &[u32], input: &[u32], eos: u32, n_positions: usize, max_new_tokens: usize) -> ContextPlan {
    // Room kept for the reply: what was asked for, but never more than half the window, so
    // an absurd max_new_tokens (the demo's 1000) cannot crowd out the conversation.
    let reserve = max_new_tokens.clamp(1, (n_positions / 2).max(1));
    let limit = n_positions - reserve;
    let mut truncated_input_tokens = 0;
    let mut input = input.to_vec();
    if input.len() > limit {
        // Keep the end of the message (most recent words) and its end-of-text marker.
        truncated_input_tokens = input.len() - limit;
        input.drain(..truncated_input_tokens);
    }
    let turns = split_turns(history, eos);
    let mut kept_from = 0;
    let mut history_len = history.len();
    while history_len + input.len() > limit && kept_from < turns.len() {
        history_len -= turns[kept_from].len();
        kept_from += 1;
    }
    let kept: Vec<u32> = turns[kept_from..].concat();
    let dropped_tokens = history.len() - kept.len();
    let mut prompt = kept;
    prompt.extend_from_slice(&input);
    let reply_budget = max_new_tokens.min(n_positions - prompt.len());
    ContextPlan { prompt, dropped_tokens, truncated_input_tokens, reply_budget }
}

#[cfg(test)]
mod tests {
    use super::*;
    const E: u32 = 9;

    #[test]
    fn keeps_everything_that_fits() {
        let p = plan_context(&[1, 2, E, 3, E], &[4, E], E, 16, 4);
        assert_eq!(p.prompt, vec![1, 2, E, 3, E, 4, E]);
        assert_eq!((p.dropped_tokens, p.reply_budget), (0, 4));
    }

    #[test]
    fn drops_oldest_whole_turns() {
        // limit = 10 - 4 = 6: history (5) + input (2) = 7 > 6, drop "1 2 E".
        let p = plan_context(&[1, 2, E, 3, E], &[4, E], E, 10, 4);
        assert_eq!(p.prompt, vec![3, E, 4, E]);
        assert_eq!(p.dropped_tokens, 3);
        assert!(p.prompt.len() + p.reply_budget <= 10);
    }

    #[test]
    fn truncates_a_message_longer_than_the_window() {
        let input: Vec<u32> = (0..30).chain([E]).collect();
        let p = plan_context(&[1, E], &input, E, 16, 4);
        assert_eq!(p.prompt.len(), 12);
        assert_eq!(*p.prompt.last().unwrap(), E);
        assert_eq!(p.truncated_input_tokens, 19);
        assert_eq!(p.dropped_tokens, 2);
        assert_eq!(p.reply_budget, 4);
    }

    #[test]
    fn huge_reply_budget_is_capped_by_the_window() {
        let p = plan_context(&[], &[1, E], E, 16, 1000);
        assert_eq!(p.reply_budget, 14);
    }
}
