//! q4_K weights times q8_K activations.
//!
//! A q4_K super-block holds 256 weights: f16 `d` and `dmin`, twelve bytes packing eight 6-bit
//! scales and eight 6-bit mins (one per 32 weights), and 128 bytes of 4-bit quants (bytes
//! `32j..32j+32` hold weights `64j..64j+32` in their low nibbles and `64j+32..64j+64` in their
//! high nibbles). A weight is `d * scale * q - dmin * min`, so a dot product with activations
//! `dx * x` is `dx * (d * Σ scale_s Σ q x - dmin * Σ min_s Σ x)`, the last sums coming from the
//! activation block's precomputed sums of 16.

use super::activations::ActRow;
use half::f16;

pub const BLOCK_BYTES: usize = 144;

/// The eight (scale, min) pairs packed into 12 bytes.
#[inline(always)]
pub fn unpack_scales(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    let mut bytes = [0u8; 16];
    for (out, word) in bytes.chunks_exact_mut(4).zip(scales_and_mins_words(s[..12].try_into().unwrap())) {
        out.copy_from_slice(&word.to_le_bytes());
    }
    (bytes[..8].try_into().unwrap(), bytes[8..].try_into().unwrap())
}

/// The 12 packed bytes as 16, four at a time: eight 6-bit scales then eight mins, in four
/// little-endian 32-bit words.
#[inline(always)]
pub fn scales_and_mins_words(s: &[u8; 12]) -> [u32; 4] {
    const LOW6: u32 = 0x3f3f_3f3f;
    const LOW4: u32 = 0x0f0f_0f0f;
    const LOW2: u32 = 0x0303_0303;
    let word = |i: usize| u32::from_le_bytes([s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]]);
    let (a, b, c) = (word(0), word(1), word(2));
    let scales_lo = a & LOW6;
    let scales_hi = (c & LOW4) | (((a >> 6) & LOW2) << 4);
    let mins_lo = b & LOW6;
    let mins_hi = ((c >> 4) & LOW4) | (((b >> 6) & LOW2) << 4);
    [scales_lo, scales_hi, mins_lo, mins_hi]
}

#[inline(always)]
fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([b[i], b[i + 1]]).to_f32()
}

pub fn scalar<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    let mut out = [[0f32; C]; R];
    let nb = x[0].d.len();
    for r in 0..R {
        for c in 0..C {
            let mut sum = 0f32;
            for sb in 0..nb {
                let blk = &w[r][sb * BLOCK_BYTES..(sb + 1) * BLOCK_BYTES];
                let (sc, mn) = unpack_scales(&blk[4..16]);
                let qs = &blk[16..];
                let xq = &x[c].qs[sb * 256..(sb + 1) * 256];
                let bs = &x[c].bsums[sb * 16..(sb + 1) * 16];
                let mut isum = 0i32;
                let mut msum = 0i32;
                for j in 0..4 {
                    let q = &qs[32 * j..32 * j + 32];
                    let xa = &xq[64 * j..64 * j + 64];
                    let lo: i32 = q.iter().zip(&xa[..32]).map(|(&q, &v)| (q & 0xF) as i32 * v as i32).sum();
                    let hi: i32 = q.iter().zip(&xa[32..]).map(|(&q, &v)| (q >> 4) as i32 * v as i32).sum();
                    isum += sc[2 * j] as i32 * lo + sc[2 * j + 1] as i32 * hi;
                }
                for s in 0..8 {
                    msum += mn[s] as i32 * (bs[2 * s] as i32 + bs[2 * s + 1] as i32);
                }
                sum += x[c].d[sb] * (f16_at(blk, 0) * isum as f32 - f16_at(blk, 2) * msum as f32);
            }
            out[r][c] = sum;
        }
    }
    out
}

#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    use super::super::activations::ActRow;
    use super::super::q8_0::avx2::{f16_pairs, hsum, interleave4, pairs_to_tile, splat_f16, PREFETCH};
    use super::{scales_and_mins_words, BLOCK_BYTES};
    use std::arch::x86_64::*;

    /// The 12 packed bytes at `p` as eight 6-bit scales (bytes 0..8) and eight mins (8..16).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn scales_and_mins(p: *const u8) -> __m128i {
        let [a, b, c, d] = scales_and_mins_words(std::slice::from_raw_parts(p, 12).try_into().unwrap());
        _mm_set_epi32(d as i32, c as i32, b as i32, a as i32)
    }

    /// # Safety
    /// The CPU must support AVX2, FMA and F16C; every row holds `x[0].d.len()` super-blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
        // Prompt tiles of four rows have their own formulation.
        if R == 4 && C > 1 {
            let out = interleaved::<C>(w[..].try_into().unwrap(), x);
            return std::array::from_fn(|r| out[r]);
        }
        let nb = x[0].d.len();
        let m4 = _mm256_set1_epi8(0x0F);
        // pick[s] copies i16 lane s into every lane.
        let pick: [__m256i; 8] = std::array::from_fn(|s| _mm256_set1_epi16((((2 * s + 1) << 8) | (2 * s)) as i16));
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        for sb in 0..nb {
            let mut sc16 = [_mm256_setzero_si256(); R];
            let mut mins = [_mm256_setzero_si256(); R];
            let mut d = [_mm256_setzero_ps(); R];
            let mut dmin = [_mm256_setzero_ps(); R];
            let mut qp = [std::ptr::null::<u8>(); R];
            for r in 0..R {
                let blk = w[r].as_ptr().add(sb * BLOCK_BYTES);
                if C == 1 {
                    _mm_prefetch::<_MM_HINT_T0>(blk.wrapping_add(PREFETCH) as *const i8);
                    _mm_prefetch::<_MM_HINT_T0>(blk.wrapping_add(PREFETCH + 64) as *const i8);
                    _mm_prefetch::<_MM_HINT_T0>(blk.wrapping_add(PREFETCH + 128) as *const i8);
                }
                d[r] = splat_f16(blk);
                dmin[r] = splat_f16(blk.add(2));
                let sm = scales_and_mins(blk.add(4));
                // Scales as i16 in both 128-bit halves, for the per-sub-block shuffles below.
                sc16[r] = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
                // [m0, m0, m1, m1, ..., m7, m7] as i16, lined up with the 16 activation sums.
                mins[r] = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));
                qp[r] = blk.add(16);
            }
            let mut isum = [[_mm256_setzero_si256(); C]; R];
            for j in 0..4 {
                let mut lo = [_mm256_setzero_si256(); R];
                let mut hi = [_mm256_setzero_si256(); R];
                let mut slo = [_mm256_setzero_si256(); R];
                let mut shi = [_mm256_setzero_si256(); R];
                for r in 0..R {
                    let q = _mm256_loadu_si256(qp[r].add(32 * j) as *const __m256i);
                    lo[r] = _mm256_and_si256(q, m4);
                    hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                    slo[r] = _mm256_shuffle_epi8(sc16[r], pick[2 * j]);
                    shi[r] = _mm256_shuffle_epi8(sc16[r], pick[2 * j + 1]);
                }
                for c in 0..C {
                    let xp = x[c].qs.as_ptr().add(sb * 256 + 64 * j);
                    let xa = _mm256_loadu_si256(xp as *const __m256i);
                    let xb = _mm256_loadu_si256(xp.add(32) as *const __m256i);
                    for r in 0..R {
                        let a = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[r], xa), slo[r]);
                        let b = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[r], xb), shi[r]);
                        isum[r][c] = _mm256_add_epi32(isum[r][c], _mm256_add_epi32(a, b));
                    }
                }
            }
            for c in 0..C {
                let xd = _mm256_set1_ps(*x[c].d.get_unchecked(sb));
                let bsums = _mm256_loadu_si256(x[c].bsums.as_ptr().add(sb * 16) as *const __m256i);
                for r in 0..R {
                    let msum = _mm256_cvtepi32_ps(_mm256_madd_epi16(mins[r], bsums));
                    let t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(isum[r][c]), d[r], _mm256_mul_ps(msum, dmin[r]));
                    acc[r][c] = _mm256_fmadd_ps(t, xd, acc[r][c]);
                }
            }
        }
        let mut out = [[0f32; C]; R];
        for r in 0..R {
            for c in 0..C {
                out[r][c] = hsum(acc[r][c]);
            }
        }
        out
    }

    /// Four weight rows against `C` activation rows with the rows side by side in each
    /// register: 8 packed bytes of each row (`interleave4`), against 8 activations broadcast to all four. Each row then owns four i16
    /// lanes, so the four `maddubs` of one 32-weight sub-block are summed in i16 (≤ 4 · 2 ·
    /// 15 · 127, no overflow) and meet their scales in a single `madd`: 5 multiplies per
    /// 128 products instead of 8, and 4·C accumulators instead of 16·C spilled ones.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn interleaved<const C: usize>(w: &[&[u8]; 4], x: &[ActRow; C]) -> [[f32; C]; 4] {
        let nb = x[0].d.len();
        let m4 = _mm256_set1_epi8(0x0F);
        // For sub-block s: i16 lanes 4i..4i+4 of each half take byte 8i + s of that half
        // (each half of `scales` holds two rows' eight scales).
        let pick: [__m256i; 8] = std::array::from_fn(|s| {
            let b = |i: i8| i * 8 + s as i8;
            let (z, lo, hi) = (-1i8, b(0), b(1));
            let half = [lo, z, lo, z, lo, z, lo, z, hi, z, hi, z, hi, z, hi, z];
            _mm256_loadu_si256([half, half].as_ptr() as *const __m256i)
        });
        let mut acc = [_mm256_setzero_ps(); C];
        for sb in 0..nb {
            let blk: [*const u8; 4] = std::array::from_fn(|r| w[r].as_ptr().add(sb * BLOCK_BYTES));
            let sm: [[u32; 4]; 4] = std::array::from_fn(|r| {
                scales_and_mins_words(std::slice::from_raw_parts(blk[r].add(4), 12).try_into().unwrap())
            });
            // Scale bytes [r0 | r1 || r2 | r3], eight per row; the mins as i16, rows [r0 || r2]
            // and [r1 || r3], the order in which `hadd` below yields [r0 r0 r1 r1 | r2 r2 r3 r3].
            let word = |r: usize, i: usize| sm[r][i] as i32;
            let scales = _mm256_setr_epi32(word(0, 0), word(0, 1), word(1, 0), word(1, 1), word(2, 0), word(2, 1), word(3, 0), word(3, 1));
            let mins_02 = _mm256_cvtepu8_epi16(_mm_setr_epi32(word(0, 2), word(0, 3), word(2, 2), word(2, 3)));
            let mins_13 = _mm256_cvtepu8_epi16(_mm_setr_epi32(word(1, 2), word(1, 3), word(3, 2), word(3, 3)));
            let (d, dmin) = (f16_pairs(&blk, 0), f16_pairs(&blk, 2));
            let mut isum = [_mm256_setzero_si256(); C];
            for j in 0..4 {
                // Bytes 32j..32j+32 of each row; unit t holds weights 64j+8t.. (low nibbles)
                // and 64j+32+8t.. (high nibbles) of all four rows.
                let units = interleave4(blk.map(|p| _mm256_loadu_si256(p.add(16 + 32 * j) as *const __m256i)));
                let lo = units.map(|u| _mm256_and_si256(u, m4));
                let hi = units.map(|u| _mm256_and_si256(_mm256_srli_epi16(u, 4), m4));
                let s_lo = _mm256_shuffle_epi8(scales, pick[2 * j]);
                let s_hi = _mm256_shuffle_epi8(scales, pick[2 * j + 1]);
                for c in 0..C {
                    let xp = x[c].qs.as_ptr().add(sb * 256 + 64 * j) as *const i64;
                    let bcast = |i: usize| _mm256_set1_epi64x(xp.add(i).read_unaligned());
                    let mut p_lo = _mm256_maddubs_epi16(lo[0], bcast(0));
                    let mut p_hi = _mm256_maddubs_epi16(hi[0], bcast(4));
                    for t in 1..4 {
                        p_lo = _mm256_add_epi16(p_lo, _mm256_maddubs_epi16(lo[t], bcast(t)));
                        p_hi = _mm256_add_epi16(p_hi, _mm256_maddubs_epi16(hi[t], bcast(4 + t)));
                    }
                    let s = _mm256_add_epi32(_mm256_madd_epi16(p_lo, s_lo), _mm256_madd_epi16(p_hi, s_hi));
                    isum[c] = _mm256_add_epi32(isum[c], s);
                }
            }
            for c in 0..C {
                // Sums of x per 32-weight sub-block, in both halves.
                let bs = _mm256_loadu_si256(x[c].bsums.as_ptr().add(sb * 16) as *const __m256i);
                let per32 = _mm256_madd_epi16(bs, _mm256_set1_epi16(1));
                let per32 = _mm256_packs_epi32(per32, per32);
                let per32 = _mm256_permute4x64_epi64::<0b1000_1000>(per32);
                // Lanes [r0 r0 r1 r1 | r2 r2 r3 r3], like `isum`.
                let msum = _mm256_hadd_epi32(_mm256_madd_epi16(mins_02, per32), _mm256_madd_epi16(mins_13, per32));
                let t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(isum[c]), d, _mm256_mul_ps(_mm256_cvtepi32_ps(msum), dmin));
                acc[c] = _mm256_fmadd_ps(t, _mm256_set1_ps(*x[c].d.get_unchecked(sb)), acc[c]);
            }
        }
        pairs_to_tile(&acc)
    }
}
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128 {
    use super::super::activations::ActRow;
    use super::super::q8_0::simd128::{decode_in_row_order, lanes_to_tile, load, reduce4, rows_f16};
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
}
