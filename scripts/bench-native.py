#!/usr/bin/env python3
"""Side-by-side native benchmark: our `dialogpt bench` vs llama.cpp's `llama-bench` on the same
GGUF files (random weights of DialoGPT's real shapes), 64-token prompt, 64 generated tokens,
1 and 2 threads, runs interleaved (ours, llama.cpp, next config, ...), medians reported with
the ratio ours / llama.cpp. Results: BENCHMARKS.md.

    scripts/bench-native.py [--shapes small medium] [--quants f16 q8_0 q4_k] [--threads 1 2]
                            [--runs 5] [--work /tmp/bench-models] [--llama-bench PATH] [--no-build | --dialogpt BIN]

Every benchmark (and the build) runs under `flock /tmp/cpu.lock` so it never overlaps another
job using that lock on a shared machine.

Inputs:
  * /tmp/big-<shape>: a random-weight model in the Hub's layout, made if missing with
      python tests/fixtures/make_big.py --shape <shape> --format legacy-f16 --out /tmp/big-<shape>
    then converted with `dialogpt quantize /tmp/big-<shape> <work>/<shape>-<quant>.gguf --type <quant>`
    (llama.cpp loads these files: GGUF arch gpt2 with llama.cpp's metadata).
  * llama-bench (default /tmp/llama-build/bin/llama-bench, or $LLAMA_BENCH). To build it, with
    no network beyond PyPI: PyPI's llama-cpp-python source archive vendors llama.cpp.
      pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d /tmp/fixwork
      tar xzf /tmp/fixwork/llama_cpp_python-0.3.36.tar.gz -C /tmp/fixwork
      cmake -S /tmp/fixwork/llama_cpp_python-0.3.36/vendor/llama.cpp -B /tmp/llama-build \\
            -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF
      cmake --build /tmp/llama-build --target llama-bench -j 2
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ["flock", "/tmp/cpu.lock"]


def run(cmd: list[str], **kw) -> str:
    p = subprocess.run(LOCK + cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def ours(dialogpt: Path, model: Path, threads: int, pp: int, tg: int) -> tuple[float, float]:
    out = run([str(dialogpt), "bench", "--model", str(model), "--threads", str(threads), "--runs", "1",
               "--prompt-tokens", str(pp), "--gen-tokens", str(tg), "--json"])
    r = json.loads(out.strip().splitlines()[-1])
    return r["prefill_tok_s"], r["decode_tok_s"]


def llama(bench: Path, model: Path, threads: int, pp: int, tg: int) -> tuple[float, float]:
    out = run([str(bench), "-m", str(model), "-t", str(threads), "-p", str(pp), "-n", str(tg), "-r", "1", "-o", "json"])
    rows = json.loads(out)
    pps = [r["avg_ts"] for r in rows if r["n_prompt"] == pp and r["n_gen"] == 0]
    tgs = [r["avg_ts"] for r in rows if r["n_gen"] == tg and r["n_prompt"] == 0]
    return pps[0], tgs[0]


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", nargs="+", default=["small", "medium"])
    ap.add_argument("--quants", nargs="+", default=["f16", "q8_0", "q4_k"])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-models"))
    ap.add_argument("--llama-bench", type=Path, default=Path(os.environ.get("LLAMA_BENCH", "/tmp/llama-build/bin/llama-bench")))
    ap.add_argument("--no-build", action="store_true", help="use the existing target/release/dialogpt")
    ap.add_argument("--dialogpt", type=Path, help="benchmark this dialogpt binary (implies --no-build)")
    ap.add_argument("--json-out", type=Path, help="also write every measurement here")
    a = ap.parse_args()

    if not a.llama_bench.exists():
        sys.exit(f"{a.llama_bench} not found: build it as this script's header says, or pass --llama-bench")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    dialogpt = a.dialogpt or target / "release" / "dialogpt"
    if not a.no_build and not a.dialogpt:
        run(["cargo", "build", "--release", "--bin", "dialogpt"], cwd=ROOT)
    a.work.mkdir(parents=True, exist_ok=True)

    models = []
    for shape in a.shapes:
        src = Path(f"/tmp/big-{shape}")
        if not (src / "pytorch_model.bin").exists():
            print(f"making {src} ...", flush=True)
            run([sys.executable, str(ROOT / "tests/fixtures/make_big.py"), "--shape", shape, "--format", "legacy-f16", "--out", str(src)])
        for q in a.quants:
            f = a.work / f"{shape}-{q}.gguf"
            if not f.exists():
                print(f"converting {src} -> {f} ...", flush=True)
                run([str(dialogpt), "quantize", str(src), str(f), "--type", q])
            models.append((shape, q, f))

    configs = [(shape, q, f, t) for (shape, q, f) in models for t in a.threads]
    results = {c[:2] + (c[3],): {"ours": [], "llama": []} for c in configs}
    for i in range(a.runs):
        for shape, q, f, t in configs:
            key = (shape, q, t)
            results[key]["ours"].append(ours(dialogpt, f, t, a.prompt, a.gen))
            results[key]["llama"].append(llama(a.llama_bench, f, t, a.prompt, a.gen))
            print(f"run {i + 1}/{a.runs} {shape} {q} t={t}: ours {results[key]['ours'][-1][0]:.1f}/{results[key]['ours'][-1][1]:.1f}"
                  f"  llama.cpp {results[key]['llama'][-1][0]:.1f}/{results[key]['llama'][-1][1]:.1f} (pp/tg tok/s)", flush=True)

    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print(f"\nmachine: {cpu_name()}, {os.cpu_count()} logical CPUs; {a.runs} interleaved runs, median tok/s; "
          f"prompt {a.prompt}, generated {a.gen}")
    print("\n| model | weights | threads | prefill ours | prefill llama.cpp | ratio | decode ours | decode llama.cpp | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for (shape, q, t), r in results.items():
        op, ot = med(r["ours"], 0), med(r["ours"], 1)
        lp, lt = med(r["llama"], 0), med(r["llama"], 1)
        print(f"| {shape} | {q} | {t} | {op:.1f} | {lp:.1f} | {op / lp:.2f} | {ot:.1f} | {lt:.1f} | {ot / lt:.2f} |")
    if a.json_out:
        a.json_out.write_text(json.dumps({f"{k[0]}-{k[1]}-t{k[2]}": v for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
