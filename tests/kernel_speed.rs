//! Throughput of the quantized kernels, for tuning by hand (ignored by default; prints, never
//! asserts on time):
//! `cargo test --release --test kernel_speed -- --ignored --nocapture`

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use dialogpt_web::engine::kernels::{Arch, Matrix};
use std::time::Instant;

fn matrix(dtype: GgmlDType, n: usize, k: usize) -> Matrix {
    let w: Vec<f32> = (0..n * k).map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 1e-4).collect();
    let t = Tensor::from_vec(w, (n, k), &Device::Cpu).unwrap();
    Matrix::from_qtensor(&QTensor::quantize(&t, dtype).unwrap()).unwrap()
}

fn time(mat: &Matrix, m: usize, reps: usize) -> f64 {
    let x: Vec<f32> = (0..m * mat.cols()).map(|i| ((i % 13) as f32 - 6.0) * 0.1).collect();
    let mut out = vec![0f32; m * mat.rows()];
    mat.matmul_into(&x, m, None, &mut out);
    let t = Instant::now();
    for _ in 0..reps {
        mat.matmul_into(&x, m, None, &mut out);
    }
    t.elapsed().as_secs_f64() / reps as f64
}

#[test]
#[ignore]
fn kernel_throughput() {
    println!("path {:?}, {} rayon threads", Arch::best(), rayon::current_num_threads());
    for dtype in [GgmlDType::Q8_0, GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::F16] {
        // 64 in cache (L2), then 24 MB that must come from memory.
        for (n, k, reps) in [(64, 1024, 2000), (6144, 1024, 20), (1024, 4096, 40)] {
            for m in [1, 64] {
                let mat = matrix(dtype, n, k);
                let s = time(&mat, m, if m == 1 { reps } else { reps / 8 + 1 });
                let bytes = mat.bytes().len() as f64;
                println!(
                    "{dtype:?} [{m}x{k}]·[{n}x{k}]ᵀ: {:8.1} µs  {:6.2} GB/s of weights  {:6.1} GMAC/s",
                    s * 1e6,
                    bytes / s / 1e9,
                    (m * n * k) as f64 / s / 1e9
                );
            }
        }
    }
}
