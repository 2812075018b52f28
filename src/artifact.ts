/**
 * The artifact handler model of lazyscribe (`lazyscribe/artifacts/base.py`): an `Artifact` holds
 * one logged value and the metadata lazyscribe keeps about it, and its class (the *handler*)
 * knows how to turn values into file bytes and back.
 *
 * @module
 */

import { ArtifactLoadError } from "./errors.ts";
import { dumps } from "./python_json.ts";
import { slugify } from "./slugify.ts";

/** Keyword arguments passed to a handler's `read` or `write`, as in Python's `**kwargs`. */
export type HandlerKwargs = Readonly<Record<string, unknown>>;

/**
 * What {@linkcode ArtifactHandler.construct} accepts: lazyscribe's `construct()` parameters in
 * TypeScript spelling, plus the handler's own fields (such as `pythonVersion`).
 */
export interface ArtifactInit {
  /** The artifact's name. */
  name: string;
  /** The value. `undefined` or `null` for an artifact read from a project file. @default {null} */
  value?: unknown;
  /** The file name; by default `slugify(name)-YYYYMMDDHHMMSS.suffix` from `createdAt`. */
  fname?: string | null;
  /** When the artifact was created. @default {now} */
  createdAt?: Date | null;
  /** When the artifact expires, or `null` for never. @default {null} */
  expiry?: Date | null;
  /** Keyword arguments for the handler's `write`. @default {{}} */
  writerKwargs?: Record<string, unknown> | null;
  /** The version number within a repository. @default {0} */
  version?: number;
  /** Whether the file still has to be written. @default {true} */
  dirty?: boolean;
  /** Handler-specific fields, in TypeScript spelling (see {@linkcode ArtifactHandler.fields}). */
  [field: string]: unknown;
}

/** The fields every artifact has, all resolved (as {@linkcode Artifact} documents them). */
export type ArtifactFields = Pick<
  Artifact,
  | "name"
  | "fname"
  | "value"
  | "writerKwargs"
  | "createdAt"
  | "expiry"
  | "version"
  | "dirty"
>;

/**
 * A handler: an {@linkcode Artifact} subclass with lazyscribe's class attributes and class
 * methods. `read` and `write` may return promises, so that handlers can be asynchronous.
 */
export interface ArtifactHandler<A extends Artifact = Artifact> {
  /** The name stored as `"handler"` in project and repository files. */
  readonly alias: string;
  /** The file extension, without the dot. */
  readonly suffix: string;
  /** Whether the file is binary (otherwise UTF-8 text). */
  readonly binary: boolean;
  /** Whether the file cannot be read back as the original value. */
  readonly outputOnly: boolean;
  /**
   * The handler's own fields, which describe the environment the value needs and take part in
   * equality and validation: TypeScript property name → key in the lazyscribe entry
   * (`{ pythonVersion: "python_version" }`).
   */
  readonly fields: Readonly<Record<string, string>>;
  /** Makes an artifact, filling in defaults and the current environment. */
  construct(init: ArtifactInit): A;
  /** Turns file bytes into a value. */
  read(data: Uint8Array, kwargs?: HandlerKwargs): unknown | Promise<unknown>;
  /** Turns a value into file bytes. */
  write(
    value: unknown,
    kwargs?: HandlerKwargs,
  ): Uint8Array | Promise<Uint8Array>;
  /** The prototype of the artifacts it makes. */
  readonly prototype: A;
}

/**
 * Formats the UTC date and time of a `Date` as `YYYYMMDDHHMMSS`, the stamp lazyscribe puts in
 * file names and slugs (Python's `strftime("%Y%m%d%H%M%S")` of a naive UTC datetime).
 *
 * @example Usage
 * ```ts
 * import { fileStamp } from "./artifact.ts";
 * console.log(fileStamp(new Date(Date.UTC(2025, 0, 20, 13, 23, 30)))); // "20250120132330"
 * ```
 *
 * @param date The instant.
 * @returns Fourteen digits.
 */
export function fileStamp(date: Date): string {
  return [
    String(date.getUTCFullYear()).padStart(4, "0"),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ].map((part) => String(part).padStart(2, "0")).join("");
}

/**
 * Resolves the fields every artifact has from a {@linkcode ArtifactInit}, with lazyscribe's
 * defaults: `createdAt` now, `fname` `slugify(name)-YYYYMMDDHHMMSS.suffix`, `writerKwargs` `{}`,
 * `version` 0, `dirty` true. Handlers call it from their `construct`.
 *
 * @example A handler's construct
 * ```ts
 * import { artifactFields } from "./artifact.ts";
 * const fields = artifactFields({ name: "My features", createdAt: new Date(0) }, "json");
 * console.log(fields.fname); // "my-features-19700101000000.json"
 * ```
 *
 * @param init The given fields.
 * @param suffix The handler's file extension.
 * @returns The resolved fields.
 * @throws {TypeError} When `name` is not a string, `version` not an integer, or `createdAt` or
 * `expiry` not a valid `Date`.
 */
export function artifactFields(
  init: ArtifactInit,
  suffix: string,
): ArtifactFields {
  if (typeof init.name !== "string") {
    throw new TypeError(
      `Artifact name must be a string, not ${typeof init.name}`,
    );
  }
  const version = init.version ?? 0;
  if (!Number.isSafeInteger(version)) {
    throw new TypeError(`Artifact version must be an integer, not ${version}`);
  }
  // lazyscribe uses `or`: an empty fname, a missing date or empty kwargs take the default.
  const createdAt = init.createdAt || new Date();
  const expiry = init.expiry ?? null;
  for (
    const [field, date] of [["createdAt", createdAt], [
      "expiry",
      expiry,
    ]] as const
  ) {
    if (
      date !== null &&
      !(date instanceof Date && Number.isFinite(date.getTime()))
    ) {
      throw new TypeError(
        `Artifact ${field} must be a valid Date, not ${String(date)}`,
      );
    }
  }
  return {
    name: init.name,
    fname: init.fname ||
      `${slugify(init.name)}-${fileStamp(createdAt)}.${suffix}`,
    value: init.value ?? null,
    writerKwargs: init.writerKwargs || {},
    createdAt,
    expiry,
    version,
    dirty: init.dirty ?? true,
  };
}

/**
 * The base class of artifact handlers (Python's `lazyscribe.artifacts.base.Artifact`).
 *
 * Each subclass sets the class attributes `alias` and `suffix` (and, when they differ from the
 * defaults `false`, `false` and `{}`, `binary`, `outputOnly` and `fields`) and implements the
 * static `construct`, `read` and `write` of {@linkcode ArtifactHandler}.
 *
 * Times are JavaScript `Date`s, read as UTC: lazyscribe keeps naive UTC datetimes. A `Date` has
 * millisecond precision where Python keeps microseconds in memory; both are truncated to seconds
 * in files, so nothing stored differs.
 *
 * Equality ({@linkcode Artifact.equals}) follows lazyscribe's attrs classes: only the class and
 * the handler's own `fields` count, so any two JSON artifacts are equal and two pickle artifacts
 * are equal when their `pythonVersion`s are.
 *
 * @example A custom handler
 * ```ts
 * import { Artifact, artifactFields, type ArtifactInit } from "./artifact.ts";
 *
 * class TextArtifact extends Artifact {
 *   static readonly alias = "text";
 *   static readonly suffix = "txt";
 *   static construct(init: ArtifactInit): TextArtifact {
 *     return new TextArtifact(artifactFields(init, this.suffix));
 *   }
 *   static read(data: Uint8Array): string {
 *     return new TextDecoder().decode(data);
 *   }
 *   static write(value: unknown): Uint8Array {
 *     return new TextEncoder().encode(String(value));
 *   }
 * }
 * const notes = TextArtifact.construct({ name: "notes", value: "hello" });
 * console.log(notes.fname.endsWith(".txt")); // true
 * ```
 */
export abstract class Artifact implements ArtifactFields {
  // `alias`, `suffix` and the static `construct`, `read` and `write` have no sensible default:
  // each handler defines them (see ArtifactHandler), and registerHandler checks they exist.
  /** Whether the file is binary. */
  static readonly binary: boolean = false;
  /** Whether the file cannot be read back as the original value. */
  static readonly outputOnly: boolean = false;
  /** The handler's environment fields: property → entry key. */
  static readonly fields: Readonly<Record<string, string>> = {};

  /** The artifact's name. */
  name: string;
  /** The file name, relative to the folder of its experiment, test or repository entry. */
  fname: string;
  /** The value (`null` for an artifact read from a project file until it is loaded). */
  value: unknown;
  /** Keyword arguments for the handler's `write`. */
  writerKwargs: Record<string, unknown>;
  /** When the artifact was created (UTC). */
  createdAt: Date;
  /** When the artifact expires, or `null`. */
  expiry: Date | null;
  /** The version number within a repository. */
  version: number;
  /** Whether the file still has to be written. */
  dirty: boolean;

  /**
   * Use the handler's `construct`, which fills in defaults; this only stores the fields.
   *
   * @param fields The resolved fields.
   */
  constructor(fields: ArtifactFields) {
    this.name = fields.name;
    this.fname = fields.fname;
    this.value = fields.value;
    this.writerKwargs = fields.writerKwargs;
    this.createdAt = fields.createdAt;
    this.expiry = fields.expiry;
    this.version = fields.version;
    this.dirty = fields.dirty;
  }

  /**
   * The handler (class) of this artifact.
   *
   * @example Usage
   * ```ts
   * import { JSONArtifact } from "./json_artifact.ts";
   * console.log(JSONArtifact.construct({ name: "x" }).handler.alias); // "json"
   * ```
   *
   * @returns The class, with its static attributes and methods.
   */
  get handler(): ArtifactHandler<this> {
    return this.constructor as unknown as ArtifactHandler<this>;
  }

  /**
   * The handler's own fields and their values, under their lazyscribe entry keys
   * (`{ python_version: "3.11" }` for a pickle artifact).
   *
   * @example Usage
   * ```ts
   * import { PickleArtifact } from "./pickle_artifact.ts";
   * const artifact = PickleArtifact.construct({ name: "model", pythonVersion: "3.12" });
   * console.log(artifact.handlerFields()); // { python_version: "3.12" }
   * ```
   *
   * @returns Entry key → value.
   */
  handlerFields(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const record = this as unknown as Record<string, unknown>;
    for (const [property, key] of Object.entries(this.handler.fields)) {
      out[key] = record[property];
    }
    return out;
  }

  /**
   * lazyscribe's artifact equality: the same handler class and equal handler fields. The name,
   * value, file name, dates and version do not take part.
   *
   * @example Usage
   * ```ts
   * import { PickleArtifact } from "./pickle_artifact.ts";
   * const a = PickleArtifact.construct({ name: "a", pythonVersion: "3.11" });
   * const b = PickleArtifact.construct({ name: "b", pythonVersion: "3.11" });
   * console.log(a.equals(b)); // true
   * ```
   *
   * @param other Any value.
   * @returns Whether `other` is an equal artifact.
   */
  equals(other: unknown): boolean {
    if (
      !(other instanceof Artifact) || other.constructor !== this.constructor
    ) {
      return false;
    }
    const mine = this as unknown as Record<string, unknown>;
    const theirs = other as unknown as Record<string, unknown>;
    return Object.keys(this.handler.fields).every((property) =>
      Object.is(mine[property], theirs[property])
    );
  }
}

/**
 * Checks that the current environment can load an artifact, as lazyscribe's
 * `validate_artifact_environment` does before loading: the handler rebuilds the artifact from its
 * name with the current environment (for a pickle, `PickleArtifact.defaultPythonVersion`, the
 * Python version you target), and the two must be {@linkcode Artifact.equals equal}.
 *
 * @example Usage
 * ```ts
 * import { PickleArtifact } from "./pickle_artifact.ts";
 * import { validateArtifactEnvironment } from "./artifact.ts";
 * const artifact = PickleArtifact.construct({ name: "model", pythonVersion: "3.12" });
 * validateArtifactEnvironment(artifact, { pythonVersion: "3.12" }); // passes
 * ```
 *
 * @param artifact The artifact, as read from a project or repository file.
 * @param environment Handler fields that describe the current environment, overriding the
 * handler's defaults (e.g. `{ pythonVersion: "3.12" }`).
 * @throws {ArtifactLoadError} When the environments differ.
 */
export function validateArtifactEnvironment(
  artifact: Artifact,
  environment: Readonly<Record<string, unknown>> = {},
): void {
  const current = artifact.handler.construct({
    ...environment,
    name: artifact.name,
    dirty: false,
  });
  if (!current.equals(artifact)) {
    throw new ArtifactLoadError(
      `Runtime environments do not match for artifact "${artifact.name}". ` +
        `Artifact parameters:\n\n${dumps(artifact.handlerFields())}\n\n` +
        `Current parameters:\n\n${dumps(current.handlerFields())}`,
    );
  }
}
