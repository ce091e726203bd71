//! Float weights to q8_0 blocks (what a Hub checkpoint becomes at the default quantization),
//! with the same numbers as llama.cpp's reference quantizer and candle's: per block of 32,
//! `d = amax / 127`, each weight `round(x / d)` with ties away from zero, `d` stored as f16.
//! Ours because candle's spends most of its time in a `round` that wasm32 has no instruction
//! for (a library call per weight): the rounding here is built from `trunc`, which it has.

use half::f16;

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

fn quantize_block(x: &[f32], out: &mut [u8]) {
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out[..2].copy_from_slice(&f16::from_f32(d).to_le_bytes());
    for (q, &v) in out[2..].iter_mut().zip(x) {
        *q = round_away(v * id) as i8 as u8;
    }
}

/// `values` (`[rows, cols]` row-major, `cols` a multiple of 32) as q8_0 rows.
pub fn quantize_q8_0(values: &[f32], cols: usize) -> Vec<u8> {
    assert!(cols % BLOCK == 0 && values.len() % cols == 0, "q8_0 needs rows of whole 32-weight blocks");
    let mut out = vec![0u8; values.len() / BLOCK * BLOCK_BYTES];
    for (x, o) in values.chunks_exact(BLOCK).zip(out.chunks_exact_mut(BLOCK_BYTES)) {
        quantize_block(x, o);
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
}
