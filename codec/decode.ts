/**
 * `decode()`: Python pickles (protocols 0–5) to JavaScript values, without running anything.
 *
 * The WebAssembly machine parses and validates the pickle window by window and writes a tape of
 * construction instructions (see `codec/README.md`); this module executes each step's tape with
 * a value stack and a dense memo that live across steps, and gives the known globals their
 * meaning through the native reducers.
 *
 * @module
 */

import { fromPython2Name } from "./_compat_pickle.ts";
import {
  type CodecExports,
  codecExports,
  discardInstance,
  isCurrentInstance,
} from "./_instance.ts";
import {
  type Builder,
  demote,
  findReducer,
  type Reducer,
  type ReducerScope,
  unitsText,
} from "./_reducers.ts";
import { UnpicklingError } from "./errors.ts";
import {
  ByteArray,
  Deque,
  FrozenSet,
  PyGlobal,
  PyObject,
  Tuple,
} from "./types.ts";

/** How the Python 2 `str` opcodes (`STRING`, `BINSTRING`, `SHORT_BINSTRING`) decode. */
export type StringEncoding = "ASCII" | "latin1" | "bytes" | "utf-8";

/** The options of {@linkcode decode} and {@linkcode Decoder}. */
export interface DecodeOptions {
  /**
   * Decode every Python `int` as a `bigint` (and every `float` as a `number`), so that ints and
   * integral floats stay apart and `encode(…, { exact: true })` restores each exactly.
   *
   * @default {false}
   */
  readonly exact?: boolean;
  /**
   * What a Python 2 `str` becomes: `"ASCII"` (CPython's default: a string, and an error for a
   * byte ≥ 0x80), `"latin1"` (a string of the bytes as code points; what numpy and datetime
   * pickles of Python 2 need), `"bytes"` (a `Uint8Array`) or `"utf-8"` (a string).
   *
   * @default {"ASCII"}
   */
  readonly encoding?: StringEncoding;
  /**
   * Map the Python 2 names of protocol 0–2 pickles to Python 3 (`__builtin__.set` →
   * `builtins.set`), like CPython's `fix_imports`.
   *
   * @default {true}
   */
  readonly fixImports?: boolean;
  /**
   * Turns a persistent id (`PERSID`, `BINPERSID`) into its object. Without it, a pickle with
   * persistent ids is rejected.
   *
   * @default {undefined}
   */
  readonly persistentLoad?: (pid: unknown) => unknown;
  /**
   * The extension registry (`copyreg.add_extension`): code → `[module, name]`, for the `EXT1`,
   * `EXT2` and `EXT4` opcodes. An unknown code is rejected.
   *
   * @default {undefined}
   */
  readonly extensions?: ReadonlyMap<number, readonly [string, string]>;
  /**
   * The out-of-band buffers of a protocol 5 pickle, in order (what `buffer_callback` received
   * when Python pickled it). `NEXT_BUFFER` pushes each as given. Without it, a pickle that
   * refers to out-of-band data is rejected.
   *
   * @default {undefined}
   */
  readonly buffers?: Iterable<Uint8Array>;
  /**
   * The deepest nesting of containers accepted (`[]` is 1, `[[]]` is 2); `Infinity` for no
   * limit.
   *
   * @default {10000}
   */
  readonly maxDepth?: number;
  /**
   * The most memo entries accepted; `Infinity` for no limit. The memo is dense (memo keys are
   * renumbered), so its size never exceeds the number of `PUT`s in the input and a sparse key
   * such as `LONG_BINPUT 2**30` costs nothing: this is a bound on memory, not a defence.
   *
   * @default {Infinity}
   */
  readonly maxMemo?: number;
  /**
   * The most decimal digits of a text int (protocol 0 `INT`/`LONG`), like CPython's
   * `sys.set_int_max_str_digits`; `Infinity` for no limit.
   *
   * @default {4300}
   */
  readonly maxIntDigits?: number;
  /**
   * The largest value accepted, counted as the nodes of its tree when every shared reference is
   * expanded; `Infinity` for no limit. A pickle without shared references has fewer nodes than
   * bytes, but memo references can describe an exponential tree in a few hundred bytes, which
   * any consumer that walks the value as a tree (`JSON.stringify`, a printer, a deep compare)
   * would never finish. 10⁸ nodes is a few seconds of such a walk.
   *
   * @default {Math.max(1e8, data.length)}
   */
  readonly maxNodes?: number;
  /**
   * The bytes of input copied into WebAssembly memory per step. `bytes`, `bytearray` and numpy
   * payloads need only their header in the window: they come out as views of the input.
   *
   * @default {1048576}
   */
  readonly windowSize?: number;
}

interface Settings {
  readonly exact: boolean;
  readonly encoding: number;
  readonly fixImports: boolean;
  readonly persistentLoad: ((pid: unknown) => unknown) | undefined;
  readonly extensions:
    | ReadonlyMap<number, readonly [string, string]>
    | undefined;
  readonly buffers: Iterable<Uint8Array> | undefined;
  readonly maxDepth: number;
  readonly maxMemo: number;
  readonly maxIntDigits: number;
  readonly maxNodes: number | undefined;
  readonly windowSize: number;
}

const ENCODINGS: Readonly<Record<string, number>> = {
  ascii: 0,
  latin1: 1,
  "latin-1": 1,
  bytes: 2,
  "utf-8": 3,
  utf8: 3,
};

/** A limit option (an integer ≥ 1, or `Infinity`) as the wasm ABI takes it: 0 for no limit. */
function limit(
  name: string,
  value: number | undefined,
  fallback: number,
  max: number,
): number {
  const chosen = value ?? fallback;
  if (chosen === Infinity || chosen > max) return 0;
  if (!Number.isInteger(chosen) || chosen < 1) {
    throw new RangeError(
      `Option ${name} must be an integer of at least 1, or Infinity, got ${chosen}`,
    );
  }
  return chosen;
}

function settingsOf(options: DecodeOptions): Settings {
  const encoding = ENCODINGS[(options.encoding ?? "ASCII").toLowerCase()];
  if (encoding === undefined) {
    throw new RangeError(
      `Option encoding must be "ASCII", "latin1", "bytes" or "utf-8", got ${
        JSON.stringify(options.encoding)
      }`,
    );
  }
  const windowSize = options.windowSize ?? 1 << 20;
  if (!Number.isInteger(windowSize) || windowSize < 1 || windowSize > 2 ** 31) {
    throw new RangeError(
      `Option windowSize must be an integer from 1 to 2**31, got ${windowSize}`,
    );
  }
  return {
    exact: options.exact ?? false,
    encoding,
    fixImports: options.fixImports ?? true,
    persistentLoad: options.persistentLoad,
    extensions: options.extensions,
    buffers: options.buffers,
    maxDepth: limit("maxDepth", options.maxDepth, 10000, 0xffffffff),
    maxMemo: limit("maxMemo", options.maxMemo, Infinity, 0xffffffff),
    maxIntDigits: limit("maxIntDigits", options.maxIntDigits, 4300, 0xffffffff),
    maxNodes: options.maxNodes === undefined
      ? undefined
      : limit("maxNodes", options.maxNodes, Infinity, Number.MAX_SAFE_INTEGER),
    windowSize,
  };
}

/**
 * A pickle decoder with fixed options, for decoding many pickles the same way.
 *
 * @example Usage
 * ```ts
 * import { Decoder } from "./mod.ts";
 * const decoder = new Decoder({ exact: true });
 * console.log(decoder.decode(new Uint8Array([0x80, 0x04, 0x4b, 0x07, 0x2e]))); // 7n
 * ```
 */
export class Decoder {
  readonly #settings: Settings;

  /**
   * Makes a decoder whose options stay fixed.
   *
   * @param options The options; see {@linkcode DecodeOptions} for each default.
   * @throws {RangeError} When an option is out of its range.
   */
  constructor(options: DecodeOptions = {}) {
    this.#settings = settingsOf(options);
  }

  /**
   * Decodes one pickle. Bytes after its `STOP` are ignored, as in CPython.
   *
   * `bytes`, `bytearray` and numpy data come out as views of `data` where they can (no copy):
   * keep `data` unchanged while you use the result, or copy what you keep.
   *
   * @param data The pickle.
   * @returns The value, with the mapping documented in `types.ts`.
   * @throws {UnpicklingError} When the pickle is malformed, over a limit, or needs an option
   * that was not given.
   * @throws {TypeError} When `data` is not a `Uint8Array`.
   */
  decode(data: Uint8Array): unknown {
    return decodeWith(this.#settings, data);
  }
}

/**
 * Decodes a Python pickle (protocols 0–5) without running any of it. Python values map to
 * JavaScript as `types.ts` documents: `None` → `null`, `int` → `number` (safe integers) or
 * `bigint`, `str` → `string`, `bytes` → `Uint8Array`, `list` → `Array`, `dict` → `Map`, `set` →
 * `Set`, and exported classes for tuple, bytearray, frozenset, datetime, Decimal, numpy arrays,
 * … Every other global becomes an inert {@linkcode PyGlobal}, every other call a
 * {@linkcode PyObject} record. Shared references and cycles keep their identity.
 *
 * Nothing is copied that need not be: `bytes` and `bytearray` values, and numpy data whose
 * alignment and byte order allow it, are views of `data` (`subarray`s of its buffer). Keep
 * `data` unchanged while you use the result, or copy what you keep.
 *
 * @example Usage
 * ```ts
 * import { decode } from "./mod.ts";
 * // pickle.dumps({"a": [1, 2.5]}, protocol=2)
 * const data = new Uint8Array([
 *   0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x5d, 0x71,
 *   0x02, 0x28, 0x4b, 0x01, 0x47, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x65, 0x73,
 *   0x2e,
 * ]);
 * console.log(decode(data)); // Map(1) { "a" => [ 1, 2.5 ] }
 * ```
 *
 * @param data The pickle. Byte payloads of the result may be views of it.
 * @param options The options; see {@linkcode DecodeOptions} for each default.
 * @returns The value.
 * @throws {UnpicklingError} When the pickle is malformed, over a limit, or needs an option that
 * was not given.
 * @throws {RangeError} When an option is out of its range.
 * @throws {TypeError} When `data` is not a `Uint8Array`.
 */
export function decode(data: Uint8Array, options?: DecodeOptions): unknown {
  return decodeWith(settingsOf(options ?? {}), data);
}

const STATUS_DONE = 0;
const STATUS_ERROR = 2;

const OPCODE_NAMES = new Map<number, string>([
  [73, "INT"],
  [74, "BININT"],
  [75, "BININT1"],
  [77, "BININT2"],
  [76, "LONG"],
  [138, "LONG1"],
  [139, "LONG4"],
  [83, "STRING"],
  [84, "BINSTRING"],
  [85, "SHORT_BINSTRING"],
  [66, "BINBYTES"],
  [67, "SHORT_BINBYTES"],
  [142, "BINBYTES8"],
  [150, "BYTEARRAY8"],
  [151, "NEXT_BUFFER"],
  [152, "READONLY_BUFFER"],
  [78, "NONE"],
  [136, "NEWTRUE"],
  [137, "NEWFALSE"],
  [86, "UNICODE"],
  [140, "SHORT_BINUNICODE"],
  [88, "BINUNICODE"],
  [141, "BINUNICODE8"],
  [70, "FLOAT"],
  [71, "BINFLOAT"],
  [93, "EMPTY_LIST"],
  [97, "APPEND"],
  [101, "APPENDS"],
  [108, "LIST"],
  [41, "EMPTY_TUPLE"],
  [116, "TUPLE"],
  [133, "TUPLE1"],
  [134, "TUPLE2"],
  [135, "TUPLE3"],
  [125, "EMPTY_DICT"],
  [100, "DICT"],
  [115, "SETITEM"],
  [117, "SETITEMS"],
  [143, "EMPTY_SET"],
  [144, "ADDITEMS"],
  [145, "FROZENSET"],
  [48, "POP"],
  [50, "DUP"],
  [40, "MARK"],
  [49, "POP_MARK"],
  [103, "GET"],
  [104, "BINGET"],
  [106, "LONG_BINGET"],
  [112, "PUT"],
  [113, "BINPUT"],
  [114, "LONG_BINPUT"],
  [148, "MEMOIZE"],
  [130, "EXT1"],
  [131, "EXT2"],
  [132, "EXT4"],
  [99, "GLOBAL"],
  [147, "STACK_GLOBAL"],
  [82, "REDUCE"],
  [98, "BUILD"],
  [105, "INST"],
  [111, "OBJ"],
  [129, "NEWOBJ"],
  [146, "NEWOBJ_EX"],
  [128, "PROTO"],
  [46, "STOP"],
  [149, "FRAME"],
  [80, "PERSID"],
  [81, "BINPERSID"],
]);

/** The name of the opcode at `offset` of the input, or `null`. */
function opcodeAt(data: Uint8Array, offset: number): string | null {
  return offset >= 0 && offset < data.length
    ? OPCODE_NAMES.get(data[offset]) ?? null
    : null;
}

function failure(
  data: Uint8Array,
  message: string,
  offset: number,
): UnpicklingError {
  return new UnpicklingError(message, offset, opcodeAt(data, offset));
}

const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Lists are copies of this empty array, never `[]` literals: V8 makes every array of a literal
 * with the element kind that earlier arrays of that literal reached, so once one list held an
 * object every later list would box each of its floats. Never modified.
 */
const NO_ITEMS: readonly unknown[] = [];

function decodeWith(settings: Settings, data: Uint8Array): unknown {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError("decode() takes the pickle as a Uint8Array");
  }
  let codec: CodecExports;
  try {
    codec = codecExports();
  } catch (error) {
    throw new UnpicklingError(
      `The pickle codec could not be instantiated: ${(error as Error).message}`,
      -1,
      null,
      { cause: error },
    );
  }
  const machine = new Machine(settings, data);
  let handle = 0;
  let windowPtr = 0;
  let windowCapacity = 0;
  let offset = 0;
  try {
    handle = codec.lsa_decoder_new(
      data.length,
      settings.encoding,
      settings.maxDepth,
      settings.maxMemo,
      settings.maxIntDigits,
      settings.maxNodes ?? Math.max(1e8, data.length),
    );
    let need = 0;
    // A copy of the result block: the memory may grow (and its views go empty) during a step.
    const block = new Float64Array(14);
    for (;;) {
      const length = Math.min(
        Math.max(settings.windowSize, need),
        data.length - offset,
      );
      if (windowPtr === 0 || length > windowCapacity) {
        if (windowPtr !== 0) codec.lsa_free(windowPtr, windowCapacity);
        windowPtr = 0;
        windowCapacity = Math.max(length, 8);
        windowPtr = codec.lsa_alloc(windowCapacity);
      }
      new Uint8Array(codec.memory.buffer, windowPtr, length).set(
        data.subarray(offset, offset + length),
      );
      const status = codec.lsa_decoder_step(handle, windowPtr, length, offset);
      block.set(
        new Float64Array(
          codec.memory.buffer,
          codec.lsa_decoder_result(handle),
          14,
        ),
      );
      if (status === STATUS_ERROR) {
        const at = block[11];
        const bytes = new Uint8Array(codec.memory.buffer);
        const size = new DataView(bytes.buffer).getUint32(at, true);
        const message = textDecoder.decode(
          bytes.subarray(at + 4, at + 4 + size),
        );
        throw failure(data, message, block[10]);
      }
      machine.run(codec, block, offset);
      if (status === STATUS_DONE) return machine.finish();
      const next = block[9];
      need = block[10];
      if (next < offset || (next === offset && need <= length)) {
        throw failure(
          data,
          `Decoder made no progress at byte ${offset}`,
          offset,
        );
      }
      offset = next;
    }
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) {
      discardInstance();
      throw new UnpicklingError(
        `The pickle codec failed (${error.message}) in the input window at byte ${offset}`,
        offset,
        opcodeAt(data, offset),
        { cause: error },
      );
    }
    throw error;
  } finally {
    // After a trap the instance is discarded, and its memory with it.
    if (isCurrentInstance(codec)) {
      if (windowPtr !== 0) codec.lsa_free(windowPtr, windowCapacity);
      if (handle !== 0) codec.lsa_decoder_free(handle);
    }
  }
}

/** Reads an absolute input offset written as two words (low, high). */
function wideWord(tape: Int32Array, at: number): number {
  return (tape[at] >>> 0) + tape[at + 1] * 4294967296;
}

// Every store into a list or tuple is in a small function of its own, outside `Machine.run`: a
// store site that every kind of list passes through goes megamorphic in a process that decodes
// different data, and a map it has not seen deoptimizes the function it is in; recompiling
// `run` costs milliseconds, recompiling one of these almost nothing. Runs of one kind of value
// have functions of their own, so that their sites stay monomorphic. A list grows once per run
// and is filled by index (`push` cost 10 ns a float here, this 3–4).

/** A tuple of the stack's `[from, end)`. */
function tupleOf(stack: unknown[], from: number, end: number): Tuple {
  const tuple = new Tuple(end - from);
  for (let i = from; i < end; i++) tuple[i - from] = stack[i];
  return tuple;
}

/** Appends the stack's `[from, end)` to a list. */
function appendValues(
  list: unknown[],
  stack: unknown[],
  from: number,
  end: number,
): void {
  const start = list.length - from;
  list.length = start + end;
  let numbers = true;
  for (let i = from; i < end && numbers; i++) {
    numbers = typeof stack[i] === "number";
  }
  // Numbers get a store of their own: V8's store caches remember that this one made lists of
  // strings generic and would box every float of a list of floats as well.
  if (numbers) {
    for (let i = from; i < end; i++) list[start + i] = stack[i] as number;
  } else {
    for (let i = from; i < end; i++) list[start + i] = stack[i];
  }
}

function appendBigInts(
  list: unknown[],
  tape: Int32Array,
  from: number,
  count: number,
): void {
  const start = list.length - from;
  list.length = start + from + count;
  for (let i = from, end = from + count; i < end; i++) {
    list[start + i] = BigInt(tape[i]);
  }
}

/**
 * The floats of an `APPEND_FLOATS` in `exact` decodes, whose lists of numbers hold `bigint`s:
 * a store of their own, because one that saw a list of objects would box the floats of every
 * later list.
 */
function appendExactFloats(
  list: unknown[],
  floats: DataView,
  from: number,
  count: number,
): void {
  const start = list.length - from;
  list.length = start + from + count;
  for (let i = from, end = from + count; i < end; i++) {
    list[start + i] = floats.getFloat64(8 * i);
  }
}

/**
 * The numbers that runs of `APPENDS` batches (`APPEND_INT32S`, `APPEND_FLOATS`, 1,000 items
 * each) give one list, gathered in a typed array (across windows) and stored into the list at
 * once when any other instruction comes: V8 grows an array extended 1,000 items at a time some
 * 30 times on the way to a million, which cost more than everything else a list of numbers
 * needs (1e6 ints: the list alone ~10 → ~3.5 ms in isolation).
 */
class NumberRuns {
  #list: unknown[] | null = null;
  #floats = false;
  #count = 0;
  #ints = new Int32Array(1024);
  #doubles = new Float64Array(1024);

  /** Gathers `count` ints of `tape` from `from` on for `list`. */
  addInts(list: unknown[], tape: Int32Array, from: number, count: number) {
    if (list !== this.#list || this.#floats) this.#start(list, false);
    if (this.#count + count > this.#ints.length) {
      this.#ints = grown(this.#ints, this.#count + count);
    }
    this.#ints.set(tape.subarray(from, from + count), this.#count);
    this.#count += count;
  }

  /** Gathers `count` floats of the big-endian float stream from slot `from` on for `list`. */
  addFloats(list: unknown[], floats: DataView, from: number, count: number) {
    if (list !== this.#list || !this.#floats) this.#start(list, true);
    if (this.#count + count > this.#doubles.length) {
      this.#doubles = grown(this.#doubles, this.#count + count);
    }
    const doubles = this.#doubles;
    for (let i = 0, at = this.#count; i < count; i++) {
      doubles[at + i] = floats.getFloat64(8 * (from + i));
    }
    this.#count += count;
  }

  /** Whether numbers wait to be stored into their list. */
  get gathering(): boolean {
    return this.#list !== null;
  }

  /** Stores what was gathered into its list. */
  flush(): void {
    const list = this.#list;
    if (list === null) return;
    if (this.#floats) fillNumbers(list, this.#doubles, this.#count);
    else fillInts(list, this.#ints, this.#count);
    this.#list = null;
    this.#count = 0;
  }

  #start(list: unknown[], floats: boolean): void {
    this.flush();
    this.#list = list;
    this.#floats = floats;
  }
}

/** A copy of `array`'s items in an array of at least `size` items. */
function grown<T extends Int32Array | Float64Array>(array: T, size: number): T {
  const bigger = new (array.constructor as new (size: number) => T)(
    Math.max(2 * array.length, size),
  );
  bigger.set(array);
  return bigger;
}

function fillInts(list: unknown[], ints: Int32Array, count: number): void {
  const start = list.length;
  list.length = start + count;
  for (let i = 0; i < count; i++) list[start + i] = ints[i];
}

/** `fillInts` for floats: a store of its own, so that each stays monomorphic. */
function fillNumbers(
  list: unknown[],
  doubles: Float64Array,
  count: number,
): void {
  const start = list.length;
  list.length = start + count;
  for (let i = 0; i < count; i++) list[start + i] = doubles[i];
}

/**
 * Where the instructions `op` that follow one another in `tape` from `pc` (the first one's
 * count) end: runs appended to one list, `width` words an item. Consecutive runs go into the
 * list at once, so that it grows once: V8 grows an array extended 1,000 items at a time a
 * dozen times on the way to 100,000, and once the young generation has grown (after any large
 * decode) each of those copies lands in cold memory (`manyrefs_1e5` in such a heap: 2.0 ms in
 * batches, 1.1 ms at once).
 */
function runsEnd(
  tape: Int32Array,
  pc: number,
  end: number,
  op: number,
  width: number,
): number {
  let at = pc + 1 + width * tape[pc];
  while (at < end && tape[at] === op) at += 2 + width * tape[at + 1];
  return at;
}

/** The items of the runs from `pc` to `next` (see {@linkcode runsEnd}). */
function runsItems(
  tape: Int32Array,
  pc: number,
  next: number,
  width: number,
): number {
  let items = 0;
  for (let run = pc; run < next; run += 2 + width * tape[run]) {
    items += tape[run];
  }
  return items;
}

/** Appends the memo values of the `APPEND_GETS` runs from `pc` to `next` to a list. */
function appendSlots(
  list: unknown[],
  memo: unknown[],
  tape: Int32Array,
  pc: number,
  next: number,
): void {
  let index = list.length;
  list.length = index + runsItems(tape, pc, next, 1);
  // Each run is its count and its slots; the next run's op follows.
  for (let run = pc; run < next; run += 2 + tape[run]) {
    for (let at = run + 1, stop = run + 1 + tape[run]; at < stop; at++) {
      list[index++] = memo[tape[at]];
    }
  }
}

/**
 * Appends the strings of the `APPEND_STRS` runs from `pc` to `next`, cut from `text` from `at`
 * on, to a list, memoizing each: their lengths and memo slots are each run's pairs. Returns
 * where the text continues.
 */
function appendStrings(
  list: unknown[],
  memo: unknown[],
  text: string,
  at: number,
  tape: Int32Array,
  pc: number,
  next: number,
): number {
  let index = list.length;
  list.length = index + runsItems(tape, pc, next, 2);
  for (let run = pc; run < next; run += 2 + 2 * tape[run]) {
    for (
      let pair = run + 1, stop = run + 1 + 2 * tape[run];
      pair < stop;
      pair += 2
    ) {
      const value = text.slice(at, at += tape[pair]);
      memo[tape[pair + 1]] = value;
      list[index++] = value;
    }
  }
  return at;
}

/**
 * Sets `pairs` keys and values, strings of `text` from `at` on, in a dict, memoizing each: their
 * lengths and memo slots are the pairs of `tape` from `from` on. Returns where the text
 * continues.
 */
function setStrings(
  dict: Map<unknown, unknown>,
  memo: unknown[],
  text: string,
  at: number,
  tape: Int32Array,
  from: number,
  pairs: number,
): number {
  for (let i = from, end = from + 4 * pairs; i < end; i += 4) {
    const key = text.slice(at, at += tape[i]);
    memo[tape[i + 1]] = key;
    const value = text.slice(at, at += tape[i + 2]);
    memo[tape[i + 3]] = value;
    dict.set(key, value);
  }
  return at;
}

function describe(value: unknown): string {
  if (value === null) return "None";
  if (value instanceof PyObject) return `a record of ${String(value.cls)}`;
  const type = typeof value === "object"
    ? value.constructor?.name ?? "object"
    : typeof value;
  return `a value of type ${type}`;
}

/** The state of one decode: the value stack and the memo, kept across the steps. */
class Machine implements ReducerScope {
  readonly exact: boolean;
  readonly maxIntDigits: number;
  readonly #settings: Settings;
  readonly #data: Uint8Array;
  readonly #stack: unknown[] = [];
  #sp = 0;
  readonly #memo: unknown[] = [];
  readonly #globals = new Map<string, Map<string, PyGlobal>>();
  readonly #reducers = new Map<PyGlobal, Reducer>();
  readonly #builds = new Map<object, readonly [Builder, boolean]>();
  #buffers: Iterator<Uint8Array> | undefined;
  /** The out-of-band buffers pushed so far, and the buffers `READONLY_BUFFER` marked. */
  readonly #outOfBand = new WeakSet<object>();
  readonly #readOnly = new WeakSet<object>();
  #protocol = 0;
  #from = 0;
  #result: unknown = undefined;
  #tape: Int32Array = new Int32Array(0);
  #floats: Float64Array = new Float64Array(0);
  #floatBits: BigInt64Array = new BigInt64Array(0);
  /** The float stream's bytes: the slots of `FLOAT`, `FLOATS`, `APPEND_FLOATS` are big-endian. */
  #floatBytes: DataView = new DataView(new ArrayBuffer(0));
  #units: Uint16Array = new Uint16Array(0);
  #arena: Uint8Array = new Uint8Array(0);
  readonly #numberRuns = new NumberRuns();

  constructor(settings: Settings, data: Uint8Array) {
    this.exact = settings.exact;
    this.maxIntDigits = settings.maxIntDigits;
    this.#settings = settings;
    this.#data = data;
  }

  expectBuild(target: object, builder: Builder, required: boolean): void {
    this.#builds.set(target, [builder, required]);
  }

  /**
   * An error found while running the tape, which has no byte offsets: it names where the step
   * began instead.
   */
  #fail(message: string): UnpicklingError {
    return new UnpicklingError(
      `${message} (in the opcodes from byte ${this.#from})`,
    );
  }

  isReadOnly(buffer: unknown): boolean {
    if (!(buffer instanceof Uint8Array) || buffer instanceof ByteArray) {
      return false;
    }
    return this.#readOnly.has(buffer) || !this.#outOfBand.has(buffer);
  }

  newObject(cls: unknown, args: Tuple): unknown {
    return this.#call("newobj", cls, args);
  }

  /** The result, once `STOP` ran and every object that needs a `BUILD` got it. */
  finish(): unknown {
    for (const [target, [, required]] of this.#builds) {
      if (required) {
        throw this.#fail(
          `The pickle made ${describe(target)} but never gave it its state`,
        );
      }
    }
    return this.#result;
  }

  /** Views of one step's streams; made again after user code, which may grow the memory. */
  #view(codec: CodecExports, block: Float64Array): void {
    const memory = codec.memory.buffer;
    this.#tape = new Int32Array(memory, block[1], block[2]);
    this.#floats = new Float64Array(memory, block[3], block[4]);
    this.#floatBits = new BigInt64Array(memory, block[3], block[4]);
    this.#floatBytes = new DataView(memory, block[3], block[4] * 8);
    this.#units = new Uint16Array(memory, block[7], block[8]);
    this.#arena = new Uint8Array(memory, block[12], block[13]);
  }

  /** Executes one step's tape. */
  run(codec: CodecExports, block: Float64Array, from: number): void {
    this.#from = from;
    this.#view(codec, block);
    const text = block[6] === 0 ? "" : textDecoder.decode(
      new Uint8Array(codec.memory.buffer, block[5], block[6]),
    );
    // The stack never shrinks: `sp` is its height, so pops cost no reallocation.
    const stack = this.#stack;
    const memo = this.#memo;
    const data = this.#data;
    const exact = this.exact;
    let sp = this.#sp;
    let tape = this.#tape;
    let floats = this.#floats;
    let floatBits = this.#floatBits;
    let floatBytes = this.#floatBytes;
    let pc = 0;
    let fp = 0;
    let tp = 0;
    let up = 0;
    let bp = 0;
    const end = tape.length;
    const numberRuns = this.#numberRuns;
    // Whether `numberRuns` holds numbers: anything but another run into the list stores them.
    let gathering = numberRuns.gathering;
    while (pc < end) {
      const op = tape[pc++];
      if (gathering && op !== 47 && op !== 48) {
        numberRuns.flush();
        gathering = false;
      }
      switch (op) {
        case 0: // STOP
          this.#result = stack[--sp];
          break;
        case 1: // NONE
          stack[sp++] = null;
          break;
        case 2: // TRUE
          stack[sp++] = true;
          break;
        case 3: // FALSE
          stack[sp++] = false;
          break;
        case 4: // INT32
          stack[sp++] = exact ? BigInt(tape[pc++]) : tape[pc++];
          break;
        case 5: { // INT_F64
          const value = floats[fp++];
          stack[sp++] = exact ? BigInt(value) : value;
          break;
        }
        case 6: { // INT_TEXT
          const value = BigInt(text.slice(tp, tp += tape[pc++]));
          stack[sp++] = exact ? value : demote(value);
          break;
        }
        case 7: { // INT_HEX
          const length = tape[pc++];
          let value = length === 0
            ? 0n
            : BigInt("0x" + text.slice(tp, tp += length));
          if (tape[pc++] === 1) value = -value;
          stack[sp++] = exact ? value : demote(value);
          break;
        }
        case 8: // FLOAT
          stack[sp++] = floatBytes.getFloat64(8 * fp++);
          break;
        case 9: { // STR
          const value = text.slice(tp, tp += tape[pc++]);
          stack[sp++] = value;
          // Pickles memoize every string: its `PUT` is done here, without another dispatch.
          if (tape[pc] === 28) {
            memo[tape[pc + 1]] = value;
            pc += 2;
          }
          break;
        }
        case 10: { // STR16
          const count = tape[pc++];
          stack[sp++] = unitsText(this.#units, up, count);
          up += count;
          break;
        }
        case 11: { // BYTES
          const start = wideWord(tape, pc);
          stack[sp++] = data.subarray(start, start + wideWord(tape, pc + 2));
          pc += 4;
          break;
        }
        case 12: // BYTEARRAY
          stack[sp++] = new ByteArray(
            data.buffer as ArrayBuffer,
            data.byteOffset + wideWord(tape, pc),
            wideWord(tape, pc + 2),
          );
          pc += 4;
          break;
        case 13: // ARENA_BYTES
          stack[sp++] = this.#arena.slice(bp, bp += tape[pc++]);
          break;
        case 14: // EMPTY_LIST
          stack[sp++] = NO_ITEMS.slice();
          break;
        case 15: // EMPTY_DICT
          stack[sp++] = new Map();
          break;
        case 16: // EMPTY_SET
          stack[sp++] = new Set();
          break;
        case 17: { // LIST
          const base = sp - tape[pc++];
          const list = stack.slice(base, sp);
          sp = base;
          stack[sp++] = list;
          break;
        }
        case 18: { // TUPLE
          const base = sp - tape[pc++];
          const tuple = tupleOf(stack, base, sp);
          sp = base;
          stack[sp++] = tuple;
          break;
        }
        case 19: { // DICT
          const base = sp - 2 * tape[pc++];
          const dict = new Map();
          for (let i = base; i < sp; i += 2) dict.set(stack[i], stack[i + 1]);
          sp = base;
          stack[sp++] = dict;
          break;
        }
        case 20: { // FROZENSET
          const base = sp - tape[pc++];
          const set = new FrozenSet();
          for (let i = base; i < sp; i++) set.add(stack[i]);
          sp = base;
          stack[sp++] = set;
          break;
        }
        case 21: { // APPEND
          const target = stack[sp - 2];
          if (Array.isArray(target) && target.constructor === Array) {
            appendValues(target, stack, sp - 1, sp);
          } else {
            this.#extend(target, sp - 1, sp, "APPEND");
          }
          sp--;
          break;
        }
        case 22: { // APPENDS
          const base = sp - tape[pc++];
          const target = stack[base - 1];
          if (Array.isArray(target) && target.constructor === Array) {
            appendValues(target, stack, base, sp);
          } else {
            this.#extend(target, base, sp, "APPENDS");
          }
          sp = base;
          break;
        }
        case 23: { // SETITEM
          const target = stack[sp - 3];
          if (target instanceof Map) target.set(stack[sp - 2], stack[sp - 1]);
          else this.#setItems(target, sp - 2, sp, "SETITEM");
          sp -= 2;
          break;
        }
        case 24: { // SETITEMS
          const base = sp - 2 * tape[pc++];
          const target = stack[base - 1];
          if (target instanceof Map) {
            for (let i = base; i < sp; i += 2) {
              target.set(stack[i], stack[i + 1]);
            }
          } else {
            this.#setItems(target, base, sp, "SETITEMS");
          }
          sp = base;
          break;
        }
        case 25: { // ADDITEMS
          const base = sp - tape[pc++];
          const target = stack[base - 1];
          if (target instanceof Set && !(target instanceof FrozenSet)) {
            for (let i = base; i < sp; i++) target.add(stack[i]);
          } else if (target instanceof PyObject) {
            for (let i = base; i < sp; i++) target.setItems.push(stack[i]);
          } else {
            throw this.#fail(
              `ADDITEMS cannot add items to ${describe(target)}`,
            );
          }
          sp = base;
          break;
        }
        case 26: // POP
          sp -= tape[pc++];
          break;
        case 27: // DUP
          stack[sp] = stack[sp - 1];
          sp++;
          break;
        case 28: // PUT
          memo[tape[pc++]] = stack[sp - 1];
          break;
        case 29: // GET
          stack[sp++] = memo[tape[pc++]];
          break;
        case 30: // GLOBAL
          sp--;
          stack[sp - 1] = this.#global(stack[sp - 1], stack[sp]);
          break;
        case 31: // REDUCE
          sp--;
          stack[sp - 1] = this.#call("reduce", stack[sp - 1], stack[sp]);
          break;
        case 32: // BUILD
          sp--;
          this.#build(stack[sp - 1], stack[sp]);
          break;
        case 33: // NEWOBJ
          sp--;
          stack[sp - 1] = this.#call("newobj", stack[sp - 1], stack[sp]);
          break;
        case 34: { // NEWOBJ_EX
          sp -= 2;
          const kwargs = stack[sp + 1];
          if (!(kwargs instanceof Map)) {
            throw this.#fail(
              `NEWOBJ_EX keyword arguments must be a dict, not ${
                describe(kwargs)
              }`,
            );
          }
          stack[sp - 1] = kwargs.size === 0
            ? this.#call("newobj", stack[sp - 1], stack[sp])
            : this.#withKeywords(stack[sp - 1], stack[sp], kwargs);
          break;
        }
        case 35: { // INST
          sp -= 2;
          const cls = this.#global(stack[sp], stack[sp + 1]);
          const base = sp - tape[pc++];
          const args = tupleOf(stack, base, sp);
          sp = base;
          stack[sp++] = new PyObject("inst", cls, args);
          break;
        }
        case 36: { // OBJ
          const base = sp - tape[pc++];
          const args = tupleOf(stack, base, sp);
          sp = base;
          stack[sp - 1] = new PyObject("obj", stack[sp - 1], args);
          break;
        }
        case 39: { // EXT
          const code = tape[pc++] >>> 0;
          stack[sp++] = this.#extension(code, wideWord(tape, pc));
          pc += 2;
          break;
        }
        case 37: // PERSID
        case 38: // BINPERSID
        case 40: { // NEXT_BUFFER
          const at = wideWord(tape, pc);
          pc += 2;
          if (op === 40) stack[sp++] = this.#nextBuffer(at);
          else stack[sp - 1] = this.#persistent(stack[sp - 1], at);
          // The caller's code ran and may have grown the memory: the views are made again.
          this.#view(codec, block);
          tape = this.#tape;
          floats = this.#floats;
          floatBits = this.#floatBits;
          floatBytes = this.#floatBytes;
          break;
        }
        case 41: { // READONLY_BUFFER
          const top = stack[sp - 1];
          if (top instanceof ByteArray) {
            stack[sp - 1] = new Uint8Array(
              top.buffer,
              top.byteOffset,
              top.length,
            );
          } else if (top instanceof Uint8Array) {
            this.#readOnly.add(top);
          }
          break;
        }
        case 42: // PROTO
          this.#protocol = tape[pc++];
          break;
        case 43: // INT64
          stack[sp++] = floatBits[fp++];
          break;
        case 44: { // INT32S
          const count = tape[pc++];
          for (let i = 0; i < count; i++) {
            stack[sp++] = exact ? BigInt(tape[pc++]) : tape[pc++];
          }
          break;
        }
        case 45: { // FLOATS
          const count = tape[pc++];
          for (let i = 0; i < count; i++) {
            stack[sp++] = floatBytes.getFloat64(8 * fp++);
          }
          break;
        }
        case 46: { // GETS
          const count = tape[pc++];
          for (let i = 0; i < count; i++) stack[sp++] = memo[tape[pc++]];
          break;
        }
        case 47: { // APPEND_INT32S
          const count = tape[pc++];
          const list = stack[sp - 1] as unknown[];
          if (exact) appendBigInts(list, tape, pc, count);
          else {
            numberRuns.addInts(list, tape, pc, count);
            gathering = true;
          }
          pc += count;
          break;
        }
        case 48: { // APPEND_FLOATS
          const count = tape[pc++];
          const list = stack[sp - 1] as unknown[];
          if (exact) appendExactFloats(list, floatBytes, fp, count);
          else {
            numberRuns.addFloats(list, floatBytes, fp, count);
            gathering = true;
          }
          fp += count;
          break;
        }
        case 49: { // APPEND_GETS
          const next = runsEnd(tape, pc, end, 49, 1);
          appendSlots(stack[sp - 1] as unknown[], memo, tape, pc, next);
          pc = next;
          break;
        }
        case 50: { // APPEND_STRS
          const next = runsEnd(tape, pc, end, 50, 2);
          const list = stack[sp - 1] as unknown[];
          tp = appendStrings(list, memo, text, tp, tape, pc, next);
          pc = next;
          break;
        }
        case 51: { // SETITEMS_STRS
          const pairs = tape[pc++];
          const dict = stack[sp - 1] as Map<unknown, unknown>;
          tp = setStrings(dict, memo, text, tp, tape, pc, pairs);
          pc += 4 * pairs;
          break;
        }
        default:
          throw this.#fail(
            `Unknown tape instruction ${op} at word ${
              pc - 1
            }: the codec module and decode.ts disagree`,
          );
      }
    }
    this.#sp = sp;
  }

  #global(module: unknown, name: unknown): PyGlobal {
    if (typeof module !== "string" || typeof name !== "string") {
      throw this.#fail(
        `A global's module and name must be strings, not ${
          describe(module)
        } and ${describe(name)}`,
      );
    }
    if (this.#protocol < 3 && this.#settings.fixImports) {
      [module, name] = fromPython2Name(module, name);
    }
    let byName = this.#globals.get(module as string);
    if (byName === undefined) {
      byName = new Map();
      this.#globals.set(module as string, byName);
    }
    let global = byName.get(name as string);
    if (global === undefined) {
      global = new PyGlobal(module as string, name as string);
      byName.set(name as string, global);
      const reducer = findReducer(module as string, name as string);
      if (reducer !== undefined) this.#reducers.set(global, reducer);
    }
    return global;
  }

  #call(kind: "reduce" | "newobj", callable: unknown, args: unknown): unknown {
    if (!(args instanceof Tuple)) {
      throw this.#fail(
        `${kind.toUpperCase()} arguments must be a tuple, not ${
          describe(args)
        }`,
      );
    }
    const reducer = callable instanceof PyGlobal
      ? this.#reducers.get(callable)
      : undefined;
    const apply = kind === "reduce" ? reducer?.call : reducer?.newObj;
    if (apply !== undefined) {
      const value = apply(args, this);
      if (value !== undefined) return value;
    }
    return new PyObject(kind, callable, args);
  }

  /** `cls.__new__(cls, *args, **kwargs)`: always a record, no reducer takes keywords. */
  #withKeywords(
    cls: unknown,
    args: unknown,
    kwargs: Map<unknown, unknown>,
  ): PyObject {
    if (!(args instanceof Tuple)) {
      throw this.#fail(
        `NEWOBJ_EX arguments must be a tuple, not ${describe(args)}`,
      );
    }
    return new PyObject("newobj_ex", cls, args, kwargs);
  }

  #build(target: unknown, state: unknown): void {
    if (target instanceof PyObject) {
      const previous = target.state;
      if (previous instanceof Map && state instanceof Map) {
        target.state = new Map([...previous, ...state]);
      } else {
        target.state = state;
      }
      return;
    }
    const entry = typeof target === "object" && target !== null
      ? this.#builds.get(target)
      : undefined;
    if (entry !== undefined) {
      if (!entry[0](target as object, state)) {
        throw this.#fail(
          `BUILD state of ${describe(target)} is not one it accepts`,
        );
      }
      this.#builds.delete(target as object);
      return;
    }
    if (state !== null) {
      throw this.#fail(
        `BUILD cannot give a state to ${describe(target)}`,
      );
    }
  }

  /** APPEND(S) of the stack's `[base, end)` onto what is not a plain list: a deque, a record. */
  #extend(target: unknown, base: number, end: number, opcode: string): void {
    const stack = this.#stack;
    if (target instanceof PyObject) {
      for (let i = base; i < end; i++) target.listItems.push(stack[i]);
    } else if (Array.isArray(target) && !(target instanceof Tuple)) {
      for (let i = base; i < end; i++) target.push(stack[i]);
      if (target instanceof Deque && target.maxlen !== null) {
        const excess = target.length - target.maxlen;
        if (excess > 0) target.splice(0, excess);
      }
    } else {
      throw this.#fail(
        `${opcode} cannot add items to ${describe(target)}`,
      );
    }
  }

  /** SETITEM(S) of the stack's pairs in `[base, end)` onto what is not a dict: a record. */
  #setItems(target: unknown, base: number, end: number, opcode: string): void {
    const stack = this.#stack;
    if (target instanceof PyObject) {
      for (let i = base; i < end; i += 2) {
        target.dictItems.set(stack[i], stack[i + 1]);
      }
    } else {
      throw this.#fail(
        `${opcode} cannot set items on ${describe(target)}`,
      );
    }
  }

  #persistent(pid: unknown, at: number): unknown {
    const load = this.#settings.persistentLoad;
    if (load === undefined) {
      throw failure(
        this.#data,
        `A persistent id at byte ${at} needs the persistentLoad option`,
        at,
      );
    }
    return load(pid);
  }

  #extension(code: number, at: number): PyGlobal {
    const entry = this.#settings.extensions?.get(code);
    if (entry === undefined) {
      throw failure(
        this.#data,
        `Unregistered extension code ${code} at byte ${at}`,
        at,
      );
    }
    return this.#global(entry[0], entry[1]);
  }

  #nextBuffer(at: number): Uint8Array {
    if (this.#buffers === undefined) {
      const buffers = this.#settings.buffers;
      if (buffers === undefined) {
        throw failure(
          this.#data,
          `The pickle refers to out-of-band data at byte ${at} but no buffers option was given`,
          at,
        );
      }
      this.#buffers = buffers[Symbol.iterator]();
    }
    const next = this.#buffers.next();
    if (next.done) {
      throw failure(
        this.#data,
        `Not enough out-of-band buffers for the one at byte ${at}`,
        at,
      );
    }
    if (typeof next.value === "object" && next.value !== null) {
      this.#outOfBand.add(next.value);
    }
    return next.value;
  }
}
