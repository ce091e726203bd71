//! Attention throughput on wasm32 (`tests/wasm-kernels/run.sh speed 4`): one DialoGPT-medium
//! layer (16 heads of 64) late in a conversation, a new message (15 queries) and one decoded
//! token over ~600 cached positions. Prints, never asserts on time.

use super::{now, say};
use dialogpt_web::engine::kernels::attention::KvCache;

const HEADS: usize = 16;
const HEAD_DIM: usize = 64;
const E: usize = HEADS * HEAD_DIM;

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n).map(|i| (((i * 7919 + seed) % 1000) as f32 - 500.0) * 1e-3).collect()
}

pub fn run() {
    for (past, s) in [(0, 15), (570, 15), (600, 1), (1000, 1)] {
        let mut cache = KvCache::new(HEADS, 1024, HEAD_DIM);
        if past > 0 {
            cache.append_qkv(&values(past * 3 * E, 1), past).unwrap();
        }
        let qkv = values(s * 3 * E, 2);
        cache.append_qkv(&qkv, s).unwrap();
        let mut out = vec![0f32; s * E];
        let reps = 40;
        let mut best = f64::MAX;
        cache.attend_new(&qkv, s, &mut out);
        for _ in 0..reps {
            let t = now();
            cache.attend_new(&qkv, s, &mut out);
            std::hint::black_box(&out);
            best = best.min(now() - t);
        }
        // q·k and w·v: two multiply-adds per (query, visible position, dimension).
        let macs: usize = (0..s).map(|i| 2 * (past + i + 1) * E).sum();
        say(&format!(
            "attention {s:2} queries after {past:4} cached: {best:7.3} ms per layer ({:.1} ms for 24 layers) {:6.2} GMAC/s",
            best * 24.0,
            macs as f64 / best / 1e6
        ));
    }
}
