/**
 * The codec's cold start, what matters for edge functions and CLIs (target: under 5 ms): fresh
 * `deno` processes that import `codec/mod.ts` and decode a small pickle through the public API,
 * best and median of {@linkcode RUNS}, after one unmeasured process that fills Deno's transpile
 * and V8 code caches as any earlier run of a program does. Processes of a second kind split the
 * first decode into its parts: base64 to bytes, compiling the module (V8 validates it here and
 * compiles each function on its first call), instantiating it, and the first decode itself.
 * Then the wasm module's size, and `Deno.bench` cases of the same steps in a warm process.
 *
 * Run with `deno task bench` (or `deno bench --allow-all bench/cold_start_bench.ts`).
 */

import { decode } from "../codec/mod.ts";
import { wasmBytes } from "../codec/wasm.ts";
import { discardInstance } from "../codec/_instance.ts";

const TARGET_MS = 5;
const RUNS = 15;

const codecUrl = (path: string) =>
  JSON.stringify(new URL(`../codec/${path}`, import.meta.url).href);

/** pickle.dumps({"auroc": 0.91, "folds": (1, 2, 3)}, protocol=4), 49 bytes */
const SMALL_PICKLE = Uint8Array.fromHex(
  "80049526000000000000007d94288c056175726f6394473fed" +
    "1eb851eb851f8c05666f6c6473944b014b024b038794752e",
);

const checkValue = `
  if (value.get("folds").length !== 3) throw new Error("wrong value");`;

/** The whole cold start, through the public API only. */
const WHOLE = `
  const t0 = performance.now();
  const { decode } = await import(${codecUrl("mod.ts")});
  const t1 = performance.now();
  const bytes = Uint8Array.fromHex("${SMALL_PICKLE.toHex()}");
  const value = decode(bytes);
  const t2 = performance.now();
  decode(bytes);
  const t3 = performance.now();${checkValue}
  console.log(JSON.stringify({ importMs: t1 - t0, firstDecodeMs: t2 - t1, secondDecodeMs: t3 - t2 }));`;

/** The first decode in parts, with the steps `decode()` takes on first use done one by one. */
const SPLIT = `
  const { decode, initWasm } = await import(${codecUrl("mod.ts")});
  const { base64Bytes } = await import(${codecUrl("_instance.ts")});
  const { wasmBase64 } = await import(${codecUrl("_wasm.js")});
  const bytes = Uint8Array.fromHex("${SMALL_PICKLE.toHex()}");
  const t0 = performance.now();
  const wasm = base64Bytes(wasmBase64);
  const t1 = performance.now();
  const module = new WebAssembly.Module(wasm);
  const t2 = performance.now();
  initWasm(module);
  const t3 = performance.now();
  const value = decode(bytes);
  const t4 = performance.now();${checkValue}
  console.log(JSON.stringify({ base64Ms: t1 - t0, compileMs: t2 - t1, instantiateMs: t3 - t2, firstRunMs: t4 - t3 }));`;

const scripts = await Deno.makeTempDir({ prefix: "cold_start_bench" });

/**
 * Runs `source` as the main module of a fresh `deno run` (not `deno eval`, which skips V8's
 * code cache) and returns the timings it prints.
 */
async function freshProcess(
  source: string,
  flags: string[] = [],
): Promise<Record<string, number>> {
  const script = `${scripts}/${source === WHOLE ? "whole" : "split"}.ts`;
  await Deno.writeTextFile(script, source);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", ...flags, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** Best and median of each timing over the runs. */
function summary(
  runs: Record<string, number>[],
): Record<string, { best: number; median: number }> {
  return Object.fromEntries(
    Object.keys(runs[0]).map((key) => {
      const sorted = runs.map((run) => run[key]).sort((a, b) => a - b);
      return [key, { best: sorted[0], median: sorted[sorted.length >> 1] }];
    }),
  );
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** "best / median" of one timing, in ms. */
function figure(
  timings: Record<string, { best: number; median: number }>,
  key: string,
  digits = 2,
): string {
  const { best, median } = timings[key];
  return `${best.toFixed(digits)} / ${median.toFixed(digits)} ms`;
}

const withTotal = (run: Record<string, number>) => ({
  totalMs: run.importMs + run.firstDecodeMs,
  ...run,
});

await freshProcess(WHOLE);
const wholeRuns: Record<string, number>[] = [];
const uncachedRuns: Record<string, number>[] = [];
const splitRuns: Record<string, number>[] = [];
for (let i = 0; i < RUNS; i++) {
  wholeRuns.push(withTotal(await freshProcess(WHOLE)));
  uncachedRuns.push(withTotal(await freshProcess(WHOLE, ["--no-code-cache"])));
  splitRuns.push(await freshProcess(SPLIT));
}
await Deno.remove(scripts, { recursive: true });
const whole = summary(wholeRuns);
const uncached = summary(uncachedRuns);
const split = summary(splitRuns);
const wasm = wasmBytes();
console.log([
  `cold start, fresh \`deno run\` processes (best / median of ${RUNS}):`,
  `  import codec/mod.ts + first decode of a ${SMALL_PICKLE.length}-byte pickle: ` +
  `${figure(whole, "totalMs")} (target: under ${TARGET_MS} ms, ` +
  `${whole.totalMs.best < TARGET_MS ? "met" : "not met"})`,
  `    import ${figure(whole, "importMs")}, first decode ${
    figure(whole, "firstDecodeMs")
  }; a second decode ${figure(whole, "secondDecodeMs", 3)}`,
  `  without V8's code cache (\`--no-code-cache\`, as under \`deno eval\`): ${
    figure(uncached, "totalMs")
  } (import ${figure(uncached, "importMs")})`,
  `  the first decode in parts: base64 ${figure(split, "base64Ms")}, compile ${
    figure(split, "compileMs")
  }, instantiate ${figure(split, "instantiateMs")}, first run ${
    figure(split, "firstRunMs")
  } (the wasm and TypeScript functions it calls are compiled then)`,
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
