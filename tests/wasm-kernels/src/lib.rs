//! The kernel checks of tests/kernels.rs, exported as `run()` for node (run.mjs). Panics
//! are reported through the host's `log` import, then trap.

#![allow(dead_code)]

#[path = "../../attention.rs"]
mod attention;
#[path = "../../kernels.rs"]
mod kernels;
mod attention_speed;
mod model_speed;
mod speed;
mod threaded;

use candle_core::quantized::GgmlDType;

#[link(wasm_import_module = "host")]
extern "C" {
    fn log(ptr: *const u8, len: usize);
    #[link_name = "now"]
    fn host_now() -> f64;
}

/// The host's `performance.now()`, in milliseconds (for the speed probes).
fn now() -> f64 {
    unsafe { host_now() }
}

fn say(s: &str) {
    unsafe { log(s.as_ptr(), s.len()) }
}

/// Returns the number of shapes checked (each on every available path).
#[no_mangle]
pub extern "C" fn run() -> u32 {
    std::panic::set_hook(Box::new(|info| say(&format!("panic: {info}"))));
    say(&format!(
        "kernel paths: {:?}{}",
        dialogpt_web::engine::kernels::Arch::available(),
        if dialogpt_web::engine::kernels::arch::RELAXED_SIMD { " (with relaxed SIMD)" } else { "" }
    ));
    f16_conversion_is_exact();
    quantizer_matches_scalar();
    weight_quantizer_matches_scalar();
    checkpoint_f16_widening_is_exact();
    // The simd128 attention loops (heads of 64, and 24: the 8-column tail), prompt and decode.
    for (heads, width, steps) in attention::CASES {
        attention::check(heads, width, steps).unwrap();
    }
    say("attention: matches the plain formula");
    let mut n = 0;
    for (s, &(m, rows)) in kernels::SHAPES.iter().enumerate() {
        for k in [32, 96, 512] {
            kernels::check(GgmlDType::Q8_0, m, rows, k, 1 + s as u64 * 31 + k as u64);
            n += 1;
        }
        for k in [256, 768] {
            kernels::check(GgmlDType::Q4K, m, rows, k, 7 + s as u64 * 31 + k as u64);
            kernels::check(GgmlDType::Q6K, m, rows, k, 11 + s as u64 * 31 + k as u64);
            n += 2;
        }
        for k in [8, 96, 520] {
            kernels::check(GgmlDType::F16, m, rows, k, 13 + s as u64 * 31 + k as u64);
            kernels::check(GgmlDType::F32, m, rows, k, 17 + s as u64 * 31 + k as u64);
            n += 2;
        }
    }
    for (m, rows) in [(1, 7), (5, 6)] {
        kernels::check(GgmlDType::Q4K, m, rows, 4608, 12 + m as u64);
        kernels::check(GgmlDType::Q6K, m, rows, 4608, 13 + m as u64);
        n += 2;
    }
    n + threaded::check()
}

/// The compute threads' check build (`THREADS=2 tests/wasm-kernels/run.sh`): a compute thread's life, as the
/// threaded worker's helpers live it.
#[cfg(target_feature = "atomics")]
#[no_mangle]
pub extern "C" fn serve_compute_thread() {
    dialogpt_web::engine::kernels::parallel::shared_memory_pool::serve()
}

/// Kernel throughput (speed.rs): 0 = every format, 1 = q8_0, 2 = q4_K, 3 = q6_K;
/// 4 = attention over a long context (attention_speed.rs).
#[no_mangle]
pub extern "C" fn speed(which: u32) {
    std::panic::set_hook(Box::new(|info| say(&format!("panic: {info}"))));
    if which == 4 {
        return attention_speed::run();
    }
    speed::run(which);
}

/// The simd128 kernels' branch-free f16 → f32 conversion against `half` for every finite f16
/// (normal, subnormal, both zeros, both signs).
fn f16_conversion_is_exact() {
    use core::arch::wasm32::*;
    use dialogpt_web::engine::kernels::simd::simd128::f16x4_to_f32;
    let mut checked = 0;
    for bits in (0u32..0x1_0000).filter(|b| b & 0x7c00 != 0x7c00) {
        let got = f32x4_extract_lane::<2>(f16x4_to_f32(u32x4(0, 0, bits, 0)));
        let want = half::f16::from_bits(bits as u16).to_f32();
        assert!(got.to_bits() == want.to_bits(), "f16 {bits:#06x}: {got:e}, expected {want:e}");
        checked += 1;
    }
    say(&format!("f16 -> f32: {checked} finite values exact"));
}

/// The simd128 activation quantizer against the scalar formula of activations.rs, bit for bit:
/// halves, zeros, a zero block, NaN, an infinity and -0.
fn quantizer_matches_scalar() {
    use dialogpt_web::engine::kernels::{ActFormat, QuantActs};
    let k = 512;
    let mut x: Vec<f32> = (0..4 * k).map(|i| ((i * 7919 % 2001) as f32 - 1000.0) * 0.0127).collect();
    x[..256].iter_mut().enumerate().for_each(|(i, v)| *v = (i as f32 - 127.0) * 0.5); // halves
    x[256..512].fill(0.0);
    x[600] = f32::NAN;
    x[1100] = f32::INFINITY;
    x[1500] = -0.0;
    for format in [ActFormat::Q8_0, ActFormat::Q8K] {
        let a = QuantActs::quantize(format, &x, 4, k);
        for (b, (xb, qb)) in x.chunks(format.block()).zip(a.qs.chunks(format.block())).enumerate() {
            let amax = xb.iter().fold(0f32, |a, v| if v.abs() > a { v.abs() } else { a });
            let id = if amax > 0.0 { 127.0 / amax } else { 0.0 };
            assert_eq!(a.d[b].to_bits(), (amax / 127.0).to_bits(), "{format:?} block {b} scale");
            for (i, (&v, &q)) in xb.iter().zip(qb).enumerate() {
                let want = (((v * id) + 12_582_912.0) - 12_582_912.0).clamp(-127.0, 127.0) as i8;
                assert_eq!(q, want, "{format:?} block {b} quant {i} of {v}");
            }
        }
    }
    say("activation quantizer: same as the scalar formula");
}

/// The simd128 q8_0 weight quantizer (a Hub checkpoint's default conversion) against its scalar
/// definition, byte for byte, straight and transposed: exact halves after scaling, zeros, a
/// zero block, NaN, both infinities, -0 and values of every magnitude.
fn weight_quantizer_matches_scalar() {
    use dialogpt_web::engine::q8_0_quantizer::{quantize_block_scalar, quantize_q8_0, quantize_q8_0_transposed, BLOCK_BYTES};
    let (rows, cols) = (96, 4096);
    let mut x: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919 % 2003) as f32 - 1001.0) * 10f32.powi((i % 13) as i32 - 8)).collect();
    // Ties: with amax 127 a weight's quant is the weight itself (d = 1), with 254 its half.
    x[..32].iter_mut().enumerate().for_each(|(i, v)| *v = if i == 0 { 127.0 } else { i as f32 - 16.5 });
    x[32..64].iter_mut().enumerate().for_each(|(i, v)| *v = if i == 0 { -254.0 } else { 2.0 * i as f32 - 31.0 });
    x[64..96].fill(0.0);
    x[100] = f32::NAN;
    x[200] = f32::INFINITY;
    x[300] = f32::NEG_INFINITY;
    x[400] = -0.0;
    let scalar = |values: &[f32]| -> Vec<u8> {
        let mut out = vec![0u8; values.len() / 32 * BLOCK_BYTES];
        for (xb, ob) in values.chunks_exact(32).zip(out.chunks_exact_mut(BLOCK_BYTES)) {
            quantize_block_scalar(xb.try_into().unwrap(), ob.try_into().unwrap());
        }
        out
    };
    let straight = quantize_q8_0(&x, cols);
    let want = scalar(&x);
    if let Some(b) = (0..want.len() / BLOCK_BYTES).find(|&b| straight[b * BLOCK_BYTES..][..BLOCK_BYTES] != want[b * BLOCK_BYTES..][..BLOCK_BYTES]) {
        panic!("q8_0 weight block {b}: {:?}, the scalar code gives {:?}", &straight[b * BLOCK_BYTES..][..BLOCK_BYTES], &want[b * BLOCK_BYTES..][..BLOCK_BYTES]);
    }
    let mut transposed = vec![0f32; x.len()];
    for r in 0..rows {
        for c in 0..cols {
            transposed[c * rows + r] = x[r * cols + c];
        }
    }
    assert!(quantize_q8_0_transposed(&x, rows, cols) == scalar(&transposed), "q8_0 of the transpose differs from the scalar code");
    say(&format!("q8_0 weight quantizer: {} blocks, straight and transposed, same bytes as the scalar code", 2 * want.len() / BLOCK_BYTES));
}

/// A Hub fp16 checkpoint's values widened eight at a time against `half`, bit for bit: every
/// f16 pattern (infinities and NaNs included), then a length that leaves a partial group.
fn checkpoint_f16_widening_is_exact() {
    use dialogpt_web::engine::weights::f16_widen::f16_to_f32;
    let bytes: Vec<u8> = (0..=u16::MAX).chain(0x3c00..0x3c05).flat_map(u16::to_le_bytes).collect();
    let got = f16_to_f32(&bytes);
    assert_eq!(got.len(), bytes.len() / 2);
    for (i, (g, b)) in got.iter().zip(bytes.chunks_exact(2)).enumerate() {
        let want = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
        assert!(g.to_bits() == want.to_bits(), "value {i} ({:#06x}): {g:e}, half gives {want:e}", u16::from_le_bytes([b[0], b[1]]));
    }
    say(&format!("checkpoint f16 -> f32: all {} values exact", got.len()));
}

/// A buffer of `len` bytes for the host to fill (never freed: one file per process).
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    Box::leak(vec![0u8; len].into_boxed_slice()).as_mut_ptr()
}

/// Whole-model speed (model_speed.rs) on the GGUF file the host copied to `ptr`.
#[no_mangle]
pub extern "C" fn model_speed(ptr: *const u8, len: usize, prompt_tokens: usize, gen_tokens: usize, probe: u32) {
    std::panic::set_hook(Box::new(|info| say(&format!("panic: {info}"))));
    // SAFETY: the host filled `len` bytes at `ptr`, a buffer from `alloc`.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    model_speed::run(bytes, prompt_tokens, gen_tokens, probe != 0);
}
