//! q8_0 tiles for wasm32 `simd128`.

use super::super::activations::ActRow;
use super::super::simd::simd128::{f16x4_to_f32, lanes_to_tile, load, load_i16, reduce4, rows_f16};
use super::BLOCK_BYTES;
use core::arch::wasm32::*;

/// Up to four weight rows (`R <= 4`) against `C` activation rows. Per 8 weights: `R + C`
/// load-and-widen instructions and `R * C` i16 dot products, accumulated as i32 per
/// (row, column); at the end of each block the four rows' sums are reduced into one
/// vector, scaled by the rows' f16 scales (converted four at once) and the activation
/// scale, so the per-block float work is shared by the four rows.
pub fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    assert!(R <= 4, "at most four weight rows per tile");
    let nb = x[0].d.len();
    for r in 0..R {
        assert!(w[r].len() >= nb * BLOCK_BYTES);
    }
    for c in 0..C {
        assert!(x[c].qs.len() >= nb * 32 && x[c].d.len() >= nb);
    }
    if C == 1 {
        if R == 4 {
            // Four rows from four parts of the matrix (matmul's decode): read in step.
            let rows: [&[u8]; 4] = core::array::from_fn(|r| &w[r][..nb * BLOCK_BYTES]);
            let d = decode_rows_in_step(&rows, &x[0]);
            return core::array::from_fn(|r| [d[r]; C]);
        }
        return core::array::from_fn(|r| [decode_row(&w[r][..nb * BLOCK_BYTES], &x[0]); C]);
    }
    let mut acc = [f32x4_splat(0.0); C];
    for b in 0..nb {
        let blk: [&[u8]; R] = core::array::from_fn(|r| &w[r][b * BLOCK_BYTES..(b + 1) * BLOCK_BYTES]);
        let mut sums = [[i32x4_splat(0); R]; C];
        for h in 0..4 {
            // Quants 8h..8h + 8 of the block (after its 2-byte scale).
            let wv: [v128; R] = core::array::from_fn(|r| load_i16(blk[r][2 + 8 * h..].as_ptr()));
            for c in 0..C {
                let xv = load_i16(x[c].qs[b * 32 + 8 * h..].as_ptr() as *const u8);
                for r in 0..R {
                    sums[c][r] = i32x4_add(sums[c][r], i32x4_dot_i16x8(wv[r], xv));
                }
            }
        }
        let wd = rows_f16(&blk, 0);
        for c in 0..C {
            let scale = f32x4_mul(wd, f32x4_splat(x[c].d[b]));
            acc[c] = f32x4_add(acc[c], f32x4_mul(f32x4_convert_i32x4(reduce4(&sums[c])), scale));
        }
    }
    lanes_to_tile(&acc)
}

/// `Σ q · x` of one block at `blk` (32 weights after the 2-byte scale) and its 32
/// activations at `xq`, in four i32 lanes.
///
/// # Safety
/// `blk` must point to a whole block and `xq` to 32 readable bytes.
#[inline(always)]
unsafe fn block_sum(blk: *const u8, xq: *const u8) -> v128 {
    let mut s = i32x4_splat(0);
    for h in 0..4 {
        s = i32x4_add(s, i32x4_dot_i16x8(load_i16(blk.add(2 + 8 * h)), load_i16(xq.add(8 * h))));
    }
    s
}

/// The f16 scale of the block at `blk`, as bits.
///
/// # Safety
/// `blk` must point to a whole block.
#[inline(always)]
unsafe fn scale_bits(blk: *const u8) -> u32 {
    u16::from_le_bytes([*blk, *blk.add(1)]) as u32
}

/// `acc` plus four consecutive blocks at `blk` against their activations at `xq` (scales
/// `xd`), the float step shared by the four blocks.
///
/// # Safety
/// `blk` must point to four whole blocks and `xq` to their 128 activations.
#[inline(always)]
unsafe fn four_blocks(acc: v128, blk: *const u8, xq: *const u8, xd: v128) -> v128 {
    let at = |i: usize| blk.add(i * BLOCK_BYTES);
    let sums = [0, 1, 2, 3].map(|i| block_sum(at(i), xq.add(i * 32)));
    let wd = f16x4_to_f32(u32x4(scale_bits(at(0)), scale_bits(at(1)), scale_bits(at(2)), scale_bits(at(3))));
    f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(reduce4(&sums)), f32x4_mul(wd, xd)))
}

/// The lanes of `acc` summed, plus the row's blocks `from..` (fewer than four) one by one.
fn finish_row(acc: v128, w: &[u8], x: &ActRow, from: usize) -> f32 {
    let mut total = f32x4_extract_lane::<0>(acc) + f32x4_extract_lane::<1>(acc) + f32x4_extract_lane::<2>(acc) + f32x4_extract_lane::<3>(acc);
    let (wp, xp) = (w.as_ptr(), x.qs.as_ptr() as *const u8);
    for b in from..w.len() / BLOCK_BYTES {
        // SAFETY: block b of the row and its activations exist (the callers assert it).
        let (s, bits) = unsafe { (reduce4(&[block_sum(wp.add(b * BLOCK_BYTES), xp.add(b * 32))]), scale_bits(wp.add(b * BLOCK_BYTES))) };
        let d = f32x4_extract_lane::<0>(f16x4_to_f32(u32x4(bits, 0, 0, 0)));
        total += i32x4_extract_lane::<0>(s) as f32 * (d * x.d[b]);
    }
    total
}

/// [`decode_row`] for four rows at once, four blocks of each in turn: the four rows' reads
/// (matmul hands them from four parts of the matrix) are in flight together.
fn decode_rows_in_step(w: &[&[u8]; 4], x: &ActRow) -> [f32; 4] {
    let nb = w[0].len() / BLOCK_BYTES;
    assert!(w.iter().all(|r| r.len() == nb * BLOCK_BYTES) && x.qs.len() >= nb * 32 && x.d.len() >= nb);
    let xp = x.qs.as_ptr() as *const u8;
    let mut acc = [f32x4_splat(0.0); 4];
    let mut b = 0;
    // SAFETY: blocks b..b + 4 < nb of each row and their activations exist (asserted above).
    unsafe {
        while b + 4 <= nb {
            let xd = load(x.d.as_ptr().add(b) as *const u8);
            for r in 0..4 {
                acc[r] = four_blocks(acc[r], w[r].as_ptr().add(b * BLOCK_BYTES), xp.add(b * 32), xd);
            }
            b += 4;
        }
    }
    core::array::from_fn(|r| finish_row(acc[r], w[r], x, b))
}

/// One weight row against one activation row (decode), the row read in address order:
/// four rows interleaved block by block (the tile's order) are four short streams that
/// the hardware prefetcher does not follow, and the browser has no prefetch instruction.
/// The tile's float step is shared here by four consecutive blocks of the row.
fn decode_row(w: &[u8], x: &ActRow) -> f32 {
    let nb = w.len() / BLOCK_BYTES;
    assert!(x.qs.len() >= nb * 32 && x.d.len() >= nb);
    let (wp, xp) = (w.as_ptr(), x.qs.as_ptr() as *const u8);
    let mut acc = f32x4_splat(0.0);
    let mut b = 0;
    // SAFETY: blocks b..b + 4 < nb of the row and their activations exist (asserted above).
    unsafe {
        while b + 4 <= nb {
            acc = four_blocks(acc, wp.add(b * BLOCK_BYTES), xp.add(b * 32), load(x.d.as_ptr().add(b) as *const u8));
            b += 4;
        }
    }
    finish_row(acc, w, x, b)
}
