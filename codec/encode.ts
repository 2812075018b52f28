/**
 * The pickle writer: JavaScript values to a pickle that CPython's `pickle.loads` reads back
 * exactly, shaped like CPython's own C pickler so that the bytes equal `pickle.dumps` wherever
 * CPython's output is deterministic.
 *
 * @module
 */

import { toPython2Name } from "./_compat_pickle.ts";
import { fortranPositions } from "./_reducers.ts";
import {
  latin1Utf8Length,
  pythonFloatRepr,
  rawUnicodeEscape,
  utf8Length,
  writeAscii,
  writeLatin1AsUtf8,
  writeUtf8,
} from "./_text.ts";
import { FRAME_SIZE_TARGET, Writer } from "./_writer.ts";
import { PicklingError } from "./errors.ts";
import {
  ByteArray,
  Complex,
  Decimal,
  DefaultDict,
  Deque,
  DType,
  FrozenSet,
  NdArray,
  NumpyScalar,
  OrderedDict,
  PyArray,
  PyDate,
  PyDateTime,
  PyGlobal,
  PyObject,
  PyTime,
  PyTimeDelta,
  PyTimeZone,
  Tuple,
  UUID,
} from "./types.ts";

/** How {@linkcode encode} writes a pickle. */
export interface EncodeOptions {
  /**
   * The pickle protocol, 0–5. 4 is what Python 3.8–3.13 writes by default and what every
   * Python 3 reads; 5 is needed for out-of-band buffers; 2 and below load in Python 2.
   *
   * @default {4}
   */
  readonly protocol?: number;
  /**
   * Write every `number` as a Python `float` (and every `bigint` as an `int`): the pair of
   * `decode(…, { exact: true })`. Otherwise an integral `number` (not `-0`) becomes an `int`.
   *
   * @default {false}
   */
  readonly exact?: boolean;
  /**
   * Protocol 5 only: called with the data of each numpy array (a view, not a copy). A falsy
   * return value makes the buffer out-of-band: the pickle gets `NEXT_BUFFER` and the caller
   * passes the same buffers, in order, to Python's `pickle.loads(…, buffers=…)`. A truthy
   * value writes it in-band. Like CPython's `buffer_callback`.
   *
   * @default {undefined} (every buffer in-band)
   */
  readonly bufferCallback?: (buffer: Uint8Array) => unknown;
  /**
   * Where numpy's reconstruction functions are named: `"numpy._core"`, as numpy 2 writes (numpy
   * 1.26 reads it at protocols 0–4 only, older numpy not at all), or `"numpy.core"`, as numpy
   * 1.x writes (numpy 1.16+ reads it at every protocol, numpy 2 with a `DeprecationWarning`).
   *
   * @default {"numpy._core"}
   */
  readonly numpyModule?: "numpy._core" | "numpy.core";
  /**
   * At protocols 0–2, write Python 3 global names under their Python 2 names
   * (`builtins.set` → `__builtin__.set`) with CPython's reverse `_compat_pickle` tables.
   *
   * @default {true}
   */
  readonly fixImports?: boolean;
}

// Opcodes (Lib/pickletools.py).
const MARK = 0x28;
const STOP = 0x2e;
const POP = 0x30;
const POP_MARK = 0x31;
const BINBYTES = 0x42;
const SHORT_BINBYTES = 0x43;
const BINFLOAT = 0x47;
const BININT = 0x4a;
const BININT1 = 0x4b;
const BININT2 = 0x4d;
const NONE = 0x4e;
const REDUCE = 0x52;
const BINUNICODE = 0x58;
const EMPTY_LIST = 0x5d;
const APPEND = 0x61;
const BUILD = 0x62;
const GLOBAL = 0x63;
const INST = 0x69;
const DICT = 0x64;
const APPENDS = 0x65;
const BINGET = 0x68;
const LONG_BINGET = 0x6a;
const LIST = 0x6c;
const OBJ = 0x6f;
const BINPUT = 0x71;
const LONG_BINPUT = 0x72;
const SETITEM = 0x73;
const TUPLE = 0x74;
const SETITEMS = 0x75;
const EMPTY_DICT = 0x7d;
const EMPTY_TUPLE = 0x29;
const PROTO = 0x80;
const NEWOBJ = 0x81;
const TUPLE1 = 0x85;
const NEWTRUE = 0x88;
const NEWFALSE = 0x89;
const LONG1 = 0x8a;
const LONG4 = 0x8b;
const SHORT_BINUNICODE = 0x8c;
const BINBYTES8 = 0x8e;
const EMPTY_SET = 0x8f;
const ADDITEMS = 0x90;
const FROZENSET = 0x91;
const NEWOBJ_EX = 0x92;
const STACK_GLOBAL = 0x93;
const MEMOIZE = 0x94;
const BYTEARRAY8 = 0x96;
const NEXT_BUFFER = 0x97;
const READONLY_BUFFER = 0x98;

/**
 * How many distinct strings a pickle remembers for reuse. JS strings have no identity, so a
 * repeated string is shared by value (CPython shares what is the same object: dict keys,
 * constants, interned names). Remembering every string of a large pickle costs more than
 * writing the rare late repeat again, which is what CPython does for equal strings that are
 * distinct objects.
 */
const STRING_MEMO_LIMIT = 4096;

/** The most levels of a nested name (`Outer.Inner`) written below protocol 4. */
const MAX_NAME_PARTS = 1000;

/** Items per `APPENDS`/`SETITEMS`/`ADDITEMS`, as CPython's `BATCHSIZE`. */
const BATCH = 1000;

const G_BYTES = new PyGlobal("builtins", "bytes");
const G_BYTEARRAY = new PyGlobal("builtins", "bytearray");
const G_SET = new PyGlobal("builtins", "set");
const G_FROZENSET = new PyGlobal("builtins", "frozenset");
const G_COMPLEX = new PyGlobal("builtins", "complex");
const G_OBJECT = new PyGlobal("builtins", "object");
const G_GETATTR = new PyGlobal("builtins", "getattr");
const G_CODECS_ENCODE = new PyGlobal("_codecs", "encode");
const G_RECONSTRUCTOR = new PyGlobal("copyreg", "_reconstructor");
const G_NEWOBJ = new PyGlobal("copyreg", "__newobj__");
const G_NEWOBJ_EX = new PyGlobal("copyreg", "__newobj_ex__");
const G_DATETIME = new PyGlobal("datetime", "datetime");
const G_DATE = new PyGlobal("datetime", "date");
const G_TIME = new PyGlobal("datetime", "time");
const G_TIMEDELTA = new PyGlobal("datetime", "timedelta");
const G_TIMEZONE = new PyGlobal("datetime", "timezone");
const G_DECIMAL = new PyGlobal("decimal", "Decimal");
const G_UUID = new PyGlobal("uuid", "UUID");
const G_ORDERED_DICT = new PyGlobal("collections", "OrderedDict");
const G_DEFAULT_DICT = new PyGlobal("collections", "defaultdict");
const G_DEQUE = new PyGlobal("collections", "deque");
const G_ARRAY = new PyGlobal("array", "array");
const G_ARRAY_RECONSTRUCTOR = new PyGlobal("array", "_array_reconstructor");
const G_NDARRAY = new PyGlobal("numpy", "ndarray");
const G_DTYPE = new PyGlobal("numpy", "dtype");

/**
 * Globals whose module string CPython does not share with other globals of the same module
 * (the function's `__module__` is a different object from the interned type's), so it is
 * written again rather than fetched from the memo.
 */
const UNSHARED_MODULE = new Set(["array\n_array_reconstructor"]);

/** `array` type code → `array._array_reconstructor`'s machine format code (little-endian host). */
const ARRAY_FORMATS: Record<string, number> = {
  b: 1,
  B: 0,
  u: 20,
  w: 20,
  h: 4,
  H: 2,
  i: 8,
  I: 6,
  l: 12,
  L: 10,
  q: 12,
  Q: 10,
  f: 14,
  d: 16,
};

/** `array` type code → bytes per element (Linux, 64-bit). */
const ARRAY_SIZES: Record<string, number> = {
  b: 1,
  B: 1,
  h: 2,
  H: 2,
  i: 4,
  I: 4,
  l: 8,
  L: 8,
  q: 8,
  Q: 8,
  f: 4,
  d: 8,
};

// Steps of a Program: a flat list of (code, argument, path segment) triples.
const S_SAVE = 0;
const S_FLOAT = 1;
const S_FRESH_STR = 2;
const S_OP = 3;
const S_TUPLE_START = 4;
const S_TUPLE_END = 5;
const S_MEMOIZE = 6;
const S_LIST_ITEMS = 7;
const S_DICT_ITEMS = 8;
const S_SET_ITEMS = 9;
const S_BUFFER = 10;
const S_INST = 11;
const S_FLOAT_LIST = 12;
const S_READONLY_BUFFER = 13;

/** The step that saves `value`; `segment` names it in error paths. */
function arg(value: unknown, segment = ""): unknown[] {
  return [S_SAVE, value, segment];
}

/** Any other step. */
function step(code: number, argument: unknown, segment = ""): unknown[] {
  return [code, argument, segment];
}

/** A container being written; the walk is iterative so that nesting depth costs heap only. */
interface Frame {
  /**
   * Writes as much as it can. Returns `true` when finished, `false` after a child frame was
   * pushed (the walk then runs the child and comes back).
   */
  run(m: Machine): boolean;
  /** The path segment of the child being written, for error messages. */
  segment(m: Machine): string;
}

/** The writer of one value at a time, reused by an {@linkcode Encoder} and by `encode()`. */
class Machine {
  readonly w = new Writer();
  readonly proto: number;
  readonly bin: boolean;
  readonly exact: boolean;
  readonly fixImports: boolean;
  readonly bufferCallback: ((buffer: Uint8Array) => unknown) | undefined;
  /** numpy's `_reconstruct`, `scalar` and `_frombuffer`, under `numpy._core` or `numpy.core`. */
  readonly numpyReconstruct: PyGlobal;
  readonly numpyScalar: PyGlobal;
  readonly numpyFromBuffer: PyGlobal;
  /** Memo indices of objects, by identity. */
  memo = new Map<unknown, number>();
  /** Memo indices of the first {@linkcode STRING_MEMO_LIMIT} distinct strings, by value. */
  strings = new Map<string, number>();
  /** Memo indices of values CPython shares by value: globals, builtin dtypes, 0/1-byte bytes. */
  valueMemo = new Map<string, number>();
  memoSize = 0;
  stack: Frame[] = [];
  /** The memo size when each open tuple or reduced object was last entered. */
  open = new Map<object, number>();
  /** Containers the encoder made up (CPython's argument tuples); they add no path segment. */
  synthetic = new Set<object>();
  /** Set while a value is being written (a getter or `bufferCallback` may call `encode()`). */
  busy = false;
  readonly header = new Uint8Array(9);
  readonly headerView = new DataView(this.header.buffer);

  constructor(options: EncodeOptions) {
    const proto = options.protocol ?? 4;
    if (!Number.isInteger(proto) || proto < 0 || proto > 5) {
      throw new RangeError(
        `Cannot encode with protocol ${proto}: the protocol must be 0 to 5`,
      );
    }
    if (options.bufferCallback !== undefined && proto < 5) {
      throw new RangeError(
        `Cannot use bufferCallback with protocol ${proto}: out-of-band buffers need protocol 5`,
      );
    }
    this.proto = proto;
    this.bin = proto >= 1;
    this.exact = options.exact ?? false;
    this.fixImports = options.fixImports ?? true;
    this.bufferCallback = options.bufferCallback;
    const numpy = options.numpyModule ?? "numpy._core";
    if (numpy !== "numpy._core" && numpy !== "numpy.core") {
      throw new RangeError(
        `Cannot write numpy under ${numpy}: the module must be "numpy._core" or "numpy.core"`,
      );
    }
    this.numpyReconstruct = new PyGlobal(`${numpy}.multiarray`, "_reconstruct");
    this.numpyScalar = new PyGlobal(`${numpy}.multiarray`, "scalar");
    this.numpyFromBuffer = new PyGlobal(`${numpy}.numeric`, "_frombuffer");
  }

  encode(value: unknown, shared: boolean): Uint8Array<ArrayBuffer> {
    const w = this.w;
    this.busy = true;
    try {
      if (this.proto >= 2) {
        w.byte2(PROTO, this.proto);
        if (this.proto >= 4) w.framing = true;
      }
      if (!this.save(value)) this.drain();
      w.byte(STOP);
      w.commitFrame();
      w.framing = false;
      return w.finish(shared);
    } finally {
      this.busy = false;
      // Every call ends ready for the next, a failed one too: what was written is dropped.
      w.reset();
      this.memo.clear();
      this.strings.clear();
      this.valueMemo.clear();
      this.memoSize = 0;
      this.stack.length = 0;
      this.open.clear();
      this.synthetic.clear();
    }
  }

  /** Runs frames until the stack is empty. */
  drain(): void {
    const stack = this.stack;
    while (stack.length > 0) {
      if (stack[stack.length - 1].run(this)) stack.pop();
    }
  }

  /** Throws a {@linkcode PicklingError} for the value being written, naming its path. */
  fail(what: string): never {
    let path = "value";
    for (const frame of this.stack) path += frame.segment(this);
    throw new PicklingError(`${what} at ${path}`, path);
  }

  // ---- memo ----

  /** Writes the opcode that stores the stack top in the next memo slot; returns the slot. */
  put(): number {
    const index = this.memoSize++;
    const w = this.w;
    if (this.proto >= 4) {
      w.byte(MEMOIZE);
    } else if (!this.bin) {
      w.ascii(`p${index}\n`);
    } else if (index < 256) {
      w.byte2(BINPUT, index);
    } else {
      w.reserve(5);
      w.buf[w.pos] = LONG_BINPUT;
      w.u32At(w.pos + 1, index);
      w.pos += 5;
    }
    return index;
  }

  /** Writes the opcode that pushes memo slot `index`. */
  get(index: number): void {
    const w = this.w;
    if (!this.bin) {
      w.ascii(`g${index}\n`);
    } else if (index < 256) {
      w.byte2(BINGET, index);
    } else {
      w.reserve(5);
      w.buf[w.pos] = LONG_BINGET;
      w.u32At(w.pos + 1, index);
      w.pos += 5;
    }
  }

  /**
   * Writes the `GET`s of the run of memoized objects at `items[start]` (whose slot is `index`),
   * `items[start + 1]`, … before `end` (binary protocols), and returns where the run stopped.
   * A list that repeats one object looks it up once.
   */
  saveMemoized(
    items: ArrayLike<unknown>,
    start: number,
    index: number,
    end: number,
  ): number {
    const w = this.w;
    const memo = this.memo;
    w.reserve(5 * (end - start));
    let buf = w.buf;
    let pos = w.pos;
    let limit = w.frameLimit();
    let previous = items[start];
    let i = start;
    for (;;) {
      if (index < 256) {
        buf[pos] = BINGET;
        buf[pos + 1] = index;
        pos += 2;
      } else {
        buf[pos] = LONG_BINGET;
        buf[pos + 1] = index & 0xff;
        buf[pos + 2] = (index >> 8) & 0xff;
        buf[pos + 3] = (index >> 16) & 0xff;
        buf[pos + 4] = index >>> 24;
        pos += 5;
      }
      if (++i === end) break;
      const item = items[i];
      if (item !== previous) {
        if (typeof item !== "object" || item === null) break;
        const next = memo.get(item);
        if (next === undefined) break;
        index = next;
        previous = item;
      }
      if (pos >= limit) {
        w.pos = pos;
        w.commitFrame();
        w.reserve(5 * (end - i));
        buf = w.buf;
        pos = w.pos;
        limit = w.frameLimit();
      }
    }
    w.pos = pos;
    return i;
  }

  /** The value-memo key of an object CPython shares by value, or `null`. */
  valueKey(value: object): string | null {
    if (value instanceof PyGlobal) return globalKey(value);
    if (value instanceof DType) return dtypeKey(value);
    return null;
  }

  /** Memoizes `value` after its construction opcode (`REDUCE`, `NEWOBJ`, …). */
  memoizeBuilt(value: object): void {
    const key = this.valueKey(value);
    const index = key === null ? this.memo.get(value) : this.valueMemo.get(key);
    if (index !== undefined) {
      // The object was reached again while its arguments were written: CPython throws away
      // what it built and fetches the first copy.
      this.w.byte(POP);
      this.get(index);
      return;
    }
    const slot = this.put();
    if (key === null) this.memo.set(value, slot);
    else this.valueMemo.set(key, slot);
  }

  /**
   * Notes that a tuple or reduced object is being written (it is memoized only afterwards) and
   * returns what {@linkcode leave} restores. Reaching it again is fine as long as something was
   * memoized since (a list inside it, which the next round fetches from the memo); reaching it
   * again with nothing memoized since would repeat forever (CPython: `RecursionError`).
   */
  enter(value: object): number {
    const previous = this.open.get(value);
    if (previous === this.memoSize) {
      this.fail(
        "A tuple or object contains itself with no list, dict or set between (CPython fails with RecursionError)",
      );
    }
    this.open.set(value, this.memoSize);
    return previous ?? -1;
  }

  /** Ends what {@linkcode enter} started. */
  leave(value: object, previous: number): void {
    if (previous < 0) this.open.delete(value);
    else this.open.set(value, previous);
  }

  // ---- the walk ----

  /**
   * Writes a value, or pushes a frame for it. Returns `true` when the value is fully written.
   * Calls the frame boundary check first, as CPython's `save()` does.
   */
  save(value: unknown): boolean {
    const w = this.w;
    if (w.frameStart >= 0) w.boundary();
    switch (typeof value) {
      case "number":
        this.writeNumber(value);
        return true;
      case "string":
        this.saveString(value);
        return true;
      case "boolean":
        if (this.proto >= 2) w.byte(value ? NEWTRUE : NEWFALSE);
        else w.ascii(value ? "I01\n" : "I00\n");
        return true;
      case "bigint":
        this.writeBigInt(value);
        return true;
      case "undefined":
        w.byte(NONE);
        return true;
      case "object": {
        if (value === null) {
          w.byte(NONE);
          return true;
        }
        const index = this.memo.get(value);
        if (index !== undefined) {
          this.get(index);
          return true;
        }
        return this.saveObject(value);
      }
      case "function":
        return this.fail(
          `A function (${
            (value as { name?: string }).name || "anonymous"
          }) has no pickle form`,
        );
      default:
        return this.fail(`A ${typeof value} has no pickle form`);
    }
  }

  saveObject(value: object): boolean {
    if (Array.isArray(value)) {
      if (value.constructor === Array) return this.saveList(value);
      if (value instanceof Tuple) return this.saveTuple(value);
      if (value instanceof Deque) return this.saveDeque(value);
      return this.saveList(value);
    }
    if (value instanceof Uint8Array) {
      if (value instanceof ByteArray) return this.saveByteArray(value);
      this.saveBytes(value);
      return true;
    }
    if (value instanceof Map) {
      if (value.constructor === Map) return this.saveDict(value);
      if (value instanceof OrderedDict) {
        return this.push(
          value,
          reduceSteps(value, G_ORDERED_DICT, [], undefined, null, value),
        );
      }
      if (value instanceof DefaultDict) {
        const args = value.defaultFactory === null
          ? []
          : arg(value.defaultFactory, ".defaultFactory");
        return this.push(
          value,
          reduceSteps(value, G_DEFAULT_DICT, args, undefined, null, value),
        );
      }
      return this.saveDict(value);
    }
    const prototype = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) {
      return this.saveDict(value as Record<string, unknown>);
    }
    if (value instanceof Set) {
      if (value instanceof FrozenSet) return this.saveFrozenSet(value);
      return this.saveSet(value);
    }
    if (value instanceof PyGlobal) {
      this.saveGlobal(value);
      return true;
    }
    if (value instanceof PyObject) return this.saveRecord(value);
    if (value instanceof Date) return this.saveDate(value);
    if (value instanceof PyDateTime) {
      this.checkDate(value.year, value.month, value.day);
      this.checkTime(value.hour, value.minute, value.second, value.microsecond);
      const state = dateTimeState(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        this.proto > 3 ? value.fold : 0,
      );
      return this.push(value, withTzinfo(value, G_DATETIME, state));
    }
    if (value instanceof PyDate) {
      this.checkDate(value.year, value.month, value.day);
      const state = new Uint8Array([
        value.year >> 8,
        value.year & 0xff,
        value.month,
        value.day,
      ]);
      return this.push(
        value,
        reduceSteps(value, G_DATE, arg(state)),
      );
    }
    if (value instanceof PyTime) {
      this.checkTime(value.hour, value.minute, value.second, value.microsecond);
      const us = value.microsecond;
      const state = new Uint8Array([
        value.hour | (this.proto > 3 && value.fold ? 0x80 : 0),
        value.minute,
        value.second,
        us >> 16,
        (us >> 8) & 0xff,
        us & 0xff,
      ]);
      return this.push(value, withTzinfo(value, G_TIME, state));
    }
    if (value instanceof PyTimeDelta) {
      return this.push(
        value,
        reduceSteps(value, G_TIMEDELTA, [
          ...arg(this.int(value.days, "days"), ".days"),
          ...arg(this.int(value.seconds, "seconds"), ".seconds"),
          ...arg(this.int(value.microseconds, "microseconds"), ".microseconds"),
        ]),
      );
    }
    if (value instanceof PyTimeZone) {
      const args: unknown[] = arg(value.offset, ".offset");
      if (value.name !== null) args.push(...arg(value.name, ".name"));
      return this.push(value, reduceSteps(value, G_TIMEZONE, args));
    }
    if (value instanceof Complex) {
      return this.push(
        value,
        reduceSteps(value, G_COMPLEX, [
          ...step(S_FLOAT, value.real),
          ...step(S_FLOAT, value.imag),
        ]),
      );
    }
    if (value instanceof Decimal) {
      return this.push(
        value,
        reduceSteps(value, G_DECIMAL, step(S_FRESH_STR, String(value.value))),
      );
    }
    if (value instanceof UUID) return this.saveUuid(value);
    if (value instanceof PyArray) return this.saveArray(value);
    if (value instanceof NdArray) return this.saveNdArray(value);
    if (value instanceof DType) return this.saveDType(value);
    if (value instanceof NumpyScalar) {
      return this.push(
        value,
        reduceSteps(value, this.numpyScalar, [
          ...arg(value.dtype, ".dtype"),
          ...arg(value.raw.slice(), ".raw"),
        ]),
      );
    }
    if (ArrayBuffer.isView(value)) {
      return this.fail(
        `A ${value.constructor.name} has no single Python form (wrap it in NdArray or PyArray, or pass a Uint8Array for bytes)`,
      );
    }
    const name = (value.constructor as { name?: string } | undefined)?.name;
    return this.fail(
      `An instance of ${name || "an unknown class"} has no pickle form`,
    );
  }

  /** Pushes a frame that runs `steps` for `value`. */
  push(value: object, steps: unknown[]): false {
    this.stack.push(new ProgramFrame(value, steps, this.enter(value)));
    return false;
  }

  // ---- atoms ----

  /** An integral `number` (not `-0`) is an `int` unless `exact`; any other is a `float`. */
  writeNumber(value: number): void {
    if (
      !this.exact && Number.isInteger(value) && (value !== 0 || 1 / value > 0)
    ) {
      this.writeInt(value);
    } else {
      this.writeFloat(value);
    }
  }

  writeInt(value: number): void {
    const w = this.w;
    if (value >= -0x80000000 && value <= 0x7fffffff) {
      if (!this.bin) {
        w.ascii(`I${value}\n`);
      } else {
        w.reserve(5);
        w.pos = writeSmallInt(w.buf, w.pos, value);
      }
    } else if (this.proto < 2 || !Number.isSafeInteger(value)) {
      this.writeBigInt(BigInt(value));
    } else {
      const high = Math.floor(value / 0x100000000);
      this.writeLong64(value - high * 0x100000000, high | 0);
    }
  }

  /** Writes `LONG1` for the 64-bit two's complement `high:low`, trimmed as CPython does. */
  writeLong64(low: number, high: number): void {
    const w = this.w;
    w.reserve(10);
    const buf = w.buf;
    const start = w.pos + 2;
    w.view.setUint32(start, low >>> 0, true);
    w.view.setInt32(start + 4, high, true);
    let n = 8;
    while (n > 1) {
      const top = buf[start + n - 1];
      const sign = buf[start + n - 2] & 0x80;
      if ((top === 0 && sign === 0) || (top === 0xff && sign !== 0)) n--;
      else break;
    }
    buf[w.pos] = LONG1;
    buf[w.pos + 1] = n;
    w.pos += 2 + n;
  }

  writeBigInt(value: bigint): void {
    if (value >= -0x80000000n && value <= 0x7fffffffn) {
      BIGINT_SLOT[0] = value;
      this.writeInt(BIGINT_WORDS[0]);
      return;
    }
    const w = this.w;
    if (this.proto < 2) {
      w.ascii(`L${value}L\n`);
      return;
    }
    if (value >= -0x8000000000000000n && value <= 0x7fffffffffffffffn) {
      BIGINT_SLOT[0] = value;
      this.writeLong64(BIGINT_WORDS[0] >>> 0, BIGINT_WORDS[1]);
      return;
    }
    // Little-endian two's complement of the minimal length: the magnitude bits of `value`
    // (of `~value` when negative) plus a sign bit.
    const negative = value < 0n;
    const magnitude = negative ? -value - 1n : value;
    const hex = magnitude.toString(16);
    const bits = (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)));
    const n = (bits >> 3) + 1;
    const flip = negative ? 0xff : 0;
    const headerLength = n < 256 ? 2 : 5;
    w.reserve(headerLength + n);
    const buf = w.buf;
    if (n < 256) {
      buf[w.pos] = LONG1;
      buf[w.pos + 1] = n;
    } else {
      buf[w.pos] = LONG4;
      w.u32At(w.pos + 1, n);
    }
    const start = w.pos + headerLength;
    let digit = hex.length;
    for (let i = 0; i < n; i++) {
      let byte = 0;
      if (digit > 0) byte = hexValue(hex.charCodeAt(--digit));
      if (digit > 0) byte |= hexValue(hex.charCodeAt(--digit)) << 4;
      buf[start + i] = byte ^ flip;
    }
    w.pos = start + n;
  }

  /**
   * Writes the run of ints that fit in 32 bits at `items[start]`, `items[start + 1]`, … before
   * `end` (binary protocols), and returns where the run stopped. Lists of small ints are the
   * usual case: one reservation for the run and the frame check as one comparison per item.
   */
  saveSmallInts(items: ArrayLike<unknown>, start: number, end: number): number {
    if (!isSmallInt(items[start], this.exact)) return start;
    const w = this.w;
    if (w.frameStart >= 0) w.boundary();
    // One loop per type: a loop that takes both reads a bigint at half the speed.
    let i = start;
    for (;;) {
      w.reserve(5 * (end - i));
      i = typeof items[i] === "bigint"
        ? bigIntRun(w, items, i, end)
        : numberRun(w, items, i, end);
      if (i === end || !isSmallInt(items[i], this.exact)) return i;
      // The next small int is of the other type, or the frame is full: it closes before it.
      if (w.pos >= w.frameLimit()) w.commitFrame();
    }
  }

  /**
   * Writes the `BINFLOAT`s of the run of floats (see {@linkcode isFloat}) at `items[start]`,
   * `items[start + 1]`, … before `end` (binary protocols), and returns where the run stopped, as
   * {@linkcode saveSmallInts} does for ints.
   */
  saveFloats(items: ArrayLike<unknown>, start: number, end: number): number {
    const w = this.w;
    if (w.frameStart >= 0) w.boundary();
    let i = start;
    for (;;) {
      w.reserve(9 * (end - i));
      i = floatRun(w, items, i, end, this.exact);
      if (i === end || !isFloat(items[i], this.exact)) return i;
      w.commitFrame();
    }
  }

  writeFloat(value: number): void {
    const w = this.w;
    if (this.bin) {
      w.reserve(9);
      w.buf[w.pos] = BINFLOAT;
      w.view.setFloat64(w.pos + 1, value, false);
      w.pos += 9;
    } else {
      w.ascii(`F${pythonFloatRepr(value)}\n`);
    }
  }

  saveString(text: string): void {
    const strings = this.strings;
    const index = strings.get(text);
    if (index !== undefined) {
      this.get(index);
      return;
    }
    this.writeString(text);
    const slot = this.put();
    if (strings.size < STRING_MEMO_LIMIT) strings.set(text, slot);
  }

  /**
   * Saves the run of strings at `items[start]`, `items[start + 1]`, … before `end`, and returns
   * where the run stopped. At protocol 4+, short ASCII strings, the usual case, are encoded
   * together by one `TextEncoder.encodeInto` straight into the output (a JS loop costs ~2.5 ns a
   * character): joined with placeholders for their opcode, length and `MEMOIZE` bytes, which
   * are filled in afterwards. A run ends where the frame check would close the frame and at a
   * string already in the memo.
   */
  saveStrings(items: ArrayLike<unknown>, start: number, end: number): number {
    const w = this.w;
    let short = start + 1;
    while (short < end && (this.proto < 4 || short < start + 4)) {
      const item = items[short];
      if (typeof item !== "string" || item.length > 0xff) break;
      short++;
    }
    if (this.proto < 4 || short < start + 4) {
      for (let i = start; i < short; i++) {
        if (w.frameStart >= 0) w.boundary();
        this.saveString(items[i] as string);
      }
      return short;
    }
    if (w.frameStart >= 0) w.boundary();
    // The frame the run goes into is opened first, so that its end is known.
    w.reserve(0);
    const limit = w.frameLimit();
    const strings = this.strings;
    let slot = this.memoSize;
    let pos = w.pos;
    let stop = start;
    let joined = "";
    while (stop < end) {
      const item = items[stop];
      if (
        typeof item !== "string" || item.length > 0xff ||
        (stop > start && pos >= limit) || strings.has(item)
      ) {
        break;
      }
      joined += "\0\0" + item + "\0";
      pos += item.length + 3;
      // Entered now so that a repeat inside the run ends it.
      if (strings.size < STRING_MEMO_LIMIT) strings.set(item, slot);
      slot++;
      stop++;
    }
    if (stop - start >= 4) {
      w.reserve(joined.length);
      const buf = w.buf;
      if (writeAscii(joined, buf, w.pos)) {
        let at = w.pos;
        for (let i = start; i < stop; i++) {
          const length = (items[i] as string).length;
          buf[at] = SHORT_BINUNICODE;
          buf[at + 1] = length;
          buf[at + 2 + length] = MEMOIZE;
          at += length + 3;
        }
        w.pos = at;
        this.memoSize = slot;
        return stop;
      }
    }
    // Too short to gain, or not all ASCII: one string at a time, after undoing the entries.
    for (let i = start; i < stop; i++) {
      const text = items[i] as string;
      if (strings.get(text) === this.memoSize + i - start) strings.delete(text);
    }
    if (stop === start) stop++;
    for (let i = start; i < stop; i++) {
      if (w.frameStart >= 0) w.boundary();
      this.saveString(items[i] as string);
    }
    return stop;
  }

  /** Writes a `str` without its memo opcode. */
  writeString(text: string): void {
    const w = this.w;
    const n = text.length;
    if (!this.bin) {
      w.byte(0x56); // UNICODE
      w.bytes(rawUnicodeEscape(text));
      w.byte(0x0a);
      return;
    }
    if (n <= 85 && this.proto >= 4) {
      w.reserve(2 + 3 * n);
      const end = writeUtf8(text, w.buf, w.pos + 2);
      w.buf[w.pos] = SHORT_BINUNICODE;
      w.buf[w.pos + 1] = end - w.pos - 2;
      w.pos = end;
      return;
    }
    if (3 * n < FRAME_SIZE_TARGET) {
      w.reserve(5 + 3 * n);
      const start = w.pos;
      const end = writeUtf8(text, w.buf, start + 5);
      const length = end - start - 5;
      if (length <= 0xff && this.proto >= 4) {
        w.buf.copyWithin(start + 2, start + 5, end);
        w.buf[start] = SHORT_BINUNICODE;
        w.buf[start + 1] = length;
        w.pos = end - 3;
      } else {
        w.buf[start] = BINUNICODE;
        w.u32At(start + 1, length);
        w.pos = end;
      }
      return;
    }
    const length = utf8Length(text);
    const framing = w.beginPayload(length, 5 + length);
    w.buf[w.pos] = BINUNICODE;
    w.u32At(w.pos + 1, length);
    w.pos = writeUtf8(text, w.buf, w.pos + 5);
    w.endPayload(framing);
  }

  /** Writes a `str` that CPython creates afresh: it takes a memo slot nobody refers to. */
  saveFreshString(text: string): void {
    const w = this.w;
    if (w.frameStart >= 0) w.boundary();
    this.writeString(text);
    this.put();
  }

  saveBytes(data: Uint8Array): void {
    // CPython keeps one object for b"" and for each 1-byte bytes, so those share a memo slot.
    const key = data.length <= 1
      ? `b${data.length === 0 ? "" : data[0]}`
      : null;
    if (key !== null) {
      const index = this.valueMemo.get(key);
      if (index !== undefined) {
        this.get(index);
        return;
      }
    }
    if (this.proto >= 3) {
      this.writeBytesOpcode(data, false);
    } else if (data.length === 0) {
      this.saveGlobal(G_BYTES);
      this.tupleStart(0);
      this.tupleEnd(0);
      this.w.byte(REDUCE);
    } else {
      this.saveGlobal(G_CODECS_ENCODE);
      this.tupleStart(2);
      this.saveLatin1(data);
      this.save("latin1");
      this.tupleEnd(2);
      this.w.byte(REDUCE);
    }
    const slot = this.put();
    if (key !== null) this.valueMemo.set(key, slot);
    else this.memo.set(data, slot);
  }

  /** Writes `SHORT_BINBYTES`/`BINBYTES`/`BINBYTES8`, or `BYTEARRAY8`; no memo opcode. */
  writeBytesOpcode(data: Uint8Array, bytearray: boolean): void {
    const header = this.header;
    const size = data.length;
    let headerLength: number;
    if (bytearray) {
      header[0] = BYTEARRAY8;
      this.headerView.setUint32(1, size % 0x100000000, true);
      this.headerView.setUint32(5, Math.floor(size / 0x100000000), true);
      headerLength = 9;
    } else if (size <= 0xff) {
      header[0] = SHORT_BINBYTES;
      header[1] = size;
      headerLength = 2;
    } else if (size <= 0xffffffff) {
      header[0] = BINBYTES;
      this.headerView.setUint32(1, size, true);
      headerLength = 5;
    } else if (this.proto >= 4) {
      header[0] = BINBYTES8;
      this.headerView.setUint32(1, size % 0x100000000, true);
      this.headerView.setUint32(5, Math.floor(size / 0x100000000), true);
      headerLength = 9;
    } else {
      this.fail("A bytes object larger than 4 GiB needs protocol 4 or higher");
    }
    this.w.headerAndPayload(header, headerLength, data);
  }

  /**
   * Writes the `str` that `data` decodes to as Latin-1 (the first argument of
   * `_codecs.encode(…, "latin1")`), with its memo opcode, straight from the bytes.
   */
  saveLatin1(data: Uint8Array): void {
    const w = this.w;
    if (w.frameStart >= 0) w.boundary();
    const n = data.length;
    if (!this.bin) {
      let text = "";
      for (let i = 0; i < n; i += 8192) {
        text += String.fromCharCode(...data.subarray(i, i + 8192));
      }
      this.writeString(text);
      this.put();
      return;
    }
    const length = latin1Utf8Length(data);
    // One byte more: writeLatin1AsUtf8 may write one past the text.
    const framing = w.beginPayload(length, 5 + length + 1);
    w.buf[w.pos] = BINUNICODE;
    w.u32At(w.pos + 1, length);
    w.pos = writeLatin1AsUtf8(data, w.buf, w.pos + 5);
    w.endPayload(framing);
    this.put();
  }

  /** Writes the start of a tuple CPython builds (an argument tuple): `MARK` when needed. */
  tupleStart(n: number): void {
    const w = this.w;
    if (w.frameStart >= 0) w.boundary();
    if (n === 0) {
      if (!this.bin) w.byte(MARK);
    } else if (n > 3 || this.proto < 2) {
      w.byte(MARK);
    }
  }

  /** Ends a made-up tuple started by {@linkcode tupleStart}, with its (unused) memo slot. */
  tupleEnd(n: number): void {
    const w = this.w;
    if (n === 0) {
      w.byte(this.bin ? EMPTY_TUPLE : TUPLE);
      return;
    }
    w.byte(n <= 3 && this.proto >= 2 ? TUPLE1 - 1 + n : TUPLE);
    this.put();
  }

  saveGlobal(global: PyGlobal): void {
    const key = globalKey(global);
    const index = this.valueMemo.get(key);
    if (index !== undefined) {
      this.get(index);
      return;
    }
    const w = this.w;
    if (this.proto >= 4) {
      if (w.frameStart >= 0) w.boundary();
      if (UNSHARED_MODULE.has(key)) {
        this.saveFreshString(global.module);
      } else {
        this.saveString(global.module);
      }
      this.saveFreshString(global.name);
      w.byte(STACK_GLOBAL);
    } else if (global.name.includes(".")) {
      this.saveDottedGlobal(global);
      return;
    } else {
      this.writeGlobalOpcode(global.module, global.name);
    }
    this.valueMemo.set(key, this.put());
  }

  /** `GLOBAL module\nname\n`, with the Python 2 names at protocols 0–2. */
  writeGlobalOpcode(module: string, name: string, opcode = GLOBAL): void {
    if (this.proto < 3 && this.fixImports) {
      [module, name] = toPython2Name(module, name);
    }
    const text = `${module}\n${name}\n`;
    if (
      module.includes("\n") || name.includes("\n") ||
      (this.proto < 3 && /[^\0-\x7f]/.test(text))
    ) {
      this.fail(
        `The global ${module}.${name} cannot be written with protocol ${this.proto}`,
      );
    }
    const w = this.w;
    w.byte(opcode);
    w.reserve(3 * text.length);
    w.pos = writeUtf8(text, w.buf, w.pos);
  }

  /**
   * A nested name (`Outer.Inner`) below protocol 4, as CPython writes it:
   * `getattr(getattr(module.Outer, "Inner"), …)`, memoizing each level.
   */
  saveDottedGlobal(global: PyGlobal): void {
    const parts = global.name.split(".");
    if (parts.length > MAX_NAME_PARTS) {
      this.fail(
        `The name ${
          global.name.slice(0, 40)
        }… nests ${parts.length} levels; protocols 0–3 ` +
          `write one getattr() per level, at most ${MAX_NAME_PARTS}`,
      );
    }
    // prefixes[k] is the memo key of the first k parts.
    const prefixes = [`${global.module}\n`];
    for (let k = 0; k < parts.length; k++) {
      prefixes.push(`${prefixes[k]}${k === 0 ? "" : "."}${parts[k]}`);
    }
    const prefix = (k: number) => prefixes[k];
    let known = 1;
    for (let k = parts.length - 1; k >= 1; k--) {
      if (this.valueMemo.has(prefix(k))) {
        known = k;
        break;
      }
    }
    const w = this.w;
    for (let k = parts.length; k > known; k--) {
      this.saveGlobal(G_GETATTR);
      this.tupleStart(2);
    }
    if (w.frameStart >= 0) w.boundary();
    const index = this.valueMemo.get(prefix(known));
    if (index !== undefined) {
      this.get(index);
    } else {
      this.writeGlobalOpcode(global.module, parts[0]);
      this.valueMemo.set(prefix(1), this.put());
    }
    for (let k = known + 1; k <= parts.length; k++) {
      this.saveFreshString(parts[k - 1]);
      this.tupleEnd(2);
      w.byte(REDUCE);
      this.valueMemo.set(prefix(k), this.put());
    }
  }

  // ---- containers ----

  saveList(list: unknown[]): boolean {
    const w = this.w;
    if (this.bin) w.byte(EMPTY_LIST);
    else w.byte2(MARK, LIST);
    this.memo.set(list, this.put());
    const n = list.length;
    if (n === 0) return true;
    if (n <= BATCH && this.bin && allLeaves(list)) {
      // A list of scalars needs no frame: batch_list_exact's one batch, written here.
      if (n === 1) {
        this.save(list[0]);
        w.byte(APPEND);
        return true;
      }
      w.byte(MARK);
      for (let i = 0; i < n;) {
        const item = list[i];
        if (typeof item === "string") {
          i = this.saveStrings(list, i, n);
        } else {
          this.save(item);
          i++;
        }
      }
      w.byte(APPENDS);
      return true;
    }
    this.stack.push(new ListFrame(list, this.bin ? EXACT : TEXT, ""));
    return false;
  }

  saveTuple(tuple: unknown[]): boolean {
    const n = tuple.length;
    const w = this.w;
    if (n === 0) {
      if (this.bin) w.byte(EMPTY_TUPLE);
      else w.byte2(MARK, TUPLE);
      return true;
    }
    const marked = n > 3 || this.proto < 2;
    if (marked) w.byte(MARK);
    this.stack.push(new TupleFrame(tuple, marked, this.enter(tuple)));
    return false;
  }

  saveDict(dict: Map<unknown, unknown> | Record<string, unknown>): boolean {
    const w = this.w;
    if (this.bin) w.byte(EMPTY_DICT);
    else w.byte2(MARK, DICT);
    this.memo.set(dict, this.put());
    const map = dict instanceof Map ? dict : null;
    const keys = map === null ? Object.keys(dict) : null;
    const n = map === null ? keys!.length : map.size;
    if (n === 0) return true;
    const entries = map === null ? null : map.entries();
    if (!this.bin || n >= BATCH) {
      this.stack.push(
        new DictFrame(dict, this.bin ? EXACT : TEXT, "", keys, entries),
      );
      return false;
    }
    // batch_dict_exact's one batch, written here while the pairs are scalars or lists of scalars; the first pair
    // that holds a container hands the rest to a frame.
    if (n > 1) w.byte(MARK);
    for (let i = 0; i < n; i++) {
      let key: unknown;
      let value: unknown;
      if (entries === null) {
        key = keys![i];
        value = (dict as Record<string, unknown>)[key as string];
      } else {
        const entry = entries.next().value as [unknown, unknown];
        key = entry[0];
        value = entry[1];
      }
      const keyDone = isScalar(key);
      if (keyDone && (isScalar(value) || isLeafList(value))) {
        this.save(key);
        this.save(value);
        continue;
      }
      if (keyDone) this.save(key);
      this.stack.push(
        new DictFrame(dict, EXACT, "", keys, entries).resume(
          i + 1,
          key,
          value,
          keyDone,
        ),
      );
      return false;
    }
    w.byte(n > 1 ? SETITEMS : SETITEM);
    return true;
  }

  saveSet(set: Set<unknown>): boolean {
    if (this.proto < 4) return this.saveSetByReduce(set, G_SET);
    this.w.byte(EMPTY_SET);
    this.memo.set(set, this.put());
    if (set.size === 0) return true;
    this.stack.push(new SetFrame(set.values(), ""));
    return false;
  }

  saveFrozenSet(set: Set<unknown>): boolean {
    if (this.proto < 4) return this.saveSetByReduce(set, G_FROZENSET);
    this.w.byte(MARK);
    this.stack.push(new FrozenSetFrame(set, this.enter(set)));
    return false;
  }

  /** Protocols 0–3: `set([…])` / `frozenset([…])`. */
  saveSetByReduce(set: Set<unknown>, callable: PyGlobal): boolean {
    const items = Array.from(set);
    for (const item of items) {
      const kind = unhashable(item);
      if (kind !== null) {
        return this.fail(`A ${kind} cannot be an item of a Python set`);
      }
    }
    this.synthetic.add(items);
    return this.push(
      set,
      reduceSteps(set, callable, arg(items)),
    );
  }

  saveDeque(deque: Deque): boolean {
    let args: unknown[];
    if (deque.maxlen === null) {
      args = [];
    } else {
      const inner = new Tuple();
      args = [
        ...arg(inner),
        ...arg(this.int(deque.maxlen, "maxlen"), ".maxlen"),
      ];
    }
    return this.push(
      deque,
      reduceSteps(deque, G_DEQUE, args, undefined, deque),
    );
  }

  saveByteArray(data: ByteArray): boolean {
    const w = this.w;
    if (this.proto >= 5) {
      this.writeBytesOpcode(data, true);
    } else {
      this.saveGlobal(G_BYTEARRAY);
      if (data.length === 0) {
        this.tupleStart(0);
        this.tupleEnd(0);
      } else {
        this.tupleStart(1);
        if (w.frameStart >= 0) w.boundary();
        this.saveBytes(
          new Uint8Array(data.buffer, data.byteOffset, data.length),
        );
        this.tupleEnd(1);
      }
      w.byte(REDUCE);
    }
    this.memo.set(data, this.put());
    return true;
  }

  saveDate(date: Date): boolean {
    const ms = date.getTime();
    if (Number.isNaN(ms)) {
      return this.fail("An invalid Date has no pickle form");
    }
    const year = date.getUTCFullYear();
    if (year < 1 || year > 9999) {
      return this.fail(
        `The Date ${date.toISOString()} is outside Python's years 1 to 9999`,
      );
    }
    const state = dateTimeState(
      year,
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds() * 1000,
      0,
    );
    return this.push(
      date,
      reduceSteps(date, G_DATETIME, arg(state)),
    );
  }

  saveUuid(uuid: UUID): boolean {
    const state = new Map<unknown, unknown>([["int", uuid.int]]);
    if (this.proto >= 2) {
      return this.push(uuid, [
        ...arg(G_UUID),
        ...step(S_TUPLE_START, 0),
        ...step(S_TUPLE_END, 0),
        ...step(S_OP, NEWOBJ),
        ...step(S_MEMOIZE, uuid),
        ...arg(state, ".int"),
        ...step(S_OP, BUILD),
      ]);
    }
    return this.push(uuid, [
      ...reconstructorSteps(uuid, G_UUID),
      ...arg(state, ".int"),
      ...step(S_OP, BUILD),
    ]);
  }

  saveArray(array: PyArray): boolean {
    const { typecode, data } = array;
    const format = ARRAY_FORMATS[typecode];
    if (format === undefined) {
      return this.fail(
        `The array type code ${JSON.stringify(typecode)} is unknown`,
      );
    }
    const unicode = typecode === "u" || typecode === "w";
    if (unicode !== (typeof data === "string")) {
      return this.fail(
        `The data of an array of type code ${typecode} must be ${
          unicode ? "a string" : "a typed array"
        }`,
      );
    }
    if (
      typeof data !== "string" &&
      data.BYTES_PER_ELEMENT !== ARRAY_SIZES[typecode]
    ) {
      return this.fail(
        `The data of an array of type code ${typecode} must have ${
          ARRAY_SIZES[typecode]
        }-byte elements, not a ${data.constructor.name}`,
      );
    }
    if (this.proto >= 3) {
      const bytes = typeof data === "string"
        ? utf32(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return this.push(
        array,
        reduceSteps(array, G_ARRAY_RECONSTRUCTOR, [
          ...arg(G_ARRAY),
          ...arg(typecode, ".typecode"),
          ...arg(BigInt(format)),
          ...arg(bytes, ".data"),
        ]),
      );
    }
    const items = typeof data === "string"
      ? Array.from(data)
      : typecode === "f" || typecode === "d"
      ? Array.from(data as Float64Array)
      : Array.from(data as ArrayLike<number | bigint>, (x) => BigInt(x));
    this.synthetic.add(items);
    const floats = typecode === "f" || typecode === "d";
    return this.push(
      array,
      reduceSteps(array, G_ARRAY, [
        ...arg(typecode, ".typecode"),
        ...(floats ? step(S_FLOAT_LIST, items, ".data") : arg(items, ".data")),
      ]),
    );
  }

  saveDType(dtype: DType): boolean {
    const key = dtypeKey(dtype);
    if (key !== null) {
      const index = this.valueMemo.get(key);
      if (index !== undefined) {
        this.get(index);
        return true;
      }
    }
    const state = dtype.state ?? dtypeState(dtype);
    return this.push(
      dtype,
      reduceSteps(
        dtype,
        G_DTYPE,
        [...step(S_FRESH_STR, dtype.str), ...arg(false), ...arg(true)],
        state,
      ),
    );
  }

  saveNdArray(array: NdArray): boolean {
    const { dtype, data } = array;
    const kind = dtype.str[0];
    const size = array.shape.reduce((a, b) => a * b, 1);
    if (
      Array.isArray(data)
        ? data.length !== size
        : data.byteLength !== size * dtype.itemsize
    ) {
      return this.fail(
        `The data of a numpy array of shape (${array.shape}) and itemsize ${dtype.itemsize} ` +
          `must hold ${size} elements`,
      );
    }
    const shape = Tuple.of(...array.shape.map((d) => this.int(d, "shape")));
    this.synthetic.add(shape);
    const bytes = Array.isArray(data)
      ? null
      : arrayBytes(data, dtype.byteorder);
    if (
      this.proto >= 5 && bytes !== null && dtype.itemsize > 0 &&
      kind !== "M" && kind !== "m" && kind !== "O"
    ) {
      return this.push(
        array,
        reduceSteps(array, this.numpyFromBuffer, [
          ...step(
            array.writeable ? S_BUFFER : S_READONLY_BUFFER,
            bytes,
            ".data",
          ),
          ...arg(dtype, ".dtype"),
          ...arg(shape, ".shape"),
          ...arg(array.order, ".order"),
        ]),
      );
    }
    const tag = new Tuple();
    tag.push(0n);
    this.synthetic.add(tag);
    let items = data;
    if (Array.isArray(data) && array.order === "F" && array.shape.length > 1) {
      // numpy pickles the items in C order whatever the layout.
      items = fortranPositions(array.shape).map((at) => data[at]);
      this.synthetic.add(items);
    }
    const state = Tuple.of<unknown>(
      1n,
      shape,
      dtype,
      array.order === "F",
      bytes ?? items,
    );
    this.synthetic.add(state);
    return this.push(
      array,
      reduceSteps(
        array,
        this.numpyReconstruct,
        [
          ...arg(G_NDARRAY),
          ...arg(tag),
          ...arg(LETTER_B),
        ],
        state,
      ),
    );
  }

  saveRecord(record: PyObject): boolean {
    const steps: unknown[] = [];
    let args = record.args;
    if (!(args instanceof Tuple)) {
      // A record built by hand with a plain array: the arguments are a tuple all the same.
      args = Tuple.of(...(args as unknown[]));
      this.synthetic.add(args);
    }
    const kind = record.kind;
    if (kind === "reduce") {
      steps.push(
        ...arg(record.cls, ".cls"),
        ...arg(args, ".args"),
        ...step(S_OP, REDUCE),
      );
    } else if (kind === "newobj" && this.proto >= 2) {
      steps.push(
        ...arg(record.cls, ".cls"),
        ...arg(args, ".args"),
        ...step(S_OP, NEWOBJ),
      );
    } else if (kind === "newobj" && args.length === 0) {
      steps.push(...reconstructorSteps(record, record.cls).slice(0, -3));
    } else if (kind === "newobj") {
      steps.push(...arg(G_NEWOBJ), ...step(S_TUPLE_START, args.length + 1));
      steps.push(...arg(record.cls, ".cls"));
      for (let i = 0; i < args.length; i++) {
        steps.push(...arg(args[i], `.args[${i}]`));
      }
      steps.push(...step(S_TUPLE_END, args.length + 1), ...step(S_OP, REDUCE));
    } else if (kind === "newobj_ex") {
      const kwargs = record.kwargs ?? new Map();
      if (this.proto >= 4) {
        steps.push(
          ...arg(record.cls, ".cls"),
          ...arg(args, ".args"),
          ...arg(kwargs, ".kwargs"),
          ...step(S_OP, NEWOBJ_EX),
        );
      } else {
        steps.push(
          ...arg(G_NEWOBJ_EX),
          ...step(S_TUPLE_START, 3),
          ...arg(record.cls, ".cls"),
          ...arg(args, ".args"),
          ...arg(kwargs, ".kwargs"),
          ...step(S_TUPLE_END, 3),
          ...step(S_OP, REDUCE),
        );
      }
    } else if (
      kind === "inst" && record.cls instanceof PyGlobal &&
      !record.cls.name.includes(".")
    ) {
      // INST and OBJ (Python 2's classic instances) load at any protocol; keeping the opcode
      // keeps the record's kind.
      steps.push(...step(S_OP, MARK));
      for (let i = 0; i < args.length; i++) {
        steps.push(...arg(args[i], `.args[${i}]`));
      }
      steps.push(...step(S_INST, record.cls));
    } else {
      steps.push(...step(S_OP, MARK), ...arg(record.cls, ".cls"));
      for (let i = 0; i < args.length; i++) {
        steps.push(...arg(args[i], `.args[${i}]`));
      }
      steps.push(...step(S_OP, OBJ));
    }
    steps.push(...step(S_MEMOIZE, record));
    if (record.listItems.length > 0) {
      steps.push(...step(S_LIST_ITEMS, record.listItems, ".listItems"));
    }
    if (record.dictItems.size > 0) {
      steps.push(...step(S_DICT_ITEMS, record.dictItems, ".dictItems"));
    }
    if (record.setItems.length > 0) {
      if (this.proto < 4) {
        return this.fail(
          "An object with setItems (ADDITEMS) needs protocol 4 or higher",
        );
      }
      steps.push(...step(S_SET_ITEMS, record.setItems, ".setItems"));
    }
    if (record.state !== undefined) {
      steps.push(...arg(record.state, ".state"), ...step(S_OP, BUILD));
    }
    return this.push(record, steps);
  }

  /**
   * `save()` for a dict key or a set item: Python refuses a list, dict, set or bytearray there
   * (`TypeError: unhashable type`), so the pickle would not load.
   */
  saveHashable(value: unknown): boolean {
    const kind = unhashable(value);
    if (kind !== null) {
      this.fail(`A ${kind} cannot be a dict key or set item in Python`);
    }
    return this.save(value);
  }

  /** A fresh list of floats (an `array('d')` below protocol 3), written like a list. */
  saveFloatList(items: number[]): void {
    const w = this.w;
    if (this.bin) w.byte(EMPTY_LIST);
    else w.byte2(MARK, LIST);
    this.put();
    const n = items.length;
    if (n === 0) return;
    if (!this.bin || n === 1) {
      for (let i = 0; i < n; i++) {
        if (w.frameStart >= 0) w.boundary();
        this.writeFloat(items[i]);
        w.byte(APPEND);
      }
      return;
    }
    for (let i = 0; i < n;) {
      w.byte(MARK);
      const end = Math.min(n, i + BATCH);
      for (; i < end; i++) {
        if (w.frameStart >= 0) w.boundary();
        this.writeFloat(items[i]);
      }
      w.byte(APPENDS);
    }
  }

  /** Refuses a date Python's `datetime` would refuse to load. */
  checkDate(year: number, month: number, day: number): void {
    if (
      !(Number.isInteger(year) && year >= 1 && year <= 9999) ||
      !(Number.isInteger(month) && month >= 1 && month <= 12) ||
      !(Number.isInteger(day) && day >= 1 && day <= 31)
    ) {
      this.fail(`The date ${year}-${month}-${day} is not a valid Python date`);
    }
  }

  /** Refuses a time of day Python's `datetime` would refuse to load. */
  checkTime(hour: number, minute: number, second: number, us: number): void {
    if (
      !(Number.isInteger(hour) && hour >= 0 && hour <= 23) ||
      !(Number.isInteger(minute) && minute >= 0 && minute <= 59) ||
      !(Number.isInteger(second) && second >= 0 && second <= 59) ||
      !(Number.isInteger(us) && us >= 0 && us <= 999999)
    ) {
      this.fail(
        `The time ${hour}:${minute}:${second}.${us} is not a valid Python time`,
      );
    }
  }

  /** An integer argument CPython builds (a shape, a field): always an `int`, even with `exact`. */
  int(value: number | null, what: string): bigint {
    if (!Number.isSafeInteger(value)) {
      this.fail(`The ${what} must be an integer, not ${value}`);
    }
    return BigInt(value as number);
  }

  /**
   * Protocol 5: a numpy buffer, as CPython's `save_picklebuffer` writes a `PickleBuffer`:
   * in-band (`BYTEARRAY8`, or `bytes` when read-only, memoized) or out-of-band (`NEXT_BUFFER`,
   * then `READONLY_BUFFER` when read-only).
   */
  writeBuffer(bytes: Uint8Array, writeable: boolean): void {
    const w = this.w;
    if (w.frameStart >= 0) w.boundary();
    if (this.bufferCallback !== undefined && !this.bufferCallback(bytes)) {
      w.byte(NEXT_BUFFER);
      if (!writeable) w.byte(READONLY_BUFFER);
      return;
    }
    this.writeBytesOpcode(bytes, writeable);
    this.put();
  }

  /** `INST`: `i module\nname\n` after the arguments. */
  writeInst(cls: PyGlobal): void {
    this.writeGlobalOpcode(cls.module, cls.name, INST);
  }
}

/**
 * Splits a 64-bit `bigint` into two 32-bit words (low first: typed arrays are little-endian
 * wherever JS runs) without allocating. A store into a `BigInt64Array` converts in ~3 ns, where
 * `Number(bigint)` or a `DataView` took ~10 ns: a third of encoding a list of 1e6 exact ints.
 */
const BIGINT_SLOT = new BigInt64Array(1);
const BIGINT_WORDS = new Int32Array(BIGINT_SLOT.buffer);

/** The 1-byte `b'b'` that numpy's `_reconstruct` arguments carry. */
const LETTER_B = new Uint8Array([0x62]);

const TEXT = 0;
const EXACT = 1;
const GENERIC = 2;

/** The items of a list (or of `APPEND`s to an object), in CPython's batches. */
class ListFrame implements Frame {
  i = 0;
  batch = 0;
  /** 0: between batches; 1: inside a batch (`MARK` written); 2: one item, then `APPEND`. */
  phase = 0;
  /** Items before this index are not tried as a run of small ints. */
  noRunsBefore = 0;
  constructor(
    readonly items: ArrayLike<unknown>,
    readonly mode: number,
    readonly prefix: string,
  ) {}

  run(m: Machine): boolean {
    const items = this.items;
    const n = items.length;
    const w = m.w;
    if (this.mode === TEXT) {
      for (;;) {
        if (this.phase === 2) {
          w.byte(APPEND);
          this.phase = 0;
        }
        if (this.i >= n) return true;
        this.phase = 2;
        if (!m.save(items[this.i++])) return false;
      }
    }
    for (;;) {
      if (this.phase === 2) {
        w.byte(APPEND);
        return true;
      }
      if (this.phase === 0) {
        const left = n - this.i;
        if (left === 0) return true;
        // batch_list_exact writes a lone item with APPEND only for a 1-item list; the generic
        // batch_list does it for any lone last item.
        if (left === 1 && (this.mode === GENERIC || this.i === 0)) {
          this.phase = 2;
          if (!m.save(items[this.i++])) return false;
          continue;
        }
        w.byte(MARK);
        this.phase = 1;
        this.batch = 0;
      }
      while (this.batch < BATCH && this.i < n) {
        this.batch++;
        const item = items[this.i++];
        if (typeof item === "number" || typeof item === "bigint") {
          this.numbers(m);
        } else if (typeof item === "string") {
          const end = m.saveStrings(
            items,
            this.i - 1,
            Math.min(n, this.i + BATCH - this.batch),
          );
          this.batch += end - this.i;
          this.i = end;
        } else if (typeof item === "object" && item !== null) {
          if (w.frameStart >= 0) w.boundary();
          const index = m.memo.get(item);
          if (index === undefined) {
            if (!m.saveObject(item)) return false;
          } else {
            const end = m.saveMemoized(
              items,
              this.i - 1,
              index,
              Math.min(n, this.i + BATCH - this.batch),
            );
            this.batch += end - this.i;
            this.i = end;
          }
        } else if (!m.save(item)) {
          return false;
        }
      }
      w.byte(APPENDS);
      this.phase = 0;
    }
  }

  /**
   * Writes the numbers and bigints from the item just taken to the first other item or the end
   * of the batch (binary protocols only: a protocol-0 list has no batches). They need no frame
   * bookkeeping, and small ints go in runs.
   */
  numbers(m: Machine): void {
    const items = this.items;
    const w = m.w;
    const end = Math.min(items.length, this.i + BATCH - this.batch);
    const numberRuns = !m.exact;
    let noRunsBefore = this.noRunsBefore;
    let i = this.i - 1;
    while (i < end) {
      const item = items[i];
      if (typeof item === "number") {
        if (numberRuns && (item | 0) === item) {
          const stop = m.saveSmallInts(items, i, end);
          if (stop > i) {
            i = stop;
            continue;
          }
        } else if (isFloat(item, m.exact)) {
          i = m.saveFloats(items, i, end);
          continue;
        }
        if (w.frameStart >= 0) w.boundary();
        m.writeNumber(item);
      } else if (typeof item === "bigint") {
        if (i >= noRunsBefore) {
          const stop = m.saveSmallInts(items, i, end);
          if (stop > i) {
            i = stop;
            continue;
          }
          // A list of big ints would try every item.
          noRunsBefore = i + 64;
        }
        if (w.frameStart >= 0) w.boundary();
        m.writeBigInt(item);
      } else {
        break;
      }
      i++;
    }
    this.noRunsBefore = noRunsBefore;
    this.batch += i - this.i;
    this.i = i;
  }

  segment(): string {
    return `${this.prefix}[${this.i - 1}]`;
  }
}

/** A tuple's items, then `TUPLEn`/`TUPLE`, or CPython's pops and `GET` if it was reached again. */
class TupleFrame implements Frame {
  i = 0;
  constructor(
    readonly tuple: unknown[],
    readonly marked: boolean,
    readonly previous: number,
  ) {}

  run(m: Machine): boolean {
    const tuple = this.tuple;
    const n = tuple.length;
    while (this.i < n) {
      if (!m.save(tuple[this.i++])) return false;
    }
    m.leave(tuple, this.previous);
    const w = m.w;
    const index = m.memo.get(tuple);
    if (index !== undefined) {
      if (!this.marked) {
        for (let k = 0; k < n; k++) w.byte(POP);
      } else if (m.bin) {
        w.byte(POP_MARK);
      } else {
        for (let k = 0; k <= n; k++) w.byte(POP);
      }
      m.get(index);
      return true;
    }
    w.byte(this.marked ? TUPLE : TUPLE1 - 1 + n);
    m.memo.set(tuple, m.put());
    return true;
  }

  segment(m: Machine): string {
    return m.synthetic.has(this.tuple) ? "" : `[${this.i - 1}]`;
  }
}

/** The entries of a dict (or of `SETITEM`s to an object), in CPython's batches. */
class DictFrame implements Frame {
  readonly size: number;
  i = 0;
  batch = 0;
  phase = 0;
  inPair = false;
  half = 0;
  key: unknown = undefined;
  value: unknown = undefined;

  /**
   * @param dict The dict, a `Map` or a plain object.
   * @param mode `TEXT`, `EXACT` or `GENERIC`.
   * @param prefix The path segment before each key.
   * @param keys A plain object's keys; `null` for a `Map`.
   * @param entries A `Map`'s entries, from where the frame starts; `null` for a plain object.
   */
  constructor(
    readonly dict: Map<unknown, unknown> | Record<string, unknown>,
    readonly mode: number,
    readonly prefix: string,
    readonly keys: string[] | null,
    readonly entries: Iterator<[unknown, unknown]> | null,
  ) {
    this.size = keys === null
      ? (dict as Map<unknown, unknown>).size
      : keys.length;
  }

  /**
   * Takes over in the middle of the one batch `saveDict` started: `count` pairs are consumed,
   * the last of which (`key`, `value`) is still to be written, its key already when `keyDone`.
   */
  resume(count: number, key: unknown, value: unknown, keyDone: boolean): this {
    this.i = count;
    this.batch = count;
    this.phase = this.size > 1 ? 1 : 2;
    this.inPair = true;
    this.half = keyDone ? 1 : 0;
    this.key = key;
    this.value = value;
    return this;
  }

  next(): void {
    if (this.keys !== null) {
      const key = this.keys[this.i];
      this.key = key;
      this.value = (this.dict as Record<string, unknown>)[key];
    } else {
      const entry = this.entries!.next().value as [unknown, unknown];
      this.key = entry[0];
      this.value = entry[1];
    }
    this.i++;
    this.inPair = true;
    this.half = 0;
  }

  /** Saves the current key and value; `false` when a child frame was pushed. */
  pair(m: Machine): boolean {
    if (this.half === 0) {
      this.half = 1;
      const key = this.key;
      if (typeof key === "string") {
        // The common case inlined: string keys need no frame bookkeeping.
        if (m.w.frameStart >= 0) m.w.boundary();
        m.saveString(key);
      } else if (!m.saveHashable(key)) {
        return false;
      }
    }
    if (this.half === 1) {
      this.half = 2;
      if (!m.save(this.value)) return false;
    }
    this.inPair = false;
    return true;
  }

  run(m: Machine): boolean {
    const n = this.size;
    const w = m.w;
    if (this.mode === TEXT) {
      for (;;) {
        if (!this.inPair) {
          if (this.i >= n) return true;
          this.next();
        }
        if (!this.pair(m)) return false;
        w.byte(SETITEM);
      }
    }
    for (;;) {
      if (this.phase === 2) {
        if (!this.pair(m)) return false;
        w.byte(SETITEM);
        return true;
      }
      if (this.phase === 0) {
        const left = n - this.i;
        if (this.mode === GENERIC && left === 0) return true;
        if (left === 1 && (this.mode === GENERIC || this.i === 0)) {
          this.phase = 2;
          this.next();
          continue;
        }
        w.byte(MARK);
        this.phase = 1;
        this.batch = 0;
      }
      for (;;) {
        if (!this.inPair) {
          if (this.batch === BATCH || this.i === n) break;
          this.batch++;
          this.next();
        }
        if (!this.pair(m)) return false;
      }
      w.byte(SETITEMS);
      this.phase = 0;
      // batch_dict_exact loops while the last batch was full, so a dict of 1000 items ends
      // with an empty MARK SETITEMS.
      if (this.batch < BATCH || (this.mode === GENERIC && this.i === n)) {
        return true;
      }
    }
  }

  segment(): string {
    const key = this.key;
    if (this.half <= 1) return `${this.prefix}<key ${this.i - 1}>`;
    if (typeof key === "string") {
      return /^[A-Za-z_$][\w$]*$/.test(key)
        ? `${this.prefix}.${key}`
        : `${this.prefix}[${JSON.stringify(key)}]`;
    }
    if (typeof key === "number" || typeof key === "bigint") {
      return `${this.prefix}[${key}]`;
    }
    return `${this.prefix}<value ${this.i - 1}>`;
  }
}

/** A set's items: `MARK … ADDITEMS` per 1000, and an empty batch after a full one. */
class SetFrame implements Frame {
  i = 0;
  batch = 0;
  marked = false;
  constructor(
    readonly iterator: Iterator<unknown>,
    readonly prefix: string,
  ) {}

  run(m: Machine): boolean {
    const w = m.w;
    for (;;) {
      if (!this.marked) {
        w.byte(MARK);
        this.marked = true;
        this.batch = 0;
      }
      while (this.batch < BATCH) {
        const next = this.iterator.next();
        if (next.done) {
          w.byte(ADDITEMS);
          return true;
        }
        this.batch++;
        this.i++;
        if (!m.saveHashable(next.value)) return false;
      }
      w.byte(ADDITEMS);
      this.marked = false;
    }
  }

  segment(): string {
    return `${this.prefix}{${this.i - 1}}`;
  }
}

/** A frozenset at protocol 4+: `MARK`, the items, `FROZENSET` (or `POP_MARK` and `GET`). */
class FrozenSetFrame implements Frame {
  readonly iterator: Iterator<unknown>;
  i = 0;
  constructor(readonly set: Set<unknown>, readonly previous: number) {
    this.iterator = set.values();
  }

  run(m: Machine): boolean {
    for (;;) {
      const next = this.iterator.next();
      if (next.done) break;
      this.i++;
      if (!m.saveHashable(next.value)) return false;
    }
    m.leave(this.set, this.previous);
    const index = m.memo.get(this.set);
    if (index !== undefined) {
      m.w.byte(POP_MARK);
      m.get(index);
      return true;
    }
    m.w.byte(FROZENSET);
    m.memo.set(this.set, m.put());
    return true;
  }

  segment(): string {
    return `{${this.i - 1}}`;
  }
}

/** Runs the steps that write a reduced object (`save_reduce` and friends). */
class ProgramFrame implements Frame {
  i = 0;
  constructor(
    readonly value: object,
    readonly steps: unknown[],
    readonly previous: number,
  ) {}

  run(m: Machine): boolean {
    const steps = this.steps;
    const w = m.w;
    while (this.i < steps.length) {
      const code = steps[this.i] as number;
      const arg = steps[this.i + 1];
      this.i += 3;
      switch (code) {
        case S_SAVE:
          if (!m.save(arg)) return false;
          break;
        case S_FLOAT:
          if (w.frameStart >= 0) w.boundary();
          m.writeFloat(arg as number);
          break;
        case S_FRESH_STR:
          m.saveFreshString(arg as string);
          break;
        case S_OP:
          w.byte(arg as number);
          break;
        case S_TUPLE_START:
          m.tupleStart(arg as number);
          break;
        case S_TUPLE_END:
          m.tupleEnd(arg as number);
          break;
        case S_MEMOIZE:
          m.memoizeBuilt(arg as object);
          break;
        case S_FLOAT_LIST:
          if (w.frameStart >= 0) w.boundary();
          m.saveFloatList(arg as number[]);
          break;
        case S_LIST_ITEMS:
          m.stack.push(
            new ListFrame(
              arg as unknown[],
              m.bin ? GENERIC : TEXT,
              steps[this.i - 1] as string,
            ),
          );
          return false;
        case S_DICT_ITEMS:
          m.stack.push(
            new DictFrame(
              arg as Map<unknown, unknown>,
              m.bin ? GENERIC : TEXT,
              steps[this.i - 1] as string,
              null,
              (arg as Map<unknown, unknown>).entries(),
            ),
          );
          return false;
        case S_SET_ITEMS:
          m.stack.push(
            new SetFrame(
              (arg as unknown[])[Symbol.iterator](),
              steps[this.i - 1] as string,
            ),
          );
          return false;
        case S_BUFFER:
          m.writeBuffer(arg as Uint8Array, true);
          break;
        case S_READONLY_BUFFER:
          m.writeBuffer(arg as Uint8Array, false);
          break;
        case S_INST:
          m.writeInst(arg as PyGlobal);
          break;
      }
    }
    m.leave(this.value, this.previous);
    return true;
  }

  segment(): string {
    return this.i > 0 ? this.steps[this.i - 1] as string : "";
  }
}

/**
 * The steps of `save_reduce(callable, args)` for `value`: the callable, a tuple CPython makes
 * from `argSteps`, `REDUCE`, the memo, then list items, dict items and `BUILD`.
 */
function reduceSteps(
  value: object,
  callable: PyGlobal,
  argSteps: unknown[],
  state: unknown = undefined,
  listItems: ArrayLike<unknown> | null = null,
  dictItems: Map<unknown, unknown> | null = null,
): unknown[] {
  const n = argSteps.length / 3;
  const steps: unknown[] = [
    ...arg(callable),
    ...step(S_TUPLE_START, n),
    ...argSteps,
    ...step(S_TUPLE_END, n),
    ...step(S_OP, REDUCE),
    ...step(S_MEMOIZE, value),
  ];
  if (listItems !== null && listItems.length > 0) {
    steps.push(...step(S_LIST_ITEMS, listItems));
  }
  if (dictItems !== null && dictItems.size > 0) {
    steps.push(...step(S_DICT_ITEMS, dictItems));
  }
  if (state !== undefined) {
    steps.push(...arg(state, ".state"), ...step(S_OP, BUILD));
  }
  return steps;
}

/** `copyreg._reconstructor(cls, object, None)`: how CPython writes plain objects below protocol 2. */
function reconstructorSteps(value: object, cls: unknown): unknown[] {
  return [
    ...arg(G_RECONSTRUCTOR),
    ...step(S_TUPLE_START, 3),
    ...arg(cls, ".cls"),
    ...arg(G_OBJECT),
    ...arg(null),
    ...step(S_TUPLE_END, 3),
    ...step(S_OP, REDUCE),
    ...step(S_MEMOIZE, value),
  ];
}

/** The reduce steps of a datetime or time: `(state,)` or `(state, tzinfo)`. */
function withTzinfo(
  value: PyDateTime | PyTime,
  callable: PyGlobal,
  state: Uint8Array,
): unknown[] {
  const args: unknown[] = arg(state);
  if (value.tzinfo !== null) args.push(...arg(value.tzinfo, ".tzinfo"));
  return reduceSteps(value, callable, args);
}

/** The 10-byte state of a `datetime.datetime`. */
function dateTimeState(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  microsecond: number,
  fold: number,
): Uint8Array {
  return new Uint8Array([
    year >> 8,
    year & 0xff,
    month | (fold ? 0x80 : 0),
    day,
    hour,
    minute,
    second,
    microsecond >> 16,
    (microsecond >> 8) & 0xff,
    microsecond & 0xff,
  ]);
}

/** The Python type name of a value Python cannot hash, or `null`. */
function unhashable(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  if (Array.isArray(value)) {
    return value instanceof Tuple
      ? null
      : value instanceof Deque
      ? "deque"
      : "list";
  }
  if (value instanceof ByteArray) return "bytearray";
  if (value instanceof Map) return "dict";
  if (value instanceof Set) return value instanceof FrozenSet ? null : "set";
  if (value instanceof NdArray) return "numpy array";
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null ? "dict" : null;
}

/**
 * Writes `BININT1`/`BININT2`/`BININT` for the bigints from `items[i]` on that fit in 32 bits,
 * before `end` and while the write position is below the frame limit; room must be reserved.
 *
 * @returns Where it stopped.
 */
function bigIntRun(
  w: Writer,
  items: ArrayLike<unknown>,
  i: number,
  end: number,
): number {
  const buf = w.buf;
  const limit = w.frameLimit();
  let pos = w.pos;
  for (; i < end && pos < limit; i++) {
    const item = items[i];
    if (typeof item !== "bigint" || item < -0x80000000n || item > 0x7fffffffn) {
      break;
    }
    // Through the 64-bit slot: `Number(item)` costs ~10 ns, more than the rest of the item.
    BIGINT_SLOT[0] = item;
    pos = writeSmallInt(buf, pos, BIGINT_WORDS[0]);
  }
  w.pos = pos;
  return i;
}

/** {@linkcode bigIntRun} for the `number`s that are ints in 32 bits (not `-0`; not `exact`). */
function numberRun(
  w: Writer,
  items: ArrayLike<unknown>,
  i: number,
  end: number,
): number {
  const buf = w.buf;
  const limit = w.frameLimit();
  let pos = w.pos;
  for (; i < end && pos < limit; i++) {
    const item = items[i];
    if (
      typeof item !== "number" || (item | 0) !== item ||
      (item === 0 && 1 / item < 0)
    ) break;
    pos = writeSmallInt(buf, pos, item | 0);
  }
  w.pos = pos;
  return i;
}

/** {@linkcode bigIntRun} for floats: `BINFLOAT`s. */
function floatRun(
  w: Writer,
  items: ArrayLike<unknown>,
  i: number,
  end: number,
  exact: boolean,
): number {
  const buf = w.buf;
  const view = w.view;
  const limit = w.frameLimit();
  let pos = w.pos;
  for (; i < end && pos < limit; i++) {
    const item = items[i];
    if (!isFloat(item, exact)) break;
    buf[pos] = BINFLOAT;
    view.setFloat64(pos + 1, item as number, false);
    pos += 9;
  }
  w.pos = pos;
  return i;
}

/** Whether `item` is written as a `float`: a `number` that is not an `int` (see `writeNumber`). */
function isFloat(item: unknown, exact: boolean): boolean {
  return typeof item === "number" &&
    (exact || !Number.isInteger(item) || (item === 0 && 1 / item < 0));
}

/** Writes the shortest of `BININT1`/`BININT2`/`BININT` for an int32 at `pos`; returns the end. */
function writeSmallInt(buf: Uint8Array, pos: number, value: number): number {
  if (value >= 0 && value < 0x100) {
    buf[pos] = BININT1;
    buf[pos + 1] = value;
    return pos + 2;
  }
  if (value >= 0 && value < 0x10000) {
    buf[pos] = BININT2;
    buf[pos + 1] = value & 0xff;
    buf[pos + 2] = value >> 8;
    return pos + 3;
  }
  buf[pos] = BININT;
  buf[pos + 1] = value & 0xff;
  buf[pos + 2] = (value >> 8) & 0xff;
  buf[pos + 3] = (value >> 16) & 0xff;
  buf[pos + 4] = value >>> 24;
  return pos + 5;
}

/**
 * Whether `item` is an int that fits in 32 bits: a `bigint`, or an integral `number` other than
 * `-0` unless `exact`.
 */
function isSmallInt(item: unknown, exact: boolean): boolean {
  if (typeof item === "bigint") {
    return item >= -0x80000000n && item <= 0x7fffffffn;
  }
  return typeof item === "number" && !exact && (item | 0) === item &&
    !(item === 0 && 1 / item < 0);
}

/** Whether `save()` writes `value` at once: `null`, `undefined`, boolean, number, bigint, string. */
function isScalar(value: unknown): boolean {
  const type = typeof value;
  return type === "string" || type === "number" || type === "boolean" ||
    type === "bigint" || type === "undefined" || value === null;
}

/**
 * Whether `value` is a `list` that `saveList` writes at once: a plain array of at most one batch
 * of scalars. Such a value needs no frame of its own, nor one for the dict it is in.
 */
function isLeafList(value: unknown): boolean {
  return Array.isArray(value) && value.constructor === Array &&
    value.length <= BATCH && allLeaves(value);
}

/**
 * Whether every value is a scalar (`null`, `undefined`, boolean, number, bigint, string), which
 * `save()` writes at once without a frame.
 */
function allLeaves(values: unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const type = typeof value;
    if (
      (type === "object" && value !== null) || type === "function" ||
      type === "symbol"
    ) {
      return false;
    }
  }
  return true;
}

/** The value-memo key of a global: CPython's globals are one object per name. */
function globalKey(global: PyGlobal): string {
  return `${global.module}\n${global.name}`;
}

/**
 * The value-memo key of a dtype numpy keeps as a singleton (a builtin number type in native or
 * no byte order), so that every array of that type shares one memo slot as in CPython.
 */
function dtypeKey(dtype: DType): string | null {
  if (
    dtype.names !== null || dtype.fields !== null || dtype.subarray !== null ||
    dtype.metadata !== null || dtype.byteorder === ">" ||
    !"biufc?O".includes(dtype.str[0])
  ) {
    return null;
  }
  return `dtype\n${dtype.str}`;
}

/** numpy's `dtype.__reduce__` state for a dtype that came without one. */
function dtypeState(dtype: DType): Tuple {
  const kind = dtype.str[0];
  const byteorder = dtype.byteorder === "=" ? "<" : dtype.byteorder;
  const flexible = kind === "S" || kind === "U" || kind === "V";
  const alignment = kind === "U" ? 4 : 1;
  const names = dtype.names === null ? null : Tuple.of(...dtype.names);
  const state = Tuple.of<unknown>(
    dtype.metadata !== null ? 4n : 3n,
    byteorder,
    dtype.subarray,
    names,
    dtype.fields,
    BigInt(flexible ? dtype.itemsize : -1),
    BigInt(flexible ? alignment : -1),
    kind === "O" ? 63n : kind === "U" ? 8n : 0n,
  );
  if (dtype.metadata !== null) state.push(Tuple.of(null, dtype.metadata));
  return state;
}

/** The bytes of a numpy array's data in the dtype's byte order (a view when no swap is needed). */
function arrayBytes(
  data: Exclude<NdArray["data"], unknown[]>,
  byteorder: string,
): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const size = data.BYTES_PER_ELEMENT;
  if (byteorder !== ">" || size === 1) return bytes;
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) {
    for (let k = 0; k < size; k++) swapped[i + k] = bytes[i + size - 1 - k];
  }
  return swapped;
}

/** UTF-32LE of a string's code points (an `array('u')` on Linux). */
function utf32(text: string): Uint8Array {
  const points = Array.from(text, (c) => c.codePointAt(0)!);
  const out = new Uint8Array(points.length * 4);
  const view = new DataView(out.buffer);
  points.forEach((point, i) => view.setUint32(i * 4, point, true));
  return out;
}

function hexValue(code: number): number {
  return code <= 0x39 ? code - 0x30 : code - 0x57;
}

/**
 * A pickle writer that keeps its options and its output buffer between calls. Not reentrant:
 * a `bufferCallback` that encodes must use another `Encoder`.
 *
 * @example Reusing one encoder
 * ```ts
 * import { Encoder } from "./encode.ts";
 * const encoder = new Encoder({ protocol: 2 });
 * const a = encoder.encode([1, 2]);
 * const b = encoder.encode({ x: 1.5 });
 * console.log(a[0], a[1], b.length > 0); // 128 2 true
 * ```
 */
export class Encoder {
  #machine: Machine;

  /**
   * Makes an encoder with fixed options.
   *
   * @param options How to write; see {@linkcode EncodeOptions}.
   * @throws {RangeError} When the protocol is not 0–5, or `bufferCallback` is given below 5.
   */
  constructor(options: EncodeOptions = {}) {
    this.#machine = new Machine(options);
  }

  /**
   * Writes a value as a pickle.
   *
   * @param value The value; see {@linkcode encode} for the mapping.
   * @returns The pickle.
   * @throws {PicklingError} When the value (or a value inside it) has no pickle form; the
   * error's `path` says where (`value.models[2].fit`).
   */
  encode(value: unknown): Uint8Array<ArrayBuffer> {
    return this.#encode(value, false);
  }

  /**
   * Writes a value as a pickle into this encoder's own buffer and returns a view of it, which
   * the next call on this encoder overwrites: for output that is written out (to a file, a
   * socket, a hash) before the next value. It saves what {@linkcode encode} pays for a new
   * buffer on every call: writing an 8 MB numpy array into memory that was written before takes
   * a third of the time (the system maps and zeroes fresh pages on their first write). Buffers
   * up to 16 MiB are kept between calls; `view.slice()` makes a copy to keep.
   *
   * @example Pickles written out one after the other from one buffer
   * ```ts
   * import { Encoder } from "./encode.ts";
   * const encoder = new Encoder({ protocol: 5 });
   * const sizes: number[] = [];
   * for (const value of [[1, 2], [3, 4]]) {
   *   const view = encoder.encodeShared(value);
   *   sizes.push(view.length); // or `await file.write(view)`
   * }
   * console.log(sizes); // [ 20, 20 ]
   * ```
   *
   * @param value The value; see {@linkcode encode} for the mapping.
   * @returns The pickle, valid until the next call on this encoder.
   * @throws {PicklingError} When the value (or a value inside it) has no pickle form; the
   * error's `path` says where (`value.models[2].fit`).
   */
  encodeShared(value: unknown): Uint8Array<ArrayBuffer> {
    return this.#encode(value, true);
  }

  #encode(value: unknown, shared: boolean): Uint8Array<ArrayBuffer> {
    if (this.#machine.busy) {
      throw new Error(
        "This Encoder is already encoding: a bufferCallback must use another Encoder",
      );
    }
    return this.#machine.encode(value, shared);
  }
}

/**
 * One machine per option set for {@linkcode encode}, so that its buffer and maps serve the next
 * call (at most 48 of them: protocol × exact × fixImports × numpyModule).
 */
const machines = new Map<string, Machine>();

/**
 * Writes a value as a pickle that CPython's `pickle.loads` reads back exactly, byte-identical
 * to CPython's `pickle.dumps` for the same value where CPython is deterministic.
 *
 * The mapping: `null`/`undefined` → `None`; boolean → `bool`; integral `number` (not `-0`) →
 * `int`, other `number` → `float` (always `float` with `exact: true`); `bigint` → `int`; string
 * → `str` (lone surrogates kept, as `surrogatepass`); `Uint8Array` → `bytes`; `Array` → `list`;
 * `Map` and plain objects → `dict`; `Set` → `set`; `Date` → naive UTC `datetime.datetime`; and
 * each class of `types.ts` to its Python type (`Tuple` → `tuple`, `ByteArray` → `bytearray`,
 * `NdArray` → `numpy.ndarray`, `PyObject` → the object it records, …). Shared objects are
 * written once and referenced through the memo, so identity and cycles survive. Other typed
 * arrays are refused: wrap them in `NdArray` or `PyArray`.
 *
 * @example Metrics for Python
 * ```ts
 * import { encode } from "./encode.ts";
 * const bytes = encode(new Map([["auroc", 0.5]]), { protocol: 2 });
 * console.log(bytes[0], bytes[1]); // 128 2
 * ```
 *
 * @param value The value to write.
 * @param options How to write it; see {@linkcode EncodeOptions}.
 * @returns The pickle.
 * @throws {PicklingError} When the value (or a value inside it) has no pickle form; `path` says
 * where. Nothing is returned then.
 * @throws {RangeError} When the options are invalid.
 */
export function encode(
  value: unknown,
  options: EncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  if (options.bufferCallback !== undefined) {
    return new Machine(options).encode(value, false);
  }
  const key = `${options.protocol ?? 4}/${options.exact ?? false}/${
    options.fixImports ?? true
  }/${options.numpyModule ?? "numpy._core"}`;
  let machine = machines.get(key);
  if (machine === undefined) {
    machine = new Machine(options);
    machines.set(key, machine);
  } else if (machine.busy) {
    machine = new Machine(options);
  }
  return machine.encode(value, false);
}
