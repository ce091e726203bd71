//! f16 checkpoint values widened to f32. On wasm32 with simd128 eight at a time with the
//! kernels' branch-free conversion: `half`'s portable one branches per value and costs about
//! as much as the q8_0 quantization that follows. That conversion is exact for every finite
//! half; a group holding an infinity or NaN goes through `half`.

pub fn f16_to_f32(bytes: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(bytes.len() / 2);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let bytes = simd128::widen_groups(bytes, &mut out);
    out.extend(bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()));
    out
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use crate::engine::kernels::simd::simd128::f16x4_to_f32;
    use core::arch::wasm32::*;

    /// Widens whole groups of eight values into `out`; returns the bytes left over.
    pub fn widen_groups<'a>(bytes: &'a [u8], out: &mut Vec<f32>) -> &'a [u8] {
        let groups = bytes.chunks_exact(16);
        let rest = groups.remainder();
        for g in groups {
            // SAFETY: `g` is 16 bytes; wasm loads need no alignment.
            let h = unsafe { v128_load(g.as_ptr() as *const v128) };
            let exponent = v128_and(h, u16x8_splat(0x7c00));
            if v128_any_true(i16x8_eq(exponent, u16x8_splat(0x7c00))) {
                out.extend(g.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()));
                continue;
            }
            let mut lanes = [0f32; 8];
            // SAFETY: two stores of 16 bytes into the 32 bytes of `lanes`.
            unsafe {
                v128_store(lanes.as_mut_ptr() as *mut v128, f16x4_to_f32(u32x4_extend_low_u16x8(h)));
                v128_store(lanes.as_mut_ptr().add(4) as *mut v128, f16x4_to_f32(u32x4_extend_high_u16x8(h)));
            }
            out.extend_from_slice(&lanes);
        }
        rest
    }
}
