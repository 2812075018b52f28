/**
 * What the codec costs before its first answer, the number that matters for edge functions and
 * CLIs: the wasm module's size (raw and gzipped, and the size of a Workers bundle), and the cold
 * start of a fresh process split into its phases (import of `codec/mod.ts`, first decode of a
 * small pickle, which compiles and instantiates the module, and a second decode for
 * comparison). The `Deno.bench` cases time the parts a runtime repeats per isolate: compiling
 * the embedded module, and instantiating a precompiled one as Workers do.
 *
 * Run with `deno task bench` (or `deno bench --allow-all bench/cold_start_bench.ts`).
 */

import { decode } from "../codec/mod.ts";
import { wasmBase64 } from "../codec/_wasm.js";
import { base64Bytes, discardInstance } from "../codec/_instance.ts";

const root = new URL("../", import.meta.url);
const RUNS = 7;

/** pickle.dumps({"auroc": 0.91, "folds": (1, 2, 3)}, protocol=4) */
const SMALL_PICKLE = [
  128,
  4,
  149,
  38,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  125,
  148,
  40,
  140,
  5,
  97,
  117,
  114,
  111,
  99,
  148,
  71,
  63,
  237,
  30,
  184,
  81,
  235,
  133,
  31,
  140,
  5,
  102,
  111,
  108,
  100,
  115,
  148,
  75,
  1,
  75,
  2,
  75,
  3,
  135,
  148,
  117,
  46,
];

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** The phases of a cold start, in ms. */
interface Phases {
  importMs: number;
  firstDecodeMs: number;
  secondDecodeMs: number;
}

/** One fresh process: the phases of its cold start. */
async function coldStartPhases(): Promise<Phases> {
  const source = `
    const t0 = performance.now();
    const { decode } = await import(${
    JSON.stringify(new URL("codec/mod.ts", root).href)
  });
    const t1 = performance.now();
    const bytes = new Uint8Array(${JSON.stringify(SMALL_PICKLE)});
    const value = decode(bytes);
    const t2 = performance.now();
    decode(bytes);
    const t3 = performance.now();
    if (value.get("folds").length !== 3) throw new Error("wrong value");
    console.log(JSON.stringify({ importMs: t1 - t0, firstDecodeMs: t2 - t1, secondDecodeMs: t3 - t2 }));`;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", source],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

const wasm = base64Bytes(wasmBase64);
const runs: Phases[] = [];
for (let i = 0; i < RUNS; i++) runs.push(await coldStartPhases());
const phases = ["importMs", "firstDecodeMs", "secondDecodeMs"] as const;
const medians = Object.fromEntries(
  phases.map((phase) => [phase, median(runs.map((run) => run[phase]))]),
);
const total = median(runs.map((run) => run.importMs + run.firstDecodeMs));
console.log(
  `cold start: wasm module ${wasm.length} bytes (${await gzipSize(
    wasm,
  )} gzipped); fresh process, median of ${RUNS}: import ${
    medians.importMs.toFixed(2)
  } ms + first decode (compile, instantiate, decode) ${
    medians.firstDecodeMs.toFixed(2)
  } ms = ${total.toFixed(2)} ms; a second decode ${
    medians.secondDecodeMs.toFixed(3)
  } ms`,
);

const small = new Uint8Array(SMALL_PICKLE);

Deno.bench({
  name: "compile the embedded module (base64 → WebAssembly.Module)",
  group: "cold start",
  baseline: true,
  fn() {
    new WebAssembly.Module(base64Bytes(wasmBase64));
  },
});

Deno.bench({
  name: "instantiate a precompiled module + first decode (Workers' path)",
  group: "cold start",
  fn() {
    // The next decode makes a fresh instance of the module compiled at the first use.
    discardInstance();
    decode(small);
  },
});

Deno.bench({
  name: "decode the small pickle (warm)",
  group: "cold start",
  fn() {
    decode(small);
  },
});
