/**
 * `JSONArtifact`, lazyscribe's `json` handler: values written with Python's `json.dump`.
 *
 * @module
 */

import {
  Artifact,
  artifactFields,
  type ArtifactInit,
  type HandlerKwargs,
} from "./artifact.ts";
import { dumps, type DumpsOptions, loads } from "./python_json.ts";

/** `json.dump` keyword arguments (Python spelling) → {@linkcode DumpsOptions} names. */
const WRITER_KWARGS: Readonly<Record<string, keyof DumpsOptions | null>> = {
  indent: "indent",
  separators: "separators",
  sort_keys: "sortKeys",
  sortKeys: "sortKeys",
  ensure_ascii: "ensureAscii",
  ensureAscii: "ensureAscii",
  allow_nan: "allowNan",
  allowNan: "allowNan",
  skipkeys: "skipKeys",
  skipKeys: "skipKeys",
  default: "default",
  exact: "exact",
  // Circular references are always detected; Python's switch only trades that for speed.
  check_circular: null,
};

const READER_KWARGS = new Set(["exact"]);

/**
 * The handler for JSON-serializable values (alias `json`, suffix `json`, text), writing the
 * same bytes as Python lazyscribe's `json.dump(value, f, **writer_kwargs)` for the same data:
 * by default Python's compact style `{"a": [1, 2.5]}`, with `\uXXXX` escapes and no trailing
 * newline. See {@linkcode dumps} for how JavaScript values map to Python's.
 *
 * `writerKwargs` are `json.dump`'s keyword arguments, in Python's spelling or in camelCase:
 * `indent`, `separators`, `sort_keys`, `ensure_ascii`, `allow_nan`, `skipkeys`, `default`,
 * `check_circular` (accepted; cycles are always detected), and `exact` (write every `number`
 * as a float). Reading takes `exact` (ints as `bigint`, dicts as `Map`).
 *
 * @example Usage
 * ```ts
 * import { JSONArtifact } from "./json_artifact.ts";
 * const bytes = await JSONArtifact.write({ features: [0, 1, 2] });
 * console.log(new TextDecoder().decode(bytes)); // '{"features": [0, 1, 2]}'
 * console.log(await JSONArtifact.read(bytes)); // { features: [ 0, 1, 2 ] }
 * ```
 */
export class JSONArtifact extends Artifact {
  /** `"json"`. */
  static readonly alias: string = "json";
  /** `"json"`. */
  static readonly suffix: string = "json";

  /**
   * Makes a JSON artifact, with lazyscribe's defaults. Extra fields, such as the
   * `python_version` of entries written by lazyscribe before 2.0, are ignored as Python does.
   *
   * @example Usage
   * ```ts
   * import { JSONArtifact } from "./json_artifact.ts";
   * const artifact = JSONArtifact.construct({
   *   name: "features",
   *   value: [0, 1, 2],
   *   createdAt: new Date("2025-01-20T13:23:30Z"),
   * });
   * console.log(artifact.fname); // "features-20250120132330.json"
   * ```
   *
   * @param init The artifact's fields.
   * @returns The artifact.
   * @throws {TypeError} When `name` is not a string or `version` not an integer.
   */
  static construct(init: ArtifactInit): JSONArtifact {
    return new JSONArtifact(artifactFields(init, this.suffix));
  }

  /**
   * Reads a JSON file as Python's `json.load` does (UTF-8 text).
   *
   * @example Usage
   * ```ts
   * import { JSONArtifact } from "./json_artifact.ts";
   * const value = JSONArtifact.read(new TextEncoder().encode('{"loss": NaN}'));
   * console.log(value); // { loss: NaN }
   * ```
   *
   * @param data The file's bytes.
   * @param kwargs `{ exact: true }` to read ints as `bigint` and dicts as `Map`.
   * @returns The value.
   * @throws {TypeError} For an unknown keyword argument, or bytes that are not UTF-8.
   * @throws {JSONDecodeError} For text that Python's `json` rejects.
   */
  static read(data: Uint8Array, kwargs: HandlerKwargs = {}): unknown {
    for (const key of Object.keys(kwargs)) {
      if (!READER_KWARGS.has(key)) {
        throw new TypeError(
          `JSON reader got an unexpected keyword argument '${key}'`,
        );
      }
    }
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
      .decode(data);
    return loads(text, { exact: kwargs.exact === true });
  }

  /**
   * Writes a value as Python's `json.dump(value, f, **kwargs)` does, encoded as UTF-8.
   *
   * @example Usage
   * ```ts
   * import { JSONArtifact } from "./json_artifact.ts";
   * const bytes = JSONArtifact.write({ b: 1.0, a: 1e-5 }, { sort_keys: true, exact: true });
   * console.log(new TextDecoder().decode(bytes)); // '{"a": 1e-05, "b": 1.0}'
   * ```
   *
   * @param value The value.
   * @param kwargs `json.dump` keyword arguments (see the class documentation).
   * @returns The file's bytes.
   * @throws {TypeError} For an unknown keyword argument, a value with no JSON form, or text
   * that cannot be encoded (a lone surrogate with `ensure_ascii=False`).
   * @throws {RangeError} For `NaN`/`Infinity` with `allow_nan=False`, or a circular reference.
   */
  static write(value: unknown, kwargs: HandlerKwargs = {}): Uint8Array {
    const options: Record<string, unknown> = {};
    for (const [key, option] of Object.entries(kwargs)) {
      if (!Object.hasOwn(WRITER_KWARGS, key)) {
        throw new TypeError(
          `JSON writer got an unexpected keyword argument '${key}'`,
        );
      }
      const name = WRITER_KWARGS[key];
      if (name !== null) options[name] = option;
    }
    const text = dumps(value, options as DumpsOptions);
    if (!text.isWellFormed()) {
      throw new TypeError(
        "JSON text with a lone surrogate cannot be encoded as UTF-8; keep ensure_ascii on",
      );
    }
    return new TextEncoder().encode(text);
  }
}
