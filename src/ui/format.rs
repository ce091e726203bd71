//! Text the page shows for progress, the context meter and speed. Pure, tested natively.

use crate::worker::protocol::{ModelInfo, Progress, Stage, TurnDone};

/// Bytes as megabytes (10^6, as download tools show them): `12.3`, `351`.
pub fn mb(bytes: u64) -> String {
    let m = bytes as f64 / 1e6;
    if m >= 100.0 {
        format!("{m:.0}")
    } else {
        format!("{m:.1}")
    }
}

/// "Downloading pytorch_model.bin 12.3 / 351 MB · 4% of 353 MB · 8.2 MB/s · 41 s left",
/// "Converting the weights", "Loading from browser storage 41%".
pub fn progress_text(p: &Progress, rate: Option<f64>) -> String {
    match p.stage {
        Stage::Converting => "Converting the weights and building the model".to_string(),
        Stage::FromStorage => match p.total.filter(|t| *t > 0) {
            Some(t) => format!("Loading from browser storage {:.0}%", 100.0 * p.done as f64 / t as f64),
            None => "Loading from browser storage".to_string(),
        },
        Stage::Downloading => {
            let mut s = match p.file_total {
                // A compressed response can deliver more bytes than its Content-Length.
                Some(t) if t >= p.file_done => format!("Downloading {} {} / {} MB", p.file, mb(p.file_done), mb(t)),
                _ => format!("Downloading {} {} MB", p.file, mb(p.file_done)),
            };
            if let Some(t) = p.total.filter(|t| *t >= p.done && *t > 0) {
                s.push_str(&format!(" · {:.0}% of {} MB", 100.0 * p.done as f64 / t as f64, mb(t)));
            }
            if let Some(r) = rate.filter(|r| *r > 0.0) {
                s.push_str(&format!(" · {}/s", human_bytes(r)));
                if let Some(t) = p.total.filter(|t| *t > p.done) {
                    s.push_str(&format!(" · {} left", duration((t - p.done) as f64 / r)));
                }
            }
            s
        }
    }
}

/// "850 kB", "8.2 MB".
fn human_bytes(b: f64) -> String {
    if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// "41 s", "3 min 20 s".
fn duration(secs: f64) -> String {
    let s = secs.ceil() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// Download speed over the last few seconds (a moving window, so a stall shows quickly).
#[derive(Debug, Default, Clone)]
pub struct RateMeter {
    samples: std::collections::VecDeque<(f64, u64)>,
}

impl RateMeter {
    const WINDOW_MS: f64 = 3000.0;

    pub fn push(&mut self, now_ms: f64, done: u64) {
        self.samples.push_back((now_ms, done));
        while self.samples.len() > 2 && now_ms - self.samples[1].0 >= Self::WINDOW_MS {
            self.samples.pop_front();
        }
    }

    /// Bytes per second, once there is half a second to measure over.
    pub fn rate(&self) -> Option<f64> {
        let (t0, d0) = *self.samples.front()?;
        let (t1, d1) = *self.samples.back()?;
        (t1 - t0 >= 500.0).then(|| d1.saturating_sub(d0) as f64 / ((t1 - t0) / 1000.0))
    }

    pub fn clear(&mut self) {
        self.samples.clear();
    }
}

/// Overall fraction in [0, 1], or `None` when the total is unknown (indeterminate bar).
pub fn progress_fraction(p: &Progress) -> Option<f64> {
    match p.stage {
        Stage::Converting => Some(1.0),
        Stage::FromStorage => None,
        Stage::Downloading => p.total.filter(|t| *t > 0).map(|t| (p.done as f64 / t as f64).min(1.0)),
    }
}

/// "123 / 1024 tokens".
pub fn context_meter(used: usize, n_positions: usize) -> String {
    format!("{used} / {n_positions} tokens")
}

/// "12 tokens in 0.31 s · 38.7 tok/s · first token 45 ms" after a reply. The rate counts
/// the tokens after the first over the time after it (decode speed); the first token's
/// time includes reading the prompt.
pub fn speed_text(d: &TurnDone) -> String {
    let n = d.stats.generated_tokens;
    let secs = d.elapsed_ms / 1000.0;
    let mut s = format!("{n} tokens in {secs:.2} s");
    let decode = match d.first_token_ms {
        Some(first) if n > 1 && d.elapsed_ms > first => Some((n - 1) as f64 / ((d.elapsed_ms - first) / 1000.0)),
        None if secs > 0.0 => Some(n as f64 / secs),
        _ => None,
    };
    if let Some(rate) = decode {
        s.push_str(&format!(" · {rate:.1} tok/s"));
    }
    if let Some(first) = d.first_token_ms {
        s.push_str(&format!(" · first token {first:.0} ms"));
    }
    if d.stats.truncated_input_tokens > 0 {
        s.push_str(&format!(" · your message was too long: its first {} tokens were left out", d.stats.truncated_input_tokens));
    }
    if d.stats.dropped_tokens > 0 {
        s.push_str(&format!(" · the oldest {} tokens of the chat no longer fit and were left out", d.stats.dropped_tokens));
    }
    s
}

/// Where a load's time went, for the ready line: "read 0.61 · convert 0.30 · build 0.40 s".
/// Steps under 5 ms are left out; `None` when nothing is left.
pub fn load_steps_text(info: &ModelInfo) -> Option<String> {
    let shown: Vec<String> =
        info.steps.iter().filter(|s| s.ms >= 5.0).map(|s| format!("{} {:.2}", s.step.as_str(), s.ms / 1000.0)).collect();
    (!shown.is_empty()).then(|| format!("{} s", shown.join(" · ")))
}

/// The ready line's note while a downloaded model is written to storage.
pub fn keeping_text(done: u64, total: u64) -> String {
    format!("keeping it on this device for the next visit: {}%", done * 100 / total.max(1))
}

/// How many threads compute, for the ready line: "1 thread", "4 threads".
pub fn threads_text(threads: usize) -> String {
    format!("{threads} thread{}", if threads == 1 { "" } else { "s" })
}

/// The same timings for scripts (the benchmarks): `{"ms":1402.5,"from":"opfs","read":612.3,…}`.
pub fn load_timings_json(info: &ModelInfo) -> String {
    let mut fields = vec![format!("\"ms\":{:.1}", info.load_ms)];
    fields.push(match info.read_from {
        Some(store) => format!("\"from\":\"{}\"", store.as_str()),
        None => "\"from\":\"network\"".to_string(),
    });
    fields.extend(info.steps.iter().map(|s| format!("\"{}\":{:.1}", s.step.as_str(), s.ms)));
    format!("{{{}}}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::{LoadStep, StepTime, Store};

    fn dl(file_done: u64, file_total: Option<u64>) -> Progress {
        Progress {
            stage: Stage::Downloading,
            file: "pytorch_model.bin".into(),
            file_done,
            file_total,
            done: file_done,
            total: file_total,
        }
    }

    #[test]
    fn progress_texts() {
        assert_eq!(
            progress_text(&dl(12_300_000, Some(351_000_000)), None),
            "Downloading pytorch_model.bin 12.3 / 351 MB · 4% of 351 MB"
        );
        assert_eq!(
            progress_text(&dl(12_300_000, Some(351_000_000)), Some(8_200_000.0)),
            "Downloading pytorch_model.bin 12.3 / 351 MB · 4% of 351 MB · 8.2 MB/s · 42 s left"
        );
        assert_eq!(
            progress_text(&dl(1_000_000, Some(351_000_000)), Some(850_000.0)),
            "Downloading pytorch_model.bin 1.0 / 351 MB · 0% of 351 MB · 850 kB/s · 6 min 52 s left"
        );
        assert_eq!(progress_text(&dl(5_000, None), Some(1e6)), "Downloading pytorch_model.bin 0.0 MB · 1.0 MB/s");
        assert_eq!(progress_fraction(&dl(50, Some(200))), Some(0.25));
        assert_eq!(progress_fraction(&dl(50, None)), None);
        assert_eq!(progress_fraction(&dl(300, Some(200))), Some(1.0));
        assert_eq!(context_meter(46, 256), "46 / 256 tokens");
    }

    #[test]
    fn rate_over_a_moving_window() {
        let mut r = RateMeter::default();
        r.push(0.0, 0);
        assert_eq!(r.rate(), None);
        r.push(1000.0, 2_000_000);
        assert_eq!(r.rate(), Some(2_000_000.0));
        // A stall: after the window only recent samples count, and the rate falls.
        for t in 2..10 {
            r.push(t as f64 * 1000.0, 2_000_000);
        }
        assert_eq!(r.rate(), Some(0.0));
    }

    #[test]
    fn speed_counts_decode_after_the_first_token() {
        let mut d = TurnDone {
            turn: 1,
            text: String::new(),
            history: vec![],
            stop: crate::worker::protocol::StopReason::Eos,
            stats: Default::default(),
            elapsed_ms: 1100.0,
            first_token_ms: Some(100.0),
            memory_bytes: None,
        };
        d.stats.generated_tokens = 11;
        assert_eq!(speed_text(&d), "11 tokens in 1.10 s · 10.0 tok/s · first token 100 ms");
        d.first_token_ms = None;
        assert_eq!(speed_text(&d), "11 tokens in 1.10 s · 10.0 tok/s");
        d.stats.dropped_tokens = 40;
        assert!(speed_text(&d).ends_with("the oldest 40 tokens of the chat no longer fit and were left out"));
    }

    fn info_with(steps: &[(LoadStep, f64)]) -> ModelInfo {
        ModelInfo {
            name: "m".into(),
            n_positions: 1024,
            weight_types: "q8_0".into(),
            n_layer: 24,
            n_embd: 1024,
            load_ms: 1402.54,
            steps: steps.iter().map(|&(step, ms)| StepTime { step, ms }).collect(),
            read_from: Some(Store::Opfs),
            memory_bytes: None,
            threads: 1,
            keeping: false,
        }
    }

    #[test]
    fn load_steps_leave_out_what_took_no_time() {
        let info = info_with(&[(LoadStep::Open, 2.0), (LoadStep::Read, 612.3), (LoadStep::Verify, 81.0), (LoadStep::Build, 400.0)]);
        assert_eq!(load_steps_text(&info).as_deref(), Some("read 0.61 · verify 0.08 · build 0.40 s"));
        assert_eq!(load_steps_text(&info_with(&[(LoadStep::Open, 1.0)])), None);
    }

    #[test]
    fn threads_are_counted_in_words() {
        assert_eq!(threads_text(1), "1 thread");
        assert_eq!(threads_text(4), "4 threads");
    }

    #[test]
    fn load_timings_are_json_for_scripts() {
        let info = info_with(&[(LoadStep::Read, 612.34), (LoadStep::Check, 0.0)]);
        let v: serde_json::Value = serde_json::from_str(&load_timings_json(&info)).unwrap();
        assert_eq!(v, serde_json::json!({"ms": 1402.5, "from": "opfs", "read": 612.3, "check": 0.0}));
        let downloaded = ModelInfo { read_from: None, ..info };
        assert_eq!(serde_json::from_str::<serde_json::Value>(&load_timings_json(&downloaded)).unwrap()["from"], "network");
    }
}
