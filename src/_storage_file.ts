import { FileNotFoundError, Storage } from "./storage.ts";

type NodeFs = typeof import("node:fs/promises");

let nodeFs: Promise<NodeFs> | undefined;

/** `node:fs/promises`, loaded on first use so that the rest of the module runs without it. */
function fs(): Promise<NodeFs> {
  nodeFs ??= import("node:fs/promises");
  return nodeFs;
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/** Runs a filesystem call on `path`, turning Node's `ENOENT` into a {@linkcode FileNotFoundError}. */
async function notFoundAs<T>(
  path: string,
  protocol: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (errorCode(error) === "ENOENT") {
      throw new FileNotFoundError(path, protocol, { cause: error });
    }
    throw error;
  }
}

/**
 * The local filesystem (fsspec's `file`), through `node:fs/promises`, which Deno, Node and Bun
 * all provide; it is imported only when a file is first touched. Deno needs `--allow-read` and
 * `--allow-write`.
 *
 * @example Usage
 * ```ts ignore
 * import { FileStorage } from "./open_storage.ts";
 * const storage = new FileStorage();
 * await storage.writeFile("/tmp/lazyscribe-example/a.json", new TextEncoder().encode("[]"));
 * ```
 */
export class FileStorage extends Storage {
  /** `"file"`. */
  readonly protocol = "file";

  /**
   * Reads a file.
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * const bytes = await new FileStorage().readFile("project.json");
   * ```
   *
   * @param path The file.
   * @returns Its bytes.
   * @throws {FileNotFoundError} When it does not exist.
   */
  async readFile(path: string): Promise<Uint8Array> {
    const nodeFs = await fs();
    const buffer = await notFoundAs(
      path,
      this.protocol,
      () => nodeFs.readFile(path),
    );
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  /**
   * Creates a file that must not exist yet (`O_EXCL`).
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * await new FileStorage().writeNewFile("/tmp/new.bin", new Uint8Array([1]));
   * ```
   *
   * @param path The new file.
   * @param data The bytes.
   * @throws {Error} When it exists or cannot be written.
   */
  async writeNewFile(path: string, data: Uint8Array): Promise<void> {
    await (await fs()).writeFile(path, data, { flag: "wx" });
  }

  /**
   * Keeps a file's content under a new path: a hard link when the filesystem allows one (no
   * copy), else a copy.
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * await new FileStorage().snapshot("/tmp/a.json", "/tmp/.a.json.bak");
   * ```
   *
   * @param path The file.
   * @param snapshotPath The new path, which must not exist.
   * @throws {FileNotFoundError} When `path` does not exist.
   */
  override async snapshot(path: string, snapshotPath: string): Promise<void> {
    const nodeFs = await fs();
    try {
      await nodeFs.link(path, snapshotPath);
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT") {
        throw new FileNotFoundError(path, this.protocol, { cause: error });
      }
      if (code === "EEXIST") throw error;
      await nodeFs.copyFile(path, snapshotPath, nodeFs.constants.COPYFILE_EXCL);
    }
  }

  /**
   * Renames a file, atomically replacing the target.
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * await new FileStorage().rename("/tmp/a", "/tmp/b");
   * ```
   *
   * @param from The file.
   * @param to The new path.
   * @throws {FileNotFoundError} When `from` does not exist.
   */
  async rename(from: string, to: string): Promise<void> {
    const nodeFs = await fs();
    await notFoundAs(from, this.protocol, () => nodeFs.rename(from, to));
  }

  /**
   * Deletes a file.
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * await new FileStorage().remove("/tmp/b");
   * ```
   *
   * @param path The file.
   * @throws {FileNotFoundError} When it does not exist.
   */
  async remove(path: string): Promise<void> {
    const nodeFs = await fs();
    await notFoundAs(path, this.protocol, () => nodeFs.unlink(path));
  }

  /**
   * Creates a folder and its parents.
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * await new FileStorage().makeDirs("/tmp/a/b");
   * ```
   *
   * @param path The folder.
   */
  async makeDirs(path: string): Promise<void> {
    await (await fs()).mkdir(path, { recursive: true });
  }

  /**
   * The files and subfolders of a folder. A file's change time is the later of its modification
   * and status change times: a backup made as a hard link keeps the old modification time of
   * the file it links to, but linking it changes its status.
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * const { files, folders } = await new FileStorage().listFolder(".");
   * ```
   *
   * @param folder The folder.
   * @returns Its `files`, each with its `name` and when it `changed` (milliseconds since the
   * Unix epoch), and the names of its subfolders (`folders`); nothing when it does not exist.
   */
  override async listFolder(folder: string): Promise<{
    files: { name: string; changed: number }[];
    folders: string[];
  }> {
    const nodeFs = await fs();
    const directory = folder === "" ? "." : folder;
    let entries;
    try {
      entries = await nodeFs.readdir(directory, { withFileTypes: true });
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") {
        return { files: [], folders: [] };
      }
      throw error;
    }
    const files: { name: string; changed: number }[] = [];
    const folders: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        folders.push(entry.name);
        continue;
      }
      if (!entry.isFile()) continue;
      const stat = await this.#stat(`${directory}/${entry.name}`);
      // Gone since the listing: another writer moved or removed it.
      if (stat === null) continue;
      files.push({
        name: entry.name,
        changed: Math.max(stat.mtimeMs, stat.ctimeMs),
      });
    }
    return { files, folders };
  }

  /**
   * Whether a file exists.
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * console.log(await new FileStorage().isFile("project.json"));
   * ```
   *
   * @param path The path.
   * @returns Whether it is a file.
   */
  async isFile(path: string): Promise<boolean> {
    return (await this.#stat(path))?.isFile() ?? false;
  }

  /**
   * Whether a folder exists.
   *
   * @example Usage
   * ```ts ignore
   * import { FileStorage } from "./open_storage.ts";
   * console.log(await new FileStorage().isDir("."));
   * ```
   *
   * @param path The path.
   * @returns Whether it is a folder.
   */
  async isDir(path: string): Promise<boolean> {
    return (await this.#stat(path))?.isDirectory() ?? false;
  }

  async #stat(path: string) {
    try {
      return await (await fs()).stat(path === "" ? "." : path);
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      throw error;
    }
  }
}
