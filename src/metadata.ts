/**
 * Artifacts ↔ the entries lazyscribe keeps for them in `project.json` and `repository.json`:
 * `{"created_at": "2025-01-20T13:23:30", "expiry": null, "fname": "…", "handler": "pickle",
 * "name": "…", "python_version": "3.11", "version": 0}`.
 *
 * @module
 */

import type { Artifact, ArtifactInit } from "./artifact.ts";
import { ArtifactLoadError } from "./errors.ts";
import { getHandler, UnknownHandlerError } from "./registry.ts";

/** A lazyscribe artifact entry: a JSON object (a `Map` when read with `exact`). */
export type ArtifactEntry = Record<string, unknown>;

/**
 * Formats a `Date` as lazyscribe stores times: its UTC date and time as
 * `YYYY-MM-DDTHH:MM:SS` (Python's `isoformat(timespec="seconds")` of a naive UTC datetime:
 * sub-seconds truncated, no `Z`).
 *
 * @example Usage
 * ```ts
 * import { formatTimestamp } from "./metadata.ts";
 * console.log(formatTimestamp(new Date("2025-01-20T13:23:30.999Z"))); // "2025-01-20T13:23:30"
 * ```
 *
 * @param date The instant.
 * @returns The text.
 * @throws {RangeError} For an invalid date, or a year outside Python's 1–9999.
 */
export function formatTimestamp(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 1 && year <= 9999)) {
    throw new RangeError(
      `Date ${date} is outside the years 1–9999 that Python supports`,
    );
  }
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${String(year).padStart(4, "0")}-${pad(date.getUTCMonth() + 1)}-${
    pad(date.getUTCDate())
  }T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${
    pad(date.getUTCSeconds())
  }`;
}

const ISO_DATETIME = new RegExp(
  "^(\\d{4})-?(\\d{2})-?(\\d{2})" +
    "(?:[T ](\\d{2})(?::?(\\d{2})(?::?(\\d{2})(?:[.,](\\d+))?)?)?" +
    "(Z|[+-]\\d{2}(?::?\\d{2}(?::?\\d{2}(?:\\.\\d+)?)?)?)?)?$",
);

/**
 * Parses a time the way Python's `datetime.fromisoformat` does for the forms lazyscribe files
 * hold: `YYYY-MM-DD`, optionally followed by `T` or a space and `HH[:MM[:SS[.ffffff]]]`, and an
 * optional `Z` or `±HH:MM` offset. A time without an offset is UTC, as lazyscribe's naive
 * datetimes are; one with an offset is converted to UTC.
 *
 * @example Usage
 * ```ts
 * import { parseTimestamp } from "./metadata.ts";
 * console.log(parseTimestamp("2025-01-20T13:23:30").toISOString()); // "2025-01-20T13:23:30.000Z"
 * ```
 *
 * @param text The text.
 * @returns The instant.
 * @throws {RangeError} When the text is not such a time or names an impossible date.
 */
export function parseTimestamp(text: string): Date {
  const match = ISO_DATETIME.exec(text);
  if (match === null) {
    throw new RangeError(`Invalid isoformat string: '${text}'`);
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((
    part,
  ) => part === undefined ? 0 : Number(part));
  const fraction = match[7] ?? "";
  const milliseconds = Number(fraction.slice(0, 3).padEnd(3, "0"));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, milliseconds);
  const date = new Date(ms);
  date.setUTCFullYear(year);
  if (
    date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 || second > 59 || year < 1
  ) {
    throw new RangeError(`Invalid isoformat string: '${text}'`);
  }
  const zone = match[8];
  if (zone !== undefined && zone !== "Z") {
    const [hours, minutes = "0", seconds = "0"] = zone.slice(1).match(
      /\d{2}(?:\.\d+)?/g,
    )!;
    const offset =
      (Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000;
    return new Date(date.getTime() - (zone[0] === "-" ? -offset : offset));
  }
  return date;
}

/**
 * The lazyscribe entry of an artifact, with its keys in the order Python's `attrs.asdict` gives
 * them (`name`, `fname`, `created_at`, `expiry`, `version`, the handler's fields, `handler`);
 * files are written with sorted keys anyway.
 *
 * @example Usage
 * ```ts
 * import { JSONArtifact } from "./json_artifact.ts";
 * import { artifactToEntry } from "./metadata.ts";
 * const artifact = JSONArtifact.construct({
 *   name: "features",
 *   createdAt: new Date("2025-01-20T13:23:30Z"),
 * });
 * console.log(artifactToEntry(artifact));
 * // { name: "features", fname: "features-20250120132330.json", created_at: "2025-01-20T13:23:30",
 * //   expiry: null, version: 0, handler: "json" }
 * ```
 *
 * @param artifact The artifact.
 * @returns The entry.
 * @throws {RangeError} When a date is outside the years 1–9999.
 */
export function artifactToEntry(artifact: Artifact): ArtifactEntry {
  return {
    name: artifact.name,
    fname: artifact.fname,
    created_at: formatTimestamp(artifact.createdAt),
    expiry: artifact.expiry === null ? null : formatTimestamp(artifact.expiry),
    version: artifact.version,
    ...artifact.handlerFields(),
    handler: artifact.handler.alias,
  };
}

/**
 * Rebuilds an artifact from its lazyscribe entry, as Python lazyscribe does when it opens a
 * project or repository: the handler named by `"handler"` constructs it with the entry's fields
 * and `dirty: false`, and no value (load the value with `readArtifactFile`).
 *
 * Entries of older lazyscribe versions load: a missing `version` is 0, a missing `expiry` is
 * `null`, and keys the handler does not know (such as the `python_version` that JSON entries
 * had before 2.0) are ignored, as Python ignores them. Unlike Python lazyscribe 2.2, `expiry` is
 * parsed into a `Date`; {@linkcode artifactToEntry} writes it back in the same form.
 *
 * @example Usage
 * ```ts
 * import { artifactFromEntry } from "./metadata.ts";
 * const artifact = artifactFromEntry({
 *   created_at: "2025-01-20T13:23:30",
 *   fname: "estimator-20250120132330.pkl",
 *   handler: "pickle",
 *   name: "estimator",
 *   python_version: "3.11",
 * });
 * console.log(artifact.version, artifact.expiry); // 0 null
 * ```
 *
 * @param entry The entry (a plain object, or a `Map` as `loads(…, { exact: true })` gives).
 * @returns The artifact, not dirty.
 * @throws {ArtifactLoadError} When the entry is not an object, lacks `name`, `handler` or
 * `created_at`, names an unknown handler, or has a malformed field; the message names the
 * artifact.
 */
export function artifactFromEntry(
  entry: ArtifactEntry | Map<string, unknown>,
): Artifact {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new ArtifactLoadError(
      `An artifact entry must be an object, not ${describe(entry)}`,
    );
  }
  const fields: ArtifactEntry = entry instanceof Map
    ? Object.fromEntries(entry)
    : entry;
  const name = fields.name;
  if (typeof name !== "string") {
    throw new ArtifactLoadError(
      `An artifact entry needs a string "name", not ${describe(name)}`,
    );
  }
  const fail = (problem: string, cause?: unknown): never => {
    throw new ArtifactLoadError(`Artifact "${name}": ${problem}`, { cause });
  };
  const alias = fields.handler;
  if (typeof alias !== "string") {
    fail(`"handler" must be a string, not ${describe(alias)}`);
  }
  let handler;
  try {
    handler = getHandler(alias as string);
  } catch (error) {
    if (!(error instanceof UnknownHandlerError)) throw error;
    return fail(error.message, error);
  }
  const time = (key: string, required: boolean): Date | null => {
    const value = fields[key];
    if (value === undefined && required) fail(`the entry has no "${key}"`);
    if (value === undefined || value === null) return null;
    if (typeof value !== "string") {
      fail(`"${key}" must be a string, not ${describe(value)}`);
    }
    try {
      return parseTimestamp(value as string);
    } catch (error) {
      return fail(`"${key}" ${(error as Error).message}`, error);
    }
  };
  const version = fields.version ?? 0;
  if (
    !(typeof version === "bigint" || Number.isSafeInteger(version)) ||
    !Number.isSafeInteger(Number(version))
  ) {
    fail(`"version" must be an integer, not ${describe(version)}`);
  }
  const fname = fields.fname;
  if (fname !== undefined && fname !== null && typeof fname !== "string") {
    fail(`"fname" must be a string, not ${describe(fname)}`);
  }
  const init: ArtifactInit = {
    name,
    fname: fname as string | undefined,
    createdAt: time("created_at", true),
    expiry: time("expiry", false),
    version: Number(version),
    dirty: false,
  };
  for (const [property, key] of Object.entries(handler.fields)) {
    if (Object.hasOwn(fields, key)) init[property] = fields[key];
  }
  try {
    return handler.construct(init);
  } catch (error) {
    return fail((error as Error).message, error);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "bigint") return `${value}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
