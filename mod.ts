/**
 * Read and write the artifacts of [lazyscribe](https://github.com/lazyscribe/lazyscribe)
 * experiment projects outside Python: JSON artifacts byte-compatible with Python's `json`, and
 * pickles decoded and encoded by a WebAssembly codec that never executes anything a pickle names.
 *
 * @example Decode a pickle and write one back
 * ```ts
 * import { decode, encode } from "@lazyscribe/artifacts";
 *
 * // pickle.dumps({"auroc": 0.5}, protocol=4)
 * const bytes = encode(new Map([["auroc", 0.5]]));
 * const metrics = decode(bytes) as Map<string, number>;
 * console.log(metrics.get("auroc")); // 0.5
 * ```
 *
 * @module
 */
export * from "./codec/mod.ts";
export * from "./src/mod.ts";
