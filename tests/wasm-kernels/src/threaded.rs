//! With compute threads (the atomics build, `THREADS=2 tests/wasm-kernels/run.sh`): the split itself, then shapes
//! big enough to be split (decode, prompt tiles, attention heads), against the same
//! references as the one-thread shapes. Without them: says so, checks nothing more.

use super::{attention, kernels, say};
use candle_core::quantized::GgmlDType;
use dialogpt_web::engine::kernels::parallel;
use std::sync::atomic::{AtomicU32, Ordering};

/// Shapes checked, 0 in a build without threads.
pub fn check() -> u32 {
    let threads = parallel::threads();
    if threads == 1 {
        say("threads: 1 (this build computes on one thread; THREADS=2 run.sh checks the split paths)");
        return 0;
    }
    ranges_cover_once_across_threads(threads);
    let mut n = 0;
    // m x rows x k >= 2^18: the products the matmul driver splits.
    for (m, rows, k) in [(1, 700, 512), (1, 1031, 768), (7, 301, 768), (16, 257, 1024)] {
        for dtype in [GgmlDType::Q8_0, GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::F16] {
            kernels::check(dtype, m, rows, k, 101 + (m * rows + k) as u64);
            n += 1;
        }
    }
    for (heads, width, steps) in attention::CASES {
        attention::check(heads, width, steps).unwrap();
    }
    say(&format!("threads: {threads}: split products and attention match the references"));
    n
}

thread_local! {
    /// Which thread this is, numbered from 1 the first time it runs a range.
    static THREAD: u32 = {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    };
}

/// Every index of a split is run exactly once, for many sizes; over enough work, by more than
/// one thread.
fn ranges_cover_once_across_threads(threads: usize) {
    let mut seen_threads = std::collections::BTreeSet::new();
    for n in [2usize, 3, 7, 8, 9, 64, 257, 1000, 4099] {
        let hits: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
        let ran_on: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
        for _ in 0..50 {
            parallel::for_ranges(n, 2, |range| {
                let me = THREAD.with(|t| *t);
                for i in range {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                    ran_on[i].store(me, Ordering::Relaxed);
                    // Enough work per index that the helpers get their share.
                    let mut x = i as u32;
                    for _ in 0..2000 {
                        x = std::hint::black_box(x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223));
                    }
                }
            });
        }
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 50), "n = {n}: an index ran other than once per split");
        seen_threads.extend(ran_on.iter().map(|t| t.load(Ordering::Relaxed)));
    }
    assert!(seen_threads.len() > 1, "{threads} threads, but every range ran on one of them");
    say(&format!("threads: ranges cover every index once; {} threads took part", seen_threads.len()));
}
