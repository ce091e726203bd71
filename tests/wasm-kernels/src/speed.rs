//! Kernel throughput on wasm32, for tuning by hand (`tests/wasm-kernels/run.sh speed`): the
//! DialoGPT-medium matrix shapes, one token (decode) and a 64-token prompt (prefill). Prints,
//! never asserts on time.

use super::{now, say};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use dialogpt_web::engine::kernels::{Arch, QuantMatrix};
use std::sync::Arc;

fn matrix(dtype: GgmlDType, n: usize, k: usize) -> QuantMatrix {
    let w: Vec<f32> = (0..n * k).map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 1e-4).collect();
    let t = Tensor::from_vec(w, (n, k), &Device::Cpu).unwrap();
    QuantMatrix::new(Arc::new(QTensor::quantize(&t, dtype).unwrap())).unwrap()
}

/// Milliseconds per call, best of `reps` after one warm-up call.
fn time(mat: &QuantMatrix, arch: Arch, m: usize, reps: usize) -> f64 {
    let x: Vec<f32> = (0..m * mat.cols()).map(|i| ((i % 13) as f32 - 6.0) * 0.1).collect();
    let mut best = f64::MAX;
    std::hint::black_box(mat.matmul_with(arch, &x, m));
    for _ in 0..reps {
        let t = now();
        std::hint::black_box(mat.matmul_with(arch, &x, m));
        best = best.min(now() - t);
    }
    best
}

pub fn run(which: u32) {
    let arch = Arch::best();
    say(&format!("path {arch:?}"));
    let dtypes: &[GgmlDType] = match which {
        1 => &[GgmlDType::Q8_0],
        2 => &[GgmlDType::Q4K],
        3 => &[GgmlDType::Q6K],
        _ => &[GgmlDType::Q8_0, GgmlDType::Q4K, GgmlDType::Q6K],
    };
    for &dtype in dtypes {
        for (n, k) in [(3072, 1024), (1024, 4096)] {
            let mat = matrix(dtype, n, k);
            for (m, reps) in [(1, 30), (64, 4)] {
                let ms = time(&mat, arch, m, reps);
                say(&format!(
                    "{dtype:?} [{m:2}x{k}]·[{n}x{k}]ᵀ {ms:8.3} ms {:6.2} GMAC/s {:6.2} GB/s of weights",
                    (m * n * k) as f64 / ms / 1e6,
                    mat.bytes().len() as f64 / ms / 1e6
                ));
            }
        }
    }
}
