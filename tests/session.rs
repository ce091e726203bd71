//! The chat session: the classic demo's history semantics, KV-cache reuse across turns,
//! the context-window policy, refusal of empty input, and cancellation.

mod common;
use common::*;
use dialogpt_web::engine::{ChatSession, GenerationConfig, Quantization, Step, StopReason};
use dialogpt_web::engine::session::PREFILL_STEP;

fn session() -> ChatSession {
    load_checkpoint("tiny-dialogpt/pytorch_model.bin", Quantization::F32).into_session().unwrap()
}

#[test]
fn history_follows_the_classic_demo() {
    let mut s = session();
    let cfg = GenerationConfig::greedy(8);
    let r1 = s.predict("Hello there", &[], &cfg).unwrap();
    let mut want_input = s.tokenizer().encode("Hello there").unwrap();
    want_input.push(50256);
    assert_eq!(r1.input_ids, want_input);
    assert_eq!(r1.history, [want_input.clone(), r1.reply_ids.clone()].concat());
    let r2 = s.predict("And then?", &r1.history, &cfg).unwrap();
    assert!(r2.input_ids.starts_with(&r1.history));
    // Only the new message had to be computed: the rest came from the KV cache.
    assert!(r2.stats.reused_tokens >= r1.history.len() - 1, "{:?}", r2.stats);
    assert_eq!(r2.stats.prefilled_tokens, r2.input_ids.len() - r2.stats.reused_tokens);
}

#[test]
fn any_history_works_and_gives_the_same_reply_as_a_fresh_session() {
    let cfg = GenerationConfig::greedy(8);
    let mut a = session();
    let r1 = a.predict("Does money buy happiness?", &[], &cfg).unwrap();
    let unrelated = a.predict("Something else", &[], &cfg).unwrap();
    assert_eq!(unrelated.stats.reused_tokens, 0);
    // Back to the first conversation: the cache no longer matches it, yet the reply equals
    // what a brand-new session computes.
    let r2 = a.predict("Tell me more", &r1.history, &cfg).unwrap();
    let mut b = session();
    let fresh = b.predict("Tell me more", &r1.history, &cfg).unwrap();
    assert_eq!(r2.reply_ids, fresh.reply_ids);
}

#[test]
fn empty_and_whitespace_messages_are_refused() {
    let mut s = session();
    for text in ["", "   ", "\n\t "] {
        let err = s.predict(text, &[], &GenerationConfig::default()).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }
    // The session still works afterwards.
    assert!(s.predict("hi", &[], &GenerationConfig::greedy(2)).is_ok());
}

#[test]
fn long_conversations_drop_the_oldest_turns_and_never_overflow() {
    let mut s = session();
    let n_pos = s.model().config().n_positions;
    let cfg = GenerationConfig::greedy(24);
    let mut history = Vec::new();
    let mut dropped_any = false;
    for turn in 0..30 {
        let r = s.predict(&format!("Turn {turn}: tell me something about the weather today."), &history, &cfg).unwrap();
        assert!(r.input_ids.len() + r.reply_ids.len() <= n_pos);
        // What was kept is a suffix of whole turns of the previous history.
        if r.stats.dropped_tokens > 0 {
            dropped_any = true;
            let kept = &history[r.stats.dropped_tokens..];
            assert!(r.input_ids.starts_with(kept));
            assert_eq!(history[r.stats.dropped_tokens - 1], 50256, "dropped a partial turn");
        }
        history = r.history;
    }
    assert!(dropped_any, "30 turns should overflow a {n_pos}-position context");
}

#[test]
fn a_message_longer_than_the_context_is_truncated_not_fatal() {
    let mut s = session();
    let long = "word ".repeat(2000);
    let r = s.predict(&long, &[], &GenerationConfig::greedy(4)).unwrap();
    assert!(r.stats.truncated_input_tokens > 0);
    assert!(r.input_ids.len() + r.reply_ids.len() <= s.model().config().n_positions);
    assert_eq!(*r.input_ids.last().unwrap(), 50256);
}

#[test]
fn max_new_tokens_larger_than_the_window_is_capped() {
    let mut s = session();
    let r = s.predict("Hello", &[], &GenerationConfig::greedy(100_000)).unwrap();
    assert!(r.input_ids.len() + r.reply_ids.len() <= s.model().config().n_positions);
}

#[test]
fn stepping_streams_tokens_and_cancel_keeps_the_partial_reply() {
    let mut s = session();
    let cfg = GenerationConfig::greedy(12);
    let full = s.predict("Does money buy happiness?", &[], &cfg).unwrap();
    let mut turn = s.begin("Does money buy happiness?", &[], &cfg).unwrap();
    let prompt_len = turn.prompt().len();
    let mut streamed = Vec::new();
    for i in 0..3 {
        match s.step(&mut turn).unwrap() {
            Step::Token { id, .. } => {
                // A token is handed out before it goes through the model: the first one costs
                // the prompt only, and each later step feeds the previous token.
                assert_eq!(s.cached_tokens(), prompt_len + i, "step {i}");
                streamed.push(id)
            }
            Step::Prefill { .. } => panic!("a short prompt is processed in one step"),
            Step::Finished(_) => panic!("finished too early"),
        }
    }
    assert_eq!(streamed, full.reply_ids[..3]);
    let cancelled = s.cancel(turn);
    assert_eq!(cancelled.stop, StopReason::Cancelled);
    assert_eq!(cancelled.reply_ids[..3], streamed[..]);
    assert_eq!(*cancelled.history.last().unwrap(), 50256, "a stopped reply still ends its turn");
    // The next turn works from that history.
    let next = s.predict("ok", &cancelled.history, &cfg).unwrap();
    assert!(next.input_ids.starts_with(&cancelled.history));
}

#[test]
fn seeded_sampling_is_reproducible_across_sessions() {
    let cfg = GenerationConfig { temperature: 0.9, top_k: 40, top_p: 0.95, seed: 1234, max_new_tokens: 10, ..Default::default() };
    let a = session().predict("Tell me a story", &[], &cfg).unwrap();
    let b = session().predict("Tell me a story", &[], &cfg).unwrap();
    assert_eq!(a.reply_ids, b.reply_ids);
    let other = GenerationConfig { seed: 99, ..cfg.clone() };
    let c = session().predict("Tell me a story", &[], &other).unwrap();
    assert_ne!(a.reply_ids, c.reply_ids, "a different seed should change a sampled reply");
}

#[test]
fn out_of_vocabulary_history_is_refused() {
    let mut s = session();
    let err = s.predict("hi", &[1, 2, 999_999], &GenerationConfig::greedy(2)).unwrap_err();
    assert!(err.to_string().contains("vocabulary"));
}

#[test]
fn a_long_prompt_is_processed_in_chunks_and_can_be_stopped_midway() {
    let mut s = session();
    let cfg = GenerationConfig::greedy(6);
    let long = "the quick brown fox jumps over the lazy dog ".repeat(10);
    let full = s.predict(&long, &[], &cfg).unwrap();
    let total = full.input_ids.len();
    assert!(total > 2 * PREFILL_STEP, "prompt of {total} tokens");
    s.reset_cache();
    let mut turn = s.begin(&long, &[], &cfg).unwrap();
    let mut progress = Vec::new();
    let mut ids = Vec::new();
    loop {
        match s.step(&mut turn).unwrap() {
            Step::Prefill { done, total: t } => {
                assert_eq!(t, total);
                progress.push(done);
            }
            Step::Token { id, .. } => ids.push(id),
            Step::Finished(r) => {
                assert_eq!(r.reply_ids, full.reply_ids, "chunked prefill gives the same reply");
                break;
            }
        }
    }
    let expected: Vec<usize> = (1..).map(|k| k * PREFILL_STEP).take_while(|d| *d < total).collect();
    assert_eq!(progress, expected);
    // Stopped after the first chunk: the next turn reuses what was cached and still matches.
    s.reset_cache();
    let mut turn = s.begin(&long, &[], &cfg).unwrap();
    assert!(matches!(s.step(&mut turn).unwrap(), Step::Prefill { done, .. } if done == PREFILL_STEP));
    let stopped = s.cancel(turn);
    assert_eq!(stopped.stop, StopReason::Cancelled);
    assert_eq!(s.cached_tokens(), PREFILL_STEP);
    let again = s.predict(&long, &[], &cfg).unwrap();
    assert_eq!(again.reply_ids, full.reply_ids);
    assert_eq!(again.stats.reused_tokens, PREFILL_STEP);
}

#[test]
fn settling_after_a_reply_caches_it_whole_and_changes_nothing_else() {
    let cfg = GenerationConfig::greedy(8);
    let mut a = session();
    let r1 = a.predict("Hello there", &[], &cfg).unwrap();
    // `step` hands out the last token without feeding it.
    assert_eq!(a.cached_tokens(), r1.history.len() - 1);
    assert_eq!(a.settle(&r1.history).unwrap(), 1);
    assert_eq!(a.cached_tokens(), r1.history.len());
    // Settling again, or with a history the cache is not a prefix of, feeds nothing.
    assert_eq!(a.settle(&r1.history).unwrap(), 0);
    let other = [r1.history[1..].to_vec(), vec![50256, 50256]].concat();
    assert_eq!(a.settle(&other).unwrap(), 0);
    assert_eq!(a.cached_tokens(), r1.history.len());
    // The next turn now computes only the new message, and replies as a session that never settled.
    let r2 = a.predict("And then?", &r1.history, &cfg).unwrap();
    assert_eq!(r2.stats.reused_tokens, r1.history.len());
    assert_eq!(r2.stats.prefilled_tokens, r2.input_ids.len() - r1.history.len());
    let mut b = session();
    let b1 = b.predict("Hello there", &[], &cfg).unwrap();
    let b2 = b.predict("And then?", &b1.history, &cfg).unwrap();
    assert_eq!(r2.reply_ids, b2.reply_ids);
    // A history too far ahead of the cache (another conversation) is left to the next turn.
    let mut c = session();
    assert_eq!(c.settle(&r2.history).unwrap(), 0);
    assert_eq!(c.cached_tokens(), 0);
}
