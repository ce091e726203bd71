//! The tiled matrix product driver: `out[m, n] = x[m, k] · w[n, k]ᵀ` with quantized `w`.
//!
//! The activations are quantized once (by the caller). Weight rows are walked `R` at a time;
//! each group of `R` rows meets the activation rows `C` at a time, so a prompt batch reads
//! each weight block from memory once per tile row instead of once per token, and the
//! group's few KB of weights stay in L1 while the activation rows stream past. Natively the
//! weight rows are split across candle's barrier-pool threads (each writes its own output columns);
//! wasm32 runs on one thread.

use super::activations::{ActRow, QuantActs};
use super::arch::Arch;
#[cfg(target_arch = "x86_64")]
use super::avx512;
use super::{f16, parallel, q4_k, q6_k, q8_0, WeightFormat};

/// Most weight rows per tile (eight for the AVX-512 q4_K tiles).
pub const R: usize = if cfg!(target_arch = "x86_64") { 8 } else { 4 };
/// Most activation rows per tile.
pub const C: usize = 8;

/// (weight rows, activation rows) per tile for a format and path: more means more reuse of
/// each load but more accumulators to keep in registers.
pub fn tile_shape(format: WeightFormat, arch: Arch, m: usize) -> (usize, usize) {
    // For tuning by hand: DIALOGPT_TILE=r,c (r ≤ R, c ≤ 8) overrides the table.
    static OVERRIDE: std::sync::OnceLock<Option<(usize, usize)>> = std::sync::OnceLock::new();
    let forced = OVERRIDE.get_or_init(|| {
        let s = std::env::var("DIALOGPT_TILE").ok()?;
        let (r, c) = s.split_once(',')?;
        let (r, c) = (r.trim().parse().ok()?, c.trim().parse().ok()?);
        ((1..=R).contains(&r) && (1..=C).contains(&c)).then_some((r, c))
    });
    if let Some(shape) = forced {
        return *shape;
    }
    match (format, arch) {
        (_, Arch::Scalar) => (4, 1),
        // Decode: one weight row at a time keeps a single prefetched stream per thread.
        (_, Arch::Avx2 | Arch::Avx512) if m == 1 => (1, 1),
        // Eight rows interleaved in 512-bit registers (avx512.rs).
        (WeightFormat::Q4K | WeightFormat::Q8_0, Arch::Avx512) => (8, 6),
        // Rows interleaved in registers (`interleaved` in q8_0/q4_k) leave room for 6 columns
        // (tests/kernel_speed.rs GMAC/s, medium shapes, 4x4 -> 4x6: q8_0 36 -> 40, q4_K 53 -> 58).
        (WeightFormat::Q8_0 | WeightFormat::Q4K, Arch::Avx2) => (4, 6),
        (WeightFormat::Q6K, Arch::Avx2 | Arch::Avx512) => (4, 4),
        // 8 accumulators + 4 weight vectors: no spill; FMA-bound (tests/kernel_speed.rs: 39 GMAC/s).
        (WeightFormat::F16, Arch::Avx2 | Arch::Avx512) => (4, 2),
        (WeightFormat::Q8_0, Arch::Simd128) => (4, 3),
        // k-quants: wider tiles measured +40 % (plain) and +20 % (relaxed) on 64-row prompts in node.
        (_, Arch::Simd128) => (4, 4),
    }
}

/// A tile kernel: `R` weight rows against `C` activation rows.
trait TileKernel {
    /// # Safety
    /// The CPU supports the kernel's instructions and every row covers `x[0].d.len()` blocks.
    unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R];
}

macro_rules! kernel {
    ($name:ident, $($f:ident)::+ $(, $cfg:meta)?) => {
        $(#[cfg($cfg)])?
        struct $name;
        $(#[cfg($cfg)])?
        impl TileKernel for $name {
            #[inline(always)]
            #[allow(unused_unsafe)]
            unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
                unsafe { $($f)::+::<R, C>(w, x) }
            }
        }
    };
}

kernel!(Q8_0Scalar, q8_0::scalar);
kernel!(Q4KScalar, q4_k::scalar);
kernel!(Q6KScalar, q6_k::scalar);
kernel!(F16Scalar, f16::scalar);
kernel!(Q8_0Avx2, q8_0::avx2::tile, target_arch = "x86_64");
kernel!(Q4KAvx2, q4_k::avx2::tile, target_arch = "x86_64");
kernel!(Q6KAvx2, q6_k::avx2::tile, target_arch = "x86_64");
kernel!(F16Avx2, f16::avx2::tile, target_arch = "x86_64");
kernel!(Q4KAvx512, avx512::q4_k_tile, target_arch = "x86_64");
kernel!(Q8_0Avx512, avx512::q8_0_tile, target_arch = "x86_64");
kernel!(Q8_0Simd128, q8_0::simd128::tile, all(target_arch = "wasm32", target_feature = "simd128"));
kernel!(Q4KSimd128, q4_k::simd128::tile, all(target_arch = "wasm32", target_feature = "simd128"));
kernel!(Q6KSimd128, q6_k::simd128::tile, all(target_arch = "wasm32", target_feature = "simd128"));

/// Runs the `w.len() x x.len()` instance of `K` (at most `R` x `C`), handing each result to
/// `store(r, c, value)`, column by column (callers write straight into the output, whose
/// rows for one column are contiguous; a buffer and a second pass cost 5 % of a small prompt).
///
/// # Safety
/// As for [`TileKernel::tile`].
#[inline(always)]
unsafe fn run_tile<K: TileKernel>(w: &[&[u8]], x: &[ActRow], mut store: impl FnMut(usize, usize, f32)) {
    macro_rules! shape {
        ($r:literal, $c:literal) => {{
            let res = K::tile::<$r, $c>(w.try_into().unwrap(), x.try_into().unwrap());
            for c in 0..$c {
                for r in 0..$r {
                    store(r, c, res[r][c]);
                }
            }
        }};
    }
    match (w.len(), x.len()) {
        (4, 1) => shape!(4, 1),
        (4, 2) => shape!(4, 2),
        (4, 3) => shape!(4, 3),
        (4, 4) => shape!(4, 4),
        // Wider tiles only where a kernel uses them (they would only grow the wasm).
        #[cfg(target_arch = "x86_64")]
        (4, 5) => shape!(4, 5),
        #[cfg(target_arch = "x86_64")]
        (4, 6) => shape!(4, 6),
        #[cfg(target_arch = "x86_64")]
        (4, 7) => shape!(4, 7),
        #[cfg(target_arch = "x86_64")]
        (4, 8) => shape!(4, 8),
        #[cfg(target_arch = "x86_64")]
        (8, 1) => shape!(8, 1),
        #[cfg(target_arch = "x86_64")]
        (8, 2) => shape!(8, 2),
        #[cfg(target_arch = "x86_64")]
        (8, 3) => shape!(8, 3),
        #[cfg(target_arch = "x86_64")]
        (8, 4) => shape!(8, 4),
        #[cfg(target_arch = "x86_64")]
        (8, 5) => shape!(8, 5),
        #[cfg(target_arch = "x86_64")]
        (8, 6) => shape!(8, 6),
        #[cfg(target_arch = "x86_64")]
        (8, 7) => shape!(8, 7),
        #[cfg(target_arch = "x86_64")]
        (8, 8) => shape!(8, 8),
        (1, 1) => shape!(1, 1),
        (2, 1) => shape!(2, 1),
        (2, 2) => shape!(2, 2),
        (2, 3) => shape!(2, 3),
        (2, 4) => shape!(2, 4),
        (1, 4) => shape!(1, 4),
        (nr, nc) => {
            for c in 0..nc {
                for r in 0..nr {
                    store(r, c, K::tile::<1, 1>(&[w[r]], &[x[c]])[0][0]);
                }
            }
        }
    }
}

/// Raw output pointer shared by the threads; each writes disjoint elements.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// Weight rows `rows` against every activation row, into `out` (`[m, n]`): picks the kernel
/// once per call, so the per-row loops below call it directly.
fn rows_range(format: WeightFormat, arch: Arch, w: &[u8], n: usize, acts: &QuantActs, rows: std::ops::Range<usize>, out: OutPtr) {
    let shape = tile_shape(format, arch, acts.m);
    // SAFETY: `matmul` checked that `arch` is available and that every row is long enough.
    unsafe {
        match (format, arch) {
            (WeightFormat::Q8_0, Arch::Scalar) => rows_with::<Q8_0Scalar>(w, n, acts, rows, out, shape),
            (WeightFormat::Q4K, Arch::Scalar) => rows_with::<Q4KScalar>(w, n, acts, rows, out, shape),
            (WeightFormat::Q6K, Arch::Scalar) => rows_with::<Q6KScalar>(w, n, acts, rows, out, shape),
            (WeightFormat::F16, Arch::Scalar) => rows_with::<F16Scalar>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (WeightFormat::Q8_0, Arch::Avx2) => rows_with::<Q8_0Avx2>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (WeightFormat::Q8_0, Arch::Avx512) => rows_with::<Q8_0Avx512>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (WeightFormat::Q4K, Arch::Avx2) => rows_with::<Q4KAvx2>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (WeightFormat::Q4K, Arch::Avx512) => rows_with::<Q4KAvx512>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (WeightFormat::Q6K, Arch::Avx2 | Arch::Avx512) => rows_with::<Q6KAvx2>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (WeightFormat::F16, Arch::Avx2 | Arch::Avx512) => rows_with::<F16Avx2>(w, n, acts, rows, out, shape),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            (WeightFormat::Q8_0, Arch::Simd128) => rows_with::<Q8_0Simd128>(w, n, acts, rows, out, shape),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            (WeightFormat::Q4K, Arch::Simd128) => rows_with::<Q4KSimd128>(w, n, acts, rows, out, shape),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            (WeightFormat::Q6K, Arch::Simd128) => rows_with::<Q6KSimd128>(w, n, acts, rows, out, shape),
            #[allow(unreachable_patterns)]
            _ => panic!("kernel path {arch:?} is not available on this target"),
        }
    }
}

/// `rows_range` for one kernel, in tiles of `(rows_per_tile, cols)`.
///
/// # Safety
/// As for [`TileKernel::tile`].
unsafe fn rows_with<K: TileKernel>(
    w: &[u8],
    n: usize,
    acts: &QuantActs,
    rows: std::ops::Range<usize>,
    out: OutPtr,
    (rows_per_tile, cols): (usize, usize),
) {
    let row_bytes = w.len() / n;
    let m = acts.m;
    debug_assert!(rows_per_tile <= R && cols <= C);
    if m == 1 {
        // Decode: one dot product per weight row, no column bookkeeping. Natively one row per
        // tile (a single prefetched stream per thread); with several rows per tile (wasm32)
        // the tile's rows come from that many equal parts of the range, so the weights are
        // read as a few long sequential streams at once rather than one (a core keeps more
        // misses in flight that way; the browser has no prefetch instruction to do it
        // instead). Node, medium, one thread: q4_k 14.5 -> 18.1, q8_0 10.0 -> 11.3 tok/s
        // decode; eight streams measured no better than four.
        let x = [acts.row(0)];
        let part = rows.len() / rows_per_tile;
        for i in 0..part {
            let idx: [usize; R] = std::array::from_fn(|j| rows.start + j.min(rows_per_tile - 1) * part + i);
            let wr: [&[u8]; R] = std::array::from_fn(|j| &w[idx[j] * row_bytes..(idx[j] + 1) * row_bytes]);
            // SAFETY: (0, idx[j]) is inside [1, n]; only this call writes it.
            run_tile::<K>(&wr[..rows_per_tile], &x, |j, _, v| *out.0.add(idx[j]) = v);
        }
        for r in rows.start + part * rows_per_tile..rows.end {
            // SAFETY: (0, r) is inside [1, n]; only this call writes it.
            *out.0.add(r) = K::tile::<1, 1>(&[&w[r * row_bytes..(r + 1) * row_bytes]], &x)[0][0];
        }
        return;
    }
    let xrows: Vec<ActRow> = (0..m).map(|i| acts.row(i)).collect();
    let mut r0 = rows.start;
    while r0 < rows.end {
        let nr = rows_per_tile.min(rows.end - r0);
        let wr: [&[u8]; R] = std::array::from_fn(|i| {
            let r = (r0 + i).min(rows.end - 1);
            &w[r * row_bytes..(r + 1) * row_bytes]
        });
        let mut c0 = 0;
        while c0 < m {
            let nc = cols.min(m - c0);
            // SAFETY: (c0 + c, r0 + r) is inside [m, n]; only this call writes it.
            let dst = out.0.add(c0 * n + r0);
            run_tile::<K>(&wr[..nr], &xrows[c0..c0 + nc], |r, c, v| *dst.add(c * n + r) = v);
            c0 += nc;
        }
        r0 += nr;
    }
}

/// `out[m, n] = acts · wᵀ` where `w` holds `n` rows of `format` blocks covering `acts.k`.
pub fn matmul(format: WeightFormat, arch: Arch, w: &[u8], n: usize, acts: &QuantActs, out: &mut [f32]) {
    assert!(Arch::available().contains(&arch), "kernel path {arch:?} is not available here");
    assert_eq!(acts.format, format.act_format(), "activations quantized for another format");
    let k = acts.k;
    assert!(n > 0 && k % format.block() == 0, "bad shape: {n} rows of {k}");
    assert_eq!(w.len(), n * k / format.block() * format.block_bytes(), "weight bytes do not match [{n}, {k}]");
    assert_eq!(out.len(), acts.m * n, "output is not [{}, {n}]", acts.m);
    if acts.m == 0 {
        return;
    }
    let ptr = OutPtr(out.as_mut_ptr());
    // Items are groups of R weight rows, split across the native threads (each writes its
    // own output columns) unless the product is too small to be worth waking them.
    let min_split = if n * k * acts.m >= 1 << 18 { 4 } else { usize::MAX };
    parallel::for_ranges(n.div_ceil(R), min_split, |groups| {
        let p = ptr;
        rows_range(format, arch, w, n, acts, groups.start * R..(groups.end * R).min(n), p)
    });
}
