//! The inference worker built with the `relaxed-simd` feature (relaxed-SIMD kernels). The
//! page loads it instead of `worker` when the browser validates relaxed SIMD.

include!("worker.rs");
