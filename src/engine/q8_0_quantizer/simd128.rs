//! A q8_0 block four weights at a time. The scalar code already gets its rounding vectorized
//! by the compiler, but not its largest-magnitude fold (a chain of 32 dependent maxima) nor the
//! conversion to bytes (a lane at a time); here both are whole-vector operations.

use super::{scale, BLOCK, BLOCK_BYTES};
use core::arch::wasm32::*;

pub fn quantize_block(x: &[f32; BLOCK], out: &mut [u8; BLOCK_BYTES]) {
    // SAFETY: eight loads of 16 bytes cover the 128 bytes of `x` exactly.
    let v: [v128; 8] = core::array::from_fn(|i| unsafe { v128_load(x.as_ptr().add(4 * i) as *const v128) });
    // `pmax` keeps its first operand when the second is NaN, as `f32::max` does in the scalar fold.
    let m = v.iter().fold(f32x4_splat(0.0), |m, &vi| f32x4_pmax(m, f32x4_abs(vi)));
    let amax = f32x4_extract_lane::<0>(m).max(f32x4_extract_lane::<1>(m)).max(f32x4_extract_lane::<2>(m).max(f32x4_extract_lane::<3>(m)));
    let (d, id) = scale(amax);
    out[..2].copy_from_slice(&d);
    let id = f32x4_splat(id);
    let quants: [v128; 8] = core::array::from_fn(|i| {
        // Ties away from zero, as `round_away`: truncate, then one step outwards when at least
        // half a step was cut off.
        let s = f32x4_mul(v[i], id);
        let t = f32x4_trunc(s);
        let outwards = f32x4_ge(f32x4_abs(f32x4_sub(s, t)), f32x4_splat(0.5));
        let step = v128_or(v128_and(s, f32x4_splat(-0.0)), f32x4_splat(1.0));
        i32x4_trunc_sat_f32x4(f32x4_add(t, v128_and(step, outwards)))
    });
    // The quants are within ±127, so the saturating narrowings only pack them.
    let low = i8x16_narrow_i16x8(i16x8_narrow_i32x4(quants[0], quants[1]), i16x8_narrow_i32x4(quants[2], quants[3]));
    let high = i8x16_narrow_i16x8(i16x8_narrow_i32x4(quants[4], quants[5]), i16x8_narrow_i32x4(quants[6], quants[7]));
    // SAFETY: bytes 2..18 and 18..34 of a 34-byte block.
    unsafe {
        v128_store(out.as_mut_ptr().add(2) as *mut v128, low);
        v128_store(out.as_mut_ptr().add(18) as *mut v128, high);
    }
}
