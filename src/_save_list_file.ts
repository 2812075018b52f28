/**
 * `saveListFile()`: the atomic save that `Project` and `Repository` share.
 *
 * @module
 */

import type { Artifact } from "./artifact.ts";
import { writeArtifactFile } from "./artifact_file.ts";
import { ReadOnlyError, SaveError } from "./errors.ts";
import type { Storage } from "./storage.ts";
import { describeLocation } from "./_project_file.ts";

/** An artifact whose file a save writes, and the folder it goes in. */
export interface ArtifactWrite {
  readonly artifact: Artifact;
  readonly folder: string;
}

/**
 * Writes the artifact files of `writes` and then the list file (`project.json`,
 * `repository.json`) at `path`, in one transaction of `storage`.
 *
 * @param storage Where the files go.
 * @param path The list file.
 * @param kind What the list file is, for messages.
 * @param encode Makes the list file's bytes (before anything is written).
 * @param writes The artifact files to write.
 * @throws {ReadOnlyError} When the storage is read-only.
 * @throws {SaveError} When a value cannot be written or a file cannot be moved into place.
 */
export async function saveListFile(
  storage: Storage,
  path: string,
  kind: "project" | "repository",
  encode: () => Uint8Array,
  writes: readonly ArtifactWrite[],
): Promise<void> {
  const where = describeLocation(storage, path);
  let data: Uint8Array;
  try {
    data = encode();
  } catch (error) {
    throw new SaveError(
      `Unable to save the ${kind} JSON file to ${where}: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  try {
    await storage.atomically(async (transaction) => {
      for (const { artifact, folder } of writes) {
        await writeArtifactFile(artifact, transaction, folder);
      }
      // Staged last so that it is moved into place last: a process killed during the commit
      // leaves the previous list file, never one that lists files not yet in place.
      await transaction.writeFile(path, data);
    });
  } catch (error) {
    if (error instanceof SaveError || error instanceof ReadOnlyError) {
      throw error;
    }
    throw new SaveError(
      `Unable to save the ${kind} ${where}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
