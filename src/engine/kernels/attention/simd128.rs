//! wasm32: the two loops written with simd128 (LLVM's vectorization of `dot` ends each
//! 64-wide product in a scalar sum of eight lanes, and keeps the output in memory). The sums
//! come in another order than `dot`'s, so results may differ in the last bits from the
//! portable path (which native builds keep).

use core::arch::wasm32::*;

#[inline(always)]
fn load(s: &[f32], i: usize) -> v128 {
    // Constant offsets into slices of known length (the 64-wide copies) fold this away.
    assert!(i + 4 <= s.len());
    // SAFETY: checked just above; wasm loads need no alignment.
    unsafe { (s.as_ptr().add(i) as *const v128).read_unaligned() }
}

#[inline(always)]
fn store(s: &mut [f32], i: usize, v: v128) {
    assert!(i + 4 <= s.len());
    // SAFETY: checked just above.
    unsafe { (s.as_mut_ptr().add(i) as *mut v128).write_unaligned(v) }
}

/// `a · b + c`: one fused multiply-add in the relaxed build (x86 FMA), which also needs
/// one register less. The relaxed build compiles the callers with relaxed SIMD, so it inlines.
#[cfg(feature = "relaxed-simd")]
#[target_feature(enable = "relaxed-simd")]
#[inline]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_relaxed_madd(a, b, c)
}
#[cfg(not(feature = "relaxed-simd"))]
#[inline(always)]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_add(f32x4_mul(a, b), c)
}

/// `[Σ a, Σ b, Σ c, Σ d]` of four vectors.
#[inline(always)]
fn reduce4(a: v128, b: v128, c: v128, d: v128) -> v128 {
    let ab = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<2, 6, 3, 7>(a, b));
    let cd = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(c, d), i32x4_shuffle::<2, 6, 3, 7>(c, d));
    f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd))
}

/// `out[p] = q · k_p · scale` (rows of `q.len()`, a multiple of 8), four keys at a time.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub fn scores(q: &[f32], keys: &[f32], scale: f32, out: &mut [f32]) {
    let hd = q.len();
    assert!(hd % 8 == 0 && keys.len() == out.len() * hd);
    let n = out.len();
    let mut p = 0;
    while p + 4 <= n {
        let mut acc = [[f32x4_splat(0.0); 2]; 4];
        // SAFETY: keys p..p + 4 are inside `keys` (checked above); d + 8 <= hd.
        unsafe {
            let k = keys.as_ptr().add(p * hd);
            let mut d = 0;
            // A rolled loop over the width, through raw pointers: unrolled for a 64-wide
            // head, LLVM issues all 64 key loads first and V8 spills them to the stack.
            while d < hd {
                let (q0, q1) = (vload(q.as_ptr().add(d)), vload(q.as_ptr().add(d + 4)));
                for (j, a) in acc.iter_mut().enumerate() {
                    let kj = k.add(j * hd + d);
                    a[0] = madd(q0, vload(kj), a[0]);
                    a[1] = madd(q1, vload(kj.add(4)), a[1]);
                }
                d += 8;
            }
        }
        let [a, b, c, d] = acc.map(|a| f32x4_add(a[0], a[1]));
        store(out, p, f32x4_mul(reduce4(a, b, c, d), f32x4_splat(scale)));
        p += 4;
    }
    for (o, k) in out[p..].iter_mut().zip(keys[p * hd..].chunks_exact(hd)) {
        let mut acc = f32x4_splat(0.0);
        for d in (0..hd).step_by(4) {
            acc = madd(load(q, d), load(k, d), acc);
        }
        let z = f32x4_splat(0.0);
        *o = f32x4_extract_lane::<0>(reduce4(acc, z, z, z)) * scale;
    }
}

#[inline(always)]
unsafe fn vload(p: *const f32) -> v128 {
    (p as *const v128).read_unaligned()
}

/// `out += Σ_p (w[p] · inv_total) · v_p` (`out.len()` wide, a multiple of 8): 32 columns
/// at a time, then 8.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub fn add_weighted(w: &[f32], inv_total: f32, values: &[f32], out: &mut [f32]) {
    let hd = out.len();
    assert!(values.len() == w.len() * hd);
    let mut c0 = 0;
    while c0 + 32 <= hd {
        add_weighted_cols::<8>(hd, w, inv_total, values, out, c0);
        c0 += 32;
    }
    while c0 < hd {
        add_weighted_cols::<2>(hd, w, inv_total, values, out, c0);
        c0 += 8;
    }
}

/// Columns `c0..c0 + 4W` of `add_weighted`, kept in `W` registers over every position.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline)]
fn add_weighted_cols<const W: usize>(hd: usize, w: &[f32], inv_total: f32, values: &[f32], out: &mut [f32], c0: usize) {
    assert!(c0 + 4 * W <= hd && values.len() == w.len() * hd);
    let mut o: [v128; W] = core::array::from_fn(|j| load(out, c0 + 4 * j));
    // SAFETY: row p of `values` holds hd ≥ c0 + 4W floats (checked above).
    unsafe {
        let mut v = values.as_ptr().add(c0);
        for &wp in w {
            let pv = f32x4_splat(wp * inv_total);
            for (j, o) in o.iter_mut().enumerate() {
                *o = madd(pv, vload(v.add(4 * j)), *o);
            }
            v = v.add(hd);
        }
    }
    for (j, o) in o.iter().enumerate() {
        store(out, c0 + 4 * j, *o);
    }
}
