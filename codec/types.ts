/**
 * The JavaScript shapes of Python values that have no exact JavaScript twin. `decode()` returns
 * them and `encode()` writes each back as the Python type it came from.
 *
 * The mapping (see `decode()`): `None` → `null`, `bool` → `boolean`, `int` → `number` when it is
 * a safe integer else `bigint` (always `bigint` with `exact: true`), `float` → `number`, `str` →
 * `string`, `bytes` → `Uint8Array`, `list` → `Array`, `dict` → `Map`, `set` → `Set`; the classes
 * below for the rest.
 *
 * @module
 */

/** A Python `tuple`: an `Array` that remembers it was a tuple. */
export class Tuple<T = unknown> extends Array<T> {
  /**
   * Makes a tuple of the given items.
   *
   * @example Usage
   * ```ts
   * import { Tuple } from "./types.ts";
   * const pair = Tuple.of<number | string>(1, "a");
   * console.log(pair.length); // 2
   * ```
   *
   * @param items The items, in order.
   * @returns The tuple.
   */
  static override of<T>(...items: T[]): Tuple<T> {
    const tuple = new Tuple<T>();
    for (const item of items) tuple.push(item);
    return tuple;
  }
}

/** A Python `bytearray`: a `Uint8Array` that remembers it was mutable in Python. */
export class ByteArray extends Uint8Array {}

/** A Python `frozenset`: a `Set` that remembers it was frozen. */
export class FrozenSet<T = unknown> extends Set<T> {}

/** A Python `collections.OrderedDict`. */
export class OrderedDict<K = unknown, V = unknown> extends Map<K, V> {}

/** A Python `collections.defaultdict`; `defaultFactory` is what the pickle named (a `PyGlobal` or `null`). */
export class DefaultDict<K = unknown, V = unknown> extends Map<K, V> {
  /** The `default_factory` of the dict, usually a {@linkcode PyGlobal} such as `builtins.list`. */
  defaultFactory: unknown = null;
}

/** A Python `collections.deque`; `maxlen` is `null` when unbounded. */
export class Deque<T = unknown> extends Array<T> {
  /** The bound of the deque, or `null`. */
  maxlen: number | null = null;
}

/** A Python `complex`. */
export class Complex {
  /**
   * Makes the value from its parts.
   *
   * @param real The real part.
   * @param imag The imaginary part.
   */
  constructor(readonly real: number, readonly imag: number) {}
}

/** A Python `decimal.Decimal`, kept as its exact text (`"-3.14"`, `"NaN"`, `"sNaN"`, `"Infinity"`). */
export class Decimal {
  /**
   * Makes the value from its parts.
   *
   * @param value The decimal's `str()` as Python pickled it.
   */
  constructor(readonly value: string) {}
  /**
   * Returns the exact decimal text.
   *
   * @returns The exact decimal text.
   */
  toString(): string {
    return this.value;
  }
}

/** A Python `uuid.UUID`, as its 128-bit integer. */
export class UUID {
  /**
   * Makes the value from its parts.
   *
   * @param int The UUID as an unsigned 128-bit integer.
   */
  constructor(readonly int: bigint) {}
  /**
   * Returns the canonical `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form.
   *
   * @returns The canonical `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form.
   */
  toString(): string {
    const hex = this.int.toString(16).padStart(32, "0");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${
      hex.slice(16, 20)
    }-${hex.slice(20)}`;
  }
}

/** A Python `datetime.timedelta`, normalized as Python keeps it. */
export class PyTimeDelta {
  /**
   * Makes the value from its parts.
   *
   * @param days Whole days (may be negative).
   * @param seconds 0 ≤ seconds < 86400.
   * @param microseconds 0 ≤ microseconds < 1000000.
   */
  constructor(
    readonly days: number,
    readonly seconds: number,
    readonly microseconds: number,
  ) {}
  /**
   * Returns the duration in seconds, like Python's `total_seconds()`.
   *
   * @returns The duration in seconds, like Python's `total_seconds()`.
   */
  totalSeconds(): number {
    return ((this.days * 86400 + this.seconds) * 1e6 + this.microseconds) /
      1e6;
  }
}

/** A Python `datetime.timezone`: a fixed UTC offset with an optional name. */
export class PyTimeZone {
  /**
   * Makes the value from its parts.
   *
   * @param offset The offset from UTC.
   * @param name The name given to the zone, or `null`.
   */
  constructor(
    readonly offset: PyTimeDelta,
    readonly name: string | null = null,
  ) {}
}

/** A Python `datetime.date`. */
export class PyDate {
  /**
   * Makes the value from its parts.
   *
   * @param year 1–9999.
   * @param month 1–12.
   * @param day 1–31.
   */
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
  ) {}
}

/** A Python `datetime.time`. */
export class PyTime {
  /**
   * Makes the value from its parts.
   *
   * @param hour 0–23.
   * @param minute 0–59.
   * @param second 0–59.
   * @param microsecond 0–999999.
   * @param tzinfo `null`, a {@linkcode PyTimeZone}, or the record of another tzinfo.
   * @param fold 0 or 1.
   */
  constructor(
    readonly hour: number,
    readonly minute: number,
    readonly second: number,
    readonly microsecond: number,
    readonly tzinfo: unknown = null,
    readonly fold: 0 | 1 = 0,
  ) {}
}

/** A Python `datetime.datetime`, with microseconds, tzinfo and fold kept. */
export class PyDateTime {
  /**
   * Makes the value from its parts.
   *
   * @param year 1–9999.
   * @param month 1–12.
   * @param day 1–31.
   * @param hour 0–23.
   * @param minute 0–59.
   * @param second 0–59.
   * @param microsecond 0–999999.
   * @param tzinfo `null` (naive), a {@linkcode PyTimeZone}, or the record of another tzinfo.
   * @param fold 0 or 1.
   */
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour = 0,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
    readonly tzinfo: unknown = null,
    readonly fold: 0 | 1 = 0,
  ) {}

  /**
   * Converts to a JS `Date` (millisecond precision). A naive datetime is taken as UTC, as
   * lazyscribe stores its timestamps; a fixed-offset one is shifted by its offset.
   *
   * @returns The instant as a `Date`.
   */
  toDate(): Date {
    let ms = Date.UTC(
      this.year,
      this.month - 1,
      this.day,
      this.hour,
      this.minute,
      this.second,
      Math.floor(this.microsecond / 1000),
    );
    if (this.tzinfo instanceof PyTimeZone) {
      const off = this.tzinfo.offset;
      ms -= ((off.days * 86400 + off.seconds) * 1000) + off.microseconds / 1000;
    }
    return new Date(ms);
  }
}

/** A reference to a Python global (a class or function) named by a pickle; never resolved. */
export class PyGlobal {
  /**
   * Makes the value from its parts.
   *
   * @param module The module, e.g. `"collections"`.
   * @param name The qualified name, e.g. `"OrderedDict"`.
   */
  constructor(readonly module: string, readonly name: string) {}
  /**
   * Returns `module.name`.
   *
   * @returns `module.name`.
   */
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/** How a {@linkcode PyObject} was created in the pickle, so that `encode()` can do it again. */
export type PyObjectKind = "reduce" | "newobj" | "newobj_ex" | "inst" | "obj";

/**
 * An inert record of an object the decoder has no JavaScript type for (a class instance, a
 * pandas DataFrame, a call of an unknown function): what the pickle says, nothing executed.
 */
export class PyObject {
  /** The items `APPEND`/`APPENDS` added (Python's `listitems`). */
  listItems: unknown[] = [];
  /** The items `SETITEM`/`SETITEMS` set (Python's `dictitems`). */
  dictItems: Map<unknown, unknown> = new Map();
  /** The items `ADDITEMS` added. */
  setItems: unknown[] = [];
  /** The `BUILD` state (Python's `__setstate__` argument), `undefined` when there was none. */
  state: unknown = undefined;

  /**
   * Makes the value from its parts.
   *
   * @param kind How the object was made.
   * @param cls The callable or class: usually a {@linkcode PyGlobal}.
   * @param args The positional arguments.
   * @param kwargs The keyword arguments (`NEWOBJ_EX`), or `null`.
   */
  constructor(
    readonly kind: PyObjectKind,
    readonly cls: unknown,
    readonly args: Tuple,
    readonly kwargs: Map<unknown, unknown> | null = null,
  ) {}
}

/** The typed array that holds a numpy array's or `array.array`'s elements. */
export type NumericData =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A Python `array.array`. */
export class PyArray {
  /**
   * Makes the value from its parts.
   *
   * @param typecode The array module's type code (`"b"`, `"d"`, `"u"`, …).
   * @param data The elements; a string for the unicode type codes `"u"` and `"w"`.
   */
  constructor(readonly typecode: string, readonly data: NumericData | string) {}
}

/** A numpy `dtype`, as its pickled state describes it. */
export class DType {
  /**
   * Makes the value from its parts.
   *
   * @param str numpy's `dtype.str` without the byte order: `"f8"`, `"i4"`, `"U3"`, `"V16"`, `"O8"`, `"M8"`…
   * @param byteorder `"<"`, `">"`, `"|"` (not applicable) or `"="` (native).
   * @param itemsize Bytes per element.
   * @param names Field names of a structured dtype, or `null`.
   * @param fields Field descriptions of a structured dtype (`name → [dtype, offset, title?]`), or `null`.
   * @param subarray `[base dtype, shape]` of a subarray dtype, or `null`.
   * @param metadata Extra state: for datetime64/timedelta64 the unit tuple `(unit, count, 1, 1)`
   * (`unit` as bytes such as `b"ms"`), else the dtype's metadata dict, or `null`.
   * @param state The full pickled state tuple, kept so that `encode()` writes it back unchanged.
   */
  constructor(
    readonly str: string,
    readonly byteorder: string,
    readonly itemsize: number,
    readonly names: string[] | null = null,
    readonly fields: Map<unknown, unknown> | null = null,
    readonly subarray: unknown = null,
    readonly metadata: unknown = null,
    readonly state: unknown = null,
  ) {}

  /** The `[unit]` suffix of a datetime64/timedelta64 name (`"[ms]"`, `"[10s]"`), from the metadata. */
  #unit(): string {
    const metadata = this.metadata;
    if (!Array.isArray(metadata)) return "";
    const unit = metadata[0] instanceof Uint8Array
      ? String.fromCharCode(...metadata[0])
      : metadata[0];
    if (typeof unit !== "string") return "";
    const count = metadata[1];
    return unit === "generic"
      ? ""
      : `[${count === 1 || count === 1n ? "" : String(count)}${unit}]`;
  }

  /**
   * Returns numpy's name for the dtype (`"float64"`, `"int32"`, `"complex128"`, `"bool"`, `"datetime64[ms]"`, …).
   *
   * @returns numpy's name for the dtype (`"float64"`, `"int32"`, `"complex128"`, `"bool"`, `"datetime64[ms]"`, …).
   */
  get name(): string {
    const kind = this.str[0];
    const bits = this.itemsize * 8;
    switch (kind) {
      case "b":
        return this.str === "b1" ? "bool" : `int${bits}`;
      case "?":
        return "bool";
      case "i":
        return `int${bits}`;
      case "u":
        return `uint${bits}`;
      case "f":
        return `float${bits}`;
      case "c":
        return `complex${bits}`;
      case "O":
        return "object";
      case "U":
        return `str${bits}`;
      case "S":
        return `bytes${bits}`;
      case "M":
        return `datetime64${this.#unit()}`;
      case "m":
        return `timedelta64${this.#unit()}`;
      default:
        return `void${bits}`;
    }
  }
}

/**
 * A numpy `ndarray`. `data` holds the elements in the array's memory order (`order`), in the
 * machine's byte order: a typed array for numbers (complex as interleaved real/imaginary pairs,
 * bool as `Uint8Array`, float16 as raw `Uint16Array`), an `Array` for `dtype=object`, and the raw
 * bytes (`Uint8Array`) for string, structured and other dtypes.
 */
export class NdArray {
  /**
   * Makes the value from its parts.
   *
   * @param dtype The element type.
   * @param shape The dimensions (`[]` for a 0-d array).
   * @param order `"C"` (row-major) or `"F"` (column-major).
   * @param data The elements.
   */
  constructor(
    readonly dtype: DType,
    readonly shape: number[],
    readonly order: "C" | "F",
    readonly data: NumericData | unknown[],
  ) {}
  /**
   * numpy's `flags.writeable`. A read-only array travels at protocol 5 as `bytes` (or an
   * out-of-band buffer marked `READONLY_BUFFER`) instead of a `bytearray`, and loads read-only.
   */
  writeable = true;
  /**
   * Returns the number of elements.
   *
   * @returns The number of elements.
   */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** A numpy scalar (`np.float64(1.5)`, `np.int32(7)`, …): its dtype and its value. */
export class NumpyScalar {
  /**
   * Makes the value from its parts.
   *
   * @param dtype The scalar's dtype.
   * @param value The value: `number`, `bigint` (64-bit ints), `boolean`, {@linkcode Complex}, or the raw bytes for other dtypes.
   * @param raw The scalar's bytes as pickled.
   */
  constructor(
    readonly dtype: DType,
    readonly value: unknown,
    readonly raw: Uint8Array,
  ) {}
}
