/**
 * lazyscribe's `Repository` (`lazyscribe/repository.py`): versioned artifacts, listed in a
 * `repository.json`, each version's file in `<repository folder>/<name>/<fname>`.
 *
 * @module
 */

import type { Artifact } from "./artifact.ts";
import { readArtifactFile } from "./artifact_file.ts";
import {
  ArtifactLoadError,
  LazyscribeError,
  ReadOnlyError,
  VersionNotFoundError,
} from "./errors.ts";
import type {
  LoadArtifactOptions,
  LogArtifactOptions,
} from "./experiment_test_record.ts";
import { constructLoggedArtifact } from "./_artifact_list.ts";
import {
  type ArtifactEntry,
  artifactFromEntry,
  artifactToEntry,
} from "./metadata.ts";
import { dirname, joinPath, type Storage } from "./storage.ts";
import {
  type ArtifactVersion,
  parseVersionText,
  searchArtifactVersions,
  type VersionMatch,
} from "./_versions.ts";
import { splitLines, unifiedDiff } from "./_unified_diff.ts";
import {
  describeLocation,
  encodeListFile,
  locateListFile,
  MalformedFileError,
  readListFile,
  toExact,
  utcNow,
} from "./_project_file.ts";
import { saveListFile } from "./_save_list_file.ts";

export type { ArtifactVersion, VersionMatch } from "./_versions.ts";

/**
 * How a repository is opened (Python's `mode`; `"a"` was removed in lazyscribe 2.0):
 * - `"r"`: read-only; required by {@linkcode Repository.filter};
 * - `"w"`: the file is not read, and `save()` replaces it;
 * - `"w+"`: existing versions are read and new ones can be logged.
 */
export type RepositoryMode = "r" | "w" | "w+";

/** Options of {@linkcode Repository.open}. */
export interface RepositoryOptions {
  /** The mode. @default {"w+"} */
  mode?: RepositoryMode;
  /** The storage to use instead of the one the location's protocol names. */
  storage?: Storage;
  /** Options for the storage of the location's protocol. */
  storageOptions?: Readonly<Record<string, unknown>>;
}

/** Which version of an artifact: see {@linkcode ArtifactVersion} and {@linkcode VersionMatch}. */
export interface VersionOptions {
  /** The version; the newest one that has not expired when missing. */
  version?: ArtifactVersion | null;
  /** How a time version matches. @default {"exact"} */
  match?: VersionMatch;
}

/** Options of {@linkcode Repository.loadArtifact}. */
export interface RepositoryLoadOptions
  extends VersionOptions, LoadArtifactOptions {}

/** Options of {@linkcode Repository.setArtifactExpiry}. */
export interface ExpiryOptions extends VersionOptions {
  /**
   * When the version expires: a `Date`, `YYYY-MM-DDTHH:MM:SS` text (UTC), or `null` for now.
   *
   * @default {null}
   */
  expiry?: Date | string | null;
}

const MODES: readonly RepositoryMode[] = ["r", "w", "w+"];

/**
 * A repository of versioned artifacts (Python's `lazyscribe.repository.Repository`).
 *
 * Unlike Python lazyscribe 2.2, which keeps a stored `expiry` as text and then fails to compare
 * it, `expiry` is parsed when the file is read; it is written back in the same form.
 *
 * @example Log two versions and load them
 * ```ts
 * import { Repository } from "./repository.ts";
 * import { MemoryStorage } from "./open_storage.ts";
 * const repository = await Repository.open("repo/repository.json", { storage: new MemoryStorage() });
 * // Versions logged within one second need their own file names (see logArtifact).
 * repository.logArtifact({ name: "thresholds", value: { cut: 0.5 }, handler: "json", fname: "v0.json" });
 * repository.logArtifact({ name: "thresholds", value: { cut: 0.6 }, handler: "json", fname: "v1.json" });
 * await repository.save();
 * console.log(await repository.loadArtifact("thresholds")); // { cut: 0.6 }
 * console.log(await repository.loadArtifact("thresholds", { version: 0 })); // { cut: 0.5 }
 * ```
 */
export class Repository {
  /** The storage holding the repository. */
  readonly storage: Storage;
  /** The path of `repository.json` in the storage. */
  readonly path: string;
  /** The mode it was opened in. */
  readonly mode: RepositoryMode;
  /** Every version of every artifact. */
  artifacts: Artifact[] = [];

  private constructor(storage: Storage, path: string, mode: RepositoryMode) {
    this.storage = storage;
    this.path = path;
    this.mode = mode;
  }

  /**
   * Opens a repository: a path or URL of its `repository.json`. In modes `"r"` and `"w+"` an
   * existing file is read; a missing one gives an empty repository.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://models/repository.json");
   * console.log(repository.artifacts.length); // 0
   * ```
   *
   * @param location Where `repository.json` is.
   * @param options The mode and storage.
   * @returns The repository.
   * @throws {RangeError} For an unknown mode or protocol.
   * @throws {MalformedFileError} When the file is not a lazyscribe repository.
   */
  static async open(
    location = "repository.json",
    options: Readonly<RepositoryOptions> = {},
  ): Promise<Repository> {
    const mode = options.mode ?? "w+";
    const { storage, path } = locateListFile(
      location,
      options,
      mode,
      MODES,
      "repository",
    );
    const repository = new Repository(storage, path, mode);
    if (mode !== "w") await repository.#load();
    return repository;
  }

  async #load(): Promise<void> {
    const parsed = await readListFile(this.storage, this.path, "repository");
    if (parsed === null) return;
    const where = describeLocation(this.storage, this.path);
    this.artifacts = parsed.friendly.map((entry, index) => {
      try {
        return artifactFromEntry(entry as ArtifactEntry);
      } catch (error) {
        throw new MalformedFileError(
          `Artifact ${index} of ${where}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    });
  }

  /**
   * The folder the artifacts' folders are in: the folder of `repository.json`.
   *
   * @returns The folder.
   */
  get dir(): string {
    return dirname(this.path);
  }

  #checkWritable(): void {
    if (this.mode === "r") {
      throw new ReadOnlyError(
        `Repository ${
          describeLocation(this.storage, this.path)
        } is in read-only mode`,
      );
    }
  }

  #folderOf(artifact: Artifact): string {
    return joinPath(this.dir, artifact.name);
  }

  /**
   * Logs a new version of an artifact: one more than the highest version of that name, or 0.
   * Nothing is written until {@linkcode Repository.save}. The default file name has the
   * creation time to the second, as in Python, so versions logged within one second share it
   * (the last one saved wins): give each its own `fname` when logging in quick succession.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://log-repo/repository.json");
   * repository.logArtifact({ name: "model", value: [1], handler: "pickle" });
   * console.log(repository.logArtifact({ name: "model", value: [2], handler: "pickle" }).version); // 1
   * ```
   *
   * @param options The name, value, handler, optional file name, and the writer's keyword
   * arguments.
   * @returns The new artifact.
   * @throws {ReadOnlyError} In mode `"r"`.
   * @throws {UnknownHandlerError} When the handler alias is unknown.
   */
  logArtifact(options: Readonly<LogArtifactOptions>): Artifact {
    this.#checkWritable();
    const versions = this.artifacts.filter((artifact) =>
      artifact.name === options.name
    ).map((artifact) => artifact.version);
    const version = versions.length === 0 ? 0 : Math.max(...versions) + 1;
    const artifact = constructLoggedArtifact(options, utcNow(), version);
    this.artifacts.push(artifact);
    return artifact;
  }

  /**
   * Finds one version of an artifact.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://find-repo/repository.json");
   * repository.logArtifact({ name: "model", value: [1], handler: "pickle" });
   * console.log(repository.findArtifact("model", { version: 0 }).version); // 0
   * ```
   *
   * @param name The artifact's name.
   * @param options The version and how it matches.
   * @returns The artifact.
   * @throws {ArtifactLoadError} When no artifact has that name.
   * @throws {InvalidVersionError} For text not in the `YYYY-MM-DDTHH:MM:SS` format.
   * @throws {VersionNotFoundError} When no version matches or all have expired.
   * @throws {TypeError} For `"asof"` with an integer version.
   */
  findArtifact(name: string, options: Readonly<VersionOptions> = {}): Artifact {
    return searchArtifactVersions(
      this.artifacts,
      name,
      options.version,
      options.match ?? "exact",
    );
  }

  /**
   * Loads the value of one version of an artifact from its file.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://load-repo/repository.json");
   * repository.logArtifact({ name: "cut", value: 0.5, handler: "json" });
   * await repository.save();
   * console.log(await repository.loadArtifact("cut", { version: new Date(), match: "asof" })); // 0.5
   * ```
   *
   * @param name The artifact's name.
   * @param options The version, how it matches, validation and reader options.
   * @returns The value.
   * @throws {ArtifactLoadError} When no artifact has that name, the environments differ, or
   * the file cannot be read.
   * @throws {InvalidVersionError} For text not in the `YYYY-MM-DDTHH:MM:SS` format.
   * @throws {VersionNotFoundError} When no version matches or all have expired.
   */
  loadArtifact(
    name: string,
    options: Readonly<RepositoryLoadOptions> = {},
  ): Promise<unknown> {
    let artifact: Artifact;
    try {
      artifact = this.findArtifact(name, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return readArtifactFile(
      artifact,
      this.storage,
      this.#folderOf(artifact),
      options,
    );
  }

  /**
   * Sets when a version expires; saved by the next {@linkcode Repository.save}.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://expire-repo/repository.json");
   * repository.logArtifact({ name: "model", value: [1], handler: "pickle" });
   * repository.setArtifactExpiry("model", { version: 0, expiry: "2030-01-01T00:00:00" });
   * console.log(repository.artifacts[0].expiry?.toISOString()); // "2030-01-01T00:00:00.000Z"
   * ```
   *
   * @param name The artifact's name.
   * @param options The version, how it matches, and the expiry (`null` or missing for now).
   * @throws {ReadOnlyError} In mode `"r"`.
   * @throws {InvalidVersionError} For a version or expiry text not in the
   * `YYYY-MM-DDTHH:MM:SS` format.
   * @throws {VersionNotFoundError} When no version matches.
   * @throws {TypeError} For an expiry that is not a `Date`, text or `null`.
   */
  setArtifactExpiry(name: string, options: Readonly<ExpiryOptions> = {}): void {
    this.#checkWritable();
    const artifact = this.findArtifact(name, options);
    const expiry = options.expiry ?? null;
    if (expiry === null) artifact.expiry = utcNow();
    else if (expiry instanceof Date) artifact.expiry = expiry;
    else if (typeof expiry === "string") {
      artifact.expiry = parseVersionText(expiry);
    } else {
      throw new TypeError(`Value ${expiry} cannot be coerced to a datetime`);
    }
  }

  /**
   * The entry of one version, as stored in `repository.json` (Python's
   * `get_artifact_metadata`).
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://meta-repo/repository.json");
   * repository.logArtifact({ name: "model", value: [1], handler: "pickle" });
   * console.log(repository.getArtifactMetadata("model").python_version); // "3.11"
   * ```
   *
   * @param name The artifact's name.
   * @param options The version and how it matches.
   * @returns The entry: `name`, `fname`, `created_at`, `expiry`, `version`, handler fields,
   * `handler`.
   * @throws {ArtifactLoadError} When no artifact has that name.
   * @throws {VersionNotFoundError} When no version matches or all have expired.
   */
  getArtifactMetadata(
    name: string,
    options: Readonly<VersionOptions> = {},
  ): ArtifactEntry {
    return artifactToEntry(this.findArtifact(name, options));
  }

  /**
   * The unified diff between two versions of a text artifact, as Python's
   * `get_version_diff` gives it (`difflib.unified_diff` of the files' lines, joined with
   * newlines). With one version, it is compared with the latest one.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://diff-repo/repository.json");
   * repository.logArtifact({ name: "cfg", value: { a: 1 }, handler: "json", fname: "a.json", indent: 0 });
   * repository.logArtifact({ name: "cfg", value: { a: 2 }, handler: "json", fname: "b.json", indent: 0 });
   * await repository.save();
   * console.log(await repository.getVersionDiff("cfg", 0));
   * ```
   *
   * @param name The artifact's name.
   * @param version One version, or two.
   * @param options How time versions match.
   * @returns The diff (`""` when the files are equal).
   * @throws {ArtifactLoadError} When a version has not been saved or its file cannot be read.
   * @throws {TypeError} When the handler writes binary files.
   * @throws {VersionNotFoundError} When a version does not exist.
   */
  async getVersionDiff(
    name: string,
    version: ArtifactVersion | readonly [ArtifactVersion, ArtifactVersion],
    options: Readonly<{ match?: VersionMatch }> = {},
  ): Promise<string> {
    const match = options.match ?? "exact";
    const versions = Array.isArray(version)
      ? version.map((item: ArtifactVersion) =>
        this.findArtifact(name, { version: item, match })
      ).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      : [
        this.findArtifact(name, { version: version as ArtifactVersion, match }),
        this.findArtifact(name, { match }),
      ];
    const texts: string[][] = [];
    for (const artifact of versions) {
      if (artifact.dirty) {
        throw new ArtifactLoadError(
          "Artifact version not found on the filesystem. Please call `Repository.save` " +
            "before calling this method.",
        );
      }
      if (artifact.handler.binary) {
        throw new TypeError(
          `Version ${artifact.version} of '${name}' is written to the filesystem using binary ` +
            `handler '${artifact.handler.alias}'. Binary file formats cannot be compared using diffs.`,
        );
      }
      const path = joinPath(this.#folderOf(artifact), artifact.fname);
      let data: Uint8Array;
      try {
        data = await this.storage.readFile(path);
      } catch (error) {
        throw new ArtifactLoadError(
          `Cannot read version ${artifact.version} of '${name}' from ${path}: ${
            (error as Error).message
          }`,
          { cause: error },
        );
      }
      texts.push(splitLines(new TextDecoder().decode(data)));
    }
    return unifiedDiff(texts[0], texts[1]).join("\n");
  }

  /**
   * A read-only copy with one version per artifact (Python's `filter`): with a time, the
   * version of each artifact as of that time (artifacts with none are left out); with a list of
   * `[name, version]` pairs, exactly those versions.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * const writer = await Repository.open("r/repository.json", { storage });
   * writer.logArtifact({ name: "a", value: 1, handler: "json", fname: "a0.json" });
   * writer.logArtifact({ name: "a", value: 2, handler: "json", fname: "a1.json" });
   * await writer.save();
   * const reader = await Repository.open("r/repository.json", { storage, mode: "r" });
   * console.log(reader.filter([["a", 0]]).artifacts.length); // 1
   * ```
   *
   * @param version A time (`Date` or `YYYY-MM-DDTHH:MM:SS`), or `[name, version]` pairs.
   * @returns The filtered repository, in mode `"r"`.
   * @throws {LazyscribeError} When the repository is not in mode `"r"` or has unsaved artifacts.
   * @throws {VersionNotFoundError} When a listed version does not exist.
   */
  filter(
    version: Date | string | readonly (readonly [string, ArtifactVersion])[],
  ): Repository {
    if (this.mode !== "r") {
      throw new LazyscribeError(
        "Repository must be in read-only mode for filtering.",
      );
    }
    if (this.artifacts.some((artifact) => artifact.dirty)) {
      throw new LazyscribeError(
        "At least one artifact has changed since it was last saved. Please save your " +
          "repository and re-open it in read-only mode before filtering.",
      );
    }
    const filtered = new Repository(this.storage, this.path, "r");
    if (Array.isArray(version)) {
      for (const [name, item] of version) {
        filtered.artifacts.push(
          this.findArtifact(name, { version: item, match: "exact" }),
        );
      }
      return filtered;
    }
    const names = new Set(this.artifacts.map((artifact) => artifact.name));
    for (const name of names) {
      try {
        filtered.artifacts.push(
          this.findArtifact(name, {
            version: version as Date | string,
            match: "asof",
          }),
        );
      } catch (error) {
        if (!(error instanceof VersionNotFoundError)) throw error;
      }
    }
    return filtered;
  }

  /**
   * Whether an artifact has a name (Python's `name in repository`).
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://has-repo/repository.json");
   * console.log(repository.has("model")); // false
   * ```
   *
   * @param name The name.
   * @returns Whether one does.
   */
  has(name: string): boolean {
    return this.artifacts.some((artifact) => artifact.name === name);
  }

  /**
   * The bytes of `repository.json` as Python writes them for the repository as it is now.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://encode-repo/repository.json", { mode: "w" });
   * console.log(new TextDecoder().decode(repository.encode())); // "[]"
   * ```
   *
   * @returns The bytes.
   * @throws {RangeError} When a date is outside the years 1–9999.
   */
  encode(): Uint8Array {
    return encodeListFile(
      this.artifacts.map((artifact) => toExact(artifactToEntry(artifact))),
    );
  }

  /**
   * Saves the repository: `repository.json` and the file of every unsaved version are staged
   * and moved into place together, so a failure leaves the previous files as they were.
   *
   * @example Usage
   * ```ts
   * import { Repository } from "./repository.ts";
   * const repository = await Repository.open("memory://save-repo/repository.json");
   * repository.logArtifact({ name: "model", value: [1], handler: "pickle" });
   * await repository.save();
   * console.log(repository.artifacts[0].dirty); // false
   * ```
   *
   * @throws {ReadOnlyError} In mode `"r"`, or when the storage is read-only.
   * @throws {SaveError} When a value cannot be written or a file cannot be moved into place.
   */
  async save(): Promise<void> {
    this.#checkWritable();
    const dirty = this.artifacts.filter((artifact) => artifact.dirty);
    await saveListFile(
      this.storage,
      this.path,
      "repository",
      () => this.encode(),
      dirty.map((artifact) => ({ artifact, folder: this.#folderOf(artifact) })),
    );
    for (const artifact of dirty) artifact.dirty = false;
  }
}
