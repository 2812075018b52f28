/**
 * The one instance of the codec's WebAssembly module. It is made on first use, not at import:
 * by default compiled synchronously from the base64 text of `_wasm.js`, or from a precompiled
 * `WebAssembly.Module` given to {@linkcode initWasm} (edge runtimes forbid compiling bytes), or
 * asynchronously by {@linkcode initWasmAsync} (browsers forbid compiling large modules
 * synchronously on the main thread).
 *
 * @module
 */

import { wasmBase64 } from "./_wasm.js";

/** The raw exports of the codec module that the decoder uses (see `codec/README.md`). */
export interface CodecExports {
  /** The linear memory. */
  readonly memory: WebAssembly.Memory;
  /** Allocates `size` bytes aligned to 8 and returns the pointer. */
  lsa_alloc(size: number): number;
  /** Frees what {@linkcode CodecExports.lsa_alloc} returned. */
  lsa_free(ptr: number, size: number): void;
  /** Makes a decoder for an input of `totalLen` bytes and returns its handle. */
  lsa_decoder_new(
    totalLen: number,
    encoding: number,
    maxDepth: number,
    maxMemo: number,
    maxIntDigits: number,
    maxNodes: number,
  ): number;
  /** Parses one window of the input and returns the status. */
  lsa_decoder_step(
    handle: number,
    windowPtr: number,
    windowLen: number,
    windowOffset: number,
  ): number;
  /** Returns the pointer of the result block of the last step. */
  lsa_decoder_result(handle: number): number;
  /** Frees a decoder. */
  lsa_decoder_free(handle: number): void;
}

let compiled: WebAssembly.Module | undefined;
let instance: WebAssembly.Instance | undefined;

/**
 * Makes the codec use a precompiled module, so that it never compiles bytes itself. Call it
 * once before the first `decode()` (the encoder needs no WebAssembly) on runtimes that forbid
 * compiling WebAssembly from bytes (Cloudflare Workers, Vercel Edge), with what
 * `import wasm from "./codec.wasm"` gives. A decode that traps discards the instance; the next
 * one is made from this module again.
 *
 * @example Cloudflare Workers
 * ```ts ignore
 * import wasm from "./lazyscribe_codec.wasm";
 * import { decode, initWasm } from "@lazyscribe/artifacts";
 * initWasm(wasm);
 * ```
 *
 * @param module The compiled codec module.
 * @throws {TypeError} When `module` is not a `WebAssembly.Module`.
 */
export function initWasm(module: WebAssembly.Module): void {
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError("initWasm() takes a WebAssembly.Module");
  }
  compiled = module;
  instance = new WebAssembly.Instance(module, {});
}

/**
 * Compiles the codec asynchronously, from the embedded module or from the given source. Use it
 * where synchronous compilation of a module of this size is refused (a browser's main thread);
 * elsewhere the codec compiles itself on first use.
 *
 * @example Browser
 * ```ts
 * import { decode, initWasmAsync } from "./mod.ts";
 * await initWasmAsync();
 * console.log(decode(new Uint8Array([0x80, 0x04, 0x4e, 0x2e]))); // null
 * ```
 *
 * @param source The module's bytes, a `fetch` response of the `.wasm` file, or a compiled
 * module; the embedded module when omitted.
 * @returns A promise that settles when the codec is ready.
 * @throws {WebAssembly.CompileError} When the source is not the codec module.
 */
export async function initWasmAsync(
  source?:
    | WebAssembly.Module
    | BufferSource
    | Response
    | PromiseLike<Response>,
): Promise<void> {
  if (instance !== undefined && source === undefined) return;
  let module: WebAssembly.Module;
  if (source === undefined) {
    module = await WebAssembly.compile(base64Bytes(wasmBase64));
  } else if (source instanceof WebAssembly.Module) {
    module = source;
  } else if (
    source instanceof ArrayBuffer || ArrayBuffer.isView(source)
  ) {
    module = await WebAssembly.compile(source);
  } else {
    const response = await source;
    module = await WebAssembly.compile(await response.arrayBuffer());
  }
  compiled = module;
  instance =
    (await WebAssembly.instantiate(module, {})) as WebAssembly.Instance;
}

/**
 * Returns the codec's exports, instantiating the module on first use.
 *
 * @returns The exports.
 */
export function codecExports(): CodecExports {
  if (instance === undefined) {
    compiled ??= new WebAssembly.Module(base64Bytes(wasmBase64));
    instance = new WebAssembly.Instance(compiled, {});
  }
  return instance.exports as unknown as CodecExports;
}

/**
 * Drops the instance after a trap, whose state (allocator, decoder handles) can no longer be
 * trusted; the next use makes a fresh instance of the same module.
 */
export function discardInstance(): void {
  instance = undefined;
}

/**
 * Tells whether `exports` still belong to the current instance: a decode re-entered from a
 * callback may have trapped and discarded it, and then nothing may be freed in it.
 *
 * @param exports Exports that {@linkcode codecExports} returned.
 * @returns `true` while they are the current instance's.
 */
export function isCurrentInstance(exports: CodecExports): boolean {
  return instance !== undefined &&
    (instance.exports as unknown as CodecExports) === exports;
}

const BASE64_ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** The part of Node's `Buffer` that decodes base64. */
interface NodeBuffer {
  from(text: string, encoding: "base64"): Uint8Array;
}

/**
 * Decodes standard base64 (with or without padding) without `atob`: natively where
 * `Uint8Array.fromBase64` exists, else with Node's `Buffer` (Node 20 and 22 have no
 * `fromBase64`; the lookup table took them 2.8 ms of the first decode for the embedded module,
 * `Buffer` 0.2 ms), else through a lookup table.
 *
 * @param text The base64 text.
 * @returns The bytes.
 * @throws {SyntaxError} When `text` is not base64 (Node's decoder also takes the URL-safe
 * alphabet).
 */
export function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const native = (Uint8Array as unknown as {
    fromBase64?: (text: string) => Uint8Array<ArrayBuffer>;
  }).fromBase64;
  if (typeof native === "function") return native(text);
  const nodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;
  if (typeof nodeBuffer?.from !== "function") return base64TableBytes(text);
  // Node skips the characters it does not know, which leaves fewer bytes.
  const bytes = nodeBuffer.from(text, "base64");
  if (bytes.length !== (unpaddedLength(text) * 3) >> 2) {
    throw new SyntaxError("Invalid base64 text");
  }
  // A copy that is a plain `Uint8Array` with a buffer of its own, not a slice of Node's pool.
  return new Uint8Array(bytes);
}

/** The length of base64 text without its `=` padding. */
function unpaddedLength(text: string): number {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  return end;
}

/**
 * Decodes standard base64 through a lookup table, for runtimes with neither
 * `Uint8Array.fromBase64` nor Node's `Buffer`.
 *
 * @param text The base64 text.
 * @returns The bytes.
 * @throws {SyntaxError} When `text` holds a character outside the base64 alphabet.
 */
export function base64TableBytes(text: string): Uint8Array<ArrayBuffer> {
  const table = new Uint8Array(128).fill(255);
  for (let i = 0; i < 64; i++) table[BASE64_ALPHABET.charCodeAt(i)] = i;
  const end = unpaddedLength(text);
  const out = new Uint8Array((end * 3) >> 2);
  let bits = 0;
  let count = 0;
  let at = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? table[code] : 255;
    if (value === 255) {
      throw new SyntaxError(`Invalid base64 character at index ${i}`);
    }
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[at++] = (bits >> count) & 0xff;
    }
  }
  return out;
}
