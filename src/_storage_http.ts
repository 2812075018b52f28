import { ReadOnlyError } from "./errors.ts";
import { FileNotFoundError, Storage } from "./storage.ts";

/** Options of {@linkcode HttpStorage}: fsspec's `storage_options` for `http(s)`. */
export interface HttpStorageOptions {
  /** Headers sent with every request (an `Authorization` token, say). */
  headers?: HeadersInit;
  /** The `fetch` to use. @default {globalThis.fetch} */
  fetch?: typeof fetch;
}

/**
 * Read-only files over HTTP(S) (fsspec's `http`), for edge functions and browsers that read
 * artifacts from a web server or a bucket's public URL. A path is `host/path`: the storage of
 * `https://example.com/p/project.json` reads `https://example.com/p/<fname>` for its artifacts.
 * Writing throws {@linkcode ReadOnlyError}.
 *
 * @example Usage
 * ```ts ignore
 * import { openStorage } from "./open_storage.ts";
 * const { storage, path } = openStorage("https://example.com/team/project.json");
 * const bytes = await storage.readFile(path);
 * ```
 */
export class HttpStorage extends Storage {
  /** `"http"` or `"https"`. */
  readonly protocol: string;
  /** `true`. */
  override readonly readOnly = true;
  #headers: HeadersInit | undefined;
  #fetch: typeof fetch;

  /**
   * Makes a storage that reads `protocol://host/path` URLs.
   *
   * @param protocol `"http"` or `"https"`.
   * @param options Headers and the `fetch` to use.
   */
  constructor(protocol: string, options: Readonly<HttpStorageOptions> = {}) {
    super();
    this.protocol = protocol;
    this.#headers = options.headers;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  #url(path: string): string {
    const [host, ...segments] = path.replace(/^\/+/, "").split("/");
    // Folder and file names (a repository folder is the raw artifact name) may hold spaces,
    // `#` or `?`; `%` is kept so that escapes already in the location stay as they are.
    const escaped = segments.map((segment) =>
      segment.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@%]+/gu, encodeURIComponent)
    );
    return `${this.protocol}://${[host, ...escaped].join("/")}`;
  }

  async #request(path: string, method: "GET" | "HEAD"): Promise<Response> {
    // Called as a plain function: Workers and browsers throw "Illegal invocation" when `fetch`
    // gets another `this` (a call through `this.#fetch` would pass the storage).
    const request = this.#fetch;
    return await request(this.#url(path), {
      method,
      headers: this.#headers,
    });
  }

  /**
   * Downloads a file.
   *
   * @example Usage
   * ```ts ignore
   * import { HttpStorage } from "./open_storage.ts";
   * const bytes = await new HttpStorage("https").readFile("example.com/p/project.json");
   * ```
   *
   * @param path `host/path`.
   * @returns The body.
   * @throws {FileNotFoundError} For a 404 or 410 response.
   * @throws {Error} For another unsuccessful status.
   */
  async readFile(path: string): Promise<Uint8Array> {
    const response = await this.#request(path, "GET");
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      throw new FileNotFoundError(path, this.protocol);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(
        `GET ${
          this.#url(path)
        } failed: ${response.status} ${response.statusText}`,
      );
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * Whether a `HEAD` request for the path succeeds.
   *
   * @example Usage
   * ```ts ignore
   * import { HttpStorage } from "./open_storage.ts";
   * console.log(await new HttpStorage("https").isFile("example.com/p/project.json"));
   * ```
   *
   * @param path `host/path`.
   * @returns Whether the server has it.
   */
  async isFile(path: string): Promise<boolean> {
    const response = await this.#request(path, "HEAD");
    await response.body?.cancel();
    return response.ok;
  }

  /**
   * Always `false`: HTTP has no folders to ask about.
   *
   * @example Usage
   * ```ts
   * import { HttpStorage } from "./open_storage.ts";
   * console.log(await new HttpStorage("https").isDir("example.com/p")); // false
   * ```
   *
   * @param _path Ignored.
   * @returns `false`.
   */
  isDir(_path: string): Promise<boolean> {
    return Promise.resolve(false);
  }

  /**
   * Refuses: HTTP storage is read-only.
   *
   * @param path The file.
   * @param _data Ignored.
   * @throws {ReadOnlyError} Always.
   */
  writeNewFile(path: string, _data: Uint8Array): Promise<void> {
    return Promise.reject(this.#readOnly(path));
  }

  /**
   * Refuses: HTTP storage is read-only.
   *
   * @param from The file.
   * @param _to Ignored.
   * @throws {ReadOnlyError} Always.
   */
  rename(from: string, _to: string): Promise<void> {
    return Promise.reject(this.#readOnly(from));
  }

  /**
   * Refuses: HTTP storage is read-only.
   *
   * @param path The file.
   * @throws {ReadOnlyError} Always.
   */
  remove(path: string): Promise<void> {
    return Promise.reject(this.#readOnly(path));
  }

  /**
   * Refuses: HTTP storage is read-only.
   *
   * @param path The folder.
   * @throws {ReadOnlyError} Always.
   */
  makeDirs(path: string): Promise<void> {
    return Promise.reject(this.#readOnly(path));
  }

  #readOnly(path: string): ReadOnlyError {
    return new ReadOnlyError(
      `Storage ${this.protocol} is read-only: cannot write ${this.#url(path)}`,
    );
  }
}
