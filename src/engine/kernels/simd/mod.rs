//! The helpers the tiles of one instruction set share, one file per instruction set.

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;
