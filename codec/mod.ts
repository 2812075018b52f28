/**
 * The pickle codec: Python pickles to JavaScript values (a WebAssembly machine and its
 * TypeScript glue) and back (TypeScript), without ever running the code a pickle names.
 *
 * @example Decode a pickle
 * ```ts
 * import { decode, Tuple } from "./mod.ts";
 * // pickle.dumps((1, "a"), protocol=4)
 * const value = decode(new Uint8Array([0x80, 0x04, 0x95, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x4b, 0x01, 0x8c, 0x01, 0x61, 0x94, 0x86, 0x94, 0x2e]));
 * console.log(value instanceof Tuple, value); // true Tuple(2) [ 1, "a" ]
 * ```
 *
 * @module
 */

export * from "./decode_only.ts";
export { encode, type EncodeOptions, Encoder } from "./encode.ts";
export { PicklingError } from "./errors.ts";
