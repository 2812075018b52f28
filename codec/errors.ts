/**
 * The errors of the pickle codec. Every failure of `decode()` on bad input is an
 * {@linkcode UnpicklingError}; every value `encode()` cannot write is a {@linkcode PicklingError};
 * both are {@linkcode PickleError}s.
 *
 * @module
 */

/**
 * The base class of the codec's errors.
 *
 * @example Catching any codec error
 * ```ts
 * import { decode, PickleError } from "./mod.ts";
 * try {
 *   decode(new Uint8Array([0x80, 0x04]));
 * } catch (error) {
 *   console.log(error instanceof PickleError); // true
 * }
 * ```
 */
export class PickleError extends Error {
  /**
   * Makes the error.
   *
   * @param message What went wrong, and where.
   * @param options The standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PickleError";
  }
}

/**
 * The input is not a pickle the decoder accepts: malformed, truncated, over a limit, or it
 * needs something that was not given (out-of-band buffers, an extension code, a persistent id
 * loader).
 *
 * @example Reading the failing position
 * ```ts
 * import { decode, UnpicklingError } from "./mod.ts";
 * try {
 *   decode(new Uint8Array([0x61])); // APPEND on an empty stack
 * } catch (error) {
 *   if (error instanceof UnpicklingError) console.log(error.offset, error.opcode); // 0 "APPEND"
 * }
 * ```
 */
export class UnpicklingError extends PickleError {
  /** The byte offset of the failing opcode in the input, or -1 when no single opcode is at fault. */
  readonly offset: number;
  /** The name of the pickle opcode at {@linkcode offset} (`"APPEND"`), or `null` when there is none. */
  readonly opcode: string | null;

  /**
   * Makes the error.
   *
   * @param message What went wrong, naming the byte offset.
   * @param offset The byte offset of the failing opcode, or -1.
   * @param opcode The name of the opcode at that offset, or `null`.
   * @param options The standard error options (`cause`).
   */
  constructor(
    message: string,
    offset = -1,
    opcode: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "UnpicklingError";
    this.offset = offset;
    this.opcode = opcode;
  }
}

/**
 * A value has no pickle form (a function, a symbol, an object of an unknown class), so nothing
 * was written.
 *
 * @example Reading the path of the value
 * ```ts
 * import { PicklingError } from "./errors.ts";
 * const error = new PicklingError("A function cannot be pickled at value.fit", "value.fit");
 * console.log(error.path); // "value.fit"
 * ```
 */
export class PicklingError extends PickleError {
  /** Where the value sits in the encoded value, such as `value.models[2].fit`. */
  readonly path: string;

  /**
   * Makes the error.
   *
   * @param message What cannot be pickled, naming the path.
   * @param path The path of the value from the root (`value`, `value.items[0]`, …).
   * @param options The standard error options (`cause`).
   */
  constructor(message: string, path: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PicklingError";
    this.path = path;
  }
}
