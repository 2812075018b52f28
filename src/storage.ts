/**
 * A small filesystem layer in the spirit of fsspec, which lazyscribe uses: the
 * {@linkcode Storage} base class, whose writes are atomic, and the {@linkcode StorageTransaction}
 * that moves several files into place together. `open_storage.ts` picks a storage by protocol.
 *
 * @module
 */

import { ReadOnlyError } from "./errors.ts";

/**
 * How old, in milliseconds, a transaction's temporary or backup file left next to its target
 * must be before a later commit removes it: ten minutes. A save in flight, even of another
 * process, stages and moves its files well within that.
 */
export const DEFAULT_LEFTOVER_GRACE_PERIOD = 10 * 60 * 1000;

/** Options of a {@linkcode Storage}. */
export interface StorageOptions {
  /**
   * How old, in milliseconds, a leftover of an interrupted transaction (a `.<name>.<8 hex>.tmp`
   * or `.bak` file next to `<name>`) must be before a commit into its folder removes it. A save
   * that stays in flight longer than this may see another process remove its staged files: its
   * commit then fails and rolls back.
   *
   * @default {DEFAULT_LEFTOVER_GRACE_PERIOD}
   */
  leftoverGracePeriod: number;
}

/**
 * Thrown when a file that should be read does not exist (Python's `FileNotFoundError`).
 *
 * @example Usage
 * ```ts
 * import { FileNotFoundError } from "./storage.ts";
 * import { MemoryStorage } from "./open_storage.ts";
 * try {
 *   await new MemoryStorage().readFile("missing.json");
 * } catch (error) {
 *   console.log((error as FileNotFoundError).path); // "missing.json"
 * }
 * ```
 */
export class FileNotFoundError extends Error {
  /**
   * Makes the error.
   *
   * @param path The path that does not exist.
   * @param protocol The storage's protocol.
   * @param options The underlying error, if any.
   */
  constructor(
    readonly path: string,
    readonly protocol: string,
    options?: ErrorOptions,
  ) {
    super(`No such file: ${protocol}://${path}`, options);
    this.name = "FileNotFoundError";
  }
}

/**
 * Where files live. Subclasses implement the primitives (`readFile`, `writeNewFile`, `rename`,
 * `remove`, `makeDirs`, `isFile`, `isDir`); this class builds atomic writes and transactions on
 * them. Paths use `/` and are the part of a location after `protocol://`.
 *
 * @example Write and read a file
 * ```ts
 * import { MemoryStorage } from "./open_storage.ts";
 * const storage = new MemoryStorage();
 * await storage.writeFile("project/features.json", new TextEncoder().encode("[0, 1, 2]"));
 * console.log(new TextDecoder().decode(await storage.readFile("project/features.json")));
 * ```
 */
export abstract class Storage {
  /** The protocol, as in fsspec: `"file"`, `"memory"`, `"https"`… */
  abstract readonly protocol: string;
  /** Whether writes are refused (with {@linkcode ReadOnlyError}). */
  readonly readOnly: boolean = false;
  /** How old a leftover of an interrupted transaction must be before a commit removes it. */
  readonly leftoverGracePeriod: number;

  /**
   * Makes the storage.
   *
   * @param options The grace period of leftovers.
   */
  constructor(options: Readonly<Partial<StorageOptions>> = {}) {
    this.leftoverGracePeriod = options.leftoverGracePeriod ??
      DEFAULT_LEFTOVER_GRACE_PERIOD;
  }

  /**
   * Reads a whole file.
   *
   * @param path The file.
   * @returns Its bytes.
   * @throws {FileNotFoundError} When it does not exist.
   */
  abstract readFile(path: string): Promise<Uint8Array>;
  /**
   * Creates a file that must not exist yet and writes it (used for temporary files).
   *
   * @param path The new file; its folder exists.
   * @param data The bytes.
   */
  abstract writeNewFile(path: string, data: Uint8Array): Promise<void>;
  /**
   * Moves a file, atomically replacing the target if it exists.
   *
   * @param from The file.
   * @param to Its new path, in the same folder or another folder of this storage.
   */
  abstract rename(from: string, to: string): Promise<void>;
  /**
   * Deletes a file.
   *
   * @param path The file.
   * @throws {FileNotFoundError} When it does not exist.
   */
  abstract remove(path: string): Promise<void>;
  /**
   * Creates a folder and its parents; does nothing when it exists.
   *
   * @param path The folder.
   */
  abstract makeDirs(path: string): Promise<void>;
  /**
   * Whether a file exists at a path.
   *
   * @param path The path.
   * @returns `true` for a file, `false` for a folder or nothing.
   */
  abstract isFile(path: string): Promise<boolean>;
  /**
   * Whether a folder exists at a path.
   *
   * @param path The path.
   * @returns `true` for a folder.
   */
  abstract isDir(path: string): Promise<boolean>;

  /**
   * The files and subfolders of a folder, so that a commit can find the leftovers of
   * interrupted transactions. A storage that cannot list, like this default, gives nothing, and
   * then leftovers stay.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.writeFile("p/a.json", new TextEncoder().encode("[]"));
   * await storage.makeDirs("p/run");
   * const { files, folders } = await storage.listFolder("p");
   * console.log(files.map((file) => file.name), folders); // [ "a.json" ] [ "run" ]
   * ```
   *
   * @param _folder The folder.
   * @returns What it holds, in no particular order: its `files`, each with its `name` and when
   * its content or links last `changed` (milliseconds since the Unix epoch), and the names of
   * its subfolders (`folders`); nothing when it does not exist.
   */
  listFolder(_folder: string): Promise<{
    files: { name: string; changed: number }[];
    folders: string[];
  }> {
    return Promise.resolve({ files: [], folders: [] });
  }

  /**
   * Writes a file atomically: the bytes go to a temporary file in the same folder, which is then
   * renamed over the target. Missing folders are created. If anything fails, the target is
   * unchanged and the temporary file is removed.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.writeFile("a/b.bin", new Uint8Array([1, 2]));
   * console.log(await storage.isFile("a/b.bin")); // true
   * ```
   *
   * @param path The file.
   * @param data The bytes.
   * @throws {ReadOnlyError} When the storage is read-only.
   */
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const transaction = this.transaction();
    await transaction.writeFile(path, data);
    await transaction.commit();
  }

  /**
   * Keeps the current content of a file under a new path, so that a transaction can put it back:
   * by default a copy; {@linkcode FileStorage} makes a hard link when it can. The file itself
   * stays in place, so readers never find it missing.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.writeFile("a.json", new TextEncoder().encode("1"));
   * await storage.snapshot("a.json", ".a.json.bak");
   * console.log(await storage.isFile(".a.json.bak")); // true
   * ```
   *
   * @param path The file.
   * @param snapshotPath The new path, which must not exist, in the same folder.
   * @throws {FileNotFoundError} When `path` does not exist.
   */
  async snapshot(path: string, snapshotPath: string): Promise<void> {
    await this.writeNewFile(snapshotPath, await this.readFile(path));
  }

  /**
   * Copies a file (atomically at the target).
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.writeFile("a.json", new TextEncoder().encode("1"));
   * await storage.copy("a.json", "backup/a.json");
   * console.log(await storage.isFile("backup/a.json")); // true
   * ```
   *
   * @param from The file.
   * @param to The copy's path.
   * @throws {FileNotFoundError} When `from` does not exist.
   * @throws {ReadOnlyError} When the storage is read-only.
   */
  async copy(from: string, to: string): Promise<void> {
    await this.writeFile(to, await this.readFile(from));
  }

  /**
   * Starts a transaction: files written through it are staged next to their targets and moved
   * into place together by `commit()`, or discarded by `abort()`.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * const transaction = storage.transaction();
   * await transaction.writeFile("repository.json", new TextEncoder().encode("[]"));
   * await transaction.writeFile("model/model-20250120132330.pkl", new Uint8Array([0x80, 4]));
   * await transaction.commit();
   * ```
   *
   * @returns The transaction.
   * @throws {ReadOnlyError} When the storage is read-only.
   */
  transaction(): StorageTransaction {
    if (this.readOnly) {
      throw new ReadOnlyError(`Storage ${this.protocol} is read-only`);
    }
    return new StorageTransaction(this);
  }

  /**
   * Runs `body` in a transaction: commits when it resolves, aborts and rethrows when it throws.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.atomically(async (transaction) => {
   *   await transaction.writeFile("a.json", new TextEncoder().encode("1"));
   *   await transaction.writeFile("b.json", new TextEncoder().encode("2"));
   * });
   * ```
   *
   * @typeParam T What `body` returns.
   * @param body Writes files through the transaction.
   * @returns What `body` returned.
   * @throws Whatever `body` or the commit threw; then no staged file is in place.
   */
  async atomically<T>(
    body: (transaction: StorageTransaction) => Promise<T>,
  ): Promise<T> {
    const transaction = this.transaction();
    let result: T;
    try {
      result = await body(transaction);
    } catch (error) {
      await transaction.abort();
      throw error;
    }
    await transaction.commit();
    return result;
  }
}

/** A staged file: its temporary path and its target. */
interface StagedFile {
  readonly temporary: string;
  readonly target: string;
}

/** A file moved into place during a commit, and the backup of what it replaced. */
interface InstalledFile extends StagedFile {
  readonly backup: string | null;
}

/**
 * Files staged for {@linkcode Storage.transaction}. `commit()` keeps a snapshot of each file it
 * replaces and renames each staged file into place (an atomic replacement: a reader sees the old
 * file or the new one, never none); if any step fails, the files already moved are put back
 * from their snapshots, or removed when they are new, and nothing temporary is left.
 *
 * A process killed during a transaction leaves its temporary and backup files behind. After it
 * has moved its files into place, a commit removes such leftovers from each folder it wrote into
 * and from their subfolders (one level down: the folders of experiments or artifacts whose save
 * was killed before their index moved, which no later save writes into), once they are older
 * than the storage's {@linkcode Storage.leftoverGracePeriod}, so that the files of a save in
 * flight in another process stay.
 *
 * @example Usage
 * ```ts
 * import { MemoryStorage } from "./open_storage.ts";
 * const storage = new MemoryStorage();
 * const transaction = storage.transaction();
 * await transaction.writeFile("a.json", new TextEncoder().encode("1"));
 * await transaction.abort();
 * console.log(await storage.isFile("a.json")); // false
 * ```
 */
export class StorageTransaction {
  #storage: Storage;
  #staged: StagedFile[] = [];
  #finished = false;

  /**
   * Use {@linkcode Storage.transaction}.
   *
   * @param storage The storage written to.
   */
  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /**
   * Stages a file: writes it to a temporary file next to `path` (creating folders).
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const transaction = new MemoryStorage().transaction();
   * await transaction.writeFile("a.json", new TextEncoder().encode("1"));
   * await transaction.commit();
   * ```
   *
   * @param path The target file.
   * @param data Its bytes.
   * @throws {Error} When the transaction has ended, or the write fails (nothing is left behind).
   */
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    this.#checkOpen();
    const folder = dirname(path);
    if (folder !== "") await this.#storage.makeDirs(folder);
    const temporary = siblingPath(path, "tmp");
    try {
      await this.#storage.writeNewFile(temporary, data);
    } catch (error) {
      await removeQuietly(this.#storage, temporary);
      throw error;
    }
    this.#staged.push({ temporary, target: path });
  }

  /**
   * Moves every staged file into place; on failure restores the previous files and throws.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * const transaction = storage.transaction();
   * await transaction.writeFile("a.json", new TextEncoder().encode("1"));
   * await transaction.commit();
   * console.log(await storage.isFile("a.json")); // true
   * ```
   *
   * @throws {Error} The first failure, after the rollback.
   */
  async commit(): Promise<void> {
    this.#checkOpen();
    this.#finished = true;
    const storage = this.#storage;
    const installed: InstalledFile[] = [];
    try {
      for (const file of this.#staged) {
        let backup: string | null = null;
        if (await storage.isFile(file.target)) {
          backup = siblingPath(file.target, "bak");
          await storage.snapshot(file.target, backup);
        }
        installed.push({ ...file, backup });
        await storage.rename(file.temporary, file.target);
      }
    } catch (error) {
      for (const file of installed.reverse()) {
        if (await storage.isFile(file.temporary)) continue; // never moved into place
        if (file.backup === null) {
          await removeQuietly(storage, file.target);
        } else {
          await storage.rename(file.backup, file.target);
        }
      }
      await Promise.all([
        ...this.#staged.map((file) => removeQuietly(storage, file.temporary)),
        ...installed.map((file) => removeQuietly(storage, file.backup)),
      ]);
      throw error;
    }
    await Promise.all(
      installed.map((file) => removeQuietly(storage, file.backup)),
    );
    await removeLeftovers(
      storage,
      new Set(this.#staged.map((file) => dirname(file.target))),
    );
  }

  /**
   * Discards every staged file.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const transaction = new MemoryStorage().transaction();
   * await transaction.writeFile("a.json", new TextEncoder().encode("1"));
   * await transaction.abort();
   * ```
   */
  async abort(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await Promise.all(
      this.#staged.map((file) => removeQuietly(this.#storage, file.temporary)),
    );
  }

  #checkOpen(): void {
    if (this.#finished) {
      throw new Error("The storage transaction has already ended");
    }
  }
}

async function removeQuietly(
  storage: Storage,
  path: string | null,
): Promise<void> {
  if (path === null) return;
  try {
    await storage.remove(path);
  } catch {
    // Cleaning up after a failure: the file may never have been created.
  }
}

/** `.<name>.<8 hex>.<kind>`, as {@linkcode siblingPath} makes it: the target's name and the kind. */
const LEFTOVER = /^\.(.+)\.[0-9a-f]{8}\.(tmp|bak)$/;

/**
 * Removes the temporary and backup files that interrupted transactions left in `written` and in
 * their subfolders, once older than the grace period. A temporary file never holds the only copy
 * of anything: its content either was moved into place or never was. A backup is a snapshot of
 * a file that `commit()` then replaces with an atomic rename, so while the commit runs the
 * target always exists; a backup whose target is missing means someone removed the target
 * afterwards, and it may be the only copy left, or a partial one (a copy killed halfway).
 * Putting it back could bring back a deleted file or a truncated one, so it stays for a person
 * to judge.
 */
async function removeLeftovers(
  storage: Storage,
  written: ReadonlySet<string>,
): Promise<void> {
  const now = Date.now();
  // The depth each folder was cleaned to: a written folder first met as a subfolder of another
  // still gets its own subfolders cleaned.
  const cleaned = new Map<string, number>();
  const clean = async (folder: string, depth: number): Promise<void> => {
    if ((cleaned.get(folder) ?? -1) >= depth) return;
    cleaned.set(folder, depth);
    const { files, folders } = await storage.listFolder(folder);
    for (const file of files) {
      const leftover = LEFTOVER.exec(file.name);
      if (leftover === null) continue;
      if (now - file.changed < storage.leftoverGracePeriod) continue;
      const [, target, kind] = leftover;
      if (kind === "bak" && !await storage.isFile(joinPath(folder, target))) {
        continue;
      }
      await removeQuietly(storage, joinPath(folder, file.name));
    }
    if (depth === 0) return;
    for (const name of folders) await clean(joinPath(folder, name), depth - 1);
  };
  try {
    for (const folder of written) await clean(folder, 1);
  } catch {
    // The files are in place: a folder that cannot be listed must not turn the save into a
    // failure, and its leftovers wait for a later commit.
  }
}

/** `.name.<random>.<kind>` next to `path`: hidden, and unique among concurrent writers. */
function siblingPath(path: string, kind: string): string {
  const folder = dirname(path);
  const name = path.slice(folder === "" ? 0 : folder.length + 1);
  const random = crypto.randomUUID().slice(0, 8);
  return joinPath(folder, `.${name}.${random}.${kind}`);
}

/**
 * Joins path segments with `/` as Python's `PurePosixPath` does: an absolute segment restarts
 * the path, empty and `.` segments and repeated slashes vanish (but a leading `//` stays), `..`
 * is kept.
 *
 * @example Usage
 * ```ts
 * import { joinPath } from "./storage.ts";
 * console.log(joinPath("data/", "./exp", "features.json")); // "data/exp/features.json"
 * ```
 *
 * @param segments The segments.
 * @returns The joined path; `""` when nothing is left.
 */
export function joinPath(...segments: string[]): string {
  let root = "";
  let parts: string[] = [];
  for (const segment of segments) {
    if (segment.startsWith("/")) {
      // POSIX lets exactly two leading slashes mean something else, so pathlib keeps them.
      root = segment.startsWith("//") && !segment.startsWith("///")
        ? "//"
        : "/";
      parts = [];
    }
    for (const part of segment.split("/")) {
      if (part !== "" && part !== ".") parts.push(part);
    }
  }
  return root + parts.join("/");
}

/**
 * The folder of a path (Python's `PurePosixPath(path).parent`, with `""` for none).
 *
 * @example Usage
 * ```ts
 * import { dirname } from "./storage.ts";
 * console.log(dirname("data/project.json")); // "data"
 * console.log(dirname("project.json")); // ""
 * ```
 *
 * @param path The path.
 * @returns The folder.
 */
export function dirname(path: string): string {
  const normalized = joinPath(path);
  const slash = normalized.lastIndexOf("/");
  if (slash === -1) return "";
  const root = normalized.startsWith("//") ? "//" : "/";
  return slash < root.length ? root : normalized.slice(0, slash);
}
