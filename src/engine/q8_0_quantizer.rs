//! Float weights to q8_0 blocks (what a Hub checkpoint becomes at the default quantization),
//! with the same numbers as llama.cpp's reference quantizer and candle's: per block of 32,
//! `d = amax / 127`, each weight `round(x / d)` with ties away from zero, `d` stored as f16.
//! Ours because candle's spends most of its time in a `round` that wasm32 has no instruction
//! for (a library call per weight): the rounding here is built from `trunc`, which it has.
//! On wasm32 with simd128 a block is quantized four weights at a time (`simd128.rs`, checked
//! against this scalar code in node by tests/wasm-kernels).

use half::f16;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

/// Weights per block.
const BLOCK: usize = 32;
/// Bytes per block: the f16 scale, then 32 signed quants.
pub const BLOCK_BYTES: usize = 2 + BLOCK;

/// Round to nearest, ties away from zero (C's `roundf`), exactly, for any finite `v`.
fn round_away(v: f32) -> f32 {
    let t = v.trunc();
    if (v - t).abs() >= 0.5 {
        t + v.signum()
    } else {
        t
    }
}

/// The block's scale from its largest magnitude: `d` as stored (f16 bytes), and the factor
/// that takes a weight to its quant.
fn scale(amax: f32) -> ([u8; 2], f32) {
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    (f16::from_f32(d).to_le_bytes(), id)
}

/// The definition, a weight at a time: what every other path must equal byte for byte.
pub fn quantize_block_scalar(x: &[f32; BLOCK], out: &mut [u8; BLOCK_BYTES]) {
    let (d, id) = scale(x.iter().fold(0f32, |m, v| m.max(v.abs())));
    out[..2].copy_from_slice(&d);
    for (q, &v) in out[2..].iter_mut().zip(x) {
        *q = round_away(v * id) as i8 as u8;
    }
}

fn quantize_block(x: &[f32; BLOCK], out: &mut [u8; BLOCK_BYTES]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd128::quantize_block(x, out);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    quantize_block_scalar(x, out);
}

/// Splits `out` into blocks; the length checks are the callers' asserts.
fn block_mut(out: &mut [u8], i: usize) -> &mut [u8; BLOCK_BYTES] {
    (&mut out[i * BLOCK_BYTES..(i + 1) * BLOCK_BYTES]).try_into().expect("a whole block")
}

/// `values` (`[rows, cols]` row-major, `cols` a multiple of 32) as q8_0 rows.
pub fn quantize_q8_0(values: &[f32], cols: usize) -> Vec<u8> {
    assert!(cols % BLOCK == 0 && values.len() % cols == 0, "q8_0 needs rows of whole 32-weight blocks");
    let mut out = vec![0u8; values.len() / BLOCK * BLOCK_BYTES];
    for (i, x) in values.chunks_exact(BLOCK).enumerate() {
        quantize_block(x.try_into().expect("a whole block"), block_mut(&mut out, i));
    }
    out
}

/// The q8_0 rows of `values` transposed: `values` is `[rows, cols]` row-major (`rows` a multiple
/// of 32) and row `c` of the result is column `c` of `values`. What a Hub Conv1D weight becomes,
/// without a transposed copy in between: each block is gathered down one column of a panel of
/// 32 rows, and the panel stays in cache while every column of it is quantized.
pub fn quantize_q8_0_transposed(values: &[f32], rows: usize, cols: usize) -> Vec<u8> {
    assert!(rows % BLOCK == 0 && values.len() == rows * cols, "q8_0 needs columns of whole 32-weight blocks");
    let blocks_per_row = rows / BLOCK;
    let mut out = vec![0u8; values.len() / BLOCK * BLOCK_BYTES];
    let mut column = [0f32; BLOCK];
    for (b, panel) in values.chunks_exact(BLOCK * cols.max(1)).enumerate() {
        for c in 0..cols {
            for (x, row) in column.iter_mut().zip(panel.chunks_exact(cols)) {
                *x = row[c];
            }
            quantize_block(&column, block_mut(&mut out, c * blocks_per_row + b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

    #[test]
    fn rounds_like_roundf() {
        for v in [0.5f32, -0.5, 1.5, 2.5, -2.5, 0.49999997, -0.49999997, 126.5, 0.0, -0.0, 3.7, -3.7] {
            assert_eq!(round_away(v), v.round(), "{v}");
        }
    }

    /// candle's quantizer is the oracle: the same bytes, ties and zero blocks included.
    #[test]
    fn same_bytes_as_candles_quantizer() {
        let mut values: Vec<f32> = (0..64 * 96).map(|i| ((i * 7919 % 2003) as f32 - 1001.0) * 0.013).collect();
        values[..32].fill(0.0); // a block of zeros
        for (i, v) in values[32..64].iter_mut().enumerate() {
            *v = (i as f32 - 16.0) * 0.5; // exact halves after scaling
        }
        let t = Tensor::from_vec(values.clone(), (64, 96), &Device::Cpu).unwrap();
        let theirs = QTensor::quantize(&t, GgmlDType::Q8_0).unwrap();
        assert_eq!(quantize_q8_0(&values, 96), theirs.data().unwrap().to_vec());
    }

    /// Transposing first and quantizing the rows is the oracle.
    #[test]
    fn transposed_is_the_rows_of_the_transpose() {
        for (rows, cols) in [(32, 1), (32, 5), (64, 96), (96, 33)] {
            let values: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919 % 2003) as f32 - 1001.0) * 0.013).collect();
            let transposed = crate::engine::weights::transpose::transpose(&values, rows, cols);
            assert_eq!(quantize_q8_0_transposed(&values, rows, cols), quantize_q8_0(&transposed, rows), "{rows}×{cols}");
        }
    }
}
