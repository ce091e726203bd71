//! Helpers the AVX-512 prompt tiles share: the eight-row interleave and the reduction of
//! its lane pairs.

use std::arch::x86_64::*;

/// 32 bytes of each of eight rows, regrouped so that register `t` holds bytes `8t..8t+8` of
/// rows 0..8 in order (an 8x4 transpose of 8-byte units).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn interleave8(q: [__m256i; 8]) -> [__m512i; 4] {
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

/// `out[r][c]`: the sum of lanes `2r` and `2r + 1` of `acc[c]`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn pairs_to_tile8<const C: usize>(acc: &[__m512; C]) -> [[f32; C]; 8] {
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
