/**
 * `PickleArtifact`, lazyscribe's `pickle` handler, over the WebAssembly pickle codec: reading
 * never executes anything the pickle names.
 *
 * @module
 */

import {
  decode,
  type DecodeOptions,
  encode,
  type EncodeOptions,
} from "../codec/mod.ts";
import {
  Artifact,
  type ArtifactFields,
  artifactFields,
  type ArtifactInit,
  type HandlerKwargs,
} from "./artifact.ts";

const PYTHON_VERSION = /^\d+\.\d+$/;

/**
 * The handler for pickled Python objects (alias `pickle`, suffix `pkl`, binary).
 *
 * Its one environment field is `pythonVersion` (`python_version` in the entry), the
 * `"major.minor"` of the Python that wrote or will read the pickle. Python lazyscribe refuses
 * to load a pickle whose `python_version` differs from its own interpreter's (unless
 * `validate=False`), so an artifact written here must carry the version of the Python that will
 * load it: it is taken from `construct`'s `pythonVersion`, else from
 * {@linkcode PickleArtifact.defaultPythonVersion}. The same default stands for "the current
 * environment" when an artifact is validated before loading here.
 *
 * `write` pickles with protocol 4 (what Python 3.8–3.13 write by default, readable by every
 * Python 3.4+) unless `writerKwargs.protocol` says otherwise; other writer and reader keyword
 * arguments are the codec's `encode()` and `decode()` options (`exact`, `encoding`,
 * `fixImports`, `buffers`, `bufferCallback`…), where Python's spellings `fix_imports` and
 * `buffer_callback` are accepted too.
 *
 * @example Usage
 * ```ts
 * import { PickleArtifact } from "./pickle_artifact.ts";
 * const artifact = PickleArtifact.construct({ name: "metrics", value: new Map([["auroc", 0.5]]) });
 * console.log(artifact.pythonVersion); // "3.11"
 * const bytes = await PickleArtifact.write(artifact.value, artifact.writerKwargs);
 * console.log(await PickleArtifact.read(bytes)); // Map(1) { "auroc" => 0.5 }
 * ```
 */
export class PickleArtifact extends Artifact {
  /** `"pickle"`. */
  static readonly alias: string = "pickle";
  /** `"pkl"`. */
  static readonly suffix: string = "pkl";
  /** `true`. */
  static override readonly binary: boolean = true;
  /** `pythonVersion` is stored as `python_version`. */
  static override readonly fields: Readonly<Record<string, string>> = {
    pythonVersion: "python_version",
  };
  /**
   * The Python version new pickle artifacts are marked with, and the one validation compares
   * against: set it to the `"major.minor"` of the Python that will load your artifacts.
   * `"3.11"` by default: the Python of Debian 12 and of this project's reference environment;
   * lazyscribe itself needs 3.10 or later.
   */
  static defaultPythonVersion = "3.11";

  /** The `"major.minor"` Python version the pickle is meant for. */
  pythonVersion: string;

  /**
   * Use {@linkcode PickleArtifact.construct}.
   *
   * @param fields The resolved common fields.
   * @param pythonVersion The `"major.minor"` Python version.
   */
  constructor(fields: ArtifactFields, pythonVersion: string) {
    super(fields);
    this.pythonVersion = pythonVersion;
  }

  /**
   * Makes a pickle artifact. `pythonVersion` (or `python_version`, as entries spell it) is kept
   * when given and not empty; otherwise {@linkcode PickleArtifact.defaultPythonVersion}.
   *
   * @example Usage
   * ```ts
   * import { PickleArtifact } from "./pickle_artifact.ts";
   * const artifact = PickleArtifact.construct({ name: "model", pythonVersion: "3.12" });
   * console.log(artifact.fname.endsWith(".pkl"), artifact.pythonVersion); // true "3.12"
   * ```
   *
   * @param init The artifact's fields.
   * @returns The artifact.
   * @throws {TypeError} When `pythonVersion` is not `"major.minor"`, `name` not a string or
   * `version` not an integer.
   */
  static construct(init: ArtifactInit): PickleArtifact {
    const pythonVersion = init.pythonVersion || init.python_version ||
      this.defaultPythonVersion;
    if (
      typeof pythonVersion !== "string" || !PYTHON_VERSION.test(pythonVersion)
    ) {
      throw new TypeError(
        `Python version must be "major.minor" text such as "3.11", not ${
          JSON.stringify(pythonVersion)
        }`,
      );
    }
    return new PickleArtifact(artifactFields(init, this.suffix), pythonVersion);
  }

  /**
   * Decodes a pickle with the codec (protocols 0–5); nothing it names is executed.
   *
   * @example Usage
   * ```ts
   * import { PickleArtifact } from "./pickle_artifact.ts";
   * // pickle.dumps([1, 2], protocol=2)
   * const bytes = new Uint8Array([0x80, 2, 0x5d, 0x71, 0, 0x28, 0x4b, 1, 0x4b, 2, 0x65, 0x2e]);
   * console.log(PickleArtifact.read(bytes)); // [ 1, 2 ]
   * ```
   *
   * @param data The file's bytes.
   * @param kwargs The codec's `decode()` options.
   * @returns The value.
   * @throws {UnpicklingError} For a malformed pickle, with the byte offset.
   */
  static read(data: Uint8Array, kwargs: HandlerKwargs = {}): unknown {
    return decode(data, codecOptions(kwargs) as DecodeOptions);
  }

  /**
   * Pickles a value with the codec, with protocol 4 unless `kwargs.protocol` is given.
   *
   * @example Usage
   * ```ts
   * import { PickleArtifact } from "./pickle_artifact.ts";
   * const bytes = PickleArtifact.write([1, 2], { protocol: 2 });
   * console.log(bytes[0], bytes[1]); // 128 2
   * ```
   *
   * @param value The value.
   * @param kwargs The codec's `encode()` options.
   * @returns The pickle's bytes.
   * @throws {PicklingError} For a value that cannot be pickled.
   */
  static write(value: unknown, kwargs: HandlerKwargs = {}): Uint8Array {
    return encode(
      value,
      { protocol: 4, ...codecOptions(kwargs) } as EncodeOptions,
    );
  }
}

/** `pickle.load`/`pickle.dump` keyword arguments spelled the Python way → the codec's names. */
const PYTHON_KWARGS: Readonly<Record<string, string>> = {
  fix_imports: "fixImports",
  buffer_callback: "bufferCallback",
};

function codecOptions(kwargs: HandlerKwargs): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    options[PYTHON_KWARGS[key] ?? key] = value;
  }
  return options;
}
