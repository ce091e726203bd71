//! Tiles: the kernel each (block type, instruction set) pair provides — `R` weight rows
//! against `C` activation rows, so each weight block loaded serves `C` activation rows and
//! each activation block `R` weight rows — and the shapes the driver asks of them.

use super::activations::ActRow;
use super::arch::Arch;
use super::{float, q4_k, q6_k, q8_0, BlockType};

/// Most weight rows per tile (eight for the AVX-512 q4_K tiles).
pub const R: usize = if cfg!(target_arch = "x86_64") { 8 } else { 4 };
/// Most activation rows per tile.
pub const C: usize = 8;

/// (weight rows, activation rows) per tile for a format and path: more means more reuse of
/// each load but more accumulators to keep in registers.
pub fn tile_shape(format: BlockType, arch: Arch, m: usize) -> (usize, usize) {
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
        // Eight rows interleaved in 512-bit registers (`avx512` in q8_0/q4_k).
        (BlockType::Q4K | BlockType::Q8_0, Arch::Avx512) => (8, 6),
        // Rows interleaved in registers (`interleaved` in q8_0/q4_k) leave room for 6 columns.
        (BlockType::Q8_0 | BlockType::Q4K, Arch::Avx2) => (4, 6),
        (BlockType::Q6K, Arch::Avx2 | Arch::Avx512) => (4, 4),
        // 8 accumulators + 4 weight vectors: no spill; FMA-bound.
        (BlockType::F16 | BlockType::F32, Arch::Avx2 | Arch::Avx512) => (4, 2),
        (BlockType::Q8_0, Arch::Simd128) => (4, 3),
        // Two vectors per weight row and step: 4 x 2 keeps the accumulators in registers.
        (BlockType::F16 | BlockType::F32, Arch::Simd128) => (4, 2),
        // k-quants: wider tiles pay for their extra accumulators here (BENCHMARKS.md).
        (_, Arch::Simd128) => (4, 4),
    }
}

/// A tile kernel: `R` weight rows against `C` activation rows.
pub(super) trait TileKernel {
    /// # Safety
    /// The CPU supports the kernel's instructions and every row covers `x[0].d.len()` blocks.
    unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R];
}

macro_rules! kernel {
    ($name:ident, $($f:ident)::+ $(, $cfg:meta)?) => {
        $(#[cfg($cfg)])?
        pub(super) struct $name;
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
kernel!(F16Scalar, float::f16_scalar);
kernel!(F32Scalar, float::f32_scalar);
kernel!(Q8_0Avx2, q8_0::avx2::tile, target_arch = "x86_64");
kernel!(Q4KAvx2, q4_k::avx2::tile, target_arch = "x86_64");
kernel!(Q6KAvx2, q6_k::avx2::tile, target_arch = "x86_64");
kernel!(F16Avx2, float::avx2::f16_tile, target_arch = "x86_64");
kernel!(F32Avx2, float::avx2::f32_tile, target_arch = "x86_64");
kernel!(Q4KAvx512, q4_k::avx512::tile, target_arch = "x86_64");
kernel!(Q8_0Avx512, q8_0::avx512::tile, target_arch = "x86_64");
kernel!(Q8_0Simd128, q8_0::simd128::tile, all(target_arch = "wasm32", target_feature = "simd128"));
kernel!(Q4KSimd128, q4_k::simd128::tile, all(target_arch = "wasm32", target_feature = "simd128"));
kernel!(Q6KSimd128, q6_k::simd128::tile, all(target_arch = "wasm32", target_feature = "simd128"));
kernel!(F16Simd128, float::simd128::f16_tile, all(target_arch = "wasm32", target_feature = "simd128"));
kernel!(F32Simd128, float::simd128::f32_tile, all(target_arch = "wasm32", target_feature = "simd128"));

/// Runs the `w.len() x x.len()` instance of `K` (at most `R` x `C`), handing each result to
/// `store(r, c, value)`, column by column (callers write straight into the output, whose
/// rows for one column are contiguous, rather than through a buffer and a second pass).
///
/// # Safety
/// As for [`TileKernel::tile`].
#[inline(always)]
pub(super) unsafe fn run_tile<K: TileKernel>(w: &[&[u8]], x: &[ActRow], mut store: impl FnMut(usize, usize, f32)) {
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

