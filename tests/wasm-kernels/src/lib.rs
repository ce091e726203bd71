//! The kernel checks of tests/kernels.rs, exported as `run()` for node (run.mjs). Panics
//! are reported through the host's `log` import, then trap.

#![allow(dead_code)]

#[path = "../../kernels.rs"]
mod kernels;

use candle_core::quantized::GgmlDType;

#[link(wasm_import_module = "host")]
extern "C" {
    fn log(ptr: *const u8, len: usize);
}

fn say(s: &str) {
    unsafe { log(s.as_ptr(), s.len()) }
}

/// Returns the number of shapes checked (each on every available path).
#[no_mangle]
pub extern "C" fn run() -> u32 {
    std::panic::set_hook(Box::new(|info| say(&format!("panic: {info}"))));
    say(&format!("kernel paths: {:?}", dialogpt_web::engine::kernels::Arch::available()));
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
    }
    n
}
