//! Float tiles for wasm32 `simd128`: four weights per vector, widened from f16 by the
//! branch-free conversion of `simd::simd128` or loaded as f32.

use super::super::activations::ActRow;
use super::super::simd::simd128::{f16x4_to_f32, load};
use core::arch::wasm32::*;

/// Weights `i..i + 8` of a row at `w`, as two vectors.
#[inline(always)]
fn load8<const HALF: bool>(w: *const u8, i: usize) -> [v128; 2] {
    if HALF {
        let h = load(w.wrapping_add(2 * i));
        [f16x4_to_f32(u32x4_extend_low_u16x8(h)), f16x4_to_f32(u32x4_extend_high_u16x8(h))]
    } else {
        [load(w.wrapping_add(4 * i)), load(w.wrapping_add(4 * i + 16))]
    }
}

/// `R` weight rows against `C` activation rows; every row holds `x[0].xs.len()` weights, a
/// multiple of 8.
#[inline(always)]
pub fn tile<const HALF: bool, const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let k = x[0].xs.len();
    let bytes = if HALF { 2 } else { 4 };
    assert!(k % 8 == 0);
    for r in 0..R {
        assert!(w[r].len() >= bytes * k);
    }
    for c in 0..C {
        assert!(x[c].xs.len() >= k);
    }
    let mut acc = [[f32x4_splat(0.0); C]; R];
    for i in (0..k).step_by(8) {
        let wv: [[v128; 2]; R] = core::array::from_fn(|r| load8::<HALF>(w[r].as_ptr(), i));
        for c in 0..C {
            let xp = x[c].xs.as_ptr().wrapping_add(i) as *const u8;
            let xv = [load(xp), load(xp.wrapping_add(16))];
            for r in 0..R {
                let sum = f32x4_add(f32x4_mul(wv[r][0], xv[0]), f32x4_mul(wv[r][1], xv[1]));
                acc[r][c] = f32x4_add(acc[r][c], sum);
            }
        }
    }
    core::array::from_fn(|r| {
        core::array::from_fn(|c| {
            let a = acc[r][c];
            (f32x4_extract_lane::<0>(a) + f32x4_extract_lane::<1>(a)) + (f32x4_extract_lane::<2>(a) + f32x4_extract_lane::<3>(a))
        })
    })
}

pub fn f16_tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    tile::<true, R, C>(w, x)
}

pub fn f32_tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    tile::<false, R, C>(w, x)
}
