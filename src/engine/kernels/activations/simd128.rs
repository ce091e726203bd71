//! wasm32: the activation quantizer's block step in simd128 lanes, with the same result bit
//! for bit (max is order-free; each quant is the same multiply, rounding adds and clamp; NaN
//! still gives 0).

use core::arch::wasm32::*;

#[inline(always)]
pub fn quantize_block(xb: &[f32], qb: &mut [i8]) -> f32 {
    assert!(xb.len() % 16 == 0 && qb.len() == xb.len());
    let p = xb.as_ptr() as *const v128;
    let n = xb.len() / 4;
    // SAFETY: i < n vectors of 4 f32 inside `xb`; wasm loads need no alignment.
    let at = |i: usize| unsafe { p.add(i).read_unaligned() };
    // pmax(a, b) is `a < b ? b : a`: one instruction, and a NaN `b` is skipped as the
    // scalar comparison skips it.
    let mut m = f32x4_splat(0.0);
    for i in 0..n {
        m = f32x4_pmax(m, f32x4_abs(at(i)));
    }
    let m = f32x4_pmax(m, i32x4_shuffle::<2, 3, 0, 1>(m, m));
    let amax = f32x4_extract_lane::<0>(f32x4_pmax(m, i32x4_shuffle::<1, 0, 3, 2>(m, m)));
    let id = f32x4_splat(if amax > 0.0 { 127.0 / amax } else { 0.0 });
    let magic = f32x4_splat(12_582_912.0);
    let (lo, hi) = (f32x4_splat(-127.0), f32x4_splat(127.0));
    let quant = |v: v128| {
        let r = f32x4_sub(f32x4_add(f32x4_mul(v, id), magic), magic);
        // Clamp; pmin/pmax keep a NaN `r` (first operand), which truncates to 0 as `as i8` does.
        i32x4_trunc_sat_f32x4(f32x4_pmax(f32x4_pmin(r, hi), lo))
    };
    for i in 0..n / 4 {
        let a = i16x8_narrow_i32x4(quant(at(4 * i)), quant(at(4 * i + 1)));
        let b = i16x8_narrow_i32x4(quant(at(4 * i + 2)), quant(at(4 * i + 3)));
        // SAFETY: 16 quants at 16i inside `qb`.
        unsafe { (qb.as_mut_ptr().add(16 * i) as *mut v128).write_unaligned(i8x16_narrow_i16x8(a, b)) };
    }
    amax / 127.0
}
