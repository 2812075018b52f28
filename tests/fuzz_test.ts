/**
 * Fuzzing through the wasm path: random opcode programs (fast-check) and byte mutations of real
 * pickles, decoded in a worker with random options (windows down to 1 byte, small limits, every
 * string encoding, `exact`). Every input must end in a value or an `UnpicklingError`: no
 * `RangeError`, `TypeError` or wasm trap, no decode that outlives its deadline, and the wasm
 * memory stays within a window and its tapes. The crash regressions of
 * `tests/fixtures/regressions/` are decoded the same way.
 *
 * `LSA_FUZZ_ROUNDS` scales the number of inputs (default 1: 20,000 programs and 50,000
 * mutations); `LSA_FUZZ_SEED` changes the seed.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBase64, generateCorpus } from "./_corpus.ts";

const SCALE = Number(Deno.env.get("LSA_FUZZ_ROUNDS") ?? 1);
const SEED = Number(Deno.env.get("LSA_FUZZ_SEED") ?? 0x5eed);
/** A batch of inputs must be decoded within this (a decode of these small inputs takes µs). */
const BATCH_DEADLINE_MS = 60_000;
/** The wasm memory after any batch: a 1 MiB window, its tape and the decoder's stacks. */
const WASM_MEMORY_BOUND = 64 << 20;

/** How one input is decoded. */
interface Job {
  data: Uint8Array;
  options: {
    exact: boolean;
    encoding: "ASCII" | "latin1" | "bytes" | "utf-8";
    windowSize: number;
    maxDepth?: number;
    maxMemo?: number;
    maxIntDigits?: number;
    maxNodes?: number;
  };
}

/** What the worker says about a batch. */
interface BatchReport {
  values: number;
  rejected: number;
  wrong: { index: number; error: string }[];
  wasmBytes: number;
  heapBytes: number;
}

const WORKER_SOURCE = `
import { decode } from ${
  JSON.stringify(new URL("../codec/mod.ts", import.meta.url).href)
};
import { UnpicklingError } from ${
  JSON.stringify(new URL("../codec/errors.ts", import.meta.url).href)
};
import { codecExports } from ${
  JSON.stringify(new URL("../codec/_instance.ts", import.meta.url).href)
};
self.onmessage = ({ data: jobs }) => {
  const report = { values: 0, rejected: 0, wrong: [], wasmBytes: 0, heapBytes: 0 };
  for (const [index, job] of jobs.entries()) {
    self.postMessage({ started: index });
    try {
      decode(job.data, job.options);
      report.values++;
    } catch (error) {
      if (error instanceof UnpicklingError) report.rejected++;
      else report.wrong.push({ index, error: String(error?.stack ?? error) });
    }
  }
  report.wasmBytes = codecExports().memory.buffer.byteLength;
  report.heapBytes = Deno.memoryUsage().heapUsed;
  self.postMessage({ report });
};
`;
const workerUrl = URL.createObjectURL(
  new Blob([WORKER_SOURCE], { type: "application/javascript" }),
);

const hex = (data: Uint8Array) =>
  [...data].map((b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Decodes the jobs in one worker, in batches, and returns the totals. A batch that outlives
 * its deadline fails the test naming the input being decoded.
 */
async function decodeAll(jobs: Job[], batchSize = 2000) {
  const worker = new Worker(workerUrl, { type: "module" });
  const totals = { values: 0, rejected: 0, wasmBytes: 0, heapBytes: 0 };
  const wrong: string[] = [];
  try {
    for (let start = 0; start < jobs.length; start += batchSize) {
      const batch = jobs.slice(start, start + batchSize);
      let current = -1;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const report = await new Promise<BatchReport>((resolve, reject) => {
        timer = setTimeout(() => {
          const job = batch[current];
          reject(
            new Error(
              `decode still running after ${BATCH_DEADLINE_MS} ms: ${
                hex(job.data)
              } with ${JSON.stringify(job.options)}`,
            ),
          );
        }, BATCH_DEADLINE_MS);
        worker.onmessage = ({ data }) => {
          if ("started" in data) current = data.started;
          else resolve(data.report);
        };
        worker.onerror = (event) => {
          event.preventDefault();
          const job = batch[current];
          reject(
            new Error(
              `worker died (${event.message}) on ${hex(job.data)} with ${
                JSON.stringify(job.options)
              }`,
            ),
          );
        };
        worker.postMessage(batch);
      }).finally(() => clearTimeout(timer));
      totals.values += report.values;
      totals.rejected += report.rejected;
      totals.wasmBytes = Math.max(totals.wasmBytes, report.wasmBytes);
      totals.heapBytes = Math.max(totals.heapBytes, report.heapBytes);
      for (const { index, error } of report.wrong) {
        const job = batch[index];
        wrong.push(
          `${hex(job.data)} with ${JSON.stringify(job.options)}: ${error}`,
        );
      }
    }
  } finally {
    worker.terminate();
  }
  return { ...totals, wrong };
}

/** A seeded xorshift: the same inputs on every run with the same seed. */
function xorshift(seed: number) {
  let state = seed | 1;
  return (bound: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % Math.max(bound, 1);
  };
}

const ENCODINGS = ["ASCII", "latin1", "bytes", "utf-8"] as const;
const WINDOWS = [1, 2, 3, 7, 64, 4096, 1 << 20];

function randomOptions(random: (n: number) => number): Job["options"] {
  const options: Job["options"] = {
    exact: random(2) === 0,
    encoding: ENCODINGS[random(4)],
    windowSize: WINDOWS[random(WINDOWS.length)],
  };
  if (random(3) === 0) {
    Object.assign(options, {
      maxDepth: 1 + random(20),
      maxMemo: 1 + random(50),
      maxIntDigits: 1 + random(60),
      maxNodes: 1 + random(5000),
    });
  }
  return options;
}

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Globals the reducers know (and some they do not), to reach their argument checks. */
const GLOBALS = [
  "builtins\nset",
  "builtins\nfrozenset",
  "builtins\nbytearray",
  "builtins\ncomplex",
  "__builtin__\nset",
  "copy_reg\n_reconstructor",
  "copyreg\n__newobj__",
  "collections\nOrderedDict",
  "collections\ndefaultdict",
  "collections\ndeque",
  "datetime\ndatetime",
  "datetime\ndate",
  "datetime\ntime",
  "datetime\ntimedelta",
  "datetime\ntimezone",
  "decimal\nDecimal",
  "uuid\nUUID",
  "array\narray",
  "array\n_array_reconstructor",
  "numpy\ndtype",
  "numpy.core.multiarray\n_reconstruct",
  "numpy._core.multiarray\n_reconstruct",
  "numpy.core.multiarray\nscalar",
  "numpy._core.numeric\n_frombuffer",
  "numpy\nndarray",
  "_codecs\nencode",
  "os\nsystem",
  "a.b\nc.d",
];

const u32 = (
  n: number,
) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];

/** One opcode with arguments that are sometimes right and sometimes lies. */
const opcode: fc.Arbitrary<number[]> = fc.oneof(
  // Argument-free opcodes: the structure of a pickle.
  fc.constantFrom(
    ..."().NJ]})}elutsdab0120\x85\x86\x87\x88\x89\x8f\x90\x91\x93\x94\x97\x98R\x81\x92"
      .split(""),
  )
    .map((c) => [c.charCodeAt(0)]),
  fc.integer({ min: 0, max: 255 }).map((n) => [0x4b, n]), // BININT1
  fc.integer().map((n) => [0x4a, ...u32(n)]), // BININT
  fc.integer({ min: 0, max: 0xffff }).map((n) => [0x4d, n & 255, n >> 8]), // BININT2
  fc.double().map((x) => { // BINFLOAT
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    return [0x47, ...new Uint8Array(view.buffer)];
  }),
  fc.uint8Array({ maxLength: 12 }).map((b) => [0x8a, b.length, ...b]), // LONG1
  fc.uint8Array({ maxLength: 12 }).map((b) => [0x8b, ...u32(b.length), ...b]), // LONG4
  fc.string({ maxLength: 12 }).map((s) => { // SHORT_BINUNICODE
    const b = new TextEncoder().encode(s);
    return [0x8c, b.length & 255, ...b];
  }),
  fc.string({ maxLength: 12 }).map((s) => { // BINUNICODE
    const b = new TextEncoder().encode(s);
    return [0x58, ...u32(b.length), ...b];
  }),
  fc.uint8Array({ maxLength: 12 }).map((b) => [0x43, b.length, ...b]), // SHORT_BINBYTES
  fc.uint8Array({ maxLength: 12 }).map((b) => [0x55, b.length, ...b]), // SHORT_BINSTRING
  fc.uint8Array({ maxLength: 12 }).map((
    b,
  ) => [0x96, b.length, 0, 0, 0, 0, 0, 0, 0, ...b]), // BYTEARRAY8
  fc.integer({ min: 0, max: 255 }).map((n) => [0x71, n]), // BINPUT
  fc.integer({ min: 0, max: 255 }).map((n) => [0x68, n]), // BINGET
  fc.nat().map((n) => [0x72, ...u32(n)]), // LONG_BINPUT
  fc.nat().map((n) => [0x6a, ...u32(n)]), // LONG_BINGET
  fc.integer({ min: 0, max: 5 }).map((n) => [0x80, n]), // PROTO
  fc.integer({ min: 0, max: 40 }).map((n) => [0x95, n, 0, 0, 0, 0, 0, 0, 0]), // FRAME
  fc.integer({ min: 0, max: 255 }).map((n) => [0x82, n]), // EXT1
  fc.constantFrom(...GLOBALS).map((g) => [0x63, ...latin1(g + "\n")]), // GLOBAL
  fc.constantFrom(...GLOBALS).map((g) => [0x69, ...latin1(g + "\n")]), // INST
  // Text lines: INT, LONG, FLOAT, STRING, UNICODE, GET, PUT with plausible and odd text.
  fc.tuple(
    fc.constantFrom("I", "L", "F", "S", "V", "g", "p", "P"),
    fc.oneof(
      fc.stringMatching(/^[-+]?[0-9]{0,30}L?$/),
      fc.constantFrom(
        "'a'",
        '"\\x41"',
        "inf",
        "nan",
        "1e999",
        "0x10",
        "01",
        "00",
        "'\\",
        "\\u12",
      ),
      fc.string({ maxLength: 8 }),
    ),
  ).map((
    [op, line],
  ) => [...latin1(op), ...new TextEncoder().encode(line), 0x0a]),
);

/** A program: an optional PROTO, opcodes, and usually a STOP. */
const program = fc.tuple(
  fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  fc.array(opcode, { maxLength: 40 }),
  fc.boolean(),
).map(([proto, ops, stop]) =>
  Uint8Array.from([
    ...(proto === undefined ? [] : [0x80, proto]),
    ...ops.flat(),
    ...(stop ? [0x2e] : []),
  ])
);

Deno.test("fuzz: random opcode programs end in a value or UnpicklingError", async () => {
  const count = Math.round(20_000 * SCALE);
  const random = xorshift(SEED);
  const jobs = fc.sample(program, { numRuns: count, seed: SEED }).map((
    data,
  ) => ({ data, options: randomOptions(random) }));
  const result = await decodeAll(jobs);
  console.log(
    `${count} programs: ${result.values} values, ${result.rejected} UnpicklingErrors; ` +
      `wasm memory ${(result.wasmBytes / 2 ** 20).toFixed(1)} MiB, heap ${
        (result.heapBytes / 2 ** 20).toFixed(0)
      } MiB`,
  );
  assert.deepEqual(result.wrong.slice(0, 5), []);
  assert.ok(result.values > count / 20, "too few programs decode to a value");
  assert.ok(result.wasmBytes <= WASM_MEMORY_BOUND);
});

/** The seeds: CPython's vectors and the differential corpus, small pickles of every kind. */
async function seedPickles(): Promise<Uint8Array[]> {
  const { vectors } = JSON.parse(
    await Deno.readTextFile(
      new URL("./fixtures/vectors/cpython_pickletester.json", import.meta.url),
    ),
  ) as { vectors: { data: string; cpython: string }[] };
  return [
    ...vectors.filter((v) => v.cpython === "ok").map((v) => fromBase64(v.data)),
    ...(await generateCorpus("default")).cases
      .filter((c) => c.pickle.length < 4000)
      .map((c) => fromBase64(c.pickle)),
  ];
}

/** Opcodes that change a pickle's structure, to insert. */
const STRUCTURE = "(.)]}Nabcdeghjlpqrstu0120\x85\x81\x94\x95";

/** Interesting values for length and count fields. */
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe];

/** AFL-style havoc: a few stacked edits of one seed, sometimes spliced with another. */
function mutate(
  random: (n: number) => number,
  seeds: Uint8Array[],
): Uint8Array {
  const data = [...seeds[random(seeds.length)]];
  for (let edits = 1 + random(3); edits > 0; edits--) {
    const at = random(data.length + 1);
    switch (random(9)) {
      case 0:
        data[at] = random(256);
        break;
      case 1:
        data[at] ^= 1 << random(8);
        break;
      case 2:
        data.splice(at, 1 + random(4));
        break;
      case 3:
        data.splice(at, 0, STRUCTURE.charCodeAt(random(STRUCTURE.length)));
        break;
      case 4: {
        const other = seeds[random(seeds.length)];
        const from = random(other.length);
        data.splice(at, 0, ...other.subarray(from, from + 1 + random(32)));
        break;
      }
      case 5: {
        const from = random(data.length);
        data.splice(at, 0, ...data.slice(from, from + 1 + random(16)));
        break;
      }
      case 6:
        for (let i = 0; i < 1 + random(4); i++) {
          data[at + i] = INTERESTING[random(INTERESTING.length)];
        }
        break;
      case 7:
        data.length = Math.max(1, at);
        break;
      default:
        // The same edit at another protocol: a seed's opcodes under a PROTO they were not
        // written for.
        if (data[0] === 0x80) data[1] = random(6);
    }
  }
  return Uint8Array.from(data.filter((b) => b !== undefined));
}

Deno.test("fuzz: mutated real pickles end in a value or UnpicklingError", async () => {
  const seeds = await seedPickles();
  const count = Math.round(50_000 * SCALE);
  const random = xorshift(SEED ^ 0x9e3779b9);
  const jobs = Array.from({ length: count }, () => ({
    data: mutate(random, seeds),
    options: randomOptions(random),
  }));
  const result = await decodeAll(jobs);
  console.log(
    `${count} mutations of ${seeds.length} pickles: ${result.values} values, ${result.rejected} ` +
      `UnpicklingErrors; wasm memory ${
        (result.wasmBytes / 2 ** 20).toFixed(1)
      } MiB, heap ${(result.heapBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  assert.deepEqual(result.wrong.slice(0, 5), []);
  assert.ok(result.rejected > 0 && result.values > 0);
  assert.ok(result.wasmBytes <= WASM_MEMORY_BOUND);
});

Deno.test("fuzz: the crash regressions end in a value or UnpicklingError", async () => {
  const folder = new URL("./fixtures/regressions/", import.meta.url);
  const jobs: Job[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (!entry.name.endsWith(".pkl")) continue;
    const data = await Deno.readFile(new URL(entry.name, folder));
    for (const windowSize of [1, 7, 1 << 20]) {
      for (const encoding of ENCODINGS) {
        jobs.push({ data, options: { exact: false, encoding, windowSize } });
      }
    }
  }
  const result = await decodeAll(jobs);
  assert.deepEqual(result.wrong, []);
  console.log(`${jobs.length / 12} regressions, each in 12 ways`);
});
