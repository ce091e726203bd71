# Sourced by the builds for wasm threads (scripts/build-threads-worker.sh, tests/wasm-kernels
# run.sh with THREADS): the compiler flags of a module that shares its memory between threads.
# - atomics (with bulk memory and mutable globals, which it needs) in our code and in std,
#   which the nightly toolchain rebuilds with these flags (-Z build-std);
# - the memory is shared and imported, so each thread's instance is given the same one;
#   its ceiling (4 GiB, as for the other builds) is declared up front, and the page's probe
#   (src/ui/browser.rs) asks for the same;
# - the thread-local storage symbols are exported: wasm-bindgen's thread start sets up each
#   thread's own copy with them.
export RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
-C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
-C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align \
-C link-arg=--export=__tls_base"
