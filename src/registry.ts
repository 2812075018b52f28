/**
 * The handler registry: lazyscribe finds handlers by alias through Python entry points; here
 * they are registered explicitly. `json` and `pickle` are always there.
 *
 * @module
 */

import type { ArtifactHandler } from "./artifact.ts";
import { ArtifactError } from "./errors.ts";
import { JSONArtifact } from "./json_artifact.ts";
import { PickleArtifact } from "./pickle_artifact.ts";

const handlers = new Map<string, ArtifactHandler>([
  [JSONArtifact.alias, JSONArtifact],
  [PickleArtifact.alias, PickleArtifact],
]);

/**
 * Thrown by {@linkcode getHandler} for an alias that no handler is registered under.
 *
 * @example Usage
 * ```ts
 * import { getHandler, UnknownHandlerError } from "./registry.ts";
 * try {
 *   getHandler("yaml");
 * } catch (error) {
 *   console.log((error as UnknownHandlerError).known); // [ "json", "pickle" ]
 * }
 * ```
 */
export class UnknownHandlerError extends ArtifactError {
  /**
   * Makes the error, listing the known aliases.
   *
   * @param alias The alias asked for.
   * @param known The registered aliases.
   */
  constructor(readonly alias: string, readonly known: readonly string[]) {
    super(
      `No handler available with the name "${alias}"; the known handlers are ${
        known.map((name) => `"${name}"`).join(", ")
      } (register others with registerHandler)`,
    );
  }
}

/**
 * Finds the handler registered under an alias (Python lazyscribe's `_get_handler`).
 *
 * @example Usage
 * ```ts
 * import { getHandler } from "./registry.ts";
 * console.log(getHandler("pickle").suffix); // "pkl"
 * ```
 *
 * @param alias The handler name, as stored in `"handler"` entries.
 * @returns The handler class.
 * @throws {UnknownHandlerError} When no handler has that alias; the message lists those known.
 */
export function getHandler(alias: string): ArtifactHandler {
  const handler = handlers.get(alias);
  if (handler === undefined) {
    throw new UnknownHandlerError(alias, [...handlers.keys()]);
  }
  return handler;
}

/**
 * Registers a handler under its `alias`, replacing any handler registered under the same alias
 * (the built-in ones included), so that entries naming it can be loaded.
 *
 * @example Usage
 * ```ts
 * import { Artifact, artifactFields, type ArtifactInit } from "./artifact.ts";
 * import { getHandler, registerHandler } from "./registry.ts";
 *
 * class CsvArtifact extends Artifact {
 *   static readonly alias = "csv";
 *   static readonly suffix = "csv";
 *   static construct(init: ArtifactInit): CsvArtifact {
 *     return new CsvArtifact(artifactFields(init, this.suffix));
 *   }
 *   static read(data: Uint8Array): string[][] {
 *     return new TextDecoder().decode(data).split("\n").map((line) => line.split(","));
 *   }
 *   static write(rows: unknown): Uint8Array {
 *     return new TextEncoder().encode((rows as string[][]).map((row) => row.join(",")).join("\n"));
 *   }
 * }
 * registerHandler(CsvArtifact);
 * console.log(getHandler("csv") === CsvArtifact); // true
 * ```
 *
 * @param handler The handler class.
 * @throws {TypeError} When it lacks a string `alias` or `suffix`, or `construct`, `read` or
 * `write`.
 */
export function registerHandler(handler: ArtifactHandler): void {
  const { alias, suffix } = handler;
  if (typeof alias !== "string" || alias === "") {
    throw new TypeError("An artifact handler needs a non-empty string alias");
  }
  if (typeof suffix !== "string") {
    throw new TypeError(`Artifact handler "${alias}" needs a string suffix`);
  }
  for (const method of ["construct", "read", "write"] as const) {
    if (typeof handler[method] !== "function") {
      throw new TypeError(
        `Artifact handler "${alias}" has no static ${method} method`,
      );
    }
  }
  handlers.set(alias, handler);
}

/**
 * The aliases of the registered handlers.
 *
 * @example Usage
 * ```ts
 * import { handlerAliases } from "./registry.ts";
 * console.log(handlerAliases().includes("json")); // true
 * ```
 *
 * @returns The aliases, in registration order.
 */
export function handlerAliases(): string[] {
  return [...handlers.keys()];
}
