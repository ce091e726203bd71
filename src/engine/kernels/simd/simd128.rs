//! Helpers every simd128 tile shares: loads, the branch-free f16 conversion, four-row
//! reductions, lane splats and the row-order decode walk.

use core::arch::wasm32::*;

#[inline(always)]
pub(crate) fn load(p: *const u8) -> v128 {
    // SAFETY: callers pass pointers with 16 readable bytes; wasm loads need no alignment.
    unsafe { (p as *const v128).read_unaligned() }
}

/// Eight i8 at `p` sign-extended to i16x8: one `v128.load8x8_s`, which V8 turns into a
/// single load-and-extend instruction (no separate widening step).
#[inline(always)]
pub(crate) fn load_i16(p: *const u8) -> v128 {
    // SAFETY: callers pass pointers with 8 readable bytes.
    unsafe { i16x8_load_extend_i8x8(p as *const i8) }
}

/// Four f16 bit patterns (one per i32 lane) as f32, without branches: the exponent and
/// mantissa move into f32 position and a multiply by 2^112 rebiases the exponent (exact
/// for normal and subnormal halves; scales are never inf or NaN). `half`'s portable
/// conversion branches per value, which cost as much as the block's 32 products here.
const TWO_POW_112: f32 = f32::from_bits((112 + 127) << 23);

#[inline(always)]
pub fn f16x4_to_f32(h: v128) -> v128 {
    let magnitude = f32x4_mul(i32x4_shl(v128_and(h, i32x4_splat(0x7fff)), 13), f32x4_splat(TWO_POW_112));
    v128_or(magnitude, i32x4_shl(v128_and(h, i32x4_splat(0x8000)), 16))
}

/// The f16 at byte `at` of each of up to four rows' blocks, as f32 lanes (0 for missing rows).
#[inline(always)]
pub(crate) fn rows_f16<const R: usize>(blk: &[&[u8]; R], at: usize) -> v128 {
    let bits = |r: usize| if r < R { u16::from_le_bytes([blk[r][at], blk[r][at + 1]]) as u32 } else { 0 };
    f16x4_to_f32(u32x4(bits(0), bits(1), bits(2), bits(3)))
}

/// `[Σ s[0], Σ s[1], Σ s[2], Σ s[3]]`: four horizontal sums at once (missing rows are 0).
#[inline(always)]
pub(crate) fn reduce4<const R: usize>(s: &[v128; R]) -> v128 {
    let z = i32x4_splat(0);
    let v = |i: usize| if i < R { s[i] } else { z };
    let t0 = i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(v(0), v(1)), i32x4_shuffle::<2, 6, 3, 7>(v(0), v(1)));
    let t1 = i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(v(2), v(3)), i32x4_shuffle::<2, 6, 3, 7>(v(2), v(3)));
    i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(t0, t1), i32x4_shuffle::<2, 3, 6, 7>(t0, t1))
}

/// Super-blocks per pass of `decode_in_row_order` (a 4096-wide k-quant row in one pass).
const CHUNK: usize = 16;

/// The one-activation-row (decode) walk of the k-quant kernels: each weight row's blocks
/// are visited one after another, so the rows are read in address order (four rows
/// interleaved block by block are four short streams the hardware prefetcher does not
/// follow; from memory that cost decode a third to a half of its speed). `sums(r, b)`
/// gives row `r`'s integer work on block `b`; it waits in a small buffer until
/// `epilogue(b, sums of the R rows)` turns it into four rows' f32 contributions at once.
#[inline(always)]
pub(crate) fn decode_in_row_order<const R: usize, T: Copy>(
    nb: usize,
    sums: impl Fn(usize, usize) -> T,
    epilogue: impl Fn(usize, [T; R]) -> v128,
) -> [f32; R] {
    use core::mem::MaybeUninit;
    let mut acc = f32x4_splat(0.0);
    let mut b0 = 0;
    while b0 < nb {
        let n = CHUNK.min(nb - b0);
        let mut buf = [[MaybeUninit::<T>::uninit(); CHUNK]; R];
        // Block by block, the R rows in turn: matmul's decode hands rows from R parts of
        // the matrix, whose reads are then in flight together.
        for i in 0..n {
            for (r, row) in buf.iter_mut().enumerate() {
                row[i].write(sums(r, b0 + i));
            }
        }
        for i in 0..n {
            // SAFETY: every row wrote entries 0..n above.
            acc = f32x4_add(acc, epilogue(b0 + i, core::array::from_fn(|r| unsafe { buf[r][i].assume_init() })));
        }
        b0 += n;
    }
    let lanes: [[f32; 1]; R] = lanes_to_tile(&[acc]);
    core::array::from_fn(|r| lanes[r][0])
}

/// The tile's result from one f32x4 per activation row whose lanes are the weight rows.
#[inline(always)]
pub(crate) fn lanes_to_tile<const R: usize, const C: usize>(acc: &[v128; C]) -> [[f32; C]; R] {
    let mut out = [[0f32; C]; R];
    for c in 0..C {
        // SAFETY: v128 and [f32; 4] have the same size; every bit pattern is a valid f32.
        let lanes: [f32; 4] = unsafe { core::mem::transmute(acc[c]) };
        for r in 0..R {
            out[r][c] = lanes[r];
        }
    }
    out
}

/// Lane `S` of `v` in all eight i16 lanes (V8: two shuffles, no trip through a scalar).
#[inline(always)]
pub(crate) fn splat16<const S: usize>(v: v128) -> v128 {
    match S {
        0 => i16x8_shuffle::<0, 0, 0, 0, 0, 0, 0, 0>(v, v),
        1 => i16x8_shuffle::<1, 1, 1, 1, 1, 1, 1, 1>(v, v),
        2 => i16x8_shuffle::<2, 2, 2, 2, 2, 2, 2, 2>(v, v),
        3 => i16x8_shuffle::<3, 3, 3, 3, 3, 3, 3, 3>(v, v),
        4 => i16x8_shuffle::<4, 4, 4, 4, 4, 4, 4, 4>(v, v),
        5 => i16x8_shuffle::<5, 5, 5, 5, 5, 5, 5, 5>(v, v),
        6 => i16x8_shuffle::<6, 6, 6, 6, 6, 6, 6, 6>(v, v),
        _ => i16x8_shuffle::<7, 7, 7, 7, 7, 7, 7, 7>(v, v),
    }
}
