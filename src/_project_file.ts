/**
 * What `project.json` and `repository.json` have in common: both are a JSON list written by
 * Python's `json.dump(data, f, sort_keys=True, indent=4)`, both are read leniently, and both
 * must be written back byte for byte as Python would.
 *
 * Python has ints and floats where JavaScript has numbers, so a file is parsed twice: once with
 * the friendly mapping (numbers, plain objects) that users see, and once exactly (`bigint` ints,
 * `number` floats, `Map`s). {@linkcode KeptValues} keeps the exact form of each metric and
 * parameter for as long as the user leaves it unchanged, so a float `1.0` is written back as
 * `1.0` and not `1`.
 *
 * @module
 */

import { LazyscribeError } from "./errors.ts";
import { formatTimestamp, parseTimestamp } from "./metadata.ts";
import { openStorage, splitLocation } from "./open_storage.ts";
import { dumps, loads } from "./python_json.ts";
import { FileNotFoundError, type Storage } from "./storage.ts";

/**
 * Thrown when a `project.json` or `repository.json` cannot be read as lazyscribe writes it: it
 * is not JSON, not a list, or an entry lacks a field or has one of the wrong type. The message
 * names the file and the entry.
 *
 * @example Usage
 * ```ts
 * import { MalformedFileError, Project } from "./project.ts";
 * import { MemoryStorage } from "./open_storage.ts";
 * const storage = new MemoryStorage();
 * await storage.writeFile("p/project.json", new TextEncoder().encode("{}"));
 * try {
 *   await Project.open("p/project.json", { storage });
 * } catch (error) {
 *   console.log(error instanceof MalformedFileError); // true
 * }
 * ```
 */
export class MalformedFileError extends LazyscribeError {}

/** A lazyscribe file parsed both ways: `friendly[i]` and `exact[i]` are the same entry. */
export interface ParsedList {
  /** Numbers as `number` (or `bigint` beyond 2⁵³), dicts as plain objects. */
  friendly: unknown[];
  /** Ints as `bigint`, floats as `number`, dicts as `Map`s. */
  exact: unknown[];
}

/**
 * Reads a lazyscribe JSON file, or returns `null` when it does not exist.
 *
 * @param storage Where it lives.
 * @param path Its path in the storage.
 * @param what `"project"` or `"repository"`, for messages.
 * @returns Both parses, or `null`.
 * @throws {MalformedFileError} When the file is not UTF-8 JSON holding a list.
 */
export async function readListFile(
  storage: Storage,
  path: string,
  what: string,
): Promise<ParsedList | null> {
  let data: Uint8Array;
  try {
    data = await storage.readFile(path);
  } catch (error) {
    if (error instanceof FileNotFoundError) return null;
    throw error;
  }
  const where = describeLocation(storage, path);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      data,
    );
  } catch (error) {
    throw new MalformedFileError(
      `The ${what} file ${where} is not UTF-8 text`,
      { cause: error },
    );
  }
  let friendly: unknown;
  let exact: unknown;
  try {
    friendly = loads(text);
    exact = loads(text, { exact: true });
  } catch (error) {
    throw new MalformedFileError(
      `The ${what} file ${where} is not valid JSON: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  if (!Array.isArray(friendly) || !Array.isArray(exact)) {
    throw new MalformedFileError(
      `The ${what} file ${where} must hold a JSON list, not ${
        kindOf(friendly)
      }`,
    );
  }
  return { friendly, exact };
}

/** Where a `project.json` or `repository.json` is opened from, as its options give it. */
export interface ListFileStorageOptions {
  /** The storage to use instead of the one the location's protocol names. */
  storage?: Storage;
  /** Options for the storage of the location's protocol. */
  storageOptions?: Readonly<Record<string, unknown>>;
}

/**
 * Checks the mode a `project.json` or `repository.json` is opened in, and finds its storage:
 * the given one (the location's path taken within it) or the one its protocol names.
 *
 * @param location The path or URL of the file.
 * @param options The storage options of `open()`.
 * @param mode The mode asked for.
 * @param modes The modes there are.
 * @param what `"project"` or `"repository"`, for messages.
 * @returns The storage and the file's path in it.
 * @throws {RangeError} For an unknown mode or protocol.
 */
export function locateListFile<Mode extends string>(
  location: string,
  options: Readonly<ListFileStorageOptions>,
  mode: Mode,
  modes: readonly Mode[],
  what: string,
): { storage: Storage; path: string } {
  if (!modes.includes(mode)) {
    throw new RangeError(
      `Invalid ${what} mode "${mode}"; use one of ${modes.join(", ")}`,
    );
  }
  return options.storage === undefined
    ? openStorage(location, options.storageOptions)
    : { storage: options.storage, path: splitLocation(location).path };
}

/**
 * `protocol://path`, or the bare path for local files.
 *
 * @param storage The storage.
 * @param path The path in it.
 * @returns Text for messages.
 */
export function describeLocation(storage: Storage, path: string): string {
  return storage.protocol === "file" ? path : `${storage.protocol}://${path}`;
}

/**
 * The JSON type name of a parsed value, for messages.
 *
 * @param value A value from `loads`.
 * @returns `"a list"`, `"an object"`, `"a string"`…
 */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Map || typeof value === "object") return "an object";
  if (typeof value === "bigint" || typeof value === "number") return "a number";
  if (typeof value === "boolean") return "a boolean";
  return "a string";
}

/**
 * Encodes a lazyscribe file's entries, already in the exact mapping, as Python's
 * `json.dump(data, f, sort_keys=True, indent=4)` does.
 *
 * @param entries The entries.
 * @returns The file's bytes.
 * @throws {TypeError} For a value with no JSON form.
 */
export function encodeListFile(entries: unknown[]): Uint8Array {
  return new TextEncoder().encode(
    dumps(entries, { exact: true, sortKeys: true, indent: 4 }),
  );
}

/**
 * Converts a value in the friendly mapping to the exact one: integral numbers become ints,
 * other numbers stay floats, `Date`s become lazyscribe's `YYYY-MM-DDTHH:MM:SS` (as the `attrs`
 * serializer of Python lazyscribe turns datetimes into `isoformat(timespec="seconds")`).
 * Iterative; a shared object is converted once, so a cycle stays a cycle for `dumps` to reject.
 *
 * @param value The value.
 * @returns The value for `dumps(…, { exact: true })`.
 */
export function toExact(value: unknown): unknown {
  const converted = new Map<object, unknown>();
  let result: unknown;
  const work: [unknown, (out: unknown) => void][] = [[value, (out) => {
    result = out;
  }]];
  while (work.length > 0) {
    const [item, place] = work.pop()!;
    if (typeof item === "number") {
      place(
        Number.isInteger(item) && !Object.is(item, -0) ? BigInt(item) : item,
      );
      continue;
    }
    if (typeof item !== "object" || item === null) {
      place(item);
      continue;
    }
    if (item instanceof Date) {
      place(formatTimestamp(item));
      continue;
    }
    const seen = converted.get(item);
    if (seen !== undefined) {
      place(seen);
      continue;
    }
    if (Array.isArray(item)) {
      const out: unknown[] = new Array(item.length);
      converted.set(item, out);
      place(out);
      item.forEach((child, index) =>
        work.push([child, (v) => {
          out[index] = v;
        }])
      );
    } else if (item instanceof Map || isPlainObject(item)) {
      const out = new Map<unknown, unknown>();
      converted.set(item, out);
      place(out);
      const entries = item instanceof Map
        ? [...item]
        : Object.entries(item as Record<string, unknown>);
      for (const [key, child] of entries) {
        out.set(key, undefined);
        work.push([child, (v) => out.set(key, v)]);
      }
    } else {
      // Not JSON data (a typed array, a class instance): `dumps` names it in its error.
      place(item);
    }
  }
  return result;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function canonicalText(value: unknown): string | undefined {
  try {
    return dumps(value, { sortKeys: true });
  } catch {
    return undefined;
  }
}

/**
 * The exact form of the values of a dict read from a file (an experiment's `metrics`, say),
 * kept so that values the user has not changed are written back with their Python types.
 */
export class KeptValues {
  #kept = new Map<string, { text: string; exact: unknown }>();

  /**
   * Remembers each key's exact value and the text of its friendly value.
   *
   * @param friendly The dict in the friendly mapping.
   * @param exact The same dict in the exact mapping.
   */
  constructor(friendly: Record<string, unknown>, exact: unknown) {
    if (!(exact instanceof Map)) return;
    for (const [key, value] of Object.entries(friendly)) {
      const text = canonicalText(value);
      if (text !== undefined && exact.has(key)) {
        this.#kept.set(key, { text, exact: exact.get(key) });
      }
    }
  }

  /**
   * The exact form of a dict: kept values where the current value still reads the same, the
   * {@linkcode toExact} conversion elsewhere.
   *
   * @param current The dict as it is now.
   * @returns The dict for `dumps(…, { exact: true })`.
   */
  exactDict(current: Readonly<Record<string, unknown>>): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const [key, value] of Object.entries(current)) {
      const kept = this.#kept.get(key);
      out.set(
        key,
        kept !== undefined && canonicalText(value) === kept.text
          ? kept.exact
          : toExact(value),
      );
    }
    return out;
  }
}

/**
 * Reads the fields of one entry of a lazyscribe file, with messages that name the file, the
 * entry and the field.
 */
export class EntryReader {
  /**
   * @param entry The entry, in the friendly mapping.
   * @param where What the entry is, e.g. `experiment 2 of project.json`.
   */
  constructor(
    readonly entry: Record<string, unknown>,
    readonly where: string,
  ) {}

  /**
   * Checks that a parsed value is an entry (an object) and wraps it.
   *
   * @param value The parsed value.
   * @param where What the entry is.
   * @returns The reader.
   * @throws {MalformedFileError} When it is not an object.
   */
  static of(value: unknown, where: string): EntryReader {
    if (
      typeof value !== "object" || value === null || Array.isArray(value)
    ) {
      throw new MalformedFileError(
        `${capitalize(where)} must be an object, not ${kindOf(value)}`,
      );
    }
    return new EntryReader(value as Record<string, unknown>, where);
  }

  /**
   * Fails with a message naming the entry.
   *
   * @param problem What is wrong.
   * @param cause The underlying error.
   * @returns Never.
   * @throws {MalformedFileError} Always.
   */
  fail(problem: string, cause?: unknown): never {
    throw new MalformedFileError(`${capitalize(this.where)}: ${problem}`, {
      cause,
    });
  }

  /**
   * A string field.
   *
   * @param key The field.
   * @param fallback Its value when missing; without it the field is required.
   * @returns The string.
   */
  string(key: string, fallback?: string): string {
    const value = this.entry[key];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "string") {
      this.fail(`"${key}" must be a string, not ${describe(value)}`);
    }
    return value;
  }

  /**
   * A string or null field.
   *
   * @param key The field.
   * @returns The string, or `null` when null or missing.
   */
  optionalString(key: string): string | null {
    const value = this.entry[key];
    if (value === undefined || value === null) return null;
    return this.string(key);
  }

  /**
   * A time field, parsed as Python's `datetime.fromisoformat`.
   *
   * @param key The field.
   * @param fallback Its value when missing; without it the field is required.
   * @returns The time.
   */
  time(key: string, fallback?: Date): Date {
    if (this.entry[key] === undefined && fallback !== undefined) {
      return fallback;
    }
    const text = this.string(key);
    try {
      return parseTimestamp(text);
    } catch (error) {
      return this.fail(`"${key}" ${(error as Error).message}`, error);
    }
  }

  /**
   * A dict field, in the friendly mapping.
   *
   * @param key The field.
   * @returns The dict (`{}` when missing).
   */
  dict(key: string): Record<string, unknown> {
    const value = this.entry[key];
    if (value === undefined) return {};
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(`"${key}" must be an object, not ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  /**
   * A list field.
   *
   * @param key The field.
   * @returns The list (`[]` when missing).
   */
  list(key: string): unknown[] {
    const value = this.entry[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.fail(`"${key}" must be a list, not ${describe(value)}`);
    }
    return value;
  }

  /**
   * A list of strings field.
   *
   * @param key The field.
   * @returns The strings (`[]` when missing).
   */
  strings(key: string): string[] {
    const list = this.list(key);
    list.forEach((item, index) => {
      if (typeof item !== "string") {
        this.fail(`"${key}"[${index}] must be a string, not ${describe(item)}`);
      }
    });
    return list as string[];
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  return kindOf(value);
}

/**
 * The current time, as lazyscribe's `utcnow()` (naive UTC; a `Date` is an instant anyway).
 *
 * @returns Now.
 */
export function utcNow(): Date {
  return new Date();
}

/**
 * The user name, as Python's `getpass.getuser()`: the first of `LOGNAME`, `USER`, `LNAME` and
 * `USERNAME` that is set; `"unknown"` when none is. In Deno the environment is only read when
 * permission is already granted, so that opening a project never prompts.
 *
 * @returns The user name.
 */
export function currentUser(): string {
  const runtime = globalThis as {
    Deno?: {
      env: { get(name: string): string | undefined };
      permissions: {
        querySync(descriptor: { name: "env"; variable: string }): {
          state: string;
        };
      };
    };
    process?: { env: Record<string, string | undefined> };
  };
  const deno = runtime.Deno;
  for (const name of ["LOGNAME", "USER", "LNAME", "USERNAME"]) {
    const value = deno === undefined
      ? runtime.process?.env[name]
      : deno.permissions.querySync({ name: "env", variable: name }).state ===
          "granted"
      ? deno.env.get(name)
      : undefined;
    if (value) return value;
  }
  return "unknown";
}
