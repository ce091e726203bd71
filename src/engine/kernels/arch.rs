//! Which instruction set the kernels use: chosen once at run time on x86_64 (AVX2 + FMA +
//! F16C, and AVX-512 with VNNI where the CPU has it), fixed at compile time on wasm32 (`simd128`, enabled by `.cargo/config.toml`), and a
//! portable scalar path everywhere. Tests run every path the machine offers.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    Scalar,
    /// x86_64 with AVX2, FMA and F16C (every AVX2 CPU since Haswell / Zen 1).
    Avx2,
    /// x86_64 with AVX-512 F/BW/VNNI on top of `Avx2` (Intel since Ice Lake, AMD since Zen 4):
    /// eight-row q4_K and q8_0 prompt tiles; every other kernel is the AVX2 one.
    Avx512,
    /// wasm32 built with `-C target-feature=+simd128`.
    Simd128,
}

impl Arch {
    /// The fastest path this machine supports, decided once. For measuring a slower path by
    /// hand, `DIALOGPT_ARCH=avx2` (or `scalar`, ...) picks it where the machine has it.
    pub fn best() -> Arch {
        static BEST: std::sync::OnceLock<Arch> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| {
            let available = Self::available();
            let forced = std::env::var("DIALOGPT_ARCH").ok();
            let forced = forced.and_then(|name| available.iter().copied().find(|a| format!("{a:?}").eq_ignore_ascii_case(&name)));
            forced.unwrap_or(*available.last().unwrap_or(&Arch::Scalar))
        })
    }

    /// Every path this machine can run, slowest first (scalar is always there).
    pub fn available() -> Vec<Arch> {
        let mut v = vec![Arch::Scalar];
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c") {
            v.push(Arch::Avx2);
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512vnni") {
                v.push(Arch::Avx512);
            }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        v.push(Arch::Simd128);
        v
    }
}

/// x86_64: whether the CPU has AVX2 and FMA. The release build targets baseline x86_64
/// (SSE2), so the loops left to the compiler (gelu, activation quantization, attention) get
/// a second copy compiled for AVX2 that runs where this is true.
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx2() -> bool {
    // The detection macro caches its answer in a static.
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// Whether this build's wasm32 kernels use relaxed-SIMD instructions (feature
/// `relaxed-simd`; the page loads such a worker only where the browser validates them).
pub const RELAXED_SIMD: bool = cfg!(all(target_arch = "wasm32", feature = "relaxed-simd"));
