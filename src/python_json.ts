/**
 * JSON exactly as Python's `json` module writes and reads it: `dumps()` produces the same text as
 * `json.dumps` for the same data and options (Python's float `repr`, `\uXXXX` escapes, default
 * separators, key sorting by code point); `loads()` accepts what `json.loads` accepts, `NaN` and
 * `Infinity` included, with Python's error messages.
 *
 * Python has two number types and JavaScript one, so the mapping needs a rule. By default an
 * integer-valued `number` is written as a Python `int` (`1`) and any other (`-0` included) as a
 * `float` (`0.5`); a `bigint` is always an `int`. Reading gives `number` for floats and for ints that
 * are safe integers, `bigint` for larger ints, and plain objects for dicts, so a float `1.0`
 * reads as `1` and is written back as `1`. With `exact: true` the mapping is lossless: ints are
 * `bigint`, floats are `number` (written as floats even when integer-valued: `1.0`), and dicts are
 * `Map`s, which keep Python's key order (plain objects move integer-like keys to the front).
 *
 * @module
 */

import { pythonFloatRepr } from "../codec/_text.ts";

/**
 * Options of {@linkcode dumps}, named and defaulted as `json.dumps`'s keyword arguments.
 */
export interface DumpsOptions {
  /**
   * Escape every non-ASCII character as `\uXXXX` (surrogate pairs above U+FFFF).
   *
   * @default {true}
   */
  ensureAscii?: boolean;
  /**
   * Write `NaN`, `Infinity` and `-Infinity` for non-finite floats; when `false` they throw.
   *
   * @default {true}
   */
  allowNan?: boolean;
  /**
   * Pretty-print with this indent: a number of spaces or the indent text itself; `0`, a
   * negative number or `""` put every item on its own line without indenting.
   *
   * @default {null} (one line)
   */
  indent?: number | string | null;
  /**
   * `[itemSeparator, keySeparator]`.
   *
   * @default {[", ", ": "], or [",", ": "] when `indent` is set}
   */
  separators?: readonly [string, string] | null;
  /**
   * Sort object keys (by code point, as Python compares strings).
   *
   * @default {false}
   */
  sortKeys?: boolean;
  /**
   * Skip object keys that are not strings, numbers, booleans or `null` instead of throwing.
   *
   * @default {false}
   */
  skipKeys?: boolean;
  /**
   * Write every `number` as a Python float (`1.0`) and only `bigint`s as ints.
   *
   * @default {false}
   */
  exact?: boolean;
  /**
   * Called for a value that has no JSON form; its result is written instead. Like Python's
   * `default`, it should throw a `TypeError` for values it cannot convert either.
   */
  default?: ((value: unknown) => unknown) | null;
}

/** Options of {@linkcode loads}. */
export interface LoadsOptions {
  /**
   * Read ints as `bigint` and dicts as `Map`, so that {@linkcode dumps} with `exact: true` writes
   * back the same text.
   *
   * @default {false}
   */
  exact?: boolean;
}

/**
 * Thrown by {@linkcode loads} for text that Python's `json.loads` rejects, with the same message
 * and position (Python's `JSONDecodeError`).
 *
 * @example Usage
 * ```ts
 * import { JSONDecodeError, loads } from "./python_json.ts";
 * try {
 *   loads("[1,]");
 * } catch (error) {
 *   console.log((error as JSONDecodeError).message); // "Expecting value: line 1 column 4 (char 3)"
 * }
 * ```
 */
export class JSONDecodeError extends SyntaxError {
  /** The reason without the position, e.g. `"Expecting value"`. */
  readonly reason: string;
  /** The offset of the error in the text (UTF-16 code units). */
  readonly position: number;
  /** The 1-based line of the error. */
  readonly line: number;
  /** The 1-based column of the error. */
  readonly column: number;

  /**
   * Makes the error, with Python's line and column.
   *
   * @param reason What is wrong.
   * @param text The whole text being parsed.
   * @param position Where in `text`.
   */
  constructor(reason: string, text: string, position: number) {
    const line = countLines(text, position);
    const column = position === 0
      ? 1
      : position - text.lastIndexOf("\n", position - 1);
    super(`${reason}: line ${line} column ${column} (char ${position})`);
    this.name = "JSONDecodeError";
    this.reason = reason;
    this.position = position;
    this.line = line;
    this.column = column;
  }
}

function countLines(text: string, position: number): number {
  let line = 1;
  for (
    let i = text.indexOf("\n");
    i !== -1 && i < position;
    i = text.indexOf("\n", i + 1)
  ) {
    line++;
  }
  return line;
}

/**
 * Formats a float as Python's `repr(float)` does: the shortest text that reads back as the same
 * number, with `.0` for integral values and an exponent below 1e-4 or from 1e16 on.
 *
 * @example Usage
 * ```ts
 * import { floatRepr } from "./python_json.ts";
 * console.log(floatRepr(1)); // "1.0"
 * console.log(floatRepr(0.00001)); // "1e-05"
 * console.log(floatRepr(1e16)); // "1e+16"
 * ```
 *
 * @param value The number.
 * @returns Python's `repr()` of the float: `"nan"`, `"inf"` and `"-inf"` for non-finite values.
 */
export function floatRepr(value: number): string {
  return pythonFloatRepr(value);
}

// Python's ESCAPE_ASCII and ESCAPE patterns: what needs escaping with and without ensure_ascii.
const NEEDS_ESCAPE_ASCII = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/;
// deno-lint-ignore no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /[\x00-\x1f"\\]/;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function quote(text: string, ensureAscii: boolean): string {
  if (!(ensureAscii ? NEEDS_ESCAPE_ASCII : NEEDS_ESCAPE).test(text)) {
    return `"${text}"`;
  }
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const code = text.charCodeAt(i);
    const escape = ESCAPES[char];
    if (escape !== undefined) {
      out += escape;
    } else if (code < 0x20 || (ensureAscii && code > 0x7e)) {
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    } else {
      out += char;
    }
  }
  return out + '"';
}

/** A container being written: its keys (for objects), its values and the next one. */
interface Frame {
  readonly container: object;
  readonly keys: readonly string[] | null;
  readonly values: readonly unknown[];
  index: number;
}

/**
 * Serializes a value to JSON text exactly as Python's `json.dumps(value, **options)` does.
 *
 * Values map to Python as: `null` → `None`; booleans; `bigint` → `int`; `number` → `int` when
 * integer-valued and not `-0` (unless `exact`), else `float`; strings; arrays (a `Tuple` too) → `list`; plain
 * objects and `Map`s → `dict`, whose keys may be strings, numbers, bigints, booleans and `null`
 * (Python converts non-string keys to text). Anything else (`undefined`, `Set`, `Date`, class
 * instances) is passed to `options.default` or throws, as Python does for unserializable values.
 *
 * @example Usage
 * ```ts
 * import { dumps } from "./python_json.ts";
 * console.log(dumps({ b: [1, 2.5], a: "é" })); // '{"b": [1, 2.5], "a": "\\u00e9"}'
 * console.log(dumps({ b: 1, a: 2 }, { sortKeys: true, indent: 4 }));
 * ```
 *
 * @param value The value to serialize.
 * @param options Python's `json.dumps` keyword arguments (see {@linkcode DumpsOptions}).
 * @returns The JSON text, without a trailing newline.
 * @throws {TypeError} For a value or key with no JSON form, or keys of mixed types with `sortKeys`.
 * @throws {RangeError} For a non-finite number with `allowNan: false`, or a circular reference.
 */
export function dumps(
  value: unknown,
  options: Readonly<DumpsOptions> = {},
): string {
  const ensureAscii = options.ensureAscii ?? true;
  const allowNan = options.allowNan ?? true;
  const sortKeys = options.sortKeys ?? false;
  const skipKeys = options.skipKeys ?? false;
  const exact = options.exact ?? false;
  const fallback = options.default ?? null;
  const indentOption = options.indent ?? null;
  const indent = typeof indentOption === "number"
    ? " ".repeat(Math.max(0, indentOption))
    : indentOption;
  const [itemSeparator, keySeparator] = options.separators ??
    (indent === null ? [", ", ": "] : [",", ": "]);

  const floatText = (number: number): string => {
    if (Number.isFinite(number)) return floatRepr(number);
    if (!allowNan) {
      throw new RangeError(
        `Out of range float values are not JSON compliant: ${
          floatRepr(number)
        }`,
      );
    }
    return Number.isNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity";
  };
  const numberText = (number: number): string =>
    !exact && Number.isInteger(number) && !Object.is(number, -0)
      ? (Number.isSafeInteger(number)
        ? String(number)
        : BigInt(number).toString())
      : floatText(number);

  /** The text of a scalar, or `undefined` for a container (or a value for `default`). */
  const scalarText = (item: unknown): string | undefined => {
    switch (typeof item) {
      case "string":
        return quote(item, ensureAscii);
      case "boolean":
        return item ? "true" : "false";
      case "number":
        return numberText(item);
      case "bigint":
        return item.toString();
      case "object":
        return item === null ? "null" : undefined;
      default:
        return undefined;
    }
  };

  const keyText = (key: unknown): string | null => {
    if (typeof key === "string") return key;
    if (
      key === null || typeof key === "boolean" || typeof key === "number" ||
      typeof key === "bigint"
    ) {
      return scalarText(key)!;
    }
    if (skipKeys) return null;
    throw new TypeError(
      `keys must be str, int, float, bool or None, not ${pythonTypeName(key)}`,
    );
  };

  const open = new Set<object>();
  const stack: Frame[] = [];
  let out = "";

  /** Writes a scalar, or opens a frame for a container. */
  const begin = (item: unknown): void => {
    const text = scalarText(item);
    if (text !== undefined) {
      out += text;
      return;
    }
    // A value that has no JSON form goes through `default`; its results may need it again.
    let current = item;
    const seen = new Set<unknown>();
    while (!isContainer(current)) {
      if (fallback === null) {
        throw new TypeError(
          `Object of type ${pythonTypeName(current)} is not JSON serializable`,
        );
      }
      if (seen.has(current)) {
        throw new RangeError("Circular reference detected");
      }
      seen.add(current);
      current = fallback(current);
      const converted = scalarText(current);
      if (converted !== undefined) {
        out += converted;
        return;
      }
    }
    const container = current as object;
    if (open.has(container)) {
      throw new RangeError("Circular reference detected");
    }
    let keys: string[] | null = null;
    let values: readonly unknown[];
    if (Array.isArray(container)) {
      values = container;
    } else {
      keys = [];
      const objectValues: unknown[] = [];
      for (const [key, item] of objectItems(container, keyText, sortKeys)) {
        keys.push(key);
        objectValues.push(item);
      }
      values = objectValues;
    }
    if (values.length === 0) {
      out += keys === null ? "[]" : "{}";
      return;
    }
    open.add(container);
    stack.push({ container, keys, values, index: 0 });
    out += keys === null ? "[" : "{";
  };

  begin(value);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const depth = stack.length;
    const index = frame.index++;
    if (index === frame.values.length) {
      stack.pop();
      open.delete(frame.container);
      if (indent !== null) out += "\n" + indent.repeat(depth - 1);
      out += frame.keys === null ? "]" : "}";
      continue;
    }
    if (index > 0) out += itemSeparator;
    if (indent !== null) out += "\n" + indent.repeat(depth);
    if (frame.keys !== null) {
      out += quote(frame.keys[index], ensureAscii) + keySeparator;
    }
    begin(frame.values[index]);
  }
  return out;
}

function isContainer(value: unknown): boolean {
  if (Array.isArray(value) || value instanceof Map) return true;
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The kinds of dict keys Python can order among themselves: numbers (bools are ints) and str. */
function keyKind(key: unknown): string {
  switch (typeof key) {
    case "number":
    case "bigint":
    case "boolean":
      return "number";
    case "string":
      return "str";
    default:
      return pythonTypeName(key);
  }
}

function objectItems(
  container: object,
  keyText: (key: unknown) => string | null,
  sortKeys: boolean,
): [string, unknown][] {
  const entries: [unknown, unknown][] = container instanceof Map
    ? [...container]
    : Object.entries(container);
  if (sortKeys && entries.length > 1) {
    const kind = keyKind(entries[0][0]);
    for (const [key] of entries) {
      const other = keyKind(key);
      if (other !== kind || kind === "NoneType") {
        throw new TypeError(
          `'<' not supported between instances of '${
            pythonKeyName(other)
          }' and '${pythonKeyName(kind)}'`,
        );
      }
    }
    entries.sort(kind === "str" ? compareStringKeys : compareNumberKeys);
  }
  const items: [string, unknown][] = [];
  for (const [key, item] of entries) {
    const text = keyText(key);
    if (text !== null) items.push([text, item]);
  }
  return items;
}

function pythonKeyName(kind: string): string {
  return kind === "number" ? "int" : kind;
}

function compareStringKeys(
  a: [unknown, unknown],
  b: [unknown, unknown],
): number {
  return compareCodePoints(a[0] as string, b[0] as string);
}

function compareNumberKeys(
  a: [unknown, unknown],
  b: [unknown, unknown],
): number {
  const x = a[0] as number | bigint | boolean;
  const y = b[0] as number | bigint | boolean;
  const left = typeof x === "boolean" ? Number(x) : x;
  const right = typeof y === "boolean" ? Number(y) : y;
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Compares strings by code point, as Python does; JavaScript's `<` compares UTF-16 code units,
 * which puts U+10000 and above (surrogate pairs) before U+E000–U+FFFF.
 *
 * @example Usage
 * ```ts
 * import { compareCodePoints } from "./python_json.ts";
 * console.log(compareCodePoints("\u{10000}", "\uffff") > 0); // true
 * ```
 *
 * @param a The first string.
 * @param b The second string.
 * @returns A negative number, zero or a positive number, as `a` sorts before, with or after `b`.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) {
      // Compare the code points the differing units belong to: a pair that starts one unit
      // earlier (the same high surrogate in both), or what starts here; lone surrogates count
      // as their own code points, as in Python.
      const start = i > 0 && isHighSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i;
      return a.codePointAt(start)! - b.codePointAt(start)!;
    }
  }
  return a.length - b.length;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function pythonTypeName(value: unknown): string {
  if (value === null) return "NoneType";
  if (value === undefined) return "undefined";
  if (value instanceof Set) return "set";
  if (value instanceof Uint8Array) return "bytes";
  if (value instanceof Date) return "datetime";
  switch (typeof value) {
    case "function":
      return "function";
    case "symbol":
      return "symbol";
    case "object":
      return value.constructor?.name ?? "object";
    default:
      return typeof value;
  }
}

const NUMBER = /(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
// deno-lint-ignore no-control-regex -- a raw control character ends the run (Python rejects it)
const PLAIN_STRING_RUN = /[^"\\\x00-\x1f]*/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** An array or object being read: the container and, for objects, the key of the next value. */
interface OpenContainer {
  readonly value: unknown[] | Record<string, unknown> | Map<string, unknown>;
  key: string | null;
}

/**
 * Parses JSON text as Python's `json.loads` does: `NaN`, `Infinity` and `-Infinity` are read,
 * lone surrogate escapes are kept, the last of duplicate keys wins, and what Python rejects
 * throws a {@linkcode JSONDecodeError} with Python's message.
 *
 * @example Usage
 * ```ts
 * import { loads } from "./python_json.ts";
 * console.log(loads('{"loss": NaN, "n": 12345678901234567890}'));
 * // { loss: NaN, n: 12345678901234567890n }
 * ```
 *
 * @param text The JSON text.
 * @param options `exact` to read ints as `bigint` and dicts as `Map`s.
 * @returns The value: see the module documentation for the mapping.
 * @throws {JSONDecodeError} When the text is not JSON that Python accepts.
 */
export function loads(
  text: string,
  options: Readonly<LoadsOptions> = {},
): unknown {
  const exact = options.exact ?? false;
  if (text.startsWith("\ufeff")) {
    throw new JSONDecodeError(
      "Unexpected UTF-8 BOM (decode using utf-8-sig)",
      text,
      0,
    );
  }
  let position = 0;
  const skipWhitespace = (): void => {
    for (; position < text.length; position++) {
      const code = text.charCodeAt(position);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) {
        break;
      }
    }
  };

  const readString = (): string => {
    const start = position - 1;
    let out = "";
    for (;;) {
      PLAIN_STRING_RUN.lastIndex = position;
      PLAIN_STRING_RUN.test(text);
      out += text.slice(position, PLAIN_STRING_RUN.lastIndex);
      position = PLAIN_STRING_RUN.lastIndex;
      if (position >= text.length) {
        throw new JSONDecodeError(
          "Unterminated string starting at",
          text,
          start,
        );
      }
      const char = text[position];
      if (char === '"') {
        position++;
        return out;
      }
      if (char !== "\\") {
        throw new JSONDecodeError(
          "Invalid control character at",
          text,
          position,
        );
      }
      const escape = text[position + 1];
      if (escape === undefined) {
        throw new JSONDecodeError(
          "Unterminated string starting at",
          text,
          start,
        );
      }
      if (escape !== "u") {
        const simple = SIMPLE_ESCAPES[escape];
        if (simple === undefined) {
          throw new JSONDecodeError("Invalid \\escape", text, position);
        }
        out += simple;
        position += 2;
        continue;
      }
      const unit = readHex4(position + 2, position);
      position += 6;
      if (
        unit >= 0xd800 && unit <= 0xdbff && text.startsWith("\\u", position)
      ) {
        const low = readHex4(position + 2, position);
        if (low >= 0xdc00 && low <= 0xdfff) {
          out += String.fromCharCode(unit, low);
          position += 6;
          continue;
        }
      }
      out += String.fromCharCode(unit);
    }
  };

  const readHex4 = (at: number, escapeAt: number): number => {
    const digits = text.slice(at, at + 4);
    if (!HEX4.test(digits)) {
      // Python reports the position of the `u`.
      throw new JSONDecodeError("Invalid \\uXXXX escape", text, escapeAt + 1);
    }
    return parseInt(digits, 16);
  };

  /** Reads a scalar; returns `OPEN_ARRAY`/`OPEN_OBJECT` for a container's first character. */
  const readValue = (): unknown => {
    const char = text[position];
    switch (char) {
      case '"':
        position++;
        return readString();
      case "{":
      case "[":
        position++;
        return char === "{" ? OPEN_OBJECT : OPEN_ARRAY;
      case "n":
        if (text.startsWith("null", position)) {
          position += 4;
          return null;
        }
        break;
      case "t":
        if (text.startsWith("true", position)) {
          position += 4;
          return true;
        }
        break;
      case "f":
        if (text.startsWith("false", position)) {
          position += 5;
          return false;
        }
        break;
      case "N":
        if (text.startsWith("NaN", position)) {
          position += 3;
          return NaN;
        }
        break;
      case "I":
        if (text.startsWith("Infinity", position)) {
          position += 8;
          return Infinity;
        }
        break;
      case "-":
        if (text.startsWith("-Infinity", position)) {
          position += 9;
          return -Infinity;
        }
        break;
    }
    NUMBER.lastIndex = position;
    const match = NUMBER.exec(text);
    if (match === null) {
      throw new JSONDecodeError("Expecting value", text, position);
    }
    position = NUMBER.lastIndex;
    if (match[2] !== undefined || match[3] !== undefined) {
      return Number(match[0]);
    }
    if (exact) return BigInt(match[0]);
    const number = Number(match[0]);
    return Number.isSafeInteger(number) ? number : BigInt(match[0]);
  };

  const newContainer = (marker: symbol): OpenContainer => ({
    value: marker === OPEN_ARRAY ? [] : exact ? new Map() : {},
    key: null,
  });

  /** After `{` or `,` in an object: reads the key and the colon. */
  const readKey = (container: OpenContainer): void => {
    if (text[position] !== '"') {
      throw new JSONDecodeError(
        "Expecting property name enclosed in double quotes",
        text,
        position,
      );
    }
    position++;
    container.key = readString();
    skipWhitespace();
    if (text[position] !== ":") {
      throw new JSONDecodeError("Expecting ':' delimiter", text, position);
    }
    position++;
    skipWhitespace();
  };

  const stack: OpenContainer[] = [];
  let result: unknown;
  skipWhitespace();
  let item = readValue();
  for (;;) {
    if (item === OPEN_ARRAY || item === OPEN_OBJECT) {
      const container = newContainer(item);
      skipWhitespace();
      const closer = item === OPEN_ARRAY ? "]" : "}";
      if (text[position] === closer) {
        position++;
        item = container.value;
        continue;
      }
      stack.push(container);
      if (item === OPEN_OBJECT) readKey(container);
      item = readValue();
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) {
      result = item;
      break;
    }
    attach(top, item);
    skipWhitespace();
    const isArray = Array.isArray(top.value);
    const char = text[position];
    if (char === ",") {
      position++;
      skipWhitespace();
      if (!isArray) readKey(top);
      item = readValue();
    } else if (char === (isArray ? "]" : "}")) {
      position++;
      stack.pop();
      item = top.value;
    } else {
      throw new JSONDecodeError("Expecting ',' delimiter", text, position);
    }
  }
  skipWhitespace();
  if (position !== text.length) {
    throw new JSONDecodeError("Extra data", text, position);
  }
  return result;
}

const OPEN_ARRAY = Symbol("[");
const OPEN_OBJECT = Symbol("{");

function attach(container: OpenContainer, item: unknown): void {
  const target = container.value;
  if (Array.isArray(target)) {
    target.push(item);
  } else if (target instanceof Map) {
    target.set(container.key!, item);
  } else if (container.key === "__proto__") {
    Object.defineProperty(target, "__proto__", {
      value: item,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    target[container.key!] = item;
  }
}
