//! q4_K tiles for x86_64 with AVX2: four weight rows interleaved in each register against
//! up to eight activation rows, and the one-row decode walk with software prefetch.

use super::super::activations::ActRow;
use super::super::simd::avx2::{hsum_tile, interleave4, pairs_to_tile, splat_f16, PREFETCH};
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
    hsum_tile(&acc)
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
    let headers = HeaderUnpack::new();
    let mut acc = [_mm256_setzero_ps(); C];
    for sb in 0..nb {
        let blk: [*const u8; 4] = std::array::from_fn(|r| w[r].as_ptr().add(sb * BLOCK_BYTES));
        // Scale bytes [r0 | r1 || r2 | r3], eight per row; the mins as i16, rows [r0 || r2]
        // and [r1 || r3], the order in which `hadd` below yields [r0 r0 r1 r1 | r2 r2 r3 r3].
        let Headers { scales, mins_02, mins_13, d, dmin } = headers.unpack(&blk);
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

/// What `interleaved` needs from four rows' super-block headers (see there for the layouts).
struct Headers {
    scales: __m256i,
    mins_02: __m256i,
    mins_13: __m256i,
    d: __m256,
    dmin: __m256,
}

/// Unpacks four q4_K headers (d, dmin, 12 packed scale bytes) with a few vector ops, two
/// rows per register, one per 128-bit lane: [`scales_and_mins_words`]' formula lane-wise.
struct HeaderUnpack {
    shift: __m256i,
    keep: __m256i,
    high: __m256i,
    /// f16 words `[d0 d0 d1 d1 d2 d2 d3 d3]` (resp. dmin) out of `[d0 m0 d1 m1 d2 m2 d3 m3]`.
    d_pairs: __m128i,
    dmin_pairs: __m128i,
}

impl HeaderUnpack {
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn new() -> Self {
        let lanes = |a: i32, b: i32, c: i32, d: i32| _mm256_setr_epi32(a, b, c, d, a, b, c, d);
        let (low6, low4, top2) = (0x3f3f_3f3f, 0x0f0f_0f0f, 0x3030_3030);
        let pairs = |o: i8| _mm_setr_epi8(o, o + 1, o, o + 1, o + 4, o + 5, o + 4, o + 5, o + 8, o + 9, o + 8, o + 9, o + 12, o + 13, o + 12, o + 13);
        HeaderUnpack {
            shift: lanes(0, 0, 0, 4),
            keep: lanes(low6, low4, low6, low4),
            high: lanes(0, top2, 0, top2),
            d_pairs: pairs(0),
            dmin_pairs: pairs(2),
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn unpack(&self, blk: &[*const u8; 4]) -> Headers {
        let h = |r: usize| _mm_loadu_si128(blk[r] as *const __m128i);
        let (h01, h23) = (_mm256_setr_m128i(h(0), h(1)), _mm256_setr_m128i(h(2), h(3)));
        // Header dwords: 0 = d, dmin; 1..4 = the packed bytes a, b, c. Per lane the result is
        // [a & 63…, (c & 15…) | top2(a), b & 63…, (c >> 4 & 15…) | top2(b)].
        let unpack = |h: __m256i| {
            let abcc = _mm256_srlv_epi32(_mm256_shuffle_epi32::<0b11_10_11_01>(h), self.shift);
            let aabb = _mm256_srli_epi32::<2>(_mm256_shuffle_epi32::<0b10_10_01_01>(h));
            _mm256_or_si256(_mm256_and_si256(abcc, self.keep), _mm256_and_si256(aabb, self.high))
        };
        let (u01, u23) = (unpack(h01), unpack(h23));
        // Scales: [r0 | r2 || r1 | r3] by quadwords, then rows in order.
        let scales = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_unpacklo_epi64(u01, u23));
        // Mins: [r0 | r2 || r1 | r3] is already the split the `hadd` wants.
        let mins = _mm256_unpackhi_epi64(u01, u23);
        let mins_02 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(mins));
        let mins_13 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256::<1>(mins));
        // Dword 0 of each row (d, dmin), rows in order, in the low 128 bits.
        let dd = _mm256_unpacklo_epi32(h01, h23); // [r0 r2 . . || r1 r3 . .]
        let dd = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(dd, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0)));
        let d = _mm256_cvtph_ps(_mm_shuffle_epi8(dd, self.d_pairs));
        let dmin = _mm256_cvtph_ps(_mm_shuffle_epi8(dd, self.dmin_pairs));
        Headers { scales, mins_02, mins_13, d, dmin }
    }
}
