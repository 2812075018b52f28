/**
 * The decoder without the encoder: everything `decode()` needs and gives back (the value types,
 * the errors, the WebAssembly initialisation), for programs that only read pickles and start
 * often, such as edge functions and CLIs. Importing it loads about half the code of the whole
 * package, which is most of a cold start.
 *
 * @example Decode a pickle
 * ```ts
 * import { decode, Tuple } from "./decode_only.ts";
 * // pickle.dumps((1, "a"), protocol=4)
 * const value = decode(new Uint8Array([0x80, 0x04, 0x95, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x4b, 0x01, 0x8c, 0x01, 0x61, 0x94, 0x86, 0x94, 0x2e]));
 * console.log(value instanceof Tuple, value); // true Tuple(2) [ 1, "a" ]
 * ```
 *
 * @module
 */

export {
  decode,
  type DecodeOptions,
  Decoder,
  type StringEncoding,
} from "./decode.ts";
export { PickleError, UnpicklingError } from "./errors.ts";
export { initWasm, initWasmAsync } from "./_instance.ts";
export {
  ByteArray,
  Complex,
  Decimal,
  DefaultDict,
  Deque,
  DType,
  FrozenSet,
  NdArray,
  type NumericData,
  NumpyScalar,
  OrderedDict,
  PyArray,
  PyDate,
  PyDateTime,
  PyGlobal,
  PyObject,
  type PyObjectKind,
  PyTime,
  PyTimeDelta,
  PyTimeZone,
  Tuple,
  UUID,
} from "./types.ts";
