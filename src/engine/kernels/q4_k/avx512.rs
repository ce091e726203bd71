//! q4_K prompt tiles for x86_64 CPUs with AVX-512 (BW and VNNI): the AVX2 interleaved tile
//! widened to eight weight rows per register, the sub-block scales applied by `vpdpwssd`
//! (multiply, add pairs and accumulate in one instruction). Per 64 weights and activation
//! row, 8 `maddubs`, 6 i16 adds and 2 `vpdpwssd` serve eight rows, where the AVX2 tile
//! spends 18 instructions on four. Decode stays on the AVX2 path.

use super::super::activations::ActRow;
use super::super::simd::avx512::{interleave8, pairs_to_tile8};
use super::BLOCK_BYTES;
use std::arch::x86_64::*;

/// q4_K weights: eight-row tiles here, anything else on the AVX2 kernel.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VNNI, AVX2, FMA and F16C; every row holds
/// `x[0].d.len()` super-blocks.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub unsafe fn tile<const R: usize, const C: usize>(w: &[&[u8]; R], x: &[ActRow; C]) -> [[f32; C]; R] {
    if R == 8 && C > 1 {
        let out = interleaved8::<C>(w[..].try_into().unwrap(), x);
        return std::array::from_fn(|r| out[r]);
    }
    super::avx2::tile::<R, C>(w, x)
}

/// Eight q4_K weight rows against `C` activation rows. Row `r` owns i16 lanes `4r..4r+4` after
/// `maddubs` and i32 lanes `2r`, `2r+1` after the scales are applied, so each 128-bit lane
/// holds two rows, as in the AVX2 tile.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn interleaved8<const C: usize>(w: &[&[u8]; 8], x: &[ActRow; C]) -> [[f32; C]; 8] {
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
        let blk: [*const u8; 8] = std::array::from_fn(|r| w[r].as_ptr().add(sb * BLOCK_BYTES));
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
/// [`super::scales_and_mins_words`] applied to every 128-bit lane (one row's header).
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
