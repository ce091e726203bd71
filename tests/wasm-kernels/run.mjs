// node tests/wasm-kernels/run.mjs KERNELS.wasm — runs the wasm kernel checks; exit 1 on failure.
// node tests/wasm-kernels/run.mjs KERNELS.wasm speed [0-3] — prints kernel throughput (speed.rs).
// node tests/wasm-kernels/run.mjs KERNELS.wasm model FILE.gguf — whole-model prefill/decode speed
// (PROMPT_TOKENS, GEN_TOKENS; PROBE=0 skips the long-context probe, e.g. to profile decode alone).
import { readFileSync } from 'node:fs';

const bytes = readFileSync(process.argv[2]);
const module = new WebAssembly.Module(bytes);
let memory;
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
  imports[imp.module] ??= {};
  if (imp.module === 'host' && imp.name === 'log') {
    imports.host.log = (ptr, len) => console.log(new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, len)));
  } else if (imp.module === 'host' && imp.name === 'now') {
    imports.host.now = () => performance.now();
  } else if (imp.kind === 'function' && imp.name.includes('getRandomValues')) {
    // Hash-map seeds in the tokenizer (model speed only): zeros are fine for a benchmark.
    imports[imp.module][imp.name] = () => {};
  } else if (imp.kind === 'function') {
    // wasm-bindgen placeholders pulled in by the library; the kernels never call them.
    imports[imp.module][imp.name] = () => { throw new Error(`unexpected call to ${imp.module}.${imp.name}`); };
  }
}
const instance = new WebAssembly.Instance(module, imports);
memory = instance.exports.memory;
if (process.argv[3] === 'model') {
  const file = readFileSync(process.argv[4]);
  const ptr = instance.exports.alloc(file.length);
  new Uint8Array(memory.buffer, ptr, file.length).set(file);
  instance.exports.model_speed(ptr, file.length, Number(process.env.PROMPT_TOKENS ?? 64), Number(process.env.GEN_TOKENS ?? 64), Number(process.env.PROBE ?? 1));
  process.exit(0);
}
if (process.argv[3] === 'speed') {
  instance.exports.speed(Number(process.argv[4] ?? 0));
  process.exit(0);
}
try {
  const n = instance.exports.run();
  console.log(`wasm kernels: ${n} shapes match the reference on every path`);
} catch (e) {
  console.error(`wasm kernels FAILED: ${e}`);
  process.exit(1);
}
