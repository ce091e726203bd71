//! Our matmul kernels (src/engine/kernels) against a dequantize-then-f64 reference, on every
//! path the machine runs (scalar always; AVX2 on x86_64; simd128 when this file is built for
//! wasm32 — see BENCHMARKS.md, "Testing the wasm kernels"), for q8_0, q4_K, q6_K, f16 and
//! f32, on shapes with 1 and odd row counts, partial tiles and the threaded split; and the
//! embedding rows a matrix hands out against candle's dequantization.

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use dialogpt_web::engine::kernels::{ActFormat, Arch, Matrix, QuantActs};

struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    /// Roughly normal, with an occasional large outlier as GPT-2 activations have.
    fn value(&mut self, scale: f32) -> f32 {
        let v = (0..4).map(|_| self.uniform()).sum::<f32>() * scale;
        if self.uniform() > 0.495 { v * 40.0 } else { v }
    }
}

fn weight(dtype: GgmlDType, n: usize, k: usize, seed: u64) -> (QTensor, Vec<f32>) {
    let mut rng = Rng(seed);
    let w: Vec<f32> = (0..n * k).map(|_| rng.value(0.1)).collect();
    let t = Tensor::from_vec(w, (n, k), &Device::Cpu).unwrap();
    let q = QTensor::quantize(&t, dtype).unwrap();
    // What the quantized weight really holds, dequantized by candle (independent of our code).
    let deq = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    (q, deq)
}

/// The values the kernels actually multiply, `[m, k]`.
fn dequantized(acts: &QuantActs) -> Vec<f32> {
    if acts.format == ActFormat::F32 {
        return acts.xs.clone();
    }
    let block = acts.format.block();
    acts.qs.chunks_exact(block).zip(&acts.d).flat_map(|(q, d)| q.iter().map(move |&v| v as f32 * d)).collect()
}

fn inputs(m: usize, k: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng(seed);
    let mut x: Vec<f32> = (0..m * k).map(|_| rng.value(1.0)).collect();
    if m > 2 {
        // A row of zeros (a block whose scale is 0) and a row with one huge value.
        x[k..2 * k].fill(0.0);
        x[2 * k + 3] = 500.0;
    }
    x
}

/// Checks `Matrix::matmul_with(arch)` for one shape against two references, and its rows
/// against candle's dequantization.
pub fn check(dtype: GgmlDType, m: usize, n: usize, k: usize, seed: u64) {
    let (q, w) = weight(dtype, n, k, seed);
    let x = inputs(m, k, seed ^ 0x9E37_79B9);
    let mat = Matrix::from_qtensor(&q).expect("kernels handle this type");
    let mut row = vec![0f32; k];
    for j in 0..n {
        mat.row_into(j, &mut row);
        assert_eq!(row, w[j * k..(j + 1) * k], "{dtype:?} row {j} of [{n}x{k}]");
    }
    let acts = QuantActs::quantize(mat.block().act_format(), &x, m, k);
    let xq = dequantized(&acts);
    let block = mat.block().act_format().block();
    let nb = (k / block) as f64;
    for arch in Arch::available() {
        let got = mat.matmul_with(arch, &x, m);
        assert_eq!(got.len(), m * n);
        for i in 0..m {
            for j in 0..n {
                let (wr, xr, xqr) = (&w[j * k..(j + 1) * k], &x[i * k..(i + 1) * k], &xq[i * k..(i + 1) * k]);
                let g = got[i * n + j] as f64;
                // 1. Same quantized operands, exact arithmetic: the kernels multiply the quants
                //    in integers (exact), so they differ from this only by f32 rounding of the
                //    per-block scale products and the running sum: at most about (blocks + 8)
                //    roundings of 2^-24 each, relative to the magnitude of the summed terms.
                //    q4_K sums `d·scale·q·x` and `dmin·min·x` apart and subtracts; each is at
                //    most |x| · (|w| + 2 max|w| of its 32 weights), which bounds every format.
                //    Allow 4x that.
                let exact: f64 = wr.iter().zip(xqr).map(|(&a, &b)| a as f64 * b as f64).sum();
                let mag: f64 = wr
                    .chunks(32)
                    .zip(xqr.chunks(32))
                    .map(|(ws, xs)| {
                        let top = ws.iter().fold(0f64, |t, &a| t.max(a.abs() as f64));
                        ws.iter().zip(xs).map(|(&a, &b)| (b as f64).abs() * (a.abs() as f64 + 2.0 * top)).sum::<f64>()
                    })
                    .sum();
                let tol = 4.0 * (nb + 8.0) * f64::from(f32::EPSILON) / 2.0 * mag + 1e-30;
                assert!(
                    (g - exact).abs() <= tol,
                    "{dtype:?} {arch:?} [{m}x{k}]·[{n}x{k}]ᵀ at ({i},{j}): {g} vs {exact} (tol {tol:e})"
                );
                // 2. Against unquantized activations: rounding to the nearest quant moves each x
                //    by at most half a step (its block's scale / 2), so the product moves by at
                //    most Σ |w| · scale / 2, plus the float slack above.
                let reference: f64 = wr.iter().zip(xr).map(|(&a, &b)| a as f64 * b as f64).sum();
                // (f16 and f32 weights take f32 activations: no step.)
                let step = |e: usize| acts.d.get((i * k + e) / block).map_or(0.0, |&d| d as f64);
                let steps: f64 = wr.iter().enumerate().map(|(e, &a)| a.abs() as f64 * step(e) / 2.0).sum();
                assert!(
                    (g - reference).abs() <= steps * 1.001 + tol,
                    "{dtype:?} {arch:?} vs f32 activations at ({i},{j}): {g} vs {reference} (bound {steps:e})"
                );
            }
        }
    }
}

// (m, n): m activation rows (1 = decode) against n weight rows; (1, 37) takes the decode path's
// streams in step (nine rows from each quarter) and one left over.
pub const SHAPES: [(usize, usize); 9] = [(1, 4), (1, 7), (1, 37), (2, 8), (3, 9), (5, 13), (17, 6), (16, 33), (64, 12)];

#[test]
fn q8_0_matches_reference() {
    for (s, &(m, n)) in SHAPES.iter().enumerate() {
        for k in [32, 96, 512] {
            check(GgmlDType::Q8_0, m, n, k, 1 + s as u64 * 31 + k as u64);
        }
    }
}

#[test]
fn q4_k_matches_reference() {
    for (s, &(m, n)) in SHAPES.iter().enumerate() {
        for k in [256, 768] {
            check(GgmlDType::Q4K, m, n, k, 7 + s as u64 * 31 + k as u64);
        }
    }
}

#[test]
fn q6_k_matches_reference() {
    for (s, &(m, n)) in SHAPES.iter().enumerate() {
        for k in [256, 512] {
            check(GgmlDType::Q6K, m, n, k, 11 + s as u64 * 31 + k as u64);
        }
    }
}

#[test]
fn float_matches_reference() {
    for (dtype, seed) in [(GgmlDType::F16, 13), (GgmlDType::F32, 17)] {
        for (s, &(m, n)) in SHAPES.iter().enumerate() {
            for k in [8, 96, 520] {
                check(dtype, m, n, k, seed + s as u64 * 31 + k as u64);
            }
        }
        check(dtype, 9, 203, 1024, 5);
    }
}

/// Big enough for the native driver to split the rows across threads.
#[test]
fn threaded_split_matches_reference() {
    check(GgmlDType::Q8_0, 9, 203, 1024, 5);
    check(GgmlDType::Q4K, 1, 1030, 512, 6);
    check(GgmlDType::Q6K, 5, 300, 512, 8);
}

/// Rows longer than the wasm decode kernels' 16-block pass (`decode` in q4_k.rs, q6_k.rs).
#[test]
fn long_rows_match_reference() {
    for (m, n) in [(1, 7), (5, 6)] {
        check(GgmlDType::Q4K, m, n, 4608, 12 + m as u64);
        check(GgmlDType::Q6K, m, n, 4608, 13 + m as u64);
    }
}

#[test]
fn matmul_adds_bias_and_rejects_other_types() {
    let (q, _) = weight(GgmlDType::Q8_0, 10, 64, 3);
    let mat = Matrix::from_qtensor(&q).unwrap();
    let x = inputs(3, 64, 4);
    let plain = mat.matmul_with(Arch::best(), &x, 3);
    let bias: Vec<f32> = (0..10).map(|i| i as f32 - 4.5).collect();
    let mut got = vec![0f32; 30];
    mat.matmul_into(&x, 3, Some(&bias), &mut got);
    for (i, (g, p)) in got.iter().zip(&plain).enumerate() {
        assert!((g - (p + bias[i % 10])).abs() < 1e-4, "{g} vs {p} + bias");
    }
    // Block types without kernels are converted when loaded, never multiplied.
    let t = Tensor::zeros((4, 256), candle_core::DType::F32, &Device::Cpu).unwrap();
    for dtype in [GgmlDType::Q4_0, GgmlDType::Q5K] {
        assert!(Matrix::from_qtensor(&QTensor::quantize(&t, dtype).unwrap()).is_err(), "{dtype:?}");
    }
    // Float weights have kernels of ours on every target.
    for dtype in [GgmlDType::F16, GgmlDType::F32] {
        assert!(Matrix::from_qtensor(&QTensor::quantize(&t, dtype).unwrap()).is_ok(), "{dtype:?}");
    }
}
