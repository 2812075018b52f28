/**
 * The codec against its peers on the standard pickle datasets (`../shared/bench/datasets.py`,
 * generated once into `bench/data/`): this module's `decode()` vs npm `pickleparser` vs
 * CPython's C `pickle.loads` (the same bytes, timed in a Python subprocess) vs `JSON.parse` of
 * the JSON twin, and `encode()` (and `Encoder.encodeShared()`, which writes into a buffer the
 * encoder reuses) vs CPython's `pickle.dumps` vs `JSON.stringify`. Every decoded
 * result is checked against the dataset manifest. At the end one table of best times and
 * ratios is printed, with the wasm module's size and the codec's cold start.
 *
 * Run with `deno task bench`.
 */

// deno-lint-ignore no-import-prefix -- a peer measured by the benchmark only, not a dependency
import { Parser } from "npm:pickleparser@0.2.1";
import { decode, encode, Encoder, NdArray } from "../codec/mod.ts";
import { wasmBytes } from "../codec/wasm.ts";
import { pythonPath } from "../tests/_python.ts";
import { coldStarts } from "./_cold_start.ts";

const root = new URL("../", import.meta.url);
const dataDir = new URL("bench/data/", root);
const datasetsScript = new URL("../shared/bench/datasets.py", root);

interface Manifest {
  python: string;
  datasets: Record<string, {
    check: Record<string, number | bigint | string>;
    files: Record<string, { file: string; size: number }>;
  }>;
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

async function run(command: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return new TextDecoder().decode(stdout);
}

/** The manifest, generating the datasets first when needed; `null` when they cannot be. */
async function datasets(): Promise<Manifest | null> {
  const manifest = new URL("manifest.json", dataDir);
  if (!await exists(manifest)) {
    if (!await exists(datasetsScript)) {
      console.log(
        `bench: skipped: no datasets in bench/data/ and no ${datasetsScript.pathname} to make them`,
      );
      return null;
    }
    console.log("bench: generating the datasets into bench/data/ (once)");
    await run(pythonPath(), [datasetsScript.pathname, dataDir.pathname]);
  }
  // Sums of ints exceed 2^53: read them from their source text, not as doubles.
  return JSON.parse(
    await Deno.readTextFile(manifest),
    (_key, value, context?: { source?: string }) =>
      typeof value === "number" && Number.isInteger(value) &&
        !Number.isSafeInteger(value) && context?.source !== undefined
        ? BigInt(context.source)
        : value,
  );
}

/** A Python value as our decoder or pickleparser returns it: field access on Map or object. */
function field(record: unknown, key: string): unknown {
  return record instanceof Map
    ? record.get(key)
    : (record as Record<string, unknown>)[key];
}

function sizeOf(value: unknown): number {
  if (value instanceof Map || value instanceof Set) return value.size;
  if (Array.isArray(value) || value instanceof Uint8Array) return value.length;
  if (value instanceof NdArray) return value.size;
  return value !== null && typeof value === "object"
    ? Object.keys(value).length
    : -1;
}

/** Checks a decoded dataset against its manifest entry; returns what is wrong, or null. */
function verify(
  value: unknown,
  check: Record<string, number | bigint | string>,
): string | null {
  const expect = (ok: boolean, what: string) => ok ? null : what;
  const near = (a: number, b: number) =>
    Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  if (sizeOf(value) !== check.len) return `length ${sizeOf(value)}`;
  const list = value as unknown[];
  switch (check.kind) {
    case "int_list": {
      let sum = 0n;
      for (const v of list) sum += BigInt(v as number | bigint);
      return expect(sum === BigInt(check.sum), `sum ${sum}`);
    }
    case "float_list": {
      let sum = 0;
      for (const v of list) sum += v as number;
      return expect(near(sum, check.sum as number), `sum ${sum}`);
    }
    case "str_list": {
      let chars = 0;
      for (const v of list) chars += (v as string).length;
      return expect(chars === check.chars, `chars ${chars}`);
    }
    case "records": {
      let sum = 0;
      for (const v of list) sum += Number(field(v, "id"));
      return expect(sum === check.sum_id, `sum of ids ${sum}`);
    }
    case "bytes": {
      const bytes = value as Uint8Array;
      return expect(
        bytes[0] === check.first && bytes[bytes.length - 1] === check.last,
        "first/last byte",
      );
    }
    case "refs":
      return expect(list.every((v) => v === list[0]), "not shared");
    case "ndarray": {
      const data = (value as NdArray).data as Float64Array;
      let sum = 0;
      for (let i = 0; i < data.length; i++) sum += data[i];
      return expect(near(sum, check.sum as number), `sum ${sum}`);
    }
    default:
      return null;
  }
}

/** Best (minimum) time of every measured operation, by key. */
const best = new Map<string, number>();

function timed<T>(key: string, work: () => T): T {
  const start = performance.now();
  const result = work();
  const elapsed = performance.now() - start;
  if (elapsed < (best.get(key) ?? Infinity)) best.set(key, elapsed);
  return result;
}

function quietly<T>(work: () => T): T {
  // pickleparser warns once per int beyond 2^53; printing 100k warnings is not decoding.
  const warn = console.warn;
  console.warn = () => {};
  try {
    return work();
  } finally {
    console.warn = warn;
  }
}

async function wasmSizes(): Promise<{ raw: number; gzip: number }> {
  const raw = wasmBytes();
  const gzipped = await new Response(
    new Blob([raw]).stream().pipeThrough(new CompressionStream("gzip")),
  ).arrayBuffer();
  return { raw: raw.length, gzip: gzipped.byteLength };
}

interface Row {
  dataset: string;
  protocol: string;
  file: string;
  size: number;
  json?: string;
  peers: boolean;
  problems: string[];
  identical?: boolean;
  /** Whether `decode()` returned a view of the input: no copy, so no timing to compare. */
  view?: boolean;
}

const manifest = await datasets();
if (manifest !== null) {
  const rows: Row[] = [];
  for (const [dataset, entry] of Object.entries(manifest.datasets)) {
    const protocols = dataset === "ndarray_f64_1e6"
      ? ["p2", "p4", "p5"]
      : dataset === "bytes_64MiB"
      ? ["p2", "p4"]
      : ["p4"];
    for (const protocol of protocols) {
      const file = entry.files[protocol];
      rows.push({
        dataset,
        protocol,
        file: file.file,
        size: file.size,
        json: protocol === "p4" ? entry.files.json?.file : undefined,
        peers: protocol === "p4",
        problems: [],
      });
    }
  }
  const cpython = JSON.parse(
    await run(pythonPath(), [
      new URL("bench/cpython_times.py", root).pathname,
      dataDir.pathname,
      ...rows.map((r) => r.file),
    ]),
  ) as Record<string, { loads: number; dumps: number }>;
  const sizes = await wasmSizes();
  const startup = Math.min(
    ...(await coldStarts(5)).map((run) => run.totalMs),
  );
  const parser = new Parser();

  /**
   * What one side of a row's benchmarks holds: a decoder needs only the pickle (and its JSON
   * twin's text), an encoder only the value. Each side is loaded when its first benchmark runs
   * and dropped, with a garbage collection where `--expose-gc` allows it, before the next side
   * is loaded: CPython's figures come from a process that holds nothing else, and a heap that
   * still held the other side or earlier rows (≈ 400 MB of pickles, decoded values and encoder
   * buffers) made V8 mark and move that memory during the timed runs.
   */
  interface DecodeInputs {
    bytes: Uint8Array;
    text?: string;
  }
  interface EncodeInputs {
    exactValue: unknown;
    encoder: Encoder;
    jsonValue?: unknown;
  }
  let loaded: { key: string; inputs: DecodeInputs | EncodeInputs } | null =
    null;
  const load = <T extends DecodeInputs | EncodeInputs>(
    key: string,
    make: () => T,
  ): T => {
    if (loaded?.key !== key) {
      loaded = null;
      (globalThis as { gc?: () => void }).gc?.();
      loaded = { key, inputs: make() };
    }
    return loaded.inputs as T;
  };
  const readText = (row: Row) =>
    row.json === undefined
      ? undefined
      : Deno.readTextFileSync(new URL(row.json, dataDir));
  const readPickle = (row: Row) =>
    Deno.readFileSync(new URL(row.file, dataDir));
  const decodeInputs = (row: Row): DecodeInputs =>
    load(`decode ${row.file}`, () => ({
      bytes: readPickle(row),
      text: readText(row),
    }));
  const encodeInputs = (row: Row): EncodeInputs =>
    load(`encode ${row.file}`, () => {
      const text = readText(row);
      return {
        exactValue: decode(readPickle(row), { exact: true }),
        encoder: new Encoder({
          protocol: Number(row.protocol.slice(1)),
          exact: true,
        }),
        jsonValue: text === undefined ? undefined : JSON.parse(text),
      };
    });

  for (const row of rows) {
    const bytes = readPickle(row);
    const exactValue = decode(bytes, { exact: true });
    const check = manifest.datasets[row.dataset].check;
    const name = `${row.dataset} ${row.protocol}`;
    const ours = decode(bytes);
    row.view = ours instanceof Uint8Array && ours.buffer === bytes.buffer;
    const wrong = verify(ours, check);
    if (wrong !== null) row.problems.push(`decode: ${wrong}`);
    const protocol = Number(row.protocol.slice(1));
    const encoded = encode(exactValue, { protocol, exact: true });
    row.identical = encoded.length === bytes.length &&
      encoded.every((byte: number, i: number) => byte === bytes[i]);
    if (row.peers) {
      const theirsWrong = verify(quietly(() => parser.parse(bytes)), check);
      if (theirsWrong !== null) {
        row.problems.push(`pickleparser: ${theirsWrong}`);
      }
    }

    Deno.bench({
      name: `decode ${name}`,
      group: `decode ${name}`,
      baseline: true,
      n: 10,
      warmup: 3,
      fn: () => {
        const { bytes } = decodeInputs(row);
        timed(`decode ${row.file}`, () => decode(bytes));
      },
    });
    if (row.peers) {
      Deno.bench({
        name: `pickleparser ${name}`,
        group: `decode ${name}`,
        n: 10,
        warmup: 3,
        fn: () => {
          const { bytes } = decodeInputs(row);
          timed(
            `pickleparser ${row.file}`,
            () => quietly(() => parser.parse(bytes)),
          );
        },
      });
    }
    if (row.json !== undefined) {
      Deno.bench({
        name: `JSON.parse ${name}`,
        group: `decode ${name}`,
        n: 10,
        warmup: 3,
        fn: () => {
          const { text } = decodeInputs(row);
          timed(`JSON.parse ${row.file}`, () => JSON.parse(text!));
        },
      });
    }
  }

  // Every decoder first, then every encoder: an encoder's value comes from an `exact` decode,
  // whose other types would otherwise reach the decode benchmark of the next row first.
  for (const row of rows) {
    const name = `${row.dataset} ${row.protocol}`;
    const protocol = Number(row.protocol.slice(1));
    Deno.bench({
      name: `encode ${name}`,
      group: `encode ${name}`,
      baseline: true,
      n: 10,
      warmup: 3,
      fn: () => {
        const { exactValue } = encodeInputs(row);
        timed(
          `encode ${row.file}`,
          () => encode(exactValue, { protocol, exact: true }),
        );
      },
    });
    Deno.bench({
      name: `Encoder.encodeShared ${name}`,
      group: `encode ${name}`,
      n: 10,
      warmup: 3,
      fn: () => {
        const { encoder, exactValue } = encodeInputs(row);
        timed(
          `encodeShared ${row.file}`,
          () => encoder.encodeShared(exactValue),
        );
      },
    });
    if (row.json !== undefined) {
      Deno.bench({
        name: `JSON.stringify ${name}`,
        group: `encode ${name}`,
        n: 10,
        warmup: 3,
        fn: () => {
          const { jsonValue } = encodeInputs(row);
          timed(
            `JSON.stringify ${row.file}`,
            () => JSON.stringify(jsonValue),
          );
        },
      });
    }
  }

  globalThis.addEventListener("unload", () => {
    const ms = (key: string) => best.get(key);
    const fmt = (v: number | undefined) =>
      v === undefined
        ? "–"
        : v < 0.1
        ? v.toFixed(3)
        : v < 10
        ? v.toFixed(2)
        : v.toFixed(1);
    const ratio = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? "–" : `${(a / b).toFixed(2)}×`;
    const lines = [
      `CPython ${manifest.python} (datasets), ${Deno.version.deno} (Deno); best times in ms`,
      "",
      "| dataset | pickle MB | decode | CPython loads | pickleparser | JSON.parse | decode ÷ CPython | pickleparser ÷ decode | encode | encodeShared | CPython dumps | JSON.stringify | encode ÷ CPython | encode = CPython bytes |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ];
    for (const row of rows) {
      const decodeMs = ms(`decode ${row.file}`);
      const encodeMs = ms(`encode ${row.file}`);
      const loads = cpython[row.file].loads;
      const dumps = cpython[row.file].dumps;
      const pp = ms(`pickleparser ${row.file}`);
      const flag = row.problems.some((p) => p.startsWith("pickleparser"))
        ? " ⚠"
        : "";
      lines.push(
        `| ${row.dataset} ${row.protocol} | ${(row.size / 1e6).toFixed(2)} | ${
          fmt(decodeMs) + (row.view ? " (view)" : "")
        } | ${fmt(loads)} | ${fmt(pp)}${flag} | ${
          fmt(ms(`JSON.parse ${row.file}`))
        } | ${ratio(decodeMs, loads)} | ${ratio(pp, decodeMs)} | ${
          fmt(encodeMs)
        } | ${fmt(ms(`encodeShared ${row.file}`))} | ${fmt(dumps)} | ${
          fmt(ms(`JSON.stringify ${row.file}`))
        } | ${ratio(encodeMs, dumps)} | ${row.identical ? "yes" : "no"} |`,
      );
    }
    lines.push(
      "",
      `⚠ = pickleparser's result fails the dataset check; (view) = decode() returned a view of the input, nothing was copied. Every case is the best of 10 runs after 3 warm-ups, in a heap that holds only its own inputs${
        "gc" in globalThis
          ? ""
          : " (not collected between rows: run with --v8-flags=--expose-gc)"
      }. wasm module: ${sizes.raw} bytes (${sizes.gzip} gzipped); cold start (import of @lazyscribe/artifacts/decode + first decode, fresh process, best of 5): ${
        startup.toFixed(1)
      } ms.`,
    );
    const problems = rows.flatMap((r) =>
      r.problems.map((p) => `${r.dataset} ${r.protocol}: ${p}`)
    );
    if (problems.length > 0) lines.push("", "Checks:", ...problems);
    console.log("\n" + lines.join("\n"));
  });
}
