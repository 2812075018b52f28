/**
 * The codec's WebAssembly module as bytes, for runtimes that refuse to compile WebAssembly from
 * bytes at run time (Cloudflare Workers, Vercel Edge): write the bytes to a `.wasm` file at
 * build time, import that file in the worker (which gives a precompiled `WebAssembly.Module`)
 * and pass it to `initWasm`.
 *
 * @example Write the module for a Workers bundle
 * ```ts ignore
 * import { wasmBytes } from "@lazyscribe/artifacts/wasm";
 * await Deno.writeFile("lazyscribe_codec.wasm", wasmBytes());
 * ```
 *
 * @module
 */

import { base64Bytes } from "./_instance.ts";
import { wasmBase64 } from "./_wasm.js";

/**
 * Returns the codec's WebAssembly module (the one `decode()` compiles itself where it may), as
 * a fresh copy of its bytes.
 *
 * @example Usage
 * ```ts
 * import { wasmBytes } from "./wasm.ts";
 * const bytes = wasmBytes();
 * console.log(WebAssembly.validate(bytes)); // true
 * ```
 *
 * @returns The bytes of the `.wasm` module.
 */
export function wasmBytes(): Uint8Array<ArrayBuffer> {
  return base64Bytes(wasmBase64);
}
