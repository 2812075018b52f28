/**
 * Opening a storage by location, as lazyscribe does with `urlparse` and
 * `fsspec.filesystem(protocol)`: `file`, `memory`, `http(s)`, and protocols registered with
 * {@linkcode registerStorage}.
 *
 * @module
 */

import { joinPath, type Storage } from "./storage.ts";
import { FileStorage } from "./_storage_file.ts";
import { HttpStorage, type HttpStorageOptions } from "./_storage_http.ts";
import { MemoryStorage, sharedMemoryStorage } from "./_storage_memory.ts";

export { FileStorage, HttpStorage, type HttpStorageOptions, MemoryStorage };

/** A location split as lazyscribe splits it. */
export interface Location {
  /** The protocol (`"file"` when the location has none). */
  protocol: string;
  /** `netloc + path`, normalized as a `PurePosixPath`. */
  path: string;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
// urlparse splits `;params` off the last path segment for these schemes, "" included.
const SCHEMES_WITH_PARAMS = new Set([
  "",
  "ftp",
  "hdl",
  "prospero",
  "http",
  "imap",
  "https",
  "shttp",
  "rtsp",
  "rtspu",
  "sip",
  "sips",
  "mms",
  "sftp",
  "tel",
]);

/**
 * Splits a location into protocol and path as Python lazyscribe does: `urlparse(location)`,
 * then `protocol = scheme or "file"` and `path = netloc + path`. So `"s3://bucket/p.json"` is
 * `s3` and `bucket/p.json`, a plain path is `file`, and, as in Python, a query (`?…`), a
 * fragment (`#…`) and `;params` in the last segment are dropped. One difference: a one-letter
 * scheme (`C:\…`) is taken as a Windows path rather than a protocol.
 *
 * @example Usage
 * ```ts
 * import { splitLocation } from "./open_storage.ts";
 * console.log(splitLocation("memory://team/project.json"));
 * // { protocol: "memory", path: "team/project.json" }
 * console.log(splitLocation("data/project.json")); // { protocol: "file", path: "data/project.json" }
 * ```
 *
 * @param location A path or URL.
 * @returns The protocol and path.
 */
export function splitLocation(location: string): Location {
  // urlsplit strips leading C0 controls and spaces, and removes tabs and newlines anywhere.
  // deno-lint-ignore no-control-regex -- those control characters are what is stripped
  let rest = location.replace(/^[\x00-\x20]+/, "").replace(/[\t\r\n]/g, "");
  let scheme = "";
  const colon = rest.indexOf(":");
  if (colon > 1 && SCHEME.test(rest.slice(0, colon))) {
    scheme = rest.slice(0, colon).toLowerCase();
    rest = rest.slice(colon + 1);
  }
  let netloc = "";
  if (rest.startsWith("//")) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end === -1 ? rest.slice(2) : rest.slice(2, end + 2);
    rest = end === -1 ? "" : rest.slice(end + 2);
  }
  rest = rest.split("#", 1)[0].split("?", 1)[0];
  if (SCHEMES_WITH_PARAMS.has(scheme)) {
    const semicolon = rest.indexOf(";", rest.lastIndexOf("/") + 1);
    if (semicolon !== -1) rest = rest.slice(0, semicolon);
  }
  return { protocol: scheme || "file", path: joinPath(netloc + rest) };
}

/** Makes the storage of a protocol from the options given to {@linkcode openStorage}. */
export type StorageFactory = (
  protocol: string,
  options: Readonly<Record<string, unknown>>,
) => Storage;

const factories = new Map<string, StorageFactory>([
  ["file", () => new FileStorage()],
  ["local", () => new FileStorage()],
  ["memory", () => sharedMemoryStorage],
  [
    "http",
    (protocol, options) =>
      new HttpStorage(protocol, options as HttpStorageOptions),
  ],
  [
    "https",
    (protocol, options) =>
      new HttpStorage(protocol, options as HttpStorageOptions),
  ],
]);

/**
 * Registers the storage of a protocol, so that {@linkcode openStorage} serves locations such as
 * `s3://bucket/project.json` (replacing any storage registered for it).
 *
 * @example Usage
 * ```ts
 * import { MemoryStorage, openStorage, registerStorage } from "./open_storage.ts";
 * const scratch = new MemoryStorage();
 * registerStorage("scratch", () => scratch);
 * console.log(openStorage("scratch://p/project.json").storage === scratch); // true
 * ```
 *
 * @param protocol The protocol, lowercase.
 * @param factory Makes the storage from the options passed to `openStorage`.
 */
export function registerStorage(
  protocol: string,
  factory: StorageFactory,
): void {
  factories.set(protocol.toLowerCase(), factory);
}

/**
 * Opens the storage for a location (a path or URL) and returns it with the path inside it, as
 * lazyscribe's `fsspec.filesystem(protocol, **storage_options)` does. `file` and `local` are the
 * local filesystem (Deno, Node and Bun); `memory` is one in-memory filesystem shared by every
 * `memory://` location of the process; `http` and `https` read over `fetch` and are read-only.
 *
 * @example Usage
 * ```ts
 * import { openStorage } from "./open_storage.ts";
 * const { storage, path } = openStorage("memory://team/project.json");
 * console.log(storage.protocol, path); // "memory" "team/project.json"
 * ```
 *
 * @param location A path or URL.
 * @param options Storage options (for `http`: `headers`, `fetch`).
 * @returns The storage and the path within it.
 * @throws {RangeError} For a protocol that has no storage; the message lists those known.
 */
export function openStorage(
  location: string,
  options: Readonly<Record<string, unknown>> = {},
): { storage: Storage; path: string } {
  const { protocol, path } = splitLocation(location);
  const factory = factories.get(protocol);
  if (factory === undefined) {
    throw new RangeError(
      `No storage for protocol "${protocol}" (in ${location}); known protocols are ${
        [...factories.keys()].join(", ")
      } (register others with registerStorage)`,
    );
  }
  return { storage: factory(protocol, options), path };
}
