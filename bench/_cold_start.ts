/**
 * The codec's cold start measured in fresh processes, for `cold_start_bench.ts` and the summary
 * of `codec_bench.ts`: `deno run` of a script that imports an entry point of the codec (the
 * decode-only `@lazyscribe/artifacts/decode` or the whole codec) and decodes a small pickle
 * through the public API. The script comes on stdin: `deno eval` would skip V8's code
 * cache, which any later run of a real program has.
 *
 * @module
 */

/** pickle.dumps({"auroc": 0.91, "folds": (1, 2, 3)}, protocol=4), 49 bytes */
export const SMALL_PICKLE = Uint8Array.fromHex(
  "80049526000000000000007d94288c056175726f6394473fed" +
    "1eb851eb851f8c05666f6c6473944b014b024b038794752e",
);

/** The `import()` specifier of a file of `codec/`, as JavaScript source. */
export function codecSpecifier(path: string): string {
  return JSON.stringify(new URL(`../codec/${path}`, import.meta.url).href);
}

/** JavaScript source that throws unless `value` is {@linkcode SMALL_PICKLE}'s value. */
export const CHECK_VALUE =
  `if (value.get("folds").length !== 3) throw new Error("wrong value");`;

/** The codec's entry points, as files of `codec/`. */
export const ENTRY_POINTS = {
  /** `@lazyscribe/artifacts/decode`: the decoder alone. */
  decode: "decode_only.ts",
  /** The whole codec (decoder and encoder), as the package's root re-exports it. */
  codec: "mod.ts",
} as const;

/** The timings of one cold start, in ms. */
export interface ColdStart {
  /** `await import()` of the entry point. */
  readonly importMs: number;
  /** The first `decode()`, which compiles and instantiates the wasm module. */
  readonly firstDecodeMs: number;
  /** The import and the first decode. */
  readonly totalMs: number;
  /** A second `decode()` of the same bytes. */
  readonly secondDecodeMs: number;
}

const importAndDecode = (entry: string) => `
  const t0 = performance.now();
  const { decode } = await import(${codecSpecifier(entry)});
  const t1 = performance.now();
  const bytes = Uint8Array.fromHex("${SMALL_PICKLE.toHex()}");
  const value = decode(bytes);
  const t2 = performance.now();
  decode(bytes);
  const t3 = performance.now();
  ${CHECK_VALUE}
  console.log(JSON.stringify({
    importMs: t1 - t0,
    firstDecodeMs: t2 - t1,
    totalMs: t2 - t0,
    secondDecodeMs: t3 - t2,
  }));`;

/**
 * Runs `source` as the main module of a fresh `deno run --allow-read` and returns the JSON it
 * prints.
 *
 * @param source The script.
 * @param flags More flags of `deno run`.
 * @returns What the script printed.
 */
export async function freshProcess<T>(
  source: string,
  flags: readonly string[] = [],
): Promise<T> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", ...flags, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

/**
 * Cold starts in fresh processes, after one unmeasured process that fills Deno's transpile and
 * code caches.
 *
 * @param runs How many processes are measured.
 * @param entry The file of `codec/` that is imported, one of {@linkcode ENTRY_POINTS}.
 * @param flags More flags of `deno run` (`--no-code-cache`).
 * @returns The timings of each.
 */
export async function coldStarts(
  runs: number,
  entry: string = ENTRY_POINTS.decode,
  flags: readonly string[] = [],
): Promise<ColdStart[]> {
  const source = importAndDecode(entry);
  await freshProcess(source, flags);
  const timings: ColdStart[] = [];
  for (let i = 0; i < runs; i++) {
    timings.push(await freshProcess<ColdStart>(source, flags));
  }
  return timings;
}
