//! Activations quantized once per input row, before any weight row is visited: q8_0
//! (blocks of 32, one f32 scale each) for q8_0 weights, q8_K (blocks of 256, one f32 scale,
//! plus the sums of every 16 quants) for k-quant weights; f16 weights take them as f32.
//!
//! Rounding is to nearest, ties to even (as ggml's SIMD quantizers do), and quants are
//! limited to ±127 so that the sign trick and `maddubs` of the x86 kernels never overflow.

use super::parallel::{self, Disjoint};

pub const QK8_0: usize = 32;
pub const QK_K: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActFormat {
    /// 32 quants per scale.
    Q8_0,
    /// 256 quants per scale, with sums of each 16.
    Q8K,
    /// Not quantized (f16 weights); rows in whole blocks of 8.
    F32,
}

impl ActFormat {
    pub fn block(self) -> usize {
        match self {
            ActFormat::Q8_0 => QK8_0,
            ActFormat::Q8K => QK_K,
            ActFormat::F32 => 8,
        }
    }
}

/// `m` rows of `k` activations, quantized.
#[derive(Clone, Debug)]
pub struct QuantActs {
    pub format: ActFormat,
    pub m: usize,
    pub k: usize,
    /// `[m, k]`
    pub qs: Vec<i8>,
    /// `[m, k / block]`
    pub d: Vec<f32>,
    /// `[m, k / 16]`, q8_K only.
    pub bsums: Vec<i16>,
    /// `[m, k]`, F32 only (and then the only field in use).
    pub xs: Vec<f32>,
}

/// One quantized row.
#[derive(Clone, Copy)]
pub struct ActRow<'a> {
    pub qs: &'a [i8],
    pub d: &'a [f32],
    pub bsums: &'a [i16],
    /// F32 only.
    pub xs: &'a [f32],
}

/// Quantizes whole blocks of `x` into `qs` and `d`, and (q8_K) the sums of 16 into `bsums`.
fn quantize_rows(x: &[f32], block: usize, qs: &mut [i8], d: &mut [f32], bsums: &mut [i16]) {
    #[cfg(target_arch = "x86_64")]
    if super::arch::has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { quantize_rows_avx2(x, block, qs, d, bsums) };
    }
    quantize_rows_loop(x, block, qs, d, bsums)
}

/// `quantize_rows` with the AVX2 block quantizer (bit for bit the same results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_rows_avx2(x: &[f32], block: usize, qs: &mut [i8], d: &mut [f32], bsums: &mut [i16]) {
    // SAFETY (of the block calls): the CPU has AVX2; both blocks are 32 or 256 long.
    quantize_rows_with(x, block, qs, d, bsums, |xb, qb| unsafe { avx2::quantize_block(xb, qb) })
}

#[inline(always)]
fn quantize_rows_loop(x: &[f32], block: usize, qs: &mut [i8], d: &mut [f32], bsums: &mut [i16]) {
    quantize_rows_with(x, block, qs, d, bsums, quantize_block)
}

#[inline(always)]
fn quantize_rows_with(x: &[f32], block: usize, qs: &mut [i8], d: &mut [f32], bsums: &mut [i16], quantize_block: impl Fn(&[f32], &mut [i8]) -> f32) {
    for ((xb, qb), d) in x.chunks_exact(block).zip(qs.chunks_exact_mut(block)).zip(d.iter_mut()) {
        *d = quantize_block(xb, qb);
    }
    for (s, q) in bsums.iter_mut().zip(qs.chunks_exact(16)) {
        *s = q.iter().map(|&v| v as i16).sum();
    }
}

/// Round to nearest, ties to even, for |v| < 2^22 (adding 1.5 * 2^23 leaves no fraction bits).
#[inline(always)]
fn round_even(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC) - MAGIC
}

/// One block: quants into `qb`, returns the scale.
#[inline(always)]
fn quantize_block(xb: &[f32], qb: &mut [i8]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if xb.len() % 16 == 0 {
        return simd128::quantize_block(xb, qb);
    }
    // A comparison, not f32::max: on wasm32 that is a call to fmaxf per element.
    let amax = xb.iter().fold(0f32, |a, v| if v.abs() > a { v.abs() } else { a });
    let id = if amax > 0.0 { 127.0 / amax } else { 0.0 };
    for (q, v) in qb.iter_mut().zip(xb) {
        *q = round_even(v * id).clamp(-127.0, 127.0) as i8;
    }
    amax / 127.0
}


#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

impl QuantActs {
    pub fn empty(format: ActFormat) -> Self {
        Self { format, m: 0, k: 0, qs: Vec::new(), d: Vec::new(), bsums: Vec::new(), xs: Vec::new() }
    }

    pub fn quantize(format: ActFormat, x: &[f32], m: usize, k: usize) -> Self {
        let mut a = Self::empty(format);
        a.quantize_into(format, x, m, k);
        a
    }

    /// Quantizes `x` (`[m, k]`, `k` a multiple of the block) into this buffer, reusing its memory.
    pub fn quantize_into(&mut self, format: ActFormat, x: &[f32], m: usize, k: usize) {
        let block = format.block();
        assert!(k % block == 0, "row of {k} is not a whole number of {block}-blocks");
        assert_eq!(x.len(), m * k, "activations are not [{m}, {k}]");
        self.format = format;
        self.m = m;
        self.k = k;
        if format == ActFormat::F32 {
            self.xs.clear();
            self.xs.extend_from_slice(x);
            return;
        }
        self.qs.resize(m * k, 0);
        self.d.resize(m * k / block, 0.0);
        if format == ActFormat::Q8K {
            self.bsums.resize(m * k / 16, 0);
        } else {
            self.bsums.clear();
        }
        let (qs, d, bsums) = (Disjoint::new(&mut self.qs), Disjoint::new(&mut self.d), Disjoint::new(&mut self.bsums));
        let (nb, ns) = (k / block, if format == ActFormat::Q8K { k / 16 } else { 0 });
        // Rows are independent: a prompt batch splits them across the native threads.
        parallel::for_ranges(m, 8, |rows| {
            let x = &x[rows.start * k..rows.end * k];
            // SAFETY: the ranges of rows are disjoint.
            let (qs, d, bsums) = unsafe {
                (qs.part(rows.start * k..rows.end * k), d.part(rows.start * nb..rows.end * nb), bsums.part(rows.start * ns..rows.end * ns))
            };
            quantize_rows(x, block, qs, d, bsums);
        });
    }

    pub fn row(&self, i: usize) -> ActRow<'_> {
        if self.format == ActFormat::F32 {
            return ActRow { qs: &[], d: &[], bsums: &[], xs: &self.xs[i * self.k..(i + 1) * self.k] };
        }
        let nb = self.k / self.format.block();
        let bsums = if self.format == ActFormat::Q8K { &self.bsums[i * self.k / 16..(i + 1) * self.k / 16] } else { &[] };
        ActRow { qs: &self.qs[i * self.k..(i + 1) * self.k], d: &self.d[i * nb..(i + 1) * nb], bsums, xs: &[] }
    }
}

#[cfg(test)]
mod tests {
    /// The AVX2 quantizer equals the scalar one bit for bit, NaN, infinities, zeros and
    /// exact halves (ties to even) included.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_quantizer_matches_scalar() {
        if !super::super::arch::has_avx2() {
            return;
        }
        let mut x: Vec<f32> = (0..2048).map(|i| ((i * 7919 % 2001) as f32 - 1000.0) * 0.0127).collect();
        x[..256].iter_mut().enumerate().for_each(|(i, v)| *v = (i as f32 - 127.0) * 0.5);
        x[256..512].fill(0.0);
        x[600] = f32::NAN;
        x[1100] = f32::INFINITY;
        x[1500] = -0.0;
        x[1700] = f32::NEG_INFINITY;
        for block in [32, 256] {
            for xb in x.chunks(block) {
                let (mut want, mut got) = (vec![0i8; block], vec![0i8; block]);
                let d = super::quantize_block(xb, &mut want);
                // SAFETY: AVX2 checked above; the block is 32 or 256 long.
                let e = unsafe { super::avx2::quantize_block(xb, &mut got) };
                assert_eq!(d.to_bits(), e.to_bits());
                assert_eq!(want, got);
            }
        }
    }
}
