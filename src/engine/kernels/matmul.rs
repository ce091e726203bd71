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
use super::parallel;
use super::tile::*;
use super::BlockType;

/// Raw output pointer shared by the threads; each writes disjoint elements.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// Weight rows `rows` against every activation row, into `out` (`[m, n]`): picks the kernel
/// once per call, so the per-row loops below call it directly.
fn rows_range(format: BlockType, arch: Arch, w: &[u8], n: usize, acts: &QuantActs, rows: std::ops::Range<usize>, out: OutPtr) {
    let shape = tile_shape(format, arch, acts.m);
    // SAFETY: `matmul` checked that `arch` is available and that every row is long enough.
    unsafe {
        match (format, arch) {
            (BlockType::Q8_0, Arch::Scalar) => rows_with::<Q8_0Scalar>(w, n, acts, rows, out, shape),
            (BlockType::Q4K, Arch::Scalar) => rows_with::<Q4KScalar>(w, n, acts, rows, out, shape),
            (BlockType::Q6K, Arch::Scalar) => rows_with::<Q6KScalar>(w, n, acts, rows, out, shape),
            (BlockType::F16, Arch::Scalar) => rows_with::<F16Scalar>(w, n, acts, rows, out, shape),
            (BlockType::F32, Arch::Scalar) => rows_with::<F32Scalar>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (BlockType::Q8_0, Arch::Avx2) => rows_with::<Q8_0Avx2>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (BlockType::Q8_0, Arch::Avx512) => rows_with::<Q8_0Avx512>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (BlockType::Q4K, Arch::Avx2) => rows_with::<Q4KAvx2>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (BlockType::Q4K, Arch::Avx512) => rows_with::<Q4KAvx512>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (BlockType::Q6K, Arch::Avx2 | Arch::Avx512) => rows_with::<Q6KAvx2>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (BlockType::F16, Arch::Avx2 | Arch::Avx512) => rows_with::<F16Avx2>(w, n, acts, rows, out, shape),
            #[cfg(target_arch = "x86_64")]
            (BlockType::F32, Arch::Avx2 | Arch::Avx512) => rows_with::<F32Avx2>(w, n, acts, rows, out, shape),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            (BlockType::Q8_0, Arch::Simd128) => rows_with::<Q8_0Simd128>(w, n, acts, rows, out, shape),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            (BlockType::Q4K, Arch::Simd128) => rows_with::<Q4KSimd128>(w, n, acts, rows, out, shape),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            (BlockType::Q6K, Arch::Simd128) => rows_with::<Q6KSimd128>(w, n, acts, rows, out, shape),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            (BlockType::F16, Arch::Simd128) => rows_with::<F16Simd128>(w, n, acts, rows, out, shape),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            (BlockType::F32, Arch::Simd128) => rows_with::<F32Simd128>(w, n, acts, rows, out, shape),
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
        // instead). Four streams are enough: eight were no faster (BENCHMARKS.md).
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
pub fn matmul(format: BlockType, arch: Arch, w: &[u8], n: usize, acts: &QuantActs, out: &mut [f32]) {
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
