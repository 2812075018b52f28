/**
 * Any value an artifact can hold, pickles included, as JSON text that loses nothing: what has a
 * JSON twin is written as JSON, the rest as small `"$tag"` objects. Used by the command line's
 * `cat --json`.
 *
 * The form:
 * - `None`, booleans and strings as JSON; ints as JSON integers (`{"$int": "digits"}` beyond
 *   ±(2⁵³ − 1)); floats in Python's `repr` (`1.0`, `1e-05`), so `1` and `1.0` stay apart, and
 *   `{"$float": "nan" | "inf" | "-inf"}`;
 * - lists as JSON arrays; dicts whose keys are all strings not starting with `$` as JSON
 *   objects, other dicts as `{"$dict": [[key, value], …]}`;
 * - `{"$tuple" | "$set" | "$frozenset": […]}`, `{"$deque": […], "maxlen": n}`,
 *   `{"$ordereddict" | "$defaultdict": [[key, value], …]}` (and `"factory"`),
 *   `{"$bytes" | "$bytearray": "<base64>"}`, `{"$complex": [re, im]}`, `{"$decimal": "1.10"}`,
 *   `{"$uuid": "…"}`, `{"$date": "2025-01-20"}`, `{"$time": "13:23:30.5"}`,
 *   `{"$datetime": "2025-01-20T13:23:30.123456"}` (with `"tzinfo"` and `"fold"` when set),
 *   `{"$timedelta": [days, seconds, microseconds]}`, `{"$timezone": [days, seconds, µs],
 *   "name": …}`, `{"$global": "module.name"}`, `{"$array": typecode, "data": …}`,
 *   `{"$dtype": "<f8"}`, `{"$ndarray": "<f8", "shape": […], "order": "C", "data": […]}` (the
 *   elements in memory order; raw bytes as `{"$bytes": …}` for strings and records),
 *   `{"$npscalar": "<f8", "value": …}`;
 * - an object the decoder keeps as a record (a class instance): `{"$object": "module.Class",
 *   "via": "reduce" | "newobj" | …, "args": […]}` plus `"kwargs"`, `"state"`, `"listitems"`,
 *   `"dictitems"` and `"setitems"` when present;
 * - a container reached more than once is written in its `"$tag"` form with `"$id": n` where it
 *   first appears, and as `{"$ref": n}` after that, so shared and cyclic data print once.
 *
 * The writer is iterative and linear in the size of the value's object graph.
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
} from "../codec/types.ts";
import { halfToNumber } from "../codec/_reducers.ts";
import { floatRepr } from "./python_json.ts";

/** Options of {@linkcode taggedJson}. */
export interface TaggedJsonOptions {
  /**
   * Whether the value was decoded with `exact: true`, so that every `number` is a Python float
   * and every `bigint` an int. Otherwise an integral `number` is taken for an int.
   *
   * @default {true}
   */
  exact?: boolean;
  /**
   * Spaces per level of indentation; `0` writes everything on one line.
   *
   * @default {2}
   */
  indent?: number;
  /**
   * The most characters to write; a larger output throws a {@linkcode RangeError}, so that a
   * value built to expand (a long string repeated through shared references) cannot exhaust
   * memory.
   *
   * @default {268435456}
   */
  maxLength?: number;
}

/** JSON text that is written as it is. */
class Raw {
  constructor(readonly text: string) {}
}

/** A JSON array of values still to convert. */
class ArrayNode {
  constructor(readonly items: readonly unknown[]) {}
}

/** A JSON object of values still to convert. */
class ObjectNode {
  constructor(readonly entries: readonly (readonly [string, unknown])[]) {}
}

/** A JSON array of numbers written on one line, element by element (numpy data). */
class ElementRun {
  constructor(
    readonly length: number,
    readonly text: (index: number) => string,
  ) {}
}

type Node = Raw | ArrayNode | ObjectNode | ElementRun;

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function intText(value: number | bigint): Node {
  const big = BigInt(value);
  return big >= -SAFE && big <= SAFE
    ? new Raw(String(big))
    : new ObjectNode([["$int", String(big)]]);
}

function floatNode(value: number): Node {
  if (Number.isFinite(value)) return new Raw(floatRepr(value));
  return new ObjectNode([[
    "$float",
    Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf",
  ]]);
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/**
 * Python's `time.isoformat()` of the parts: microseconds only when not zero.
 *
 * @param hour The hour.
 * @param minute The minute.
 * @param second The second.
 * @param microsecond The microsecond.
 * @returns E.g. `"13:23:30.123456"`.
 */
export function timeText(
  hour: number,
  minute: number,
  second: number,
  microsecond: number,
): string {
  const base = `${pad(hour)}:${pad(minute)}:${pad(second)}`;
  return microsecond === 0 ? base : `${base}.${pad(microsecond, 6)}`;
}

/**
 * numpy's `dtype.str`: the byte order (`<`, `>` or `|`) and the type code.
 *
 * @param dtype The dtype.
 * @returns E.g. `"<f8"`.
 */
export function dtypeText(dtype: DType): string {
  return `${dtype.byteorder === "=" ? "<" : dtype.byteorder}${dtype.str}`;
}

/** The kind letter of a dtype: `b` bool, `i`, `u`, `f`, `c`, `O`, `M`, `m`, or other. */
function kindOf(dtype: DType): string {
  return dtype.str[0] === "?" ? "b" : dtype.str[0];
}

function floatText(value: number): string {
  if (Number.isFinite(value)) return floatRepr(value);
  return `{"$float": "${
    Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf"
  }"}`;
}

function intTextOf(value: number | bigint): string {
  const node = intText(value);
  return node instanceof Raw ? node.text : `{"$int": "${BigInt(value)}"}`;
}

/** The elements of numeric data, by the dtype's kind, written lazily: arrays can be large. */
function numericItems(dtype: DType, data: ArrayLike<unknown>): ElementRun {
  const kind = kindOf(dtype);
  if (kind === "c") {
    return new ElementRun(
      Math.floor(data.length / 2),
      (i) =>
        `{"$complex": [${floatText(data[2 * i] as number)}, ${
          floatText(data[2 * i + 1] as number)
        }]}`,
    );
  }
  if (kind === "b") {
    return new ElementRun(data.length, (i) => data[i] ? "true" : "false");
  }
  if (kind === "f") {
    return new ElementRun(
      data.length,
      (i) =>
        floatText(
          dtype.itemsize === 2
            ? halfToNumber(data[i] as number)
            : data[i] as number,
        ),
    );
  }
  return new ElementRun(
    data.length,
    (i) => intTextOf(data[i] as number | bigint),
  );
}

function scalarValue(scalar: NumpyScalar): unknown {
  const { dtype, value } = scalar;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Complex) return value;
  const kind = kindOf(dtype);
  if (kind === "f") return floatNode(value as number);
  if (kind === "i" || kind === "u" || kind === "M" || kind === "m") {
    return intText(value as number | bigint);
  }
  return value;
}

/** Whether a value is written as one JSON token. */
function isScalar(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "bigint":
    case "undefined":
      return true;
    case "number":
      return Number.isFinite(value);
  }
  return value === null || value instanceof Raw;
}

/** Whether a value is one object whose sharing the output records. */
function hasIdentity(value: unknown): value is object {
  return Array.isArray(value) || value instanceof Map || value instanceof Set ||
    value instanceof Uint8Array || value instanceof PyObject ||
    (value instanceof NdArray && Array.isArray(value.data)) ||
    (typeof value === "object" && value !== null &&
      Object.getPrototypeOf(value) === Object.prototype);
}

/** The values a value refers to. */
function childrenOf(value: unknown): Iterable<unknown> {
  if (Array.isArray(value)) return value;
  if (value instanceof Map) {
    const out: unknown[] = [];
    for (const [key, item] of value) out.push(key, item);
    if (value instanceof DefaultDict) out.push(value.defaultFactory);
    return out;
  }
  if (value instanceof Set) return value;
  if (value instanceof PyObject) {
    const out: unknown[] = [value.cls, value.args, value.kwargs, value.state];
    out.push(...value.listItems);
    for (const [key, item] of value.dictItems) out.push(key, item);
    out.push(...value.setItems);
    return out;
  }
  if (value instanceof NdArray && Array.isArray(value.data)) return value.data;
  if (value instanceof PyDateTime || value instanceof PyTime) {
    return [value.tzinfo];
  }
  if (typeof value === "object" && value !== null && hasIdentity(value)) {
    return Object.values(value);
  }
  return [];
}

/** Objects reached more than once, found without recursion. */
function sharedObjects(root: unknown): Set<object> {
  const seen = new Set<object>();
  const shared = new Set<object>();
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const item = pending.pop();
    if (hasIdentity(item)) {
      if (seen.has(item)) {
        shared.add(item);
        continue;
      }
      seen.add(item);
    }
    for (const child of childrenOf(item)) {
      if (typeof child === "object" && child !== null) pending.push(child);
    }
  }
  return shared;
}

function pairs(entries: Iterable<readonly [unknown, unknown]>): ArrayNode {
  const out: ArrayNode[] = [];
  for (const [key, item] of entries) out.push(new ArrayNode([key, item]));
  return new ArrayNode(out);
}

/** A plain dict as a JSON object when its keys allow it, else as `$dict` pairs. */
function dictNode(entries: [unknown, unknown][]): Node {
  const plain = entries.every(([key]) =>
    typeof key === "string" && !key.startsWith("$")
  );
  return plain
    ? new ObjectNode(entries as [string, unknown][])
    : new ObjectNode([["$dict", pairs(entries)]]);
}

/**
 * The tagged node of a value that is not shared, or of the first appearance of a shared one
 * (`tagged` asks for the `"$tag"` form, which can carry `"$id"`).
 */
function nodeOf(value: unknown, exact: boolean, tagged: boolean): Node {
  switch (typeof value) {
    case "undefined":
      return new Raw("null");
    case "boolean":
      return new Raw(value ? "true" : "false");
    case "string":
      return new Raw(JSON.stringify(value));
    case "bigint":
      return intText(value);
    case "number":
      return !exact && Number.isInteger(value) && !Object.is(value, -0)
        ? intText(value)
        : floatNode(value);
  }
  if (value === null) return new Raw("null");
  if (
    value instanceof Raw || value instanceof ArrayNode ||
    value instanceof ElementRun
  ) {
    return value;
  }
  if (value instanceof ObjectNode) return value;
  if (Array.isArray(value)) {
    if (value instanceof Tuple) {
      return new ObjectNode([["$tuple", new ArrayNode(value)]]);
    }
    if (value instanceof Deque) {
      return new ObjectNode([
        ["$deque", new ArrayNode(value)],
        ["maxlen", value.maxlen === null ? null : intText(value.maxlen)],
      ]);
    }
    return tagged
      ? new ObjectNode([["$list", new ArrayNode(value)]])
      : new ArrayNode(value);
  }
  if (value instanceof Map) {
    if (value instanceof OrderedDict) {
      return new ObjectNode([["$ordereddict", pairs(value)]]);
    }
    if (value instanceof DefaultDict) {
      return new ObjectNode([
        ["$defaultdict", pairs(value)],
        ["factory", value.defaultFactory],
      ]);
    }
    return tagged
      ? new ObjectNode([["$dict", pairs(value)]])
      : dictNode([...value]);
  }
  if (value instanceof Set) {
    return new ObjectNode([[
      value instanceof FrozenSet ? "$frozenset" : "$set",
      new ArrayNode([...value]),
    ]]);
  }
  if (value instanceof Uint8Array) {
    return new ObjectNode([[
      value instanceof ByteArray ? "$bytearray" : "$bytes",
      base64(value),
    ]]);
  }
  if (value instanceof PyGlobal) {
    return new ObjectNode([["$global", `${value.module}.${value.name}`]]);
  }
  if (value instanceof PyObject) {
    const entries: [string, unknown][] = [
      [
        "$object",
        value.cls instanceof PyGlobal
          ? `${value.cls.module}.${value.cls.name}`
          : value.cls,
      ],
      ["via", value.kind],
      ["args", new ArrayNode(value.args)],
    ];
    if (value.kwargs !== null) entries.push(["kwargs", value.kwargs]);
    if (value.state !== undefined) entries.push(["state", value.state]);
    if (value.listItems.length > 0) {
      entries.push(["listitems", new ArrayNode(value.listItems)]);
    }
    if (value.dictItems.size > 0) {
      entries.push(["dictitems", pairs(value.dictItems)]);
    }
    if (value.setItems.length > 0) {
      entries.push(["setitems", new ArrayNode(value.setItems)]);
    }
    return new ObjectNode(entries);
  }
  if (value instanceof Complex) {
    return new ObjectNode([[
      "$complex",
      new ArrayNode([floatNode(value.real), floatNode(value.imag)]),
    ]]);
  }
  if (value instanceof Decimal) {
    return new ObjectNode([["$decimal", value.value]]);
  }
  if (value instanceof UUID) return new ObjectNode([["$uuid", String(value)]]);
  if (value instanceof PyDateTime) {
    const entries: [string, unknown][] = [[
      "$datetime",
      `${pad(value.year, 4)}-${pad(value.month)}-${pad(value.day)}T${
        timeText(value.hour, value.minute, value.second, value.microsecond)
      }`,
    ]];
    if (value.tzinfo !== null) entries.push(["tzinfo", value.tzinfo]);
    if (value.fold !== 0) entries.push(["fold", intText(value.fold)]);
    return new ObjectNode(entries);
  }
  if (value instanceof PyDate) {
    return new ObjectNode([[
      "$date",
      `${pad(value.year, 4)}-${pad(value.month)}-${pad(value.day)}`,
    ]]);
  }
  if (value instanceof PyTime) {
    const entries: [string, unknown][] = [[
      "$time",
      timeText(value.hour, value.minute, value.second, value.microsecond),
    ]];
    if (value.tzinfo !== null) entries.push(["tzinfo", value.tzinfo]);
    if (value.fold !== 0) entries.push(["fold", intText(value.fold)]);
    return new ObjectNode(entries);
  }
  if (value instanceof PyTimeDelta) {
    return new ObjectNode([[
      "$timedelta",
      new ArrayNode(
        [value.days, value.seconds, value.microseconds].map(intText),
      ),
    ]]);
  }
  if (value instanceof PyTimeZone) {
    const { days, seconds, microseconds } = value.offset;
    return new ObjectNode([
      ["$timezone", new ArrayNode([days, seconds, microseconds].map(intText))],
      ["name", value.name],
    ]);
  }
  if (value instanceof PyArray) {
    const { typecode, data: elements } = value;
    const data = typeof elements === "string" ? elements : new ArrayNode(
      Array.from(
        elements as ArrayLike<number | bigint>,
        (item) =>
          typecode === "f" || typecode === "d"
            ? floatNode(item as number)
            : intText(item),
      ),
    );
    return new ObjectNode([["$array", value.typecode], ["data", data]]);
  }
  if (value instanceof DType) {
    return new ObjectNode([["$dtype", dtypeText(value)]]);
  }
  if (value instanceof NdArray) {
    const { dtype, data } = value;
    const kind = kindOf(dtype);
    let items: unknown;
    if (Array.isArray(data)) items = new ArrayNode(data);
    else if (
      "biufc".includes(kind) ||
      ("Mm".includes(kind) && !(data instanceof Uint8Array))
    ) {
      items = numericItems(dtype, data);
    } else {
      items = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    return new ObjectNode([
      ["$ndarray", dtypeText(dtype)],
      ["shape", new ArrayNode(value.shape.map(intText))],
      ["order", value.order],
      ["data", items],
    ]);
  }
  if (value instanceof NumpyScalar) {
    return new ObjectNode([
      ["$npscalar", dtypeText(value.dtype)],
      ["value", scalarValue(value)],
    ]);
  }
  if (value instanceof Date) {
    const iso = value.toISOString();
    const milliseconds = value.getUTCMilliseconds();
    return new ObjectNode([[
      "$datetime",
      iso.slice(0, 19) +
      (milliseconds === 0 ? "" : `.${pad(milliseconds * 1000, 6)}`),
    ]]);
  }
  if (typeof value === "object" && hasIdentity(value)) {
    return tagged
      ? new ObjectNode([["$dict", pairs(Object.entries(value))]])
      : dictNode(Object.entries(value));
  }
  return new ObjectNode([[
    "$unknown",
    Object.prototype.toString.call(value),
  ]]);
}

/**
 * Writes a value as tagged JSON (see the module documentation for the form).
 *
 * @example Usage
 * ```ts
 * import { taggedJson } from "./tagged_json.ts";
 * import { Tuple } from "../codec/types.ts";
 * const shared = [1n];
 * const value = new Map<unknown, unknown>([["a", 1.0], ["b", Tuple.of<unknown>(2n, shared, shared)]]);
 * console.log(taggedJson(value, { indent: 0 }));
 * // {"a": 1.0, "b": {"$tuple": [2, {"$id": 1, "$list": [1]}, {"$ref": 1}]}}
 * ```
 *
 * @param value Any value `decode()`, `loads()` or an artifact handler returns.
 * @param options How numbers were decoded, the indentation and the size limit.
 * @returns The JSON text.
 * @throws {RangeError} When the text would be longer than `maxLength`.
 */
export function taggedJson(
  value: unknown,
  options: Readonly<TaggedJsonOptions> = {},
): string {
  const exact = options.exact ?? true;
  const indent = options.indent ?? 2;
  const maxLength = options.maxLength ?? 2 ** 28;
  const shared = sharedObjects(value);
  const ids = new Map<object, number>();
  const parts: string[] = [];
  let length = 0;
  const write = (text: string): void => {
    length += text.length;
    if (length > maxLength) {
      throw new RangeError(
        `The JSON text would be longer than ${maxLength} characters`,
      );
    }
    parts.push(text);
  };
  const newline = (depth: number): string =>
    indent > 0 ? "\n" + " ".repeat(indent * depth) : "";
  const itemSeparator = indent > 0 ? "," : ", ";

  // Each task writes text or one value at a depth.
  const tasks: (string | [unknown, number])[] = [[value, 0]];
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    if (typeof task === "string") {
      write(task);
      continue;
    }
    const [item, depth] = task;
    let node: Node;
    if (hasIdentity(item) && shared.has(item)) {
      const id = ids.get(item);
      if (id !== undefined) {
        write(`{"$ref": ${id}}`);
        continue;
      }
      const newId = ids.size + 1;
      ids.set(item, newId);
      const inner = nodeOf(item, exact, true) as ObjectNode;
      node = new ObjectNode([["$id", intText(newId)], ...inner.entries]);
    } else {
      node = nodeOf(item, exact, false);
    }
    if (node instanceof Raw) {
      write(node.text);
      continue;
    }
    if (node instanceof ElementRun) {
      write("[");
      for (let start = 0; start < node.length; start += 4096) {
        const texts: string[] = [];
        const end = Math.min(node.length, start + 4096);
        for (let i = start; i < end; i++) texts.push(node.text(i));
        write((start === 0 ? "" : ", ") + texts.join(", "));
      }
      write("]");
      continue;
    }
    const isArray = node instanceof ArrayNode;
    const children: [string, unknown][] = isArray
      ? (node as ArrayNode).items.map((child) => ["", child])
      : (node as ObjectNode).entries.map(([key, child]) => [
        JSON.stringify(key) + ": ",
        child,
      ]);
    if (children.length === 0) {
      write(isArray ? "[]" : "{}");
      continue;
    }
    const inline = isArray && children.every(([, child]) => isScalar(child))
      ? children.map(([, child]) => nodeOf(child, exact, false))
      : [];
    if (inline.length > 0 && inline.every((item) => item instanceof Raw)) {
      // A run of numbers or strings reads better on one line.
      write(`[${(inline as Raw[]).map((item) => item.text).join(", ")}]`);
      continue;
    }
    write(isArray ? "[" : "{");
    tasks.push(newline(depth) + (isArray ? "]" : "}"));
    for (let i = children.length - 1; i >= 0; i--) {
      tasks.push([children[i][1], depth + 1]);
      tasks.push(
        (i === 0 ? "" : itemSeparator) + newline(depth + 1) + children[i][0],
      );
    }
  }
  return parts.join("");
}
