/**
 * Where `decode()` spends its time on the standard datasets (`bench/data/`, made by
 * `codec_bench.ts`): the WebAssembly machine's steps alone (windows copied in, tape written, no
 * JS values) against the whole decode, and CPython's C `pickle.loads` of the same bytes, best
 * times of one run. The difference of the first two is what the TypeScript materializer costs.
 *
 * Run with `deno bench --allow-all bench/decode_hot_bench.ts`.
 */

import { decode } from "../codec/mod.ts";
import { codecExports } from "../codec/_instance.ts";
import { pythonPath } from "../tests/_python.ts";

const root = new URL("../", import.meta.url);
const dataDir = new URL("bench/data/", root);
const DATASETS = [
  "ints_1e6",
  "int32_1e6",
  "int64_1e5",
  "floats_1e6",
  "dict_str_1e5",
  "strs_1e5",
  "records_1e5",
  "manyrefs_1e5",
  "ndarray_f64_1e6",
];
const WINDOW = 1 << 20;

/** Runs the machine over `data` the way `decode()` feeds it, and drops the tapes. */
function machineSteps(data: Uint8Array): void {
  const codec = codecExports();
  const handle = codec.lsa_decoder_new(data.length, 0, 10000, 0, 4300, 1e9);
  let capacity = WINDOW;
  let window = codec.lsa_alloc(capacity);
  try {
    let offset = 0;
    let need = 0;
    for (;;) {
      const length = Math.min(Math.max(WINDOW, need), data.length - offset);
      if (length > capacity) {
        codec.lsa_free(window, capacity);
        capacity = length;
        window = codec.lsa_alloc(capacity);
      }
      new Uint8Array(codec.memory.buffer, window, length).set(
        data.subarray(offset, offset + length),
      );
      const status = codec.lsa_decoder_step(handle, window, length, offset);
      if (status === 0) return;
      if (status === 2) throw new Error("the machine rejected a dataset");
      const block = new Float64Array(
        codec.memory.buffer,
        codec.lsa_decoder_result(handle),
        14,
      );
      offset = block[9];
      need = block[10];
    }
  } finally {
    codec.lsa_free(window, capacity);
    codec.lsa_decoder_free(handle);
  }
}

const best = new Map<string, number>();

function timed(key: string, work: () => unknown): void {
  const start = performance.now();
  work();
  const elapsed = performance.now() - start;
  if (elapsed < (best.get(key) ?? Infinity)) best.set(key, elapsed);
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

const files: { dataset: string; url: URL }[] = [];
for (const dataset of DATASETS) {
  const url = new URL(`${dataset}.p4.pkl`, dataDir);
  if (await exists(url)) files.push({ dataset, url });
}
if (files.length === 0) {
  console.log(
    "decode_hot_bench: skipped: no datasets in bench/data/ (codec_bench.ts makes them)",
  );
} else {
  const { stdout } = await new Deno.Command(pythonPath(), {
    args: [
      new URL("bench/cpython_times.py", root).pathname,
      dataDir.pathname,
      ...files.map((f) => `${f.dataset}.p4.pkl`),
    ],
    stdout: "piped",
  }).output();
  const cpython = JSON.parse(new TextDecoder().decode(stdout)) as Record<
    string,
    { loads: number }
  >;
  for (const { dataset, url } of files) {
    const bytes = await Deno.readFile(url);
    Deno.bench({
      name: `machine ${dataset}`,
      group: dataset,
      n: 10,
      warmup: 3,
      fn: () => timed(`machine ${dataset}`, () => machineSteps(bytes)),
    });
    Deno.bench({
      name: `decode ${dataset}`,
      group: dataset,
      baseline: true,
      n: 10,
      warmup: 3,
      fn: () => timed(`decode ${dataset}`, () => decode(bytes)),
    });
  }
  globalThis.addEventListener("unload", () => {
    const lines = [
      "| dataset (p4) | machine ms | materialize ms | decode ms | CPython loads ms | decode ÷ CPython |",
      "|---|---|---|---|---|---|",
    ];
    for (const { dataset } of files) {
      const machine = best.get(`machine ${dataset}`) ?? NaN;
      const whole = best.get(`decode ${dataset}`) ?? NaN;
      const loads = cpython[`${dataset}.p4.pkl`].loads;
      lines.push(
        `| ${dataset} | ${machine.toFixed(2)} | ${
          (whole - machine).toFixed(2)
        } | ${whole.toFixed(2)} | ${loads.toFixed(2)} | ${
          (whole / loads).toFixed(2)
        }× |`,
      );
    }
    console.log("\n" + lines.join("\n"));
  });
}
