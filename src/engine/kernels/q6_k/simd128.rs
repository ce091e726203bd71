//! q6_K tiles for wasm32 `simd128` (and relaxed SIMD where built with it).

use super::super::activations::ActRow;
use super::super::simd::simd128::{decode_in_row_order, lanes_to_tile, load, reduce4, rows_f16, splat16};
use super::BLOCK_BYTES;
use core::arch::wasm32::*;

/// Up to four weight rows (`R <= 4`) against `C` activation rows: integer sums per
/// super-block (`int_sums`), then the f16 `d` of four rows converted at once and applied
/// to the four rows' reduced sums in one vector per activation row.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    assert!(R <= 4, "at most four weight rows per tile");
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
        let blk: [&[u8]; R] = core::array::from_fn(|r| &w[r][sb * BLOCK_BYTES..(sb + 1) * BLOCK_BYTES]);
        let isum = int_sums::<R, C>(&blk, x, sb);
        let d = rows_f16(&blk, 208);
        for c in 0..C {
            let sums = f32x4_convert_i32x4(reduce4(&isum[c]));
            acc[c] = f32x4_add(acc[c], f32x4_mul(f32x4_mul(sums, d), f32x4_splat(x[c].d[sb])));
        }
    }
    lanes_to_tile(&acc)
}

/// One activation row (decode): the same sums as `tile`, each weight row read in address
/// order (`decode_in_row_order`, which matters most for the LM head, read from memory).
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
fn decode<const R: usize>(w: &[&[u8]; R], x: &ActRow) -> [f32; R] {
    let block = |r: usize, sb: usize| &w[r][sb * BLOCK_BYTES..(sb + 1) * BLOCK_BYTES];
    let sums = |r: usize, sb: usize| row_sums(block(r, sb), &x.qs[sb * 256..sb * 256 + 256], &x.bsums[sb * 16..sb * 16 + 16]);
    decode_in_row_order::<R, v128>(x.d.len(), sums, |sb, is| {
        let blk: [&[u8]; R] = core::array::from_fn(|r| block(r, sb));
        let sums = f32x4_convert_i32x4(reduce4(&is));
        f32x4_mul(f32x4_mul(sums, rows_f16(&blk, 208)), f32x4_splat(x.d[sb]))
    })
}

/// `Σ scale_g · (q - 32) · x` of one block (210 bytes) against its 256 activations `xq`
/// and their sums of 16 `bs`, four i32 lanes.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline)]
fn row_sums(blk: &[u8], xq: &[i8], bs: &[i16]) -> v128 {
    assert!(blk.len() >= BLOCK_BYTES && xq.len() >= 256 && bs.len() >= 16);
    let (p, x) = (blk.as_ptr(), xq.as_ptr() as *const u8);
    let (low4, bits45) = (u8x16_splat(0x0F), u8x16_splat(0x30));
    // SAFETY: the 16 scales are bytes 192..208 of the block.
    let scales = unsafe { [i16x8_load_extend_i8x8(p.add(192) as *const i8), i16x8_load_extend_i8x8(p.add(200) as *const i8)] };
    let mut acc = i32x4_splat(0);
    for n in 0..2 {
        // Scale of weights 128n + 32k + 16h.. : index 8n + 2k + h, lane 2k + h of scales[n].
        let sv = scales[n];
        let sp = [
            splat16::<0>(sv),
            splat16::<1>(sv),
            splat16::<2>(sv),
            splat16::<3>(sv),
            splat16::<4>(sv),
            splat16::<5>(sv),
            splat16::<6>(sv),
            splat16::<7>(sv),
        ];
        for h in 0..2 {
            // SAFETY: offsets inside the block's 192 quant bytes and the 256 activations.
            let (a, b, hb) = unsafe { (load(p.add(64 * n + 16 * h)), load(p.add(64 * n + 32 + 16 * h)), load(p.add(128 + 32 * n + 16 * h))) };
            // As in `int_sums_relaxed`: two bits of `hb` moved to bits 4..5 of each byte.
            let q = [
                v128_or(v128_and(a, low4), v128_and(i16x8_shl(hb, 4), bits45)),
                v128_or(v128_and(b, low4), v128_and(i16x8_shl(hb, 2), bits45)),
                v128_or(v128_and(u16x8_shr(a, 4), low4), v128_and(hb, bits45)),
                v128_or(v128_and(u16x8_shr(b, 4), low4), v128_and(u16x8_shr(hb, 2), bits45)),
            ];
            for k in 0..4 {
                // SAFETY: as above.
                let xv = unsafe { load(x.add(128 * n + 32 * k + 16 * h)) };
                // SAFETY: the relaxed build runs only where the page found relaxed SIMD (web/app).
                acc = i32x4_add(acc, unsafe { group_dot(xv, q[k], sp[2 * k + h]) });
            }
        }
    }
    // - 32 · Σ_g scale_g · (sum of the 16 activations of group g).
    let bp = bs.as_ptr() as *const u8;
    // SAFETY: 16 i16 sums.
    let off = unsafe { i32x4_add(i32x4_dot_i16x8(scales[0], load(bp)), i32x4_dot_i16x8(scales[1], load(bp.add(16)))) };
    i32x4_sub(acc, i32x4_shl(off, 5))
}

/// `Σ s · q · x` over 16 quants (0..63) `q` and activations `xv`, scale `s` splat i16.
///
/// # Safety
/// In the relaxed build, the engine must support relaxed SIMD.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline)]
unsafe fn group_dot(xv: v128, q: v128, s: v128) -> v128 {
    #[cfg(feature = "relaxed-simd")]
    {
        // ≤ 2 · 63 · 127 per i16 lane: no saturation.
        i32x4_dot_i16x8(i16x8_relaxed_dot_i8x16_i7x16(xv, q), s)
    }
    #[cfg(not(feature = "relaxed-simd"))]
    {
        // Quants times scale in i16 (≤ 63 · 128), then i16 dot products.
        let (ql, qh) = (i16x8_mul(u16x8_extend_low_u8x16(q), s), i16x8_mul(u16x8_extend_high_u8x16(q), s));
        i32x4_add(i32x4_dot_i16x8(ql, i16x8_extend_low_i8x16(xv)), i32x4_dot_i16x8(qh, i16x8_extend_high_i8x16(xv)))
    }
}

/// `Σ scale_g · (q - 32) · x` of super-block `sb` per (column, row), four i32 lanes each.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline)]
fn int_sums<const R: usize, const C: usize>(blk: &[&[u8]; R], x: &[ActRow; C], sb: usize) -> [[v128; R]; C] {
    #[cfg(feature = "relaxed-simd")]
    // SAFETY: the relaxed build runs only where the page found relaxed SIMD (web/app).
    return unsafe { int_sums_relaxed(blk, x, sb) };
    #[allow(unreachable_code)]
    int_sums_baseline(blk, x, sb)
}

/// Plain simd128: the quants unpacked (minus 32) once per row, widened to i16 and
/// multiplied by 16 activations at a time, scaled per 16 in i32.
#[inline(always)]
fn int_sums_baseline<const R: usize, const C: usize>(blk: &[&[u8]; R], x: &[ActRow; C], sb: usize) -> [[v128; R]; C] {
    // Unpacking 6-bit quants is byte shuffling; done once per row and block, it is
    // shared by the C activation rows.
    let mut q = [[0i8; 256]; R];
    let mut sc = [[0i32; 16]; R];
    for r in 0..R {
        q[r] = super::unpack(blk[r]);
        for g in 0..16 {
            sc[r][g] = blk[r][192 + g] as i8 as i32;
        }
    }
    let mut isum = [[i32x4_splat(0); R]; C];
    for g in 0..16 {
        let mut q16 = [[i16x8_splat(0); 2]; R];
        for r in 0..R {
            let v = load(q[r][16 * g..].as_ptr() as *const u8);
            q16[r] = [i16x8_extend_low_i8x16(v), i16x8_extend_high_i8x16(v)];
        }
        for c in 0..C {
            let v = load(x[c].qs[sb * 256 + 16 * g..].as_ptr() as *const u8);
            let (xa, xb) = (i16x8_extend_low_i8x16(v), i16x8_extend_high_i8x16(v));
            for r in 0..R {
                let s = i32x4_add(i32x4_dot_i16x8(q16[r][0], xa), i32x4_dot_i16x8(q16[r][1], xb));
                isum[c][r] = i32x4_add(isum[c][r], i32x4_mul(s, i32x4_splat(sc[r][g])));
            }
        }
    }
    isum
}

/// Relaxed SIMD: the 6-bit quants (0..63, inside the i7 range) are put together 16 at a
/// time in i8 lanes, multiplied with 16 activations by `i16x8.relaxed_dot_i8x16_i7x16_s`
/// (x86: one `pmaddubsw`) and scaled by `i32x4.dot_i16x8_s` against the splat scale; the
/// `- 32` comes off once per super-block through the activations' sums of 16.
///
/// # Safety
/// The engine must support relaxed SIMD (the module does not validate otherwise).
#[cfg(feature = "relaxed-simd")]
#[target_feature(enable = "relaxed-simd")]
#[inline]
unsafe fn int_sums_relaxed<const R: usize, const C: usize>(blk: &[&[u8]; R], x: &[ActRow; C], sb: usize) -> [[v128; R]; C] {
    let (low4, bits45) = (u8x16_splat(0x0F), u8x16_splat(0x30));
    let xq: [*const u8; C] = core::array::from_fn(|c| x[c].qs[sb * 256..].as_ptr() as *const u8);
    let mut isum = [[i32x4_splat(0); R]; C];
    for n in 0..2 {
        for h in 0..2 {
            // Activations 128n + 32k + 16h .. +16 for k = 0..4.
            let xv: [[v128; 4]; C] = core::array::from_fn(|c| core::array::from_fn(|k| load(xq[c].add(128 * n + 32 * k + 16 * h))));
            for r in 0..R {
                let p = blk[r].as_ptr();
                let a = load(p.add(64 * n + 16 * h));
                let b = load(p.add(64 * n + 32 + 16 * h));
                let hb = load(p.add(128 + 32 * n + 16 * h));
                // Two bits of `hb` moved to bits 4..5 of each byte; the 16-bit shifts
                // leak bits across bytes, which the 0x30 mask drops.
                let q = [
                    v128_or(v128_and(a, low4), v128_and(i16x8_shl(hb, 4), bits45)),
                    v128_or(v128_and(b, low4), v128_and(i16x8_shl(hb, 2), bits45)),
                    v128_or(v128_and(u16x8_shr(a, 4), low4), v128_and(hb, bits45)),
                    v128_or(v128_and(u16x8_shr(b, 4), low4), v128_and(u16x8_shr(hb, 2), bits45)),
                ];
                // Scale of weights 128n + 32k + 16h.. : index 8n + 2k + h.
                let sc: [v128; 4] = core::array::from_fn(|k| i16x8_splat(*p.add(192 + 8 * n + 2 * k + h) as i8 as i16));
                for c in 0..C {
                    let mut s = isum[c][r];
                    for k in 0..4 {
                        // ≤ 2 · 63 · 127 per i16 lane: no saturation.
                        s = i32x4_add(s, i32x4_dot_i16x8(i16x8_relaxed_dot_i8x16_i7x16(xv[c][k], q[k]), sc[k]));
                    }
                    isum[c][r] = s;
                }
            }
        }
    }
    // - 32 · Σ_g scale_g · (sum of the 16 activations of group g).
    for r in 0..R {
        let p = blk[r].as_ptr().add(192);
        let (s0, s1) = (i16x8_load_extend_i8x8(p as *const i8), i16x8_load_extend_i8x8(p.add(8) as *const i8));
        for c in 0..C {
            let bs = x[c].bsums[sb * 16..].as_ptr() as *const u8;
            let off = i32x4_add(i32x4_dot_i16x8(s0, load(bs)), i32x4_dot_i16x8(s1, load(bs.add(16))));
            isum[c][r] = i32x4_sub(isum[c][r], i32x4_shl(off, 5));
        }
    }
    isum
}
