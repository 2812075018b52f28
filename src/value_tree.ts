/**
 * Any value an artifact can hold, pickles included, as a readable tree of lines, each value
 * described the way Python would name it. Used by the command line's `cat --tree`.
 *
 * Shared objects are printed once, marked `&n`, and referred to as `*n` after that, so cycles
 * and shared-reference bombs print in linear time; long containers, strings and the whole output
 * are cut at configurable limits. The printer is iterative.
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
import { floatRepr } from "./python_json.ts";
import { dtypeText, taggedJson, timeText } from "./tagged_json.ts";

/** Options of {@linkcode valueTree}. */
export interface ValueTreeOptions {
  /**
   * Whether the value was decoded with `exact: true` (every `number` a float, every `bigint` an
   * int); otherwise an integral `number` is shown as an int.
   *
   * @default {true}
   */
  exact?: boolean;
  /** The most items shown per container; the rest are counted. @default {20} */
  maxItems?: number;
  /** The most characters shown of a string or bytes. @default {120} */
  maxText?: number;
  /** The most lines printed; the rest are counted. @default {500} */
  maxLines?: number;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/**
 * Python's `repr()` of a string, cut to a length.
 *
 * @param text The string.
 * @param limit The most characters shown.
 * @returns The repr, with `…` and the length when cut.
 */
function stringRepr(text: string, limit: number): string {
  const shown = text.length > limit ? text.slice(0, limit) : text;
  const quote = shown.includes("'") && !shown.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of shown) {
    const code = char.codePointAt(0)!;
    if (char === quote || char === "\\") out += "\\" + char;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
      out += "\\x" + code.toString(16).padStart(2, "0");
    } else if (code >= 0xd800 && code < 0xe000) {
      out += "\\u" + code.toString(16).padStart(4, "0");
    } else out += char;
  }
  out += quote;
  return text.length > limit ? `${out}… (${text.length} characters)` : out;
}

/** numpy's repr of a float32: the shortest decimal that rounds to the same float32. */
function float32Repr(value: number): string {
  if (!Number.isFinite(value) || value === 0) return floatRepr(value);
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return floatRepr(candidate);
  }
  return floatRepr(value);
}

function bytesRepr(bytes: Uint8Array, limit: number): string {
  let out = "b'";
  for (const byte of bytes.subarray(0, limit)) {
    if (byte === 0x27 || byte === 0x5c) out += "\\" + String.fromCharCode(byte);
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte === 0x09) out += "\\t";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += "\\x" + byte.toString(16).padStart(2, "0");
  }
  out += "'";
  return bytes.length > limit ? `${out}… (${bytes.length} bytes)` : out;
}

function zoneText(tzinfo: unknown): string {
  if (tzinfo === null) return "";
  if (tzinfo instanceof PyTimeZone) {
    const { days, seconds, microseconds } = tzinfo.offset;
    const total = days * 86400 + seconds;
    const sign = total < 0 ? "-" : "+";
    const magnitude = Math.abs(total);
    const offset = `${sign}${pad(Math.floor(magnitude / 3600))}:${
      pad(Math.floor(magnitude / 60) % 60)
    }${microseconds ? `.${pad(microseconds, 6)}` : ""}`;
    return tzinfo.name === null ? offset : `${offset} (${tzinfo.name})`;
  }
  if (tzinfo instanceof PyObject && tzinfo.cls instanceof PyGlobal) {
    return ` tzinfo=${tzinfo.cls}`;
  }
  return " tzinfo=?";
}

function globalName(value: unknown): string {
  return value instanceof PyGlobal ? `${value.module}.${value.name}` : "?";
}

function count(size: number, noun: string): string {
  return `${size} ${noun}${size === 1 ? "" : "s"}`;
}

/** A container's one-line heading and its children as `[label, value]`. */
interface Branch {
  heading: string;
  children: [string, unknown][];
  size: number;
}

/**
 * Writes a value as an indented tree.
 *
 * @example Usage
 * ```ts
 * import { valueTree } from "./value_tree.ts";
 * const value = new Map<unknown, unknown>([["auroc", 0.5], ["layers", [64n, 32n]]]);
 * console.log(valueTree(value));
 * // dict (2 items)
 * // ├── 'auroc': 0.5
 * // └── 'layers': list (2 items)
 * //     ├── 64
 * //     └── 32
 * ```
 *
 * @param value Any value `decode()`, `loads()` or an artifact handler returns.
 * @param options How numbers were decoded, and the limits.
 * @returns The lines, joined with `\n`.
 */
export function valueTree(
  value: unknown,
  options: Readonly<ValueTreeOptions> = {},
): string {
  const exact = options.exact ?? true;
  const maxItems = options.maxItems ?? 20;
  const maxText = options.maxText ?? 120;
  const maxLines = options.maxLines ?? 500;

  const leaf = (item: unknown): string | undefined => {
    switch (typeof item) {
      case "undefined":
        return "None";
      case "boolean":
        return item ? "True" : "False";
      case "string":
        return stringRepr(item, maxText);
      case "bigint":
        return String(item);
      case "number":
        if (!exact && Number.isInteger(item) && !Object.is(item, -0)) {
          return String(item);
        }
        return floatRepr(item);
    }
    if (item === null) return "None";
    if (item instanceof ByteArray) {
      return `bytearray(${bytesRepr(item, maxText)})`;
    }
    if (item instanceof Uint8Array) return bytesRepr(item, maxText);
    if (item instanceof PyGlobal) return `<global ${globalName(item)}>`;
    if (item instanceof Complex) {
      return `complex(${floatRepr(item.real)}, ${floatRepr(item.imag)})`;
    }
    if (item instanceof Decimal) return `Decimal('${item.value}')`;
    if (item instanceof UUID) return `UUID('${item}')`;
    if (item instanceof PyDateTime) {
      return `datetime ${pad(item.year, 4)}-${pad(item.month)}-${
        pad(item.day)
      }T${timeText(item.hour, item.minute, item.second, item.microsecond)}${
        zoneText(item.tzinfo)
      }${item.fold ? " fold=1" : ""}`;
    }
    if (item instanceof PyDate) {
      return `date ${pad(item.year, 4)}-${pad(item.month)}-${pad(item.day)}`;
    }
    if (item instanceof PyTime) {
      return `time ${
        timeText(item.hour, item.minute, item.second, item.microsecond)
      }${zoneText(item.tzinfo)}`;
    }
    if (item instanceof PyTimeDelta) {
      return `timedelta(days=${item.days}, seconds=${item.seconds}, microseconds=${item.microseconds})`;
    }
    if (item instanceof PyTimeZone) return `timezone ${zoneText(item)}`;
    if (item instanceof DType) {
      return `dtype('${dtypeText(item)}') ${item.name}`;
    }
    if (item instanceof NumpyScalar) {
      const inner = item.value instanceof Uint8Array
        ? bytesRepr(item.value, maxText)
        : leaf(
          typeof item.value === "number" && "iu".includes(item.dtype.str[0])
            ? BigInt(item.value)
            : item.value,
        );
      return `numpy.${item.dtype.name}(${inner})`;
    }
    if (item instanceof PyArray && typeof item.data === "string") {
      return `array('${item.typecode}', ${stringRepr(item.data, maxText)})`;
    }
    if (item instanceof Date) return `Date ${item.toISOString()}`;
    if (item instanceof MoreItems) return `… ${item.count} more`;
    return undefined;
  };

  const branch = (item: unknown): Branch => {
    const items = (values: Iterable<unknown>): [string, unknown][] =>
      Array.from(values, (child) => ["", child]);
    const entries = (map: Iterable<[unknown, unknown]>): [string, unknown][] =>
      Array.from(map, ([key, child]) => [`${keyText(key)}: `, child]);
    if (Array.isArray(item)) {
      const kind = item instanceof Tuple
        ? "tuple"
        : item instanceof Deque
        ? `deque (maxlen ${item.maxlen ?? "None"})`
        : "list";
      return {
        heading: `${kind} (${count(item.length, "item")})`,
        children: items(item),
        size: item.length,
      };
    }
    if (item instanceof Map) {
      const kind = item instanceof OrderedDict
        ? "OrderedDict"
        : item instanceof DefaultDict
        ? `defaultdict (factory ${globalName(item.defaultFactory)})`
        : "dict";
      return {
        heading: `${kind} (${count(item.size, "item")})`,
        children: entries(item),
        size: item.size,
      };
    }
    if (item instanceof Set) {
      const kind = item instanceof FrozenSet ? "frozenset" : "set";
      return {
        heading: `${kind} (${count(item.size, "item")})`,
        children: items(item),
        size: item.size,
      };
    }
    if (item instanceof PyObject) {
      const children: [string, unknown][] = [];
      if (item.args.length > 0) children.push(["args: ", item.args]);
      if (item.kwargs !== null) children.push(["kwargs: ", item.kwargs]);
      if (item.state !== undefined) children.push(["state: ", item.state]);
      if (item.listItems.length > 0) {
        children.push(["listitems: ", item.listItems]);
      }
      if (item.dictItems.size > 0) {
        children.push(["dictitems: ", item.dictItems]);
      }
      if (item.setItems.length > 0) {
        children.push(["setitems: ", item.setItems]);
      }
      const cls = item.cls instanceof PyGlobal
        ? globalName(item.cls)
        : leaf(item.cls) ?? "?";
      return {
        heading: `${cls} object (not executed; made by ${item.kind})`,
        children,
        size: children.length,
      };
    }
    if (item instanceof NdArray) {
      const shape = item.shape.length === 1
        ? `(${item.shape[0]},)`
        : `(${item.shape.join(", ")})`;
      const heading =
        `ndarray ${item.dtype.name} dtype('${
          dtypeText(item.dtype)
        }') shape ${shape}` +
        (item.order === "F" ? " Fortran order" : "");
      const data = item.data;
      if (Array.isArray(data)) {
        return { heading, children: items(data), size: data.length };
      }
      const kind = item.dtype.str[0];
      if (
        "biufc?".includes(kind) ||
        ("Mm".includes(kind) && !(data instanceof Uint8Array))
      ) {
        const shown = Math.min(data.length, maxItems);
        const values: string[] = [];
        const step = kind === "c" ? 2 : 1;
        for (let i = 0; i < shown; i += step) {
          const element = data[i];
          if (kind === "c") {
            values.push(
              `${floatRepr(element as number)}${
                (data[i + 1] as number) < 0 ? "-" : "+"
              }${floatRepr(Math.abs(data[i + 1] as number))}j`,
            );
          } else if (kind === "b" || kind === "?") {
            values.push(element ? "True" : "False");
          } else if (kind === "f" && item.dtype.itemsize === 4) {
            values.push(float32Repr(element as number));
          } else if (kind === "f" && item.dtype.itemsize === 8) {
            values.push(floatRepr(element as number));
          } else values.push(String(element));
        }
        const more = data.length > shown
          ? `, … ${data.length - shown} more`
          : "";
        return {
          heading: `${heading} [${values.join(", ")}${more}]`,
          children: [],
          size: 0,
        };
      }
      const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return {
        heading: `${heading} ${bytesRepr(raw, maxText)}`,
        children: [],
        size: 0,
      };
    }
    if (item instanceof PyArray) {
      const data = item.data as ArrayLike<number | bigint>;
      const shown = Array.from(
        { length: Math.min(data.length, maxItems) },
        (_, i) =>
          item.typecode === "f" || item.typecode === "d"
            ? floatRepr(data[i] as number)
            : String(data[i]),
      );
      const more = data.length > shown.length
        ? `, … ${data.length - shown.length} more`
        : "";
      return {
        heading: `array('${item.typecode}', [${shown.join(", ")}${more}])`,
        children: [],
        size: 0,
      };
    }
    if (typeof item === "object" && item !== null) {
      const plain = Object.entries(item);
      return {
        heading: `dict (${count(plain.length, "item")})`,
        children: entries(plain),
        size: plain.length,
      };
    }
    return { heading: String(item), children: [], size: 0 };
  };

  const keyText = (key: unknown): string => {
    const text = leaf(key);
    if (text !== undefined) return text;
    // A container as a dict key (a tuple, usually): its JSON form, cut short.
    try {
      const json = taggedJson(key, {
        indent: 0,
        exact,
        maxLength: maxText * 4,
      });
      return json.length > maxText ? json.slice(0, maxText) + "…" : json;
    } catch {
      return "<large key>";
    }
  };

  const shared = sharedObjects(value);
  const labels = new Map<object, number>();
  const lines: string[] = [];
  let omittedLines = 0;
  // [value, label, prefix of this line, prefix of its children]
  const tasks: [unknown, string, string, string][] = [[value, "", "", ""]];
  while (tasks.length > 0) {
    const [item, label, linePrefix, childPrefix] = tasks.pop()!;
    if (lines.length >= maxLines) {
      omittedLines++;
      continue;
    }
    const text = leaf(item);
    if (text !== undefined) {
      lines.push(linePrefix + label + text);
      continue;
    }
    const object = item as object;
    let mark = "";
    if (shared.has(object)) {
      const seen = labels.get(object);
      if (seen !== undefined) {
        lines.push(`${linePrefix}${label}*${seen} (shown above)`);
        continue;
      }
      labels.set(object, labels.size + 1);
      mark = ` &${labels.size}`;
    }
    const { heading, children, size } = branch(item);
    lines.push(linePrefix + label + heading + mark);
    const shown = children.slice(0, maxItems);
    const rest = size - shown.length;
    if (rest > 0) {
      tasks.push([
        new MoreItems(rest),
        "",
        childPrefix + "└── ",
        childPrefix + "    ",
      ]);
    }
    for (let i = shown.length - 1; i >= 0; i--) {
      const last = i === shown.length - 1 && rest <= 0;
      tasks.push([
        shown[i][1],
        shown[i][0],
        childPrefix + (last ? "└── " : "├── "),
        childPrefix + (last ? "    " : "│   "),
      ]);
    }
  }
  if (omittedLines > 0) {
    lines.push(`… (output cut at ${count(maxLines, "line")})`);
  }
  return lines.join("\n");

  function sharedObjects(root: unknown): Set<object> {
    const seen = new Set<object>();
    const found = new Set<object>();
    const pending: unknown[] = [root];
    while (pending.length > 0) {
      const item = pending.pop();
      if (leaf(item) !== undefined) continue;
      const object = item as object;
      if (seen.has(object)) {
        found.add(object);
        continue;
      }
      seen.add(object);
      for (const [, child] of branch(item).children) pending.push(child);
      if (item instanceof Map) {
        for (const key of item.keys()) {
          if (leaf(key) === undefined) pending.push(key);
        }
      }
    }
    return found;
  }
}

/** The line that counts the items of a container that are not shown. */
class MoreItems {
  constructor(readonly count: number) {}
}
