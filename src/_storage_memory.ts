import { FileNotFoundError, joinPath, Storage } from "./storage.ts";

/** A file's bytes and when it was written or moved, in milliseconds since the Unix epoch. */
interface MemoryFile {
  readonly data: Uint8Array;
  readonly changed: number;
}

/**
 * An in-memory filesystem (fsspec's `memory`): for tests, and for building files before
 * sending them elsewhere. Every `memory://` location of a process shares one instance; `new
 * MemoryStorage()` makes a separate one.
 *
 * @example Usage
 * ```ts
 * import { MemoryStorage } from "./open_storage.ts";
 * const storage = new MemoryStorage();
 * await storage.writeFile("p/a.json", new TextEncoder().encode("[]"));
 * console.log(await storage.isDir("p")); // true
 * ```
 */
export class MemoryStorage extends Storage {
  /** `"memory"`. */
  readonly protocol = "memory";
  #files = new Map<string, MemoryFile>();
  #folders = new Set<string>(["", "/"]);

  /**
   * Reads a file (a copy of its bytes).
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.writeFile("a", new Uint8Array([1]));
   * console.log(await storage.readFile("a")); // Uint8Array(1) [ 1 ]
   * ```
   *
   * @param path The file.
   * @returns Its bytes.
   * @throws {FileNotFoundError} When it does not exist.
   */
  readFile(path: string): Promise<Uint8Array> {
    const file = this.#files.get(joinPath(path));
    if (file === undefined) {
      return Promise.reject(new FileNotFoundError(path, this.protocol));
    }
    return Promise.resolve(file.data.slice());
  }

  /**
   * Creates a file that does not exist yet.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * await new MemoryStorage().writeNewFile("a", new Uint8Array([1]));
   * ```
   *
   * @param path The new file; its folder must exist.
   * @param data The bytes (copied).
   * @throws {Error} When the path exists or its folder does not.
   */
  writeNewFile(path: string, data: Uint8Array): Promise<void> {
    const key = joinPath(path);
    if (this.#files.has(key) || this.#folders.has(key)) {
      return Promise.reject(new Error(`File exists: memory://${path}`));
    }
    if (!this.#folders.has(parentOf(key))) {
      return Promise.reject(
        new FileNotFoundError(parentOf(key), this.protocol),
      );
    }
    this.#files.set(key, { data: data.slice(), changed: Date.now() });
    return Promise.resolve();
  }

  /**
   * Moves a file, replacing the target.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.writeFile("a", new Uint8Array([1]));
   * await storage.rename("a", "b");
   * ```
   *
   * @param from The file.
   * @param to The new path.
   * @throws {FileNotFoundError} When `from` does not exist.
   * @throws {Error} When `to` is a folder or its folder does not exist.
   */
  rename(from: string, to: string): Promise<void> {
    const source = joinPath(from);
    const target = joinPath(to);
    const file = this.#files.get(source);
    if (file === undefined) {
      return Promise.reject(new FileNotFoundError(from, this.protocol));
    }
    if (this.#folders.has(target)) {
      return Promise.reject(new Error(`Is a folder: memory://${to}`));
    }
    if (!this.#folders.has(parentOf(target))) {
      return Promise.reject(
        new FileNotFoundError(parentOf(target), this.protocol),
      );
    }
    this.#files.delete(source);
    this.#files.set(target, { data: file.data, changed: Date.now() });
    return Promise.resolve();
  }

  /**
   * Deletes a file.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.writeFile("a", new Uint8Array([1]));
   * await storage.remove("a");
   * ```
   *
   * @param path The file.
   * @throws {FileNotFoundError} When it does not exist.
   */
  remove(path: string): Promise<void> {
    if (!this.#files.delete(joinPath(path))) {
      return Promise.reject(new FileNotFoundError(path, this.protocol));
    }
    return Promise.resolve();
  }

  /**
   * Creates a folder and its parents.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * await new MemoryStorage().makeDirs("a/b/c");
   * ```
   *
   * @param path The folder.
   * @throws {Error} When a file is in the way.
   */
  makeDirs(path: string): Promise<void> {
    const folders: string[] = [];
    for (
      let folder = joinPath(path);
      !this.#folders.has(folder);
      folder = parentOf(folder)
    ) {
      if (this.#files.has(folder)) {
        return Promise.reject(new Error(`Not a folder: memory://${folder}`));
      }
      folders.push(folder);
    }
    for (const folder of folders) this.#folders.add(folder);
    return Promise.resolve();
  }

  /**
   * The files of a folder, each with when it was last written or moved, and its subfolders.
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
   * @param folder The folder.
   * @returns Its `files`, each with its `name` and when it `changed` (milliseconds since the
   * Unix epoch), and the names of its subfolders (`folders`); nothing when it does not exist.
   */
  override listFolder(folder: string): Promise<{
    files: { name: string; changed: number }[];
    folders: string[];
  }> {
    const key = joinPath(folder);
    const nameIn = (path: string) =>
      path.slice(key === "" ? 0 : key === "/" ? 1 : key.length + 1);
    const files: { name: string; changed: number }[] = [];
    for (const [path, file] of this.#files) {
      if (parentOf(path) === key) {
        files.push({ name: nameIn(path), changed: file.changed });
      }
    }
    const folders = [...this.#folders]
      .filter((path) => path !== key && parentOf(path) === key)
      .map(nameIn);
    return Promise.resolve({ files, folders });
  }

  /**
   * Whether a file exists.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * console.log(await new MemoryStorage().isFile("a")); // false
   * ```
   *
   * @param path The path.
   * @returns Whether it is a file.
   */
  isFile(path: string): Promise<boolean> {
    return Promise.resolve(this.#files.has(joinPath(path)));
  }

  /**
   * Whether a folder exists.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * console.log(await new MemoryStorage().isDir("")); // true
   * ```
   *
   * @param path The path.
   * @returns Whether it is a folder.
   */
  isDir(path: string): Promise<boolean> {
    return Promise.resolve(this.#folders.has(joinPath(path)));
  }

  /**
   * Every file's path, sorted: what a listing of the whole storage would show.
   *
   * @example Usage
   * ```ts
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * await storage.writeFile("p/a.json", new TextEncoder().encode("[]"));
   * console.log(storage.paths()); // [ "p/a.json" ]
   * ```
   *
   * @returns The paths.
   */
  paths(): string[] {
    return [...this.#files.keys()].sort();
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : slash === 0 ? "/" : path.slice(0, slash);
}

/** The storage of every `memory://` location. */
export const sharedMemoryStorage: MemoryStorage = new MemoryStorage();
