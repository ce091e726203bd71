//! q4_K tiles for wasm32 `simd128` (relaxed-SIMD integer dot products when the build enables
//! them): up to four weight rows against up to four activation rows.

use super::super::activations::ActRow;
use super::super::simd::simd128::{decode_in_row_order, lanes_to_tile, load, reduce4, rows_f16, splat16};
use super::BLOCK_BYTES;
use core::arch::wasm32::*;

/// Up to four weight rows (`R <= 4`) against `C` activation rows. The integer sums of a
/// super-block (`int_sums`) keep one i32 accumulator per (row, column); the float work at
/// its end is done for four rows at once (sums reduced into one vector, f16 `d`/`dmin`
/// converted four at a time, the mins term as i16 dot products).
// The relaxed build compiles the whole tile with relaxed SIMD, so `int_sums_relaxed` inlines.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    assert!(R <= 4 && C <= 4, "at most four weight rows and four columns per tile");
    let nb = x[0].d.len();
    for r in 0..R {
        assert!(w[r].len() >= nb * BLOCK_BYTES);
    }
    for c in 0..C {
        assert!(x[c].qs.len() >= nb * 256 && x[c].d.len() >= nb && x[c].bsums.len() >= nb * 16);
    }
    if C == 1 {
        let v = decode(w, &x[0]);
        return core::array::from_fn(|r| [v[r]; C]);
    }
    let mut acc = [f32x4_splat(0.0); C];
    for sb in 0..nb {
        // SAFETY: every row holds `nb` blocks and every column `nb` · 256 activations (asserted).
        let blk: [&[u8]; R] = core::array::from_fn(|r| unsafe { core::slice::from_raw_parts(w[r].as_ptr().add(sb * BLOCK_BYTES), BLOCK_BYTES) });
        let xq: [*const i8; C] = core::array::from_fn(|c| unsafe { x[c].qs.as_ptr().add(sb * 256) });
        // The scales as u16 (the integer loops splat them from memory), the mins as u16 lanes.
        let mut sc = [[0u16; 8]; R];
        let mut mins = [u16x8_splat(0); R];
        for r in 0..R {
            let (s, m) = scales_mins(blk[r]);
            // SAFETY: 16 bytes into `sc[r]`.
            unsafe { v128_store(sc[r].as_mut_ptr() as *mut v128, s) };
            mins[r] = m;
        }
        let isum = int_sums::<R, C>(&blk, &xq, &sc);
        let (d, dmin) = (rows_f16(&blk, 0), rows_f16(&blk, 2));
        // Written out per column (`C <= 4`): as a loop, which LLVM keeps rolled, V8 recomputes
        // `d`, `dmin`, the widened mins and the constants in every iteration.
        macro_rules! column {
            ($c:literal) => {
                if $c < C {
                    let c = $c;
                    let p32 = per32(&x[c], sb);
                    let msum: [v128; R] = core::array::from_fn(|r| i32x4_dot_i16x8(mins[r], p32));
                    let t = f32x4_sub(
                        f32x4_mul(f32x4_convert_i32x4(reduce4(&isum[c])), d),
                        f32x4_mul(f32x4_convert_i32x4(reduce4(&msum)), dmin),
                    );
                    acc[c] = f32x4_add(acc[c], f32x4_mul(t, f32x4_splat(x[c].d[sb])));
                }
            };
        }
        column!(0);
        column!(1);
        column!(2);
        column!(3);
    }
    lanes_to_tile(&acc)
}

/// Sums of the activations per 32-weight sub-block of super-block `sb` (pairs of the sums
/// of 16; ≤ 32 · 127), as i16 lanes.
#[inline(always)]
fn per32(x: &ActRow, sb: usize) -> v128 {
    let bs = x.bsums[sb * 16..].as_ptr() as *const u8;
    let (b0, b1) = (load(bs), load(bs.wrapping_add(16)));
    // Pairs added by dot products with ones (≤ 32 · 127: the narrowing never saturates);
    // V8 lowers the two-input i16 shuffles this replaces to several instructions each.
    let ones = i16x8_splat(1);
    i16x8_narrow_i32x4(i32x4_dot_i16x8(b0, ones), i32x4_dot_i16x8(b1, ones))
}

/// One activation row (decode): the same sums as `tile`, each weight row read in address
/// order (`decode_in_row_order`); a block's integer sums and mins wait for the float
/// epilogue shared by the four rows.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
fn decode<const R: usize>(w: &[&[u8]; R], x: &ActRow) -> [f32; R] {
    let block = |r: usize, sb: usize| &w[r][sb * BLOCK_BYTES..(sb + 1) * BLOCK_BYTES];
    let sums = |r: usize, sb: usize| {
        let blk = block(r, sb);
        let (sc, mn) = scales_mins(blk);
        (row_sums(blk, &x.qs[sb * 256..sb * 256 + 256], sc), mn)
    };
    decode_in_row_order::<R, (v128, v128)>(x.d.len(), sums, |sb, rows| {
        let blk: [&[u8]; R] = core::array::from_fn(|r| block(r, sb));
        let (d, dmin) = (rows_f16(&blk, 0), rows_f16(&blk, 2));
        let p32 = per32(x, sb);
        let is: [v128; R] = rows.map(|(s, _)| s);
        let ms: [v128; R] = rows.map(|(_, m)| i32x4_dot_i16x8(m, p32));
        let t = f32x4_sub(f32x4_mul(f32x4_convert_i32x4(reduce4(&is)), d), f32x4_mul(f32x4_convert_i32x4(reduce4(&ms)), dmin));
        f32x4_mul(t, f32x4_splat(x.d[sb]))
    })
}

/// The eight 6-bit scales and eight mins of a block as u16 lanes: `scales_and_mins_words`
/// on the four 32-bit lanes of one load.
#[inline(always)]
fn scales_mins(blk: &[u8]) -> (v128, v128) {
    // Lanes a, b, c: the 12 packed bytes (the fourth lane holds quants, unused).
    let v = load(blk[4..20].as_ptr());
    let low = v128_and(v, u32x4_splat(0x3f3f_3f3f));
    // ((a >> 6) & 3) << 4 is (a >> 2) & 0x30, per byte.
    let top = v128_and(u32x4_shr(v, 2), u32x4_splat(0x3030_3030));
    let c = i32x4_shuffle::<2, 6, 2, 6>(v, u32x4_shr(v, 4));
    let high = v128_or(v128_and(c, u32x4_splat(0x0f0f_0f0f)), top);
    // [scales lo, scales hi, mins lo, mins hi]
    let all = i32x4_shuffle::<0, 4, 1, 5>(low, high);
    (u16x8_extend_low_u8x16(all), u16x8_extend_high_u8x16(all))
}

/// `Σ scale_s · q · x` of one block (144 bytes) against its 256 activations, four i32
/// lanes; `sc`: the scales as u16 lanes.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline)]
fn row_sums(blk: &[u8], xq: &[i8], sc: v128) -> v128 {
    assert!(blk.len() >= BLOCK_BYTES && xq.len() >= 256);
    let (q, x) = (blk[16..].as_ptr(), xq.as_ptr() as *const u8);
    // SAFETY: 16 + 128 bytes of the block, 256 activations.
    let part = |j: usize, s_lo: v128, s_hi: v128| unsafe { sub_pair(q.add(32 * j), x.add(64 * j), s_lo, s_hi) };
    let a = i32x4_add(part(0, splat16::<0>(sc), splat16::<1>(sc)), part(1, splat16::<2>(sc), splat16::<3>(sc)));
    let b = i32x4_add(part(2, splat16::<4>(sc), splat16::<5>(sc)), part(3, splat16::<6>(sc), splat16::<7>(sc)));
    i32x4_add(a, b)
}

/// Sub-blocks 2j and 2j + 1: the 32 bytes at `q` (low nibbles, then high nibbles) against
/// the 64 activations at `x`, scaled by `s_lo` and `s_hi` (splat i16).
///
/// # Safety
/// `q` has 32 readable bytes, `x` 64.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline)]
unsafe fn sub_pair(q: *const u8, x: *const u8, s_lo: v128, s_hi: v128) -> v128 {
    let low4 = u8x16_splat(0x0F);
    let (a, b) = (load(q), load(q.add(16)));
    // u16 shift then mask: `u8x16.shr_u` has no x86 instruction, V8 builds its mask each time.
    let nib = [v128_and(a, low4), v128_and(b, low4), v128_and(u16x8_shr(a, 4), low4), v128_and(u16x8_shr(b, 4), low4)];
    let xv: [v128; 4] = core::array::from_fn(|i| load(x.add(16 * i)));
    #[cfg(feature = "relaxed-simd")]
    {
        // ≤ 2 · 2 · 15 · 127 per i16 lane: no saturation.
        let lo = i16x8_add(i16x8_relaxed_dot_i8x16_i7x16(xv[0], nib[0]), i16x8_relaxed_dot_i8x16_i7x16(xv[1], nib[1]));
        let hi = i16x8_add(i16x8_relaxed_dot_i8x16_i7x16(xv[2], nib[2]), i16x8_relaxed_dot_i8x16_i7x16(xv[3], nib[3]));
        i32x4_add(i32x4_dot_i16x8(lo, s_lo), i32x4_dot_i16x8(hi, s_hi))
    }
    #[cfg(not(feature = "relaxed-simd"))]
    {
        // Nibbles times scale in i16 (≤ 15 · 63), then i16 dot products with the
        // sign-extended activations.
        let mut s = i32x4_splat(0);
        for (i, scale) in [s_lo, s_lo, s_hi, s_hi].into_iter().enumerate() {
            let (wl, wh) = (i16x8_mul(u16x8_extend_low_u8x16(nib[i]), scale), i16x8_mul(u16x8_extend_high_u8x16(nib[i]), scale));
            let (xl, xh) = (i16x8_extend_low_i8x16(xv[i]), i16x8_extend_high_i8x16(xv[i]));
            s = i32x4_add(s, i32x4_add(i32x4_dot_i16x8(wl, xl), i32x4_dot_i16x8(wh, xh)));
        }
        s
    }
}

/// `Σ scale_s · q · x` of one super-block per (column, row), four i32 lanes each.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline)]
fn int_sums<const R: usize, const C: usize>(blk: &[&[u8]; R], xq: &[*const i8; C], sc: &[[u16; 8]; R]) -> [[v128; R]; C] {
    #[cfg(feature = "relaxed-simd")]
    // SAFETY: the relaxed build runs only where the page found relaxed SIMD (web/app).
    return unsafe { int_sums_relaxed(blk, xq, sc) };
    #[allow(unreachable_code)]
    int_sums_baseline(blk, xq, sc)
}

/// Plain simd128, one 32-weight sub-block at a time: 8 packed bytes are loaded
/// zero-extended to u16 lanes (one instruction), so the low nibble is an `and` and the high
/// one a shift, with no widening step; each nibble is multiplied by its 6-bit sub-block
/// scale in i16 (≤ 15 · 63) before `i32x4.dot_i16x8_s`.
#[inline(always)]
fn int_sums_baseline<const R: usize, const C: usize>(blk: &[&[u8]; R], xq: &[*const i8; C], sc: &[[u16; 8]; R]) -> [[v128; R]; C] {
    let low4 = i16x8_splat(0x0F);
    let mut isum = [[i32x4_splat(0); R]; C];
    for s in 0..8 {
        // Sub-block s: the low (even s) or high (odd s) nibbles of bytes 32·(s/2)..+32.
        let scale: [v128; R] = core::array::from_fn(|r| i16x8_splat(sc[r][s] as i16));
        for h in 0..4 {
            let wv: [v128; R] = core::array::from_fn(|r| {
                // SAFETY: 16 + 32 · 3 + 8 · 3 + 8 = 144 = BLOCK_BYTES.
                let q = unsafe { u16x8_load_extend_u8x8(blk[r].as_ptr().add(16 + 32 * (s / 2) + 8 * h)) };
                let nibble = if s % 2 == 1 { u16x8_shr(q, 4) } else { v128_and(q, low4) };
                i16x8_mul(nibble, scale[r])
            });
            for c in 0..C {
                // SAFETY: 32 · 7 + 8 · 3 + 8 = 256 activations of this super-block.
                let xv = unsafe { i16x8_load_extend_i8x8(xq[c].add(32 * s + 8 * h)) };
                for r in 0..R {
                    isum[c][r] = i32x4_add(isum[c][r], i32x4_dot_i16x8(wv[r], xv));
                }
            }
        }
    }
    isum
}

/// Relaxed SIMD: `i16x8.relaxed_dot_i8x16_i7x16_s` multiplies 16 activations by 16
/// nibbles (0..15, inside the i7 range where every engine agrees) and adds pairs (x86:
/// one `pmaddubsw`); `i32x4.dot_i16x8_s` against the splat scale then adds pairs again
/// with the scale applied. Two instructions per 16 weights instead of five per 8.
///
/// # Safety
/// The engine must support relaxed SIMD (the module does not validate otherwise).
#[cfg(feature = "relaxed-simd")]
#[target_feature(enable = "relaxed-simd")]
#[inline]
unsafe fn int_sums_relaxed<const R: usize, const C: usize>(blk: &[&[u8]; R], xq: &[*const i8; C], sc: &[[u16; 8]; R]) -> [[v128; R]; C] {
    use core::mem::MaybeUninit;
    let low4 = u8x16_splat(0x0F);
    // Written by the first pair of sub-blocks, not zeroed first: zeroing the array (it lives
    // in memory, the row loop stays rolled) is a `memory.fill` call per super-block.
    let mut isum = MaybeUninit::<[[v128; R]; C]>::uninit();
    let out = isum.as_mut_ptr() as *mut v128;
    for j in 0..4 {
        // Activations 64j..64j+32 meet the low nibbles, 64j+32..64j+64 the high ones.
        let xv: [[v128; 4]; C] = core::array::from_fn(|c| core::array::from_fn(|i| load(xq[c].add(64 * j + 16 * i) as *const u8)));
        for r in 0..R {
            let p = blk[r].as_ptr().add(16 + 32 * j);
            let (a, b) = (load(p), load(p.add(16)));
            let nib = [v128_and(a, low4), v128_and(b, low4), v128_and(u16x8_shr(a, 4), low4), v128_and(u16x8_shr(b, 4), low4)];
            let (s_lo, s_hi) = (i16x8_splat(sc[r][2 * j] as i16), i16x8_splat(sc[r][2 * j + 1] as i16));
            for c in 0..C {
                // ≤ 2 · 2 · 15 · 127 per i16 lane: no saturation.
                let lo = i16x8_add(i16x8_relaxed_dot_i8x16_i7x16(xv[c][0], nib[0]), i16x8_relaxed_dot_i8x16_i7x16(xv[c][1], nib[1]));
                let hi = i16x8_add(i16x8_relaxed_dot_i8x16_i7x16(xv[c][2], nib[2]), i16x8_relaxed_dot_i8x16_i7x16(xv[c][3], nib[3]));
                let v = i32x4_add(i32x4_dot_i16x8(lo, s_lo), i32x4_dot_i16x8(hi, s_hi));
                let o = out.add(c * R + r);
                *o = if j == 0 { v } else { i32x4_add(*o, v) };
            }
        }
    }
    isum.assume_init()
}
