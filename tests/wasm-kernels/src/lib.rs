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
