/**
 * How a repository finds one version of an artifact (Python's
 * `Repository._search_artifact_versions`), with `expiry` parsed as lazyscribe 2.2 forgets to.
 *
 * @module
 */

import type { Artifact } from "./artifact.ts";
import {
  ArtifactLoadError,
  InvalidVersionError,
  VersionNotFoundError,
} from "./errors.ts";
import { formatTimestamp } from "./metadata.ts";

/**
 * A version of an artifact: its integer `version`, its creation time as a `Date`, or its
 * creation time as `YYYY-MM-DDTHH:MM:SS` text (UTC).
 */
export type ArtifactVersion = number | Date | string;

/**
 * How a time version matches: `"exact"` wants the artifact created at that second, `"asof"`
 * the newest one created at or before it that had not expired by then. Integer versions only
 * match exactly.
 */
export type VersionMatch = "exact" | "asof";

// The patterns of CPython's `_strptime` for %Y-%m-%dT%H:%M:%S, in the same order.
const VERSION_TEXT = new RegExp(
  "^(\\d\\d\\d\\d)-(1[0-2]|0[1-9]|[1-9])-(3[0-1]|[1-2]\\d|0[1-9]|[1-9]| [1-9])" +
    "T(2[0-3]|[0-1]\\d|\\d):([0-5]\\d|\\d):(6[0-1]|[0-5]\\d|\\d)$",
);

/**
 * Parses a version given as text, as Python's `datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")`
 * (which also accepts one-digit fields), as a UTC time.
 *
 * @param text The text.
 * @returns The time.
 * @throws {InvalidVersionError} When the text is not in that format or names no real time.
 */
export function parseVersionText(text: string): Date {
  const match = VERSION_TEXT.exec(text);
  const fail = (): never => {
    throw new InvalidVersionError(
      `Invalid version identifier provided. ${text} is not in the format YYYY-MM-DDTHH:MM:SS`,
    );
  };
  if (match === null) return fail();
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  if (date.getUTCDate() !== day || second > 59 || year < 1) fail();
  return date;
}

/**
 * Turns a version given as a `Date` or text into a time, leaving integers alone.
 *
 * @param version The version.
 * @returns The same version, with text parsed.
 * @throws {InvalidVersionError} For text not in the `YYYY-MM-DDTHH:MM:SS` format.
 */
function normalizeVersion(
  version: ArtifactVersion | null | undefined,
): number | Date | null {
  if (version === undefined || version === null) return null;
  if (typeof version === "string") return parseVersionText(version);
  return version;
}

function notExpiredAt(artifact: Artifact, time: Date): boolean {
  return artifact.expiry === null ||
    time.getTime() < artifact.expiry.getTime();
}

/**
 * Finds one version of an artifact, as Python lazyscribe does:
 * - no version: the newest one not expired now;
 * - `"exact"` and a time: the first created at exactly that time;
 * - `"asof"` and a time: among those created at or before it (`bisect_right`, so inclusive),
 *   the newest not expired at that time;
 * - `"exact"` and an integer: the one with that `version`.
 *
 * @param artifacts All the repository's artifacts.
 * @param name The artifact's name.
 * @param version The version, or `null`/`undefined` for the latest.
 * @param match How a time version matches.
 * @param now The current time, for expiry.
 * @returns The artifact.
 * @throws {ArtifactLoadError} When no artifact has that name.
 * @throws {InvalidVersionError} For text not in the `YYYY-MM-DDTHH:MM:SS` format.
 * @throws {VersionNotFoundError} When no version matches or every match has expired.
 * @throws {TypeError} For an unknown `match`, or `"asof"` with an integer version.
 */
export function searchArtifactVersions(
  artifacts: readonly Artifact[],
  name: string,
  version?: ArtifactVersion | null,
  match: VersionMatch = "exact",
  now: Date = new Date(),
): Artifact {
  const candidates = artifacts.filter((artifact) => artifact.name === name)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  if (candidates.length === 0) {
    throw new ArtifactLoadError(`No artifact with name ${name}`);
  }
  const wanted = normalizeVersion(version);
  if (wanted === null) {
    const alive = candidates.filter((artifact) => notExpiredAt(artifact, now));
    const latest = alive.at(-1);
    if (latest === undefined) {
      throw new VersionNotFoundError(
        `Using ${
          formatTimestamp(now)
        } as a reference, all artifacts with the name '${name}' are expired.`,
      );
    }
    return latest;
  }
  if (match === "exact" && wanted instanceof Date) {
    const found = candidates.find((artifact) =>
      artifact.createdAt.getTime() === wanted.getTime()
    );
    if (found === undefined) {
      throw new VersionNotFoundError(
        `No artifact named ${name} with version ${formatTimestamp(wanted)}`,
      );
    }
    return found;
  }
  if (match === "asof" && wanted instanceof Date) {
    let eligible = 0;
    while (
      eligible < candidates.length &&
      candidates[eligible].createdAt.getTime() <= wanted.getTime()
    ) {
      eligible++;
    }
    if (eligible === 0) {
      throw new VersionNotFoundError(
        `Version ${formatTimestamp(wanted)} predates the earliest version ${
          formatTimestamp(candidates[0].createdAt)
        }.`,
      );
    }
    for (let index = eligible - 1; index >= 0; index--) {
      if (notExpiredAt(candidates[index], wanted)) return candidates[index];
    }
    throw new VersionNotFoundError(
      `The only available artifacts with name '${name}' as of ${
        formatTimestamp(wanted)
      } are expired.`,
    );
  }
  if (match === "exact" && typeof wanted === "number") {
    const found = candidates.find((artifact) => artifact.version === wanted);
    if (found === undefined) {
      throw new VersionNotFoundError(
        `No artifact named ${name} with version ${wanted}`,
      );
    }
    return found;
  }
  throw new TypeError(
    'Please provide "exact" or "asof" for match. "asof" is only valid for string and Date versions.',
  );
}
