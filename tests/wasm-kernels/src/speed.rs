//! Kernel throughput on wasm32, for tuning by hand (`tests/wasm-kernels/run.sh speed`): the
//! DialoGPT-medium matrix shapes, one token (decode) and a 64-token prompt (prefill). Prints,
//! never asserts on time.

use super::{now, say};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use dialogpt_web::engine::kernels::{Arch, Matrix};

fn matrix(dtype: GgmlDType, n: usize, k: usize) -> Matrix {
    let w: Vec<f32> = (0..n * k).map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 1e-4).collect();
    let t = Tensor::from_vec(w, (n, k), &Device::Cpu).unwrap();
    Matrix::from_qtensor(&QTensor::quantize(&t, dtype).unwrap()).unwrap()
}

/// Milliseconds per call, best of `reps` after one warm-up call.
fn time(mat: &Matrix, arch: Arch, m: usize, reps: usize) -> f64 {
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

/// `copies` copies of `mat`'s rows one after another: a matrix bigger than the L3 cache
/// without quantizing that many weights.
fn tiled(mat: &Matrix, copies: usize) -> Matrix {
    Matrix::new(mat.block(), mat.rows() * copies, mat.cols(), mat.bytes().repeat(copies)).unwrap()
}

/// Plain reading speed of `MEM_BYTES` (the ceiling for weights streamed from memory).
fn read_speed() {
    use core::arch::wasm32::*;
    const MEM_BYTES: usize = 64 << 20;
    let buf = vec![1u8; MEM_BYTES];
    let mut best = f64::MAX;
    for _ in 0..6 {
        let t = now();
        let mut acc = [i32x4_splat(0); 4];
        for chunk in buf.chunks_exact(64) {
            for (i, a) in acc.iter_mut().enumerate() {
                // SAFETY: 16 bytes inside the 64-byte chunk.
                *a = i32x4_add(*a, unsafe { (chunk.as_ptr().add(16 * i) as *const v128).read_unaligned() });
            }
        }
        std::hint::black_box(acc);
        best = best.min(now() - t);
    }
    say(&format!("reading {} MiB: {:.2} GB/s", MEM_BYTES >> 20, MEM_BYTES as f64 / best / 1e6));
}

pub fn run(which: u32) {
    let arch = Arch::best();
    say(&format!("path {arch:?}"));
    read_speed();
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
        // Decode as in the model: weights streamed from memory (64 Mi weights, more than L3),
        // the LM head's shape.
        let big = tiled(&matrix(dtype, 4096, 1024), 16);
        let ms = time(&big, arch, 1, 10);
        say(&format!(
            "{dtype:?} [ 1x1024]·[{}x1024]ᵀ {ms:7.3} ms {:6.2} GMAC/s {:6.2} GB/s of weights (from memory)",
            big.rows(),
            (big.rows() * 1024) as f64 / ms / 1e6,
            big.bytes().len() as f64 / ms / 1e6
        ));
    }
}
