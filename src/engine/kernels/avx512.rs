//! Prompt tiles for x86_64 CPUs with AVX-512 (BW and VNNI): the AVX2 tiles' formulation
//! (`q4_k::avx2`, `q8_0::avx2`: weight rows side by side in each register, activations
//! broadcast to all of them) widened to eight weight rows per 512-bit register.
//!
//! - q4_K: the sub-block scales are applied by `vpdpwssd` (multiply, add pairs and accumulate
//!   in one instruction). Per 64 weights and activation row, 8 `maddubs`, 6 i16 adds and
//!   2 `vpdpwssd` serve eight rows, where the AVX2 tile spends 18 instructions on four.
//! - q8_0: `vpdpbusd` multiplies 64 bytes and accumulates, with the sign of each weight moved
//!   onto its activation (a masked subtract: AVX-512 has no byte `sign`), 3 instructions per
//!   64 products where AVX2 needs 5 per 32.
//!
//! Decode (one activation row) stays on the AVX2 paths: it waits on memory, not arithmetic.

use super::activations::ActRow;
use super::{q4_k, q8_0};
use std::arch::x86_64::*;

/// q4_K weights: eight-row tiles here, anything else on the AVX2 kernel.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VNNI, AVX2, FMA and F16C; every row holds
/// `x[0].d.len()` super-blocks.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub unsafe fn q4_k_tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    if R == 8 && C > 1 {
        let out = q4_k_interleaved8::<C>(w[..].try_into().unwrap(), x);
        return std::array::from_fn(|r| out[r]);
    }
    q4_k::avx2::tile::<R, C>(w, x)
}

/// q8_0 weights: eight-row tiles here, anything else on the AVX2 kernel.
///
/// # Safety
/// As for [`q4_k_tile`], with `x[0].d.len()` blocks of 32.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub unsafe fn q8_0_tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    if R == 8 && C > 1 {
        let out = q8_0_interleaved8::<C>(w[..].try_into().unwrap(), x);
        return std::array::from_fn(|r| out[r]);
    }
    q8_0::avx2::tile::<R, C>(w, x)
}

/// The f16 scales opening eight rows' blocks as f32 lanes `[r0 r0 r1 r1 … r7 r7]`, lined up
/// with the i32 lanes of an interleaved tile.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn f16_pairs8(blk: &[*const u8; 8]) -> __m512 {
    let h = |r: usize| (blk[r] as *const i16).read_unaligned();
    _mm512_cvtph_ps(_mm256_setr_epi16(h(0), h(0), h(1), h(1), h(2), h(2), h(3), h(3), h(4), h(4), h(5), h(5), h(6), h(6), h(7), h(7)))
}

/// `out[r][c]`: the sum of lanes `2r` and `2r + 1` of `acc[c]`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn pairs_to_tile8<const C: usize>(acc: &[__m512; C]) -> [[f32; C]; 8] {
    let mut out = [[0f32; C]; 8];
    for c in 0..C {
        let mut lanes = [0f32; 16];
        _mm512_storeu_ps(lanes.as_mut_ptr(), acc[c]);
        for r in 0..8 {
            out[r][c] = lanes[2 * r] + lanes[2 * r + 1];
        }
    }
    out
}

/// Eight q8_0 weight rows against `C` activation rows: per block, the four 8-byte units of
/// all eight rows (`interleave8`) meet 8 activations broadcast to all rows; row `r` owns i32
/// lanes `2r`, `2r + 1`, so one float step per block and column serves the eight rows.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn q8_0_interleaved8<const C: usize>(w: &[&[u8]; 8], x: &[ActRow; C]) -> [[f32; C]; 8] {
    let nb = x[0].d.len();
    let zero = _mm512_setzero_si512();
    let mut acc = [_mm512_setzero_ps(); C];
    for b in 0..nb {
        let blk: [*const u8; 8] = std::array::from_fn(|r| w[r].as_ptr().add(b * q8_0::BLOCK_BYTES));
        let wd = f16_pairs8(&blk);
        let units = interleave8(blk.map(|p| _mm256_loadu_si256(p.add(2) as *const __m256i)));
        // |w| as unsigned bytes (|-128| = 128 fits), and where w < 0, for the activations.
        let negative = units.map(|u| _mm512_movepi8_mask(u));
        let magnitude = units.map(|u| _mm512_abs_epi8(u));
        for c in 0..C {
            let xp = x[c].qs.as_ptr().add(b * 32) as *const i64;
            let mut sum = zero;
            for t in 0..4 {
                let xv = _mm512_set1_epi64(xp.add(t).read_unaligned());
                // x with the sign of w (activations are within ±127, so -x fits).
                let signed = _mm512_mask_sub_epi8(xv, negative[t], zero, xv);
                sum = _mm512_dpbusd_epi32(sum, magnitude[t], signed);
            }
            let scale = _mm512_mul_ps(wd, _mm512_set1_ps(*x[c].d.get_unchecked(b)));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc[c]);
        }
    }
    pairs_to_tile8(&acc)
}

/// 32 bytes of each of eight rows, regrouped so that register `t` holds bytes `8t..8t+8` of
/// rows 0..8 in order (an 8x4 transpose of 8-byte units).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn interleave8(q: [__m256i; 8]) -> [__m512i; 4] {
    let pair = |a: __m256i, b: __m256i| _mm512_inserti64x4::<1>(_mm512_castsi256_si512(a), b);
    let (z01, z23, z45, z67) = (pair(q[0], q[1]), pair(q[2], q[3]), pair(q[4], q[5]), pair(q[6], q[7]));
    // Units 0 and 1 (resp. 2 and 3) of four rows: [a.t b.t c.t d.t | a.t+1 b.t+1 c.t+1 d.t+1].
    let even = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13);
    let odd = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
    let (p01, p23) = (_mm512_permutex2var_epi64(z01, even, z23), _mm512_permutex2var_epi64(z01, odd, z23));
    let (q01, q23) = (_mm512_permutex2var_epi64(z45, even, z67), _mm512_permutex2var_epi64(z45, odd, z67));
    // Lower halves of both, then upper halves: rows 0..4 then 4..8 of one unit.
    [
        _mm512_shuffle_i64x2::<0x44>(p01, q01),
        _mm512_shuffle_i64x2::<0xEE>(p01, q01),
        _mm512_shuffle_i64x2::<0x44>(p23, q23),
        _mm512_shuffle_i64x2::<0xEE>(p23, q23),
    ]
}

/// Eight q4_K weight rows against `C` activation rows. Row `r` owns i16 lanes `4r..4r+4` after
/// `maddubs` and i32 lanes `2r`, `2r+1` after the scales are applied, so each 128-bit lane
/// holds two rows, as in the AVX2 tile.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn q4_k_interleaved8<const C: usize>(w: &[&[u8]; 8], x: &[ActRow; C]) -> [[f32; C]; 8] {
    let nb = x[0].d.len();
    let m4 = _mm512_set1_epi8(0x0F);
    // For sub-block s: in each 128-bit lane, i16 lanes 0..4 take byte s (the lane's first
    // row's scale) and lanes 4..8 byte 8 + s (its second row's).
    let pick: [__m512i; 8] = std::array::from_fn(|s| {
        let (z, a, b) = (-1i8, s as i8, 8 + s as i8);
        let lane = [a, z, a, z, a, z, a, z, b, z, b, z, b, z, b, z];
        _mm512_broadcast_i32x4(_mm_loadu_si128(lane.as_ptr() as *const __m128i))
    });
    // For mins pair k: i32 lane 2r holds row r's min 2k twice as i16, lane 2r + 1 its min
    // 2k + 1 (bytes as laid out by `SixBit::split`: a lane's rows at bytes 0..8 and 8..16).
    let spread: [__m512i; 4] = std::array::from_fn(|k| {
        let (z, a, b) = (-1i8, 2 * k as i8, 2 * k as i8 + 1);
        let lane = [a, z, a, z, b, z, b, z, 8 + a, z, 8 + a, z, 8 + b, z, 8 + b, z];
        _mm512_broadcast_i32x4(_mm_loadu_si128(lane.as_ptr() as *const __m128i))
    });
    let six = SixBit::new();
    let mut acc = [_mm512_setzero_ps(); C];
    for sb in 0..nb {
        let blk: [*const u8; 8] = std::array::from_fn(|r| w[r].as_ptr().add(sb * q4_k::BLOCK_BYTES));
        let (h_lo, h_hi) = headers8(&blk);
        let (scales, mins) = six.split(h_lo, h_hi);
        let mins: [__m512i; 4] = std::array::from_fn(|k| _mm512_shuffle_epi8(mins, spread[k]));
        let (d, dmin) = f16_header_pairs8(h_lo, h_hi);
        let mut isum = [_mm512_setzero_si512(); C];
        for j in 0..4 {
            // Bytes 32j..32j+32 of each row; unit t holds weights 64j+8t.. (low nibbles) and
            // 64j+32+8t.. (high nibbles) of all eight rows.
            let units = interleave8(blk.map(|p| _mm256_loadu_si256(p.add(16 + 32 * j) as *const __m256i)));
            let lo = units.map(|u| _mm512_and_si512(u, m4));
            let hi = units.map(|u| _mm512_and_si512(_mm512_srli_epi16::<4>(u), m4));
            let s_lo = _mm512_shuffle_epi8(scales, pick[2 * j]);
            let s_hi = _mm512_shuffle_epi8(scales, pick[2 * j + 1]);
            for c in 0..C {
                let xp = x[c].qs.as_ptr().add(sb * 256 + 64 * j) as *const i64;
                let bcast = |i: usize| _mm512_set1_epi64(xp.add(i).read_unaligned());
                // ≤ 4 · 2 · 15 · 127 per i16 lane: no saturation.
                let mut p_lo = _mm512_maddubs_epi16(lo[0], bcast(0));
                let mut p_hi = _mm512_maddubs_epi16(hi[0], bcast(4));
                for t in 1..4 {
                    p_lo = _mm512_add_epi16(p_lo, _mm512_maddubs_epi16(lo[t], bcast(t)));
                    p_hi = _mm512_add_epi16(p_hi, _mm512_maddubs_epi16(hi[t], bcast(4 + t)));
                }
                isum[c] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(isum[c], p_lo, s_lo), p_hi, s_hi);
            }
        }
        for c in 0..C {
            // Σ min · (sum of x over the sub-block): the sums of 16 come in pairs, and each
            // pair meets its sub-block's min twice (`spread`), so no pair sums are formed.
            let bs = x[c].bsums.as_ptr().add(sb * 16) as *const i64;
            let mut msum = _mm512_setzero_si512();
            for (k, m) in mins.iter().enumerate() {
                msum = _mm512_dpwssd_epi32(msum, *m, _mm512_set1_epi64(bs.add(k).read_unaligned()));
            }
            let t = _mm512_fmsub_ps(_mm512_cvtepi32_ps(isum[c]), d, _mm512_mul_ps(_mm512_cvtepi32_ps(msum), dmin));
            acc[c] = _mm512_fmadd_ps(t, _mm512_set1_ps(*x[c].d.get_unchecked(sb)), acc[c]);
        }
    }
    pairs_to_tile8(&acc)
}

/// The first 16 bytes of eight q4_K blocks (d, dmin, the 12 packed scale bytes): rows 0..4
/// one per 128-bit lane of the first register, rows 4..8 of the second.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn headers8(blk: &[*const u8; 8]) -> (__m512i, __m512i) {
    let h = |r: usize| _mm_loadu_si128(blk[r] as *const __m128i);
    let four = |r: usize| {
        let lo = _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(h(r)), h(r + 1));
        let hi = _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(h(r + 2)), h(r + 3));
        _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi)
    };
    (four(0), four(4))
}

/// Unpacks q4_K's 6-bit scales and mins for eight rows at once: the word formula of
/// [`q4_k::scales_and_mins_words`] applied to every 128-bit lane (one row's header).
struct SixBit {
    shift: __m512i,
    keep: __m512i,
    high: __m512i,
    scales: __m512i,
    mins: __m512i,
}

impl SixBit {
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
    unsafe fn new() -> Self {
        let lane4 = |a: i32, b: i32, c: i32, d: i32| _mm512_broadcast_i32x4(_mm_setr_epi32(a, b, c, d));
        let (low6, low4, top2) = (0x3f3f_3f3f, 0x0f0f_0f0f, 0x3030_3030);
        SixBit {
            shift: lane4(0, 0, 0, 4),
            keep: lane4(low6, low4, low6, low4),
            high: lane4(0, top2, 0, top2),
            // Dwords 0, 1 (scales) resp. 2, 3 (mins) of every lane, rows in order.
            scales: _mm512_setr_epi32(0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29),
            mins: _mm512_setr_epi32(2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31),
        }
    }

    /// `(scales, mins)`: row r's eight scales (resp. mins) as bytes at `8r..8r + 8`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
    unsafe fn split(&self, h_lo: __m512i, h_hi: __m512i) -> (__m512i, __m512i) {
        // Header dwords: 0 = d, dmin; 1..4 = the packed bytes a, b, c. Per lane the result is
        // [a & 63…, (c & 15…) | top2(a), b & 63…, (c >> 4 & 15…) | top2(b)].
        let unpack = |h: __m512i| {
            let abcc = _mm512_srlv_epi32(_mm512_shuffle_epi32::<0b11_10_11_01>(h), self.shift);
            let aabb = _mm512_srli_epi32::<2>(_mm512_shuffle_epi32::<0b10_10_01_01>(h));
            _mm512_or_si512(_mm512_and_si512(abcc, self.keep), _mm512_and_si512(aabb, self.high))
        };
        let (lo, hi) = (unpack(h_lo), unpack(h_hi));
        (_mm512_permutex2var_epi32(lo, self.scales, hi), _mm512_permutex2var_epi32(lo, self.mins, hi))
    }
}

/// `(d, dmin)` of eight q4_K headers (see [`headers8`]) as f32 in lanes `[r0 r0 r1 r1 … r7 r7]`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn f16_header_pairs8(h_lo: __m512i, h_hi: __m512i) -> (__m512, __m512) {
    // Word 8r of the pair of registers is row r's d, word 8r + 1 its dmin.
    let idx: [i16; 32] = std::array::from_fn(|i| (8 * ((i % 16) / 2) + i / 16) as i16);
    let both = _mm512_permutex2var_epi16(h_lo, _mm512_loadu_si512(idx.as_ptr() as *const _), h_hi);
    (_mm512_cvtph_ps(_mm512_castsi512_si256(both)), _mm512_cvtph_ps(_mm512_extracti64x4_epi64::<1>(both)))
}
