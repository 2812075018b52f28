/**
 * The codec's cold start, what matters for edge functions and CLIs (target: under 5 ms): fresh
 * `deno run` processes that import the decode-only entry point (`@lazyscribe/artifacts/decode`,
 * the one for programs that start often) and decode a small pickle through the public API
 * (`bench/_cold_start.ts`), best and median of {@linkcode RUNS}; the same for the whole codec
 * (`codec/mod.ts`, decoder and encoder) and without V8's code cache; and processes that split the first decode into its parts: base64 to bytes, compiling
 * the module (V8 validates it here and compiles each function on its first call), instantiating
 * it, and the first decode itself. Then the wasm module's size, and `Deno.bench` cases of the
 * same steps in a warm process.
 *
 * Run with `deno task bench` (or `deno bench --allow-all bench/cold_start_bench.ts`).
 */

import { decode } from "../codec/mod.ts";
import { wasmBytes } from "../codec/wasm.ts";
import { discardInstance } from "../codec/_instance.ts";
import {
  CHECK_VALUE,
  codecSpecifier,
  coldStarts,
  ENTRY_POINTS,
  freshProcess,
  SMALL_PICKLE,
} from "./_cold_start.ts";

const TARGET_MS = 5;
const RUNS = 15;

/** The first decode in parts: the steps `decode()` takes on first use, one by one. */
const SPLIT = `
  const { decode, initWasm } = await import(${codecSpecifier("mod.ts")});
  const { base64Bytes } = await import(${codecSpecifier("_instance.ts")});
  const { wasmBase64 } = await import(${codecSpecifier("_wasm.js")});
  const bytes = Uint8Array.fromHex("${SMALL_PICKLE.toHex()}");
  const t0 = performance.now();
  const wasm = base64Bytes(wasmBase64);
  const t1 = performance.now();
  const module = new WebAssembly.Module(wasm);
  const t2 = performance.now();
  initWasm(module);
  const t3 = performance.now();
  const value = decode(bytes);
  const t4 = performance.now();
  ${CHECK_VALUE}
  console.log(JSON.stringify({
    base64Ms: t1 - t0,
    compileMs: t2 - t1,
    instantiateMs: t3 - t2,
    firstRunMs: t4 - t3,
  }));`;

/** "best / median" of each timing of the runs, in ms. */
function figures<T extends object>(
  runs: readonly T[],
  digits = 2,
): Record<keyof T, string> {
  return Object.fromEntries(
    Object.keys(runs[0]).map((key) => {
      const sorted = runs.map((run) => run[key as keyof T] as number)
        .sort((a, b) => a - b);
      const best = sorted[0].toFixed(digits);
      return [
        key,
        `${best} / ${sorted[sorted.length >> 1].toFixed(digits)} ms`,
      ];
    }),
  ) as Record<keyof T, string>;
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const cached = await coldStarts(RUNS);
const wholeCodec = await coldStarts(RUNS, ENTRY_POINTS.codec);
const uncached = await coldStarts(RUNS, ENTRY_POINTS.decode, [
  "--no-code-cache",
]);
const splitRuns: Record<string, number>[] = [];
for (let i = 0; i < RUNS; i++) splitRuns.push(await freshProcess(SPLIT));
const best = Math.min(...cached.map((run) => run.totalMs));
const whole = figures(cached);
const codec = figures(wholeCodec);
const wholeUncached = figures(uncached);
const split = figures(splitRuns);
const wasm = wasmBytes();
console.log([
  `cold start, fresh \`deno run\` processes (best / median of ${RUNS}):`,
  `  import @lazyscribe/artifacts/decode + first decode of a ${SMALL_PICKLE.length}-byte ` +
  `pickle: ${whole.totalMs} (target: under ${TARGET_MS} ms, ${
    best < TARGET_MS ? "met" : "not met"
  })`,
  `    import ${whole.importMs}, first decode ${whole.firstDecodeMs}; ` +
  `a second decode ${figures(cached, 3).secondDecodeMs}`,
  `  the whole codec (codec/mod.ts, with the encoder): ${codec.totalMs} ` +
  `(import ${codec.importMs})`,
  `  without V8's code cache (\`--no-code-cache\`, as under \`deno eval\`): ` +
  `${wholeUncached.totalMs} (import ${wholeUncached.importMs})`,
  `  the first decode in parts: base64 ${split.base64Ms}, compile ${split.compileMs}, ` +
  `instantiate ${split.instantiateMs}, first run ${split.firstRunMs} ` +
  `(the wasm and TypeScript functions it calls are compiled then)`,
  `  wasm module: ${wasm.length} bytes (${await gzipSize(wasm)} gzipped)`,
].join("\n"));

Deno.bench({
  name: "compile the embedded module (base64 → WebAssembly.Module)",
  group: "cold start steps in a warm process",
  baseline: true,
  fn() {
    new WebAssembly.Module(wasmBytes());
  },
});

Deno.bench({
  name: "a new instance of the compiled module + decode",
  group: "cold start steps in a warm process",
  fn() {
    // The next decode makes a fresh instance of the module compiled at the first use.
    discardInstance();
    decode(SMALL_PICKLE);
  },
});

Deno.bench({
  name: "decode the small pickle",
  group: "cold start steps in a warm process",
  fn() {
    decode(SMALL_PICKLE);
  },
});
