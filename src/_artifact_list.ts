/**
 * The artifact lists of experiments, tests and repositories: logging into them, loading from
 * them, and converting them to and from lazyscribe entries.
 *
 * @module
 */

import type { Artifact } from "./artifact.ts";
import { readArtifactFile } from "./artifact_file.ts";
import { ArtifactLoadError, ArtifactLogError } from "./errors.ts";
import type {
  LoadArtifactOptions,
  LogArtifactOptions,
} from "./experiment_test_record.ts";
import { artifactFromEntry, artifactToEntry } from "./metadata.ts";
import { getHandler } from "./registry.ts";
import type { Storage } from "./storage.ts";
import { type EntryReader, toExact } from "./_project_file.ts";

/**
 * Makes an artifact from `logArtifact` options, as lazyscribe's `log_artifact` does.
 *
 * @param options The options.
 * @param createdAt The creation time.
 * @param version The version.
 * @returns The artifact, dirty.
 */
export function constructLoggedArtifact(
  options: Readonly<LogArtifactOptions>,
  createdAt: Date,
  version = 0,
): Artifact {
  const { name, value, handler, fname, overwrite: _, ...writerKwargs } =
    options;
  const handlerClass = typeof handler === "string"
    ? getHandler(handler)
    : handler;
  return handlerClass.construct({
    name,
    value,
    fname: fname ?? null,
    createdAt,
    writerKwargs,
    version,
  });
}

/**
 * Adds an artifact to a list, replacing one of the same name when `overwrite` is set.
 *
 * @param artifacts The list.
 * @param artifact The new artifact.
 * @param overwrite Whether to replace.
 * @param owner `"experiment"` or `"test"`, for the message.
 * @throws {ArtifactLogError} When the name is taken and `overwrite` is not set.
 */
export function addArtifact(
  artifacts: Artifact[],
  artifact: Artifact,
  overwrite: boolean,
  owner: string,
): void {
  const index = artifacts.findIndex((item) => item.name === artifact.name);
  if (index === -1) {
    artifacts.push(artifact);
  } else if (overwrite) {
    artifacts[index] = artifact;
  } else {
    throw new ArtifactLogError(
      `An artifact with name ${artifact.name} already exists in the ${owner}. Please use ` +
        "another name or set `overwrite: true` to replace the artifact.",
    );
  }
}

/**
 * Loads the value of the first artifact with a name, as lazyscribe's `load_artifact_from`.
 *
 * @param artifacts The artifacts.
 * @param storage Their storage.
 * @param folder Their folder.
 * @param name The name.
 * @param options Validation and reader options.
 * @returns The value.
 * @throws {ArtifactLoadError} When there is no such artifact or it cannot be loaded.
 */
export function loadArtifactFrom(
  artifacts: readonly Artifact[],
  storage: Storage,
  folder: string,
  name: string,
  options: Readonly<LoadArtifactOptions>,
): Promise<unknown> {
  const artifact = artifacts.find((item) => item.name === name);
  if (artifact === undefined) {
    return Promise.reject(
      new ArtifactLoadError(`No artifact with name ${name}`),
    );
  }
  return readArtifactFile(artifact, storage, folder, options);
}

/**
 * Rebuilds artifacts from the entries of a file, naming the entry in errors.
 *
 * @param reader The entry that holds the `"artifacts"` list.
 * @returns The artifacts, not dirty.
 * @throws {MalformedFileError} When an entry cannot be rebuilt.
 */
export function artifactsFromEntries(reader: EntryReader): Artifact[] {
  return reader.list("artifacts").map((entry, index) => {
    try {
      return artifactFromEntry(entry as Record<string, unknown>);
    } catch (error) {
      return reader.fail(
        `artifact ${index}: ${(error as Error).message}`,
        error,
      );
    }
  });
}

/**
 * The entries of artifacts, in the exact mapping.
 *
 * @param artifacts The artifacts.
 * @returns Their entries.
 */
export function artifactEntries(artifacts: readonly Artifact[]): unknown[] {
  return artifacts.map((artifact) => toExact(artifactToEntry(artifact)));
}
