//! The attention kernel (`KvCache::append_qkv` + `attend_new`) against causal attention
//! written out plainly in f64, feeding the cache a prompt after cached turns (large enough to
//! be split across threads) and then decode steps; heads of 64 (DialoGPT's) and of 24 (the
//! narrow-width loops). Also built for wasm32 by tests/wasm-kernels (the simd128 loops).

use dialogpt_web::engine::kernels::attention::KvCache;

/// Query `past + i`'s output (all heads) over positions `0..=past + i`; `all` holds one
/// fused `[q | k | v]` row per position.
fn reference(all: &[Vec<f32>], n_head: usize, hd: usize, past: usize, i: usize) -> Vec<f64> {
    let e = n_head * hd;
    let q = &all[past + i];
    let mut out = vec![0f64; e];
    for h in 0..n_head {
        let score = |t: usize| -> f64 {
            (0..hd).map(|d| q[h * hd + d] as f64 * all[t][e + h * hd + d] as f64).sum::<f64>() / (hd as f64).sqrt()
        };
        let scores: Vec<f64> = (0..=past + i).map(score).collect();
        let max = scores.iter().cloned().fold(f64::MIN, f64::max);
        let total: f64 = scores.iter().map(|s| (s - max).exp()).sum();
        for (t, s) in scores.iter().enumerate() {
            for d in 0..hd {
                out[h * hd + d] += (s - max).exp() / total * all[t][2 * e + h * hd + d] as f64;
            }
        }
    }
    out
}

/// Checks `append_qkv` + `attend_new` against [`reference`] on random rows, feeding the
/// cache `steps` positions at a time. Returns the first mismatch.
pub fn check(n_head: usize, hd: usize, steps: &[usize]) -> Result<(), String> {
    let e = n_head * hd;
    let total: usize = steps.iter().sum();
    let mut seed = 0x2545_F491_u64;
    let mut rand = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 2001) as f32 / 1000.0 - 1.0
    };
    let all: Vec<Vec<f32>> = (0..total).map(|_| (0..3 * e).map(|_| rand()).collect()).collect();
    let mut cache = KvCache::new(n_head, total, hd);
    let mut from = 0;
    for &count in steps {
        let qkv: Vec<f32> = all[from..from + count].concat();
        cache.append_qkv(&qkv, count).map_err(|e| e.to_string())?;
        let mut out = vec![0f32; count * e];
        cache.attend_new(&qkv, count, &mut out);
        for i in 0..count {
            let want = reference(&all, n_head, hd, from, i);
            for (g, w) in out[i * e..(i + 1) * e].iter().zip(&want) {
                if (*g as f64 - w).abs() >= 1e-5 {
                    return Err(format!("query {} of {count} after {from}: {g} vs {w}", from + i));
                }
            }
        }
        from += count;
    }
    Ok(())
}

/// The shapes checked, natively and on wasm32: (heads, head width, positions per step). The
/// cache starts with room for 64 positions and grows: the first two cases grow it once, the
/// last one three times, with one position at a time across each growth.
pub const CASES: [(usize, usize, &[usize]); 4] =
    [(4, 64, &[41, 47, 1, 2]), (3, 24, &[41, 47, 1, 2]), (3, 24, &[9, 1, 5]), (2, 16, &[63, 1, 1, 65, 1, 90])];

#[test]
fn attention_matches_the_formula() {
    for (heads, width, steps) in CASES {
        check(heads, width, steps).unwrap();
    }
}
