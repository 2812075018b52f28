/**
 * Decodes a pickle file and prints what it holds, the way Python would name it.
 *
 * Usage: `deno run --allow-read demo.ts [file.pkl]` (default: the bundled
 * `tests/fixtures/demo.pkl`, an experiment's results pickled by CPython 3.11 with numpy 2).
 *
 * Nothing in the pickle is executed: classes the decoder does not know are printed as the inert
 * records it makes of them. Shared objects are printed once, with a `#n` label, and referred to
 * after that, so cycles and shared-reference bombs print in linear time.
 *
 * @module
 */

import {
  ByteArray,
  Complex,
  Decimal,
  decode,
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
} from "./codec/mod.ts";

const MAX_ITEMS = 50;
const MAX_INLINE = 76;

function bytesText(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes.subarray(0, 48)) {
    if (byte === 0x27 || byte === 0x5c) {
      text += "\\" + String.fromCharCode(byte);
    } else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += "\\x" + byte.toString(16).padStart(2, "0");
  }
  const more = bytes.length > 48 ? `… (${bytes.length} bytes)` : "";
  return `b'${text}'${more}`;
}

function stringText(text: string): string {
  return text.length > 200
    ? JSON.stringify(text.slice(0, 200)) + `… (${text.length} chars)`
    : JSON.stringify(text);
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

function timeText(
  hour: number,
  minute: number,
  second: number,
  microsecond: number,
): string {
  const fraction = microsecond
    ? "." + String(microsecond).padStart(6, "0")
    : "";
  return `${two(hour)}:${two(minute)}:${two(second)}${fraction}`;
}

function timedeltaText(delta: PyTimeDelta): string {
  const parts = [];
  if (delta.days) parts.push(`days=${delta.days}`);
  if (delta.seconds) parts.push(`seconds=${delta.seconds}`);
  if (delta.microseconds) parts.push(`microseconds=${delta.microseconds}`);
  return `timedelta(${parts.join(", ")})`;
}

function tzText(tzinfo: unknown): string {
  if (tzinfo === null) return "";
  if (tzinfo instanceof PyTimeZone) {
    const { days, seconds } = tzinfo.offset;
    const total = days * 86400 + seconds;
    if (total === 0 && tzinfo.name === null) return "+00:00 (UTC)";
    const sign = total < 0 ? "-" : "+";
    const abs = Math.abs(total);
    return `${sign}${two(Math.floor(abs / 3600))}:${
      two(Math.floor(abs / 60) % 60)
    }` +
      (tzinfo.name === null ? "" : ` (${tzinfo.name})`);
  }
  return ` tz=${tzinfo instanceof PyObject ? String(tzinfo.cls) : "?"}`;
}

function elementText(value: unknown): string {
  if (typeof value === "number") {
    return Number.isInteger(value)
      ? String(value)
      : String(Number(value.toPrecision(7)));
  }
  return leafText(value) ?? "…";
}

function ndarrayText(array: NdArray): string {
  const byteorder = array.dtype.byteorder === "|" ? "" : array.dtype.byteorder;
  const head =
    `ndarray ${array.dtype.name} (${byteorder}${array.dtype.str}) shape=(${
      array.shape.join(", ")
    }${array.shape.length === 1 ? "," : ""}) order=${array.order}`;
  const data = array.data;
  const shown = Array.from(
    { length: Math.min(data.length, 8) },
    (_, i) => elementText(data[i]),
  );
  const more = data.length > 8 ? `, … ${data.length - 8} more` : "";
  const kind = Array.isArray(data) ? "objects" : data.constructor.name;
  return `${head} ${kind} [${shown.join(", ")}${more}]`;
}

/** The one-line text of a value without children, or `undefined` for a container. */
function leafText(value: unknown): string | undefined {
  if (value === null) return "None";
  if (value === undefined) return "undefined";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return String(value);
  if (typeof value === "bigint") return String(value);
  if (typeof value === "string") return stringText(value);
  if (value instanceof ByteArray) return `bytearray(${bytesText(value)})`;
  if (value instanceof Uint8Array) return bytesText(value);
  if (value instanceof PyDateTime) {
    return `datetime ${value.year}-${two(value.month)}-${two(value.day)} ${
      timeText(value.hour, value.minute, value.second, value.microsecond)
    }${tzText(value.tzinfo)}${value.fold ? " fold=1" : ""}`;
  }
  if (value instanceof PyDate) {
    return `date ${value.year}-${two(value.month)}-${two(value.day)}`;
  }
  if (value instanceof PyTime) {
    return `time ${
      timeText(value.hour, value.minute, value.second, value.microsecond)
    }${tzText(value.tzinfo)}`;
  }
  if (value instanceof PyTimeDelta) return timedeltaText(value);
  if (value instanceof PyTimeZone) return `timezone ${tzText(value)}`;
  if (value instanceof Decimal) return `Decimal('${value}')`;
  if (value instanceof UUID) return `UUID('${value}')`;
  if (value instanceof Complex) return `complex(${value.real}, ${value.imag})`;
  if (value instanceof PyGlobal) return `<global ${value}>`;
  if (value instanceof DType) return `dtype('${value.byteorder}${value.str}')`;
  if (value instanceof NdArray) return ndarrayText(value);
  if (value instanceof NumpyScalar) {
    return `numpy.${value.dtype.name}(${elementText(value.value)})`;
  }
  if (value instanceof PyArray) {
    const data = typeof value.data === "string"
      ? stringText(value.data)
      : `[${Array.from(value.data.slice(0, 8), elementText).join(", ")}${
        value.data.length > 8 ? ", …" : ""
      }]`;
    return `array('${value.typecode}', ${data})`;
  }
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(${(value as Uint8Array).length})`;
  }
  if (
    Array.isArray(value) || value instanceof Map || value instanceof Set ||
    value instanceof PyObject
  ) return undefined;
  return `<${(value as object).constructor?.name ?? "object"}>`;
}

interface Parts {
  open: string;
  close: string;
  entries: [string | undefined, unknown][];
  more: number;
}

function keyText(key: unknown): string {
  const leaf = leafText(key);
  if (leaf !== undefined) return leaf;
  if (key instanceof Tuple && key.every((k) => leafText(k) !== undefined)) {
    return `(${key.map((k) => leafText(k)).join(", ")})`;
  }
  return `<${(key as object).constructor.name} key>`;
}

function listEntries(items: Iterable<unknown>, size: number): Parts["entries"] {
  const entries: Parts["entries"] = [];
  for (const item of items) {
    if (entries.length === Math.min(size, MAX_ITEMS)) break;
    entries.push([undefined, item]);
  }
  return entries;
}

function mapEntries(map: Map<unknown, unknown>): Parts["entries"] {
  const entries: Parts["entries"] = [];
  for (const [key, item] of map) {
    if (entries.length === MAX_ITEMS) break;
    entries.push([keyText(key), item]);
  }
  return entries;
}

/** How a container prints: its brackets and its (first) entries. */
function partsOf(value: object): Parts {
  if (value instanceof PyObject) {
    const entries: Parts["entries"] = [];
    if (value.args.length) entries.push(["args", value.args]);
    if (value.kwargs) entries.push(["kwargs", value.kwargs]);
    if (value.state !== undefined) entries.push(["state", value.state]);
    if (value.listItems.length) entries.push(["listItems", value.listItems]);
    if (value.dictItems.size) entries.push(["dictItems", value.dictItems]);
    if (value.setItems.length) entries.push(["setItems", value.setItems]);
    return {
      open: `${
        value.cls instanceof PyGlobal ? value.cls : "?"
      } object (${value.kind}) {`,
      close: "}",
      entries,
      more: 0,
    };
  }
  if (value instanceof Map) {
    const open = value instanceof OrderedDict
      ? "OrderedDict {"
      : value instanceof DefaultDict
      ? `defaultdict(${leafText(value.defaultFactory) ?? "?"}) {`
      : "{";
    return {
      open,
      close: "}",
      entries: mapEntries(value),
      more: value.size - Math.min(value.size, MAX_ITEMS),
    };
  }
  if (value instanceof Set) {
    return {
      open: value instanceof FrozenSet ? "frozenset {" : "set {",
      close: "}",
      entries: listEntries(value, value.size),
      more: value.size - Math.min(value.size, MAX_ITEMS),
    };
  }
  const list = value as unknown[];
  const [open, close] = value instanceof Tuple
    ? ["(", ")"]
    : value instanceof Deque
    ? [`deque(maxlen=${value.maxlen ?? "None"}) [`, "]"]
    : ["[", "]"];
  return {
    open,
    close,
    entries: listEntries(list, list.length),
    more: list.length - Math.min(list.length, MAX_ITEMS),
  };
}

/** The objects reached more than once (shared or cyclic), numbered in first-seen order. */
function sharedObjects(root: unknown): Map<object, number> {
  const seen = new Set<object>();
  const shared = new Map<object, number>();
  const pending = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (
      typeof value !== "object" || value === null ||
      leafText(value) !== undefined
    ) {
      continue;
    }
    if (seen.has(value)) {
      if (!shared.has(value)) shared.set(value, shared.size + 1);
      continue;
    }
    seen.add(value);
    for (const [, item] of partsOf(value).entries) pending.push(item);
  }
  return shared;
}

type Task = string | {
  value: unknown;
  indent: string;
  prefix: string;
  suffix: string;
};

/**
 * Renders a decoded value as indented text; iterative, so any nesting depth prints.
 *
 * @param root The decoded value.
 * @returns The text.
 */
export function render(root: unknown): string {
  const shared = sharedObjects(root);
  const printed = new Set<object>();
  const out: string[] = [];
  const tasks: Task[] = [{ value: root, indent: "", prefix: "", suffix: "\n" }];
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    if (typeof task === "string") {
      out.push(task);
      continue;
    }
    const { value, indent, prefix, suffix } = task;
    const leaf = leafText(value);
    if (leaf !== undefined) {
      out.push(prefix + leaf + suffix);
      continue;
    }
    const object = value as object;
    const id = shared.get(object);
    if (printed.has(object)) {
      out.push(`${prefix}<the same object as #${id}>${suffix}`);
      continue;
    }
    printed.add(object);
    const label = id === undefined ? "" : `#${id} `;
    const { open, close, entries, more } = partsOf(object);
    const leaves = entries.map(([key, item]) => {
      const text = leafText(item);
      return text === undefined
        ? undefined
        : key === undefined
        ? text
        : `${key}: ${text}`;
    });
    const inline = `${label}${open}${leaves.join(", ")}${close}`;
    if (
      more === 0 && leaves.every((text) => text !== undefined) &&
      prefix.length + inline.length <= MAX_INLINE
    ) {
      out.push(prefix + inline + suffix);
      continue;
    }
    out.push(`${prefix}${label}${open}\n`);
    const inner = indent + "  ";
    tasks.push(
      (more > 0 ? `${inner}… ${more} more\n` : "") + indent + close + suffix,
    );
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i];
      tasks.push({
        value: item,
        indent: inner,
        prefix: inner + (key === undefined ? "" : `${key}: `),
        suffix: ",\n",
      });
    }
  }
  return out.join("");
}

if (import.meta.main) {
  const path = Deno.args[0] ??
    new URL("./tests/fixtures/demo.pkl", import.meta.url).pathname;
  const data = await Deno.readFile(path);
  const start = performance.now();
  const value = decode(data);
  const cold = performance.now() - start;
  decode(data);
  const warm = performance.now() - start - cold;
  const protocol = data[0] === 0x80 ? data[1] : "0 or 1";
  console.log(
    `${path}: ${data.length} bytes, pickle protocol ${protocol}, decoded in ${
      cold.toFixed(2)
    } ms with the codec's start-up, ${
      warm.toFixed(2)
    } ms after; nothing executed\n`,
  );
  console.log(render(value));
}
