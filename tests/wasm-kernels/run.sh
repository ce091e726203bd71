#!/usr/bin/env bash
# Builds tests/wasm-kernels for wasm32 (simd128, from .cargo/config.toml) and runs it in node.
#   tests/wasm-kernels/run.sh                   kernel checks (debug build, overflow checks on)
#   tests/wasm-kernels/run.sh speed [0|1|2|3]   kernel throughput, release build (0 = all formats,
#                                               1 = q8_0, 2 = q4_K, 3 = q6_K); prints, never asserts
#   tests/wasm-kernels/run.sh model FILE.gguf [node options, e.g. --cpu-prof]
#                                               whole model: 64-token prefill, 64 decoded tokens
#                                               (speed 4: attention over a long context)
#   tests/wasm-kernels/run.sh perf speed N | perf model FILE.gguf
#                                               the same under Linux perf with V8's jitdump: the
#                                               hottest wasm functions, and how to see their x86
#                                               code (register spills, loads V8 did not fold)
# KERNEL_FEATURES=relaxed-simd builds the relaxed-SIMD kernels (node 20 runs them with
# --experimental-wasm-relaxed-simd, added here; newer node needs no flag).
# THREADS=N (N > 1) builds with atomics instead (nightly, std rebuilt, as
# scripts/build-threads-worker.sh does for the threaded worker) and runs any mode on N threads
# sharing one memory: the checks then also cover the split paths.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_FLAGS=()
if [ "${KERNEL_FEATURES:-}" = relaxed-simd ] && node --v8-options | grep -q experimental-wasm-relaxed-simd; then
    NODE_FLAGS=(--experimental-wasm-relaxed-simd)
fi
cp -n Cargo.lock tests/wasm-kernels/Cargo.lock 2>/dev/null || true
mode="${1:-check}"
profile=debug
[ "$mode" = check ] || profile=release
threads="${THREADS:-1}"
if [ "$threads" -gt 1 ]; then
    dir="$PWD/target/threads"
    # The shipped worker's profile (optimized; the checks still compare every path with the
    # references), whose rebuilt std and dependencies scripts/build-threads-worker.sh made.
    profile=wasm-worker
    source scripts/threads-env.sh
    cargo +nightly build -Z build-std=std,panic_abort --profile $profile \
        --manifest-path tests/wasm-kernels/Cargo.toml --target wasm32-unknown-unknown --target-dir "$dir"
    # wasm-bindgen gives each thread its own stack and thread-local storage (__wbindgen_start).
    wasm-bindgen --target web --no-typescript --out-dir "$dir/kernels-check-$profile" \
        "$dir/wasm32-unknown-unknown/$profile/wasm_kernels_check.wasm"
    wasm="$dir/kernels-check-$profile/wasm_kernels_check_bg.wasm"
    export THREADS="$threads"
else
    # The main package's target directory, so the wasm32 build of the engine is shared.
    dir="${CARGO_TARGET_DIR:-$PWD/target}"
    cargo build ${KERNEL_FEATURES:+--features dialogpt-web/$KERNEL_FEATURES} $([ $profile = release ] && echo --release) \
        --manifest-path tests/wasm-kernels/Cargo.toml --target wasm32-unknown-unknown --target-dir "$dir"
    wasm="$dir/wasm32-unknown-unknown/$profile/wasm_kernels_check.wasm"
fi
case "$mode" in
    check) node "${NODE_FLAGS[@]}" tests/wasm-kernels/run.mjs "$wasm" ;;
    speed) node "${NODE_FLAGS[@]}" tests/wasm-kernels/run.mjs "$wasm" speed "${2:-0}" ;;
    model) node "${NODE_FLAGS[@]}" "${@:3}" tests/wasm-kernels/run.mjs "$wasm" model "$2" ;;
    perf)
        # --perf-prof writes a jitdump of the code V8 generates; `perf inject --jit` merges it
        # so that perf report/annotate name the wasm functions and show their instructions.
        out="${PERF_DIR:-/tmp/wasm-kernels-perf}"
        rm -rf "$out" && mkdir -p "$out"
        args=()
        for a in "${@:2}"; do [ -e "$a" ] && a="$(realpath "$a")"; args+=("$a"); done
        script="$PWD/tests/wasm-kernels/run.mjs"
        (cd "$out" && perf record -k 1 -q -o perf.data node "${NODE_FLAGS[@]}" --perf-prof "$script" "$wasm" "${args[@]}")
        perf inject --jit -i "$out/perf.data" -o "$out/perf.jit.data"
        perf report -i "$out/perf.jit.data" --no-children --sort symbol 2>/dev/null | grep -v '^#' | grep . | head -15
        echo "instructions of one: perf annotate -i $out/perf.jit.data --stdio -s 'JS:<symbol above>'"
        ;;
    *) echo "usage: $0 [speed [0-4] | model FILE.gguf [node options] | perf speed N | perf model FILE.gguf]" >&2; exit 2 ;;
esac
