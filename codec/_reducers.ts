/**
 * The native reducers: the only Python globals the decoder gives a meaning to. Each is a pure
 * function from the pickled arguments (and later `BUILD` state) to a JavaScript value; nothing
 * is ever looked up or called by name. A reducer that does not understand its arguments returns
 * `undefined`, and the decoder keeps the call as an inert `PyObject` instead.
 *
 * @module
 */

import {
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
  PyTime,
  PyTimeDelta,
  PyTimeZone,
  Tuple,
  UUID,
} from "./types.ts";

/**
 * Applies a `BUILD` state to an object a reducer made; returns `false` when the state is not
 * one it understands.
 */
export type Builder = (target: object, state: unknown) => boolean;

/** What a reducer may ask of the decode in progress. */
export interface ReducerScope {
  /** `true` when every Python int decodes as `bigint`. */
  readonly exact: boolean;
  /** The most digits of an int's decimal text (`maxIntDigits`); 0 for no limit. */
  readonly maxIntDigits: number;
  /**
   * Registers how a later `BUILD` applies to `target`. When `required`, the object is not
   * complete without one, and a pickle that never builds it is rejected.
   */
  expectBuild(target: object, builder: Builder, required: boolean): void;
  /** `cls.__new__(cls, *args)` as `NEWOBJ` does it: a reducer's object or a record. */
  newObject(cls: unknown, args: Tuple): unknown;
  /**
   * Whether a buffer is read-only in Python: `bytes`, or a buffer that `READONLY_BUFFER`
   * marked; not a `bytearray` or an out-of-band buffer without that mark.
   */
  isReadOnly(buffer: unknown): boolean;
}

/** The meaning of one global: as a callable (`REDUCE`) and/or as a class (`NEWOBJ`). */
export interface Reducer {
  /** `callable(*args)`; `undefined` when the arguments are not understood. */
  readonly call?: (args: Tuple, scope: ReducerScope) => unknown;
  /** `cls.__new__(cls, *args)`; `undefined` when the arguments are not understood. */
  readonly newObj?: (args: Tuple, scope: ReducerScope) => unknown;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Argument readers: each returns `undefined` for what it does not accept.

/** A Python int (or bool) as a safe JS integer. */
function intOf(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) ? value : undefined;
  }
  if (typeof value === "bigint") {
    return value >= -9007199254740991n && value <= 9007199254740991n
      ? Number(value)
      : undefined;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  return undefined;
}

/** A Python int or float as a JS number. */
function floatOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return undefined;
}

/** A Python int of any size as a bigint. */
function bigIntOf(value: unknown): bigint | undefined {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    return BigInt(value);
  }
  return undefined;
}

/**
 * A string whose code units are all below 256 as the bytes it stands for (Python 2 `str`, and
 * protocol-2 `bytes` through `_codecs.encode`).
 */
function latin1Bytes(text: string): Uint8Array | undefined {
  // The plain loop is the fastest way measured (64 M characters: 119 ms, 171 ms when the string
  // is a slice of a larger one): unrolled or by chunks it is not faster, and the platform's
  // routes (`TextEncoder.encodeInto` then UTF-8 → Latin-1, `btoa` then `fromBase64`) are slower.
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 255) return undefined;
    out[i] = code;
  }
  return out;
}

/** `bytes`/`bytearray`, or a Python 2 `str` that the `encoding` option made latin-1 text. */
function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return latin1Bytes(value);
  return undefined;
}

/** The items of a Python iterable that pickles produce: list, tuple, set, dict keys. */
function itemsOf(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof Set) return [...value];
  if (value instanceof Map) return [...value.keys()];
  return undefined;
}

/** A shape tuple as non-negative safe integers. */
function shapeOf(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const shape: number[] = [];
  for (const dim of value) {
    const n = intOf(dim);
    if (n === undefined || n < 0) return undefined;
    shape.push(n);
  }
  return shape;
}

function isGlobal(value: unknown, module: string, name: string): boolean {
  return value instanceof PyGlobal && value.module === module &&
    value.name === name;
}

const LATIN1_NAMES = new Set([
  "latin1",
  "latin-1",
  "latin_1",
  "iso-8859-1",
  "iso8859-1",
  "iso_8859_1",
  "l1",
]);

/** Encodes `text` as Python's `str.encode(encoding)` would, for latin-1 and ASCII only. */
function encodeText(text: string, encoding: unknown): Uint8Array | undefined {
  if (typeof encoding !== "string") return undefined;
  const name = encoding.toLowerCase();
  if (LATIN1_NAMES.has(name)) return latin1Bytes(text);
  if (name === "ascii" || name === "us-ascii") {
    const bytes = latin1Bytes(text);
    return bytes !== undefined && bytes.every((b) => b < 128)
      ? bytes
      : undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// builtins

function setItems(args: Tuple): unknown[] | undefined {
  if (args.length === 0) return [];
  return args.length === 1 ? itemsOf(args[0]) : undefined;
}

function byteArrayOf(args: Tuple): ByteArray | undefined {
  if (args.length === 0) return new ByteArray(0);
  let bytes: Uint8Array | undefined;
  if (args.length === 1) {
    bytes = args[0] instanceof Uint8Array ? args[0] : byteList(args[0]);
  } else if (args.length === 2 && typeof args[0] === "string") {
    bytes = encodeText(args[0], args[1]);
  }
  if (bytes === undefined) return undefined;
  return new ByteArray(
    bytes.buffer as ArrayBuffer,
    bytes.byteOffset,
    bytes.length,
  );
}

/** A list of ints 0–255 as bytes. */
function byteList(value: unknown): Uint8Array | undefined {
  if (!Array.isArray(value)) return undefined;
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const n = intOf(value[i]);
    if (n === undefined || n < 0 || n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function bytesCall(args: Tuple): Uint8Array | undefined {
  if (args.length === 0) return new Uint8Array(0);
  if (args.length === 1) {
    const arg = args[0];
    if (arg instanceof Uint8Array && !(arg instanceof ByteArray)) return arg;
    return arg instanceof Uint8Array ? Uint8Array.from(arg) : byteList(arg);
  }
  if (args.length === 2 && typeof args[0] === "string") {
    return encodeText(args[0], args[1]);
  }
  return undefined;
}

function complexCall(args: Tuple): Complex | undefined {
  if (args.length > 2) return undefined;
  const real = args.length > 0 ? floatOf(args[0]) : 0;
  const imag = args.length > 1 ? floatOf(args[1]) : 0;
  return real === undefined || imag === undefined
    ? undefined
    : new Complex(real, imag);
}

function dictCall(args: Tuple, into: Map<unknown, unknown>) {
  if (args.length === 0) return into;
  if (args.length !== 1) return undefined;
  const source = args[0];
  if (source instanceof Map) {
    for (const [key, value] of source) into.set(key, value);
    return into;
  }
  if (!Array.isArray(source)) return undefined;
  for (const pair of source) {
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    into.set(pair[0], pair[1]);
  }
  return into;
}

const DECIMAL_INT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;

function intCall(args: Tuple, scope: ReducerScope): unknown {
  if (args.length === 0) return scope.exact ? 0n : 0;
  if (args.length !== 1) return undefined;
  const arg = args[0];
  let value: bigint;
  if (typeof arg === "bigint") value = arg;
  else if (typeof arg === "number" && Number.isInteger(arg)) {
    value = BigInt(arg);
  } else if (typeof arg === "boolean") value = arg ? 1n : 0n;
  else if (typeof arg === "string" && DECIMAL_INT.test(arg)) {
    const digits = arg.trim().replace(/^[+-]/, "").replaceAll("_", "");
    // CPython refuses the text then (ValueError): the call stays an inert record.
    if (scope.maxIntDigits !== 0 && digits.length > scope.maxIntDigits) {
      return undefined;
    }
    value = BigInt(arg.trim().replaceAll("_", ""));
  } else return undefined;
  return scope.exact ? value : demote(value);
}

/** A Python int as a `number` when that is exact, else as a `bigint`. */
export function demote(value: bigint): number | bigint {
  const small = Number(value);
  return Number.isSafeInteger(small) ? small : value;
}

const FLOAT_TEXT =
  /^\s*[+-]?(?:(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?|inf|infinity|nan)\s*$/i;

function floatCall(args: Tuple): number | undefined {
  if (args.length === 0) return 0;
  if (args.length !== 1) return undefined;
  const arg = args[0];
  if (typeof arg !== "string") return floatOf(arg);
  if (!FLOAT_TEXT.test(arg)) return undefined;
  const text = arg.trim().replaceAll("_", "").toLowerCase();
  const sign = text.startsWith("-") ? -1 : 1;
  const body = text.replace(/^[+-]/, "");
  if (body === "nan") return NaN;
  if (body === "inf" || body === "infinity") return sign * Infinity;
  return Number(text);
}

// ---------------------------------------------------------------------------------------------
// datetime

function dateFields(
  year: number,
  month: number,
  day: number,
): boolean {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
    day <= 31;
}

function timeFields(
  hour: number,
  minute: number,
  second: number,
  microsecond: number,
): boolean {
  return hour >= 0 && hour < 24 && minute >= 0 && minute < 60 &&
    second >= 0 && second < 60 && microsecond >= 0 && microsecond < 1e6;
}

/** Positional int arguments, `count` at least `min`, all ints. */
function intArgs(
  args: readonly unknown[],
  min: number,
  max: number,
): number[] | undefined {
  if (args.length < min || args.length > max) return undefined;
  const out: number[] = [];
  for (const arg of args) {
    const n = intOf(arg);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

function datetimeCall(args: Tuple): PyDateTime | undefined {
  const state = args.length === 1 || args.length === 2
    ? bytesOf(args[0])
    : undefined;
  if (state !== undefined && state.length === 10) {
    const month = state[2] & 0x7f;
    const fold = (state[2] >> 7) as 0 | 1;
    const year = state[0] * 256 + state[1];
    const microsecond = (state[7] << 16) | (state[8] << 8) | state[9];
    if (
      !dateFields(year, month, state[3]) ||
      !timeFields(state[4], state[5], state[6], microsecond)
    ) return undefined;
    return new PyDateTime(
      year,
      month,
      state[3],
      state[4],
      state[5],
      state[6],
      microsecond,
      args.length === 2 ? args[1] : null,
      fold,
    );
  }
  const tzinfo = args.length === 8 ? args[7] : null;
  const fields = intArgs(args.length === 8 ? args.slice(0, 7) : args, 3, 7);
  if (fields === undefined) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0, us = 0] = fields;
  if (!dateFields(year, month, day) || !timeFields(hour, minute, second, us)) {
    return undefined;
  }
  return new PyDateTime(year, month, day, hour, minute, second, us, tzinfo);
}

function dateCall(args: Tuple): PyDate | undefined {
  const state = args.length === 1 ? bytesOf(args[0]) : undefined;
  if (state !== undefined && state.length === 4) {
    const year = state[0] * 256 + state[1];
    return dateFields(year, state[2], state[3])
      ? new PyDate(year, state[2], state[3])
      : undefined;
  }
  const fields = intArgs(args, 3, 3);
  return fields !== undefined && dateFields(fields[0], fields[1], fields[2])
    ? new PyDate(fields[0], fields[1], fields[2])
    : undefined;
}

function timeCall(args: Tuple): PyTime | undefined {
  const state = args.length === 1 || args.length === 2
    ? bytesOf(args[0])
    : undefined;
  if (state !== undefined && state.length === 6) {
    const hour = state[0] & 0x7f;
    const microsecond = (state[3] << 16) | (state[4] << 8) | state[5];
    if (!timeFields(hour, state[1], state[2], microsecond)) return undefined;
    return new PyTime(
      hour,
      state[1],
      state[2],
      microsecond,
      args.length === 2 ? args[1] : null,
      (state[0] >> 7) as 0 | 1,
    );
  }
  const tzinfo = args.length === 5 ? args[4] : null;
  const fields = intArgs(args.length === 5 ? args.slice(0, 4) : args, 0, 4);
  if (fields === undefined) return undefined;
  const [hour = 0, minute = 0, second = 0, us = 0] = fields;
  return timeFields(hour, minute, second, us)
    ? new PyTime(hour, minute, second, us, tzinfo)
    : undefined;
}

function floorDiv(a: number, b: number): [number, number] {
  const q = Math.floor(a / b);
  return [q, a - q * b];
}

function timedeltaCall(args: Tuple): PyTimeDelta | undefined {
  const fields = intArgs(args, 0, 3);
  if (fields === undefined) return undefined;
  const [days = 0, seconds = 0, microseconds = 0] = fields;
  const [carrySeconds, us] = floorDiv(microseconds, 1e6);
  const [carryDays, s] = floorDiv(seconds + carrySeconds, 86400);
  const d = days + carryDays;
  if (!Number.isSafeInteger(d) || Math.abs(d) > 999999999) return undefined;
  return new PyTimeDelta(d, s, us);
}

function timezoneCall(args: Tuple): PyTimeZone | undefined {
  if (args.length < 1 || args.length > 2) return undefined;
  const [offset, name = null] = args;
  if (!(offset instanceof PyTimeDelta)) return undefined;
  if (name !== null && typeof name !== "string") return undefined;
  return new PyTimeZone(offset, name);
}

// ---------------------------------------------------------------------------------------------
// decimal, collections, uuid

const DECIMAL_TEXT =
  /^\s*[+-]?(?:(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?|inf(?:inity)?|s?nan\d*)\s*$/i;

function decimalCall(args: Tuple): Decimal | undefined {
  if (args.length === 0) return new Decimal("0");
  if (args.length > 2) return undefined;
  const value = args[0];
  if (typeof value === "string") {
    return DECIMAL_TEXT.test(value) ? new Decimal(value) : undefined;
  }
  if (typeof value === "bigint" || Number.isSafeInteger(value)) {
    return new Decimal(String(value));
  }
  return undefined;
}

function orderedDictCall(args: Tuple): OrderedDict | undefined {
  return dictCall(args, new OrderedDict()) as OrderedDict | undefined;
}

function defaultDictCall(args: Tuple): DefaultDict | undefined {
  if (args.length > 2) return undefined;
  const dict = new DefaultDict();
  dict.defaultFactory = args.length > 0 ? args[0] : null;
  if (args.length === 2) {
    if (dictCall(Tuple.of(args[1]), dict) === undefined) return undefined;
  }
  return dict;
}

function dequeCall(args: Tuple): Deque | undefined {
  if (args.length > 2) return undefined;
  const items = args.length > 0 ? itemsOf(args[0]) : [];
  if (items === undefined) return undefined;
  let maxlen: number | null = null;
  if (args.length === 2 && args[1] !== null) {
    const bound = intOf(args[1]);
    if (bound === undefined || bound < 0) return undefined;
    maxlen = bound;
  }
  const deque = new Deque();
  deque.maxlen = maxlen;
  const start = maxlen !== null && items.length > maxlen
    ? items.length - maxlen
    : 0;
  for (let i = start; i < items.length; i++) deque.push(items[i]);
  return deque;
}

const UUID_MAX = (1n << 128n) - 1n;

function uuidNewObj(args: Tuple, scope: ReducerScope): UUID | undefined {
  if (args.length !== 0) return undefined;
  const uuid = new UUID(0n);
  scope.expectBuild(uuid, buildUuid, true);
  return uuid;
}

function buildUuid(target: object, state: unknown): boolean {
  if (!(state instanceof Map)) return false;
  const int = bigIntOf(state.get("int"));
  if (int === undefined || int < 0n || int > UUID_MAX) return false;
  (target as Mutable<UUID>).int = int;
  return true;
}

function uuidCall(args: Tuple): UUID | undefined {
  if (args.length !== 1 || typeof args[0] !== "string") return undefined;
  const hex = args[0].replace(/^urn:uuid:/, "").replace(/[{}-]/g, "");
  return /^[0-9a-fA-F]{32}$/.test(hex)
    ? new UUID(BigInt("0x" + hex))
    : undefined;
}

// ---------------------------------------------------------------------------------------------
// Typed arrays from raw bytes

type NumericConstructor = {
  new (
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ): NumericData;
  new (length: number): NumericData;
  readonly BYTES_PER_ELEMENT: number;
};

/**
 * A typed array over `bytes` holding elements of `unit` bytes in the given byte order: a view
 * when aligned and in the host's order, else a copy (byte-swapped when needed).
 */
function numericOf(
  bytes: Uint8Array,
  type: NumericConstructor,
  littleEndian: boolean,
): NumericData {
  const unit = type.BYTES_PER_ELEMENT;
  const length = bytes.length / unit;
  if (length === 0) return new type(0);
  const swap = unit > 1 && littleEndian !== HOST_LITTLE_ENDIAN;
  if (!swap && bytes.byteOffset % unit === 0) {
    return new type(bytes.buffer, bytes.byteOffset, length);
  }
  const copy = bytes.slice();
  if (swap) {
    for (let at = 0; at < copy.length; at += unit) {
      for (let lo = at, hi = at + unit - 1; lo < hi; lo++, hi--) {
        const byte = copy[lo];
        copy[lo] = copy[hi];
        copy[hi] = byte;
      }
    }
  }
  return new type(copy.buffer, 0, length);
}

// ---------------------------------------------------------------------------------------------
// array

/** `array` machine format codes (CPython `arraymodule.c`), indexed by code. */
const MACHINE_FORMATS: readonly (readonly [NumericConstructor, boolean])[] = [
  [Uint8Array, true],
  [Int8Array, true],
  [Uint16Array, true],
  [Uint16Array, false],
  [Int16Array, true],
  [Int16Array, false],
  [Uint32Array, true],
  [Uint32Array, false],
  [Int32Array, true],
  [Int32Array, false],
  [BigUint64Array, true],
  [BigUint64Array, false],
  [BigInt64Array, true],
  [BigInt64Array, false],
  [Float32Array, true],
  [Float32Array, false],
  [Float64Array, true],
  [Float64Array, false],
];
const UTF16_LE = 18;
const UTF32_BE = 21;
const UNICODE_TYPECODES = "uw";

/** The element type of each numeric `array` type code (`l`/`L` as 64-bit, like Linux and macOS). */
const TYPECODES: Readonly<Record<string, NumericConstructor>> = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
};

/** The element type of a numeric `array` type code; `undefined` for any other string. */
function typecodeType(typecode: string): NumericConstructor | undefined {
  return Object.hasOwn(TYPECODES, typecode) ? TYPECODES[typecode] : undefined;
}

/** Whether `typecode` is one of `array`'s text type codes (`u`, `w`). */
function isTextTypecode(typecode: string): boolean {
  return typecode.length === 1 && UNICODE_TYPECODES.includes(typecode);
}

/**
 * The string of `count` UTF-16 code units of `units` from `start` on (lone surrogates kept), in
 * slices small enough for `fromCharCode`'s arguments.
 */
export function unitsText(
  units: ArrayLike<number>,
  start = 0,
  count = units.length,
): string {
  let text = "";
  for (let at = start, end = start + count; at < end; at += 8192) {
    text += String.fromCharCode.apply(
      null,
      Array.prototype.slice.call(units, at, Math.min(at + 8192, end)),
    );
  }
  return text;
}

function unicodeArrayText(
  bytes: Uint8Array,
  code: number,
): string | undefined {
  const wide = code >= UTF16_LE + 2;
  const littleEndian = (code - UTF16_LE) % 2 === 0;
  const unit = wide ? 4 : 2;
  if (bytes.length % unit !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const units: number[] = [];
  for (let at = 0; at < bytes.length; at += unit) {
    if (!wide) {
      units.push(view.getUint16(at, littleEndian));
      continue;
    }
    const point = view.getUint32(at, littleEndian);
    if (point > 0x10ffff) return undefined;
    if (point > 0xffff) {
      units.push(
        0xd800 + ((point - 0x10000) >> 10),
        0xdc00 + ((point - 0x10000) & 0x3ff),
      );
    } else units.push(point);
  }
  return unitsText(units);
}

function arrayReconstructorCall(args: Tuple): PyArray | undefined {
  if (args.length !== 4) return undefined;
  const [type, typecode, formatCode, items] = args;
  const code = intOf(formatCode);
  const bytes = bytesOf(items);
  if (
    !isGlobal(type, "array", "array") || typeof typecode !== "string" ||
    code === undefined || bytes === undefined
  ) return undefined;
  if (isTextTypecode(typecode)) {
    if (code < UTF16_LE || code > UTF32_BE) return undefined;
    const text = unicodeArrayText(bytes, code);
    return text === undefined ? undefined : new PyArray(typecode, text);
  }
  const format = MACHINE_FORMATS[code];
  if (format === undefined || typecodeType(typecode) === undefined) {
    return undefined;
  }
  const [type_, littleEndian] = format;
  if (bytes.length % type_.BYTES_PER_ELEMENT !== 0) return undefined;
  return new PyArray(typecode, numericOf(bytes, type_, littleEndian));
}

function arrayCall(args: Tuple): PyArray | undefined {
  if (args.length < 1 || args.length > 2) return undefined;
  const typecode = args[0];
  if (typeof typecode !== "string") return undefined;
  const init = args.length === 2 ? args[1] : [];
  if (isTextTypecode(typecode)) {
    if (typeof init === "string") return new PyArray(typecode, init);
    if (!Array.isArray(init) || !init.every((c) => typeof c === "string")) {
      return undefined;
    }
    return new PyArray(typecode, init.join(""));
  }
  const type = typecodeType(typecode);
  if (type === undefined || !Array.isArray(init)) return undefined;
  const data = new type(init.length);
  const probe = new type(1);
  for (let i = 0; i < init.length; i++) {
    const item = init[i];
    if (data instanceof Float32Array || data instanceof Float64Array) {
      const value = floatOf(item);
      if (value === undefined) return undefined;
      data[i] = value;
    } else if (
      data instanceof BigInt64Array || data instanceof BigUint64Array
    ) {
      const value = bigIntOf(item);
      if (value === undefined) return undefined;
      (probe as BigInt64Array)[0] = value;
      if ((probe as BigInt64Array)[0] !== value) return undefined;
      data[i] = value;
    } else {
      const value = intOf(item);
      if (value === undefined) return undefined;
      (probe as Int32Array)[0] = value;
      if ((probe as Int32Array)[0] !== value) return undefined;
      (data as Int32Array)[i] = value;
    }
  }
  return new PyArray(typecode, data);
}

// ---------------------------------------------------------------------------------------------
// numpy

const DTYPE_SPEC = /^([a-zA-Z?])(\d*)$/;

function numpyDTypeCall(args: Tuple, scope: ReducerScope): DType | undefined {
  if (args.length < 1 || args.length > 3 || typeof args[0] !== "string") {
    return undefined;
  }
  const match = DTYPE_SPEC.exec(args[0]);
  if (match === null) return undefined;
  const kind = match[1];
  const digits = match[2] === "" ? undefined : Number(match[2]);
  const itemsize = kind === "U"
    ? 4 * (digits ?? 0)
    : digits ?? (kind === "M" || kind === "m" || kind === "O" ? 8 : 1);
  const dtype = new DType(
    args[0],
    itemsize > 1 && "iufcMm".includes(kind) ? "=" : "|",
    itemsize,
  );
  scope.expectBuild(dtype, buildDType, false);
  return dtype;
}

function buildDType(target: object, state: unknown): boolean {
  if (!(state instanceof Tuple) || state.length < 7 || state.length > 9) {
    return false;
  }
  const [, byteorder, subarray, names, fields, elsize] = state;
  const size = intOf(elsize);
  if (
    typeof byteorder !== "string" || !"<>|=".includes(byteorder) ||
    byteorder.length !== 1 || size === undefined ||
    (names !== null && !(Array.isArray(names) &&
      names.every((name) => typeof name === "string"))) ||
    (fields !== null && !(fields instanceof Map))
  ) return false;
  const dtype = target as Mutable<DType>;
  dtype.byteorder = byteorder;
  if (size >= 0) dtype.itemsize = size;
  dtype.names = names === null ? null : [...names as string[]];
  dtype.fields = fields as Map<unknown, unknown> | null;
  dtype.subarray = subarray;
  let metadata = state.length === 9 ? state[8] : null;
  const kind = dtype.str[0];
  if (
    (kind === "M" || kind === "m") && metadata instanceof Tuple &&
    metadata.length === 2
  ) metadata = metadata[1];
  dtype.metadata = metadata;
  dtype.state = state;
  return true;
}

/** The element type of a numpy dtype's data, or `undefined` for raw bytes. */
function dtypeElements(dtype: DType): NumericConstructor | undefined {
  const kind = dtype.str[0];
  switch (kind === "?" ? "b" : kind) {
    case "b":
      return dtype.itemsize === 1 ? Uint8Array : undefined;
    case "i":
      return ({
        1: Int8Array,
        2: Int16Array,
        4: Int32Array,
        8: BigInt64Array,
      } as Record<number, NumericConstructor>)[dtype.itemsize];
    case "u":
      return ({
        1: Uint8Array,
        2: Uint16Array,
        4: Uint32Array,
        8: BigUint64Array,
      } as Record<number, NumericConstructor>)[dtype.itemsize];
    case "f":
      return ({ 2: Uint16Array, 4: Float32Array, 8: Float64Array } as Record<
        number,
        NumericConstructor
      >)[dtype.itemsize];
    case "c":
      return ({ 8: Float32Array, 16: Float64Array } as Record<
        number,
        NumericConstructor
      >)[dtype.itemsize];
    case "M":
    case "m":
      return dtype.itemsize === 8 ? BigInt64Array : undefined;
    default:
      return undefined;
  }
}

function isLittleEndian(byteorder: string): boolean {
  return byteorder === "<" ||
    (byteorder !== ">" && HOST_LITTLE_ENDIAN);
}

/**
 * Where each item of an array of `shape` in C (row-major) order stands in Fortran
 * (column-major) order. numpy pickles an object array's items in C order whatever its layout,
 * and `NdArray.data` holds them in memory order.
 */
export function fortranPositions(shape: readonly number[]): number[] {
  const count = shape.reduce((a, b) => a * b, 1);
  const positions = new Array<number>(count);
  const index = shape.map(() => 0);
  const stride = shape.map((_, axis) =>
    shape.slice(0, axis).reduce((a, b) => a * b, 1)
  );
  let at = 0;
  for (let k = 0; k < count; k++) {
    positions[k] = at;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      at += stride[axis];
      if (++index[axis] < shape[axis]) break;
      at -= stride[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return positions;
}

/** The `data` of an `NdArray`: typed elements, the object list, or the raw bytes. */
function ndarrayData(
  dtype: DType,
  shape: number[],
  data: unknown,
  fortran: boolean,
): NdArray["data"] | undefined {
  const size = shape.reduce((a, b) => a * b, 1);
  if (dtype.str[0] === "O") {
    if (!Array.isArray(data) || data.length !== size) return undefined;
    if (!fortran || shape.length < 2) return data;
    const inMemoryOrder = new Array(size);
    fortranPositions(shape).forEach((at, k) => inMemoryOrder[at] = data[k]);
    return inMemoryOrder;
  }
  const bytes = bytesOf(data);
  if (bytes === undefined || bytes.length !== size * dtype.itemsize) {
    return undefined;
  }
  const type = dtypeElements(dtype);
  if (type === undefined) return bytes;
  return numericOf(bytes, type, isLittleEndian(dtype.byteorder));
}

function reconstructCall(
  args: Tuple,
  scope: ReducerScope,
): NdArray | undefined {
  if (args.length !== 3 || !isGlobal(args[0], "numpy", "ndarray")) {
    return undefined;
  }
  const array = new NdArray(
    new DType("i1", "|", 1),
    [0],
    "C",
    new Int8Array(0),
  );
  scope.expectBuild(array, buildNdArray, false);
  return array;
}

function buildNdArray(target: object, state: unknown): boolean {
  if (!(state instanceof Tuple) || state.length < 4 || state.length > 5) {
    return false;
  }
  const [shapeValue, dtype, fortran, data] = state.length === 5
    ? state.slice(1)
    : state;
  const shape = shapeOf(shapeValue);
  if (
    shape === undefined || !(dtype instanceof DType) ||
    intOf(fortran) === undefined
  ) return false;
  const isFortran = intOf(fortran) !== 0;
  const elements = ndarrayData(dtype, shape, data, isFortran);
  if (elements === undefined) return false;
  const array = target as Mutable<NdArray>;
  array.dtype = dtype;
  array.shape = shape;
  array.order = isFortran ? "F" : "C";
  array.data = elements;
  return true;
}

function frombufferCall(
  args: Tuple,
  scope: ReducerScope,
): NdArray | undefined {
  if (args.length !== 4) return undefined;
  const [buffer, dtype, shapeValue, order] = args;
  const shape = shapeOf(shapeValue);
  if (
    shape === undefined || !(dtype instanceof DType) ||
    (order !== "C" && order !== "F")
  ) return undefined;
  const data = ndarrayData(dtype, shape, bytesOf(buffer), order === "F");
  if (data === undefined) return undefined;
  const array = new NdArray(dtype, shape, order, data);
  // numpy's `frombuffer` of `bytes` (or of a read-only buffer) makes a read-only array.
  array.writeable = !scope.isReadOnly(buffer);
  return array;
}

/**
 * The value of an IEEE 754 half-precision float (numpy's `float16`) from its 16 bits.
 *
 * @param half The bits.
 * @returns The value.
 */
export function halfToNumber(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A numpy scalar's value: the element its raw bytes make as an array's data, in JS terms. */
function scalarValue(dtype: DType, raw: Uint8Array): unknown {
  const type = dtypeElements(dtype);
  if (type === undefined) return raw;
  const elements = numericOf(raw, type, isLittleEndian(dtype.byteorder));
  switch (dtype.str[0]) {
    case "b":
    case "?":
      return elements[0] !== 0;
    case "f":
      return dtype.itemsize === 2
        ? halfToNumber(elements[0] as number)
        : elements[0];
    case "c":
      return new Complex(elements[0] as number, elements[1] as number);
    default:
      return elements[0];
  }
}

function scalarCall(args: Tuple): unknown {
  if (args.length < 1 || args.length > 2 || !(args[0] instanceof DType)) {
    return undefined;
  }
  const dtype = args[0];
  if (dtype.str[0] === "O") return args.length === 2 ? args[1] : null;
  const raw = args.length === 2 ? bytesOf(args[1]) : undefined;
  if (raw === undefined || raw.length !== dtype.itemsize) return undefined;
  return new NumpyScalar(dtype, scalarValue(dtype, raw), raw);
}

// ---------------------------------------------------------------------------------------------
// copyreg, _codecs

/**
 * `copyreg._reconstructor(cls, object, None)` is `object.__new__(cls)`: how protocols 0 and 1
 * write what protocol 2 writes as `NEWOBJ(cls, ())`, so it decodes the same way.
 */
function reconstructorCall(args: Tuple, scope: ReducerScope): unknown {
  if (
    args.length === 3 && args[0] instanceof PyGlobal &&
    isGlobal(args[1], "builtins", "object") && args[2] === null
  ) return scope.newObject(args[0], new Tuple());
  return undefined;
}

function codecsEncodeCall(args: Tuple): Uint8Array | undefined {
  if (args.length < 1 || args.length > 3 || typeof args[0] !== "string") {
    return undefined;
  }
  if (args.length === 3 && args[2] !== "strict") return undefined;
  return encodeText(args[0], args.length > 1 ? args[1] : "utf-8");
}

// ---------------------------------------------------------------------------------------------
// The table

const REDUCERS = new Map<string, Reducer>();

function register(module: string, name: string, reducer: Reducer) {
  REDUCERS.set(`${module}\n${name}`, reducer);
}

for (const builtins of ["builtins", "__builtin__"]) {
  register(builtins, "set", {
    call: (args) => {
      const items = setItems(args);
      return items === undefined ? undefined : new Set(items);
    },
  });
  register(builtins, "frozenset", {
    call: (args) => {
      const items = setItems(args);
      return items === undefined ? undefined : new FrozenSet(items);
    },
  });
  register(builtins, "bytearray", { call: byteArrayOf });
  register(builtins, "bytes", { call: bytesCall });
  register(builtins, "complex", { call: complexCall });
  register(builtins, "list", {
    call: (args) => {
      const items = setItems(args);
      return items === undefined ? undefined : [...items];
    },
  });
  register(builtins, "tuple", {
    call: (args) => {
      const items = setItems(args);
      if (items === undefined) return undefined;
      const tuple = new Tuple(items.length);
      for (let i = 0; i < items.length; i++) tuple[i] = items[i];
      return tuple;
    },
  });
  register(builtins, "dict", { call: (args) => dictCall(args, new Map()) });
  register(builtins, "int", { call: intCall });
  register(builtins, "float", { call: floatCall });
  register(builtins, "str", {
    call: (args) =>
      args.length === 0
        ? ""
        : args.length === 1 && typeof args[0] === "string"
        ? args[0]
        : undefined,
  });
}
for (const copyreg of ["copyreg", "copy_reg"]) {
  register(copyreg, "_reconstructor", { call: reconstructorCall });
}
register("_codecs", "encode", { call: codecsEncodeCall });
register("datetime", "datetime", { call: datetimeCall });
register("datetime", "date", { call: dateCall });
register("datetime", "time", { call: timeCall });
register("datetime", "timedelta", { call: timedeltaCall });
register("datetime", "timezone", { call: timezoneCall });
register("decimal", "Decimal", { call: decimalCall });
register("collections", "OrderedDict", { call: orderedDictCall });
register("collections", "defaultdict", { call: defaultDictCall });
register("collections", "deque", { call: dequeCall });
register("uuid", "UUID", { call: uuidCall, newObj: uuidNewObj });
register("array", "_array_reconstructor", { call: arrayReconstructorCall });
register("array", "array", { call: arrayCall });
register("numpy", "dtype", { call: numpyDTypeCall });
register("numpy._core.multiarray", "_reconstruct", { call: reconstructCall });
register("numpy._core.multiarray", "scalar", { call: scalarCall });
register("numpy._core.numeric", "_frombuffer", { call: frombufferCall });

/**
 * The reducer of a global, if it has one. numpy 1's `numpy.core.*` names are aliases of numpy
 * 2's `numpy._core.*`.
 *
 * @param module The global's module, after the Python 2 name mapping.
 * @param name The global's name.
 * @returns The reducer, or `undefined` for a global that stays an inert record.
 */
export function findReducer(module: string, name: string): Reducer | undefined {
  const key = module.startsWith("numpy.core.")
    ? `numpy._core.${module.slice(11)}\n${name}`
    : `${module}\n${name}`;
  return REDUCERS.get(key);
}
