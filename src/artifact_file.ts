/**
 * Reading and writing an artifact's file, as lazyscribe's `load_artifact` and `save` do: the
 * file is `<folder>/<fname>`, where the folder is the experiment's, the test's or the
 * repository entry's.
 *
 * @module
 */

import { type Artifact, validateArtifactEnvironment } from "./artifact.ts";
import { ArtifactLoadError, SaveError } from "./errors.ts";
import {
  FileNotFoundError,
  joinPath,
  type Storage,
  type StorageTransaction,
} from "./storage.ts";
import { describeLocation } from "./_project_file.ts";

/** Options of {@linkcode readArtifactFile}. */
export interface ReadArtifactOptions {
  /**
   * Check first that the current environment matches the artifact's (for a pickle, that
   * `PickleArtifact.defaultPythonVersion`, or `environment.pythonVersion`, equals its
   * `pythonVersion`), as Python lazyscribe's `validate=True`.
   *
   * @default {true}
   */
  validate?: boolean;
  /** Handler fields describing the current environment, overriding the handler's defaults. */
  environment?: Readonly<Record<string, unknown>>;
  /** Keyword arguments for the handler's `read` (for a pickle, the codec's `decode()` options). */
  readerKwargs?: Readonly<Record<string, unknown>>;
}

/**
 * Loads an artifact's value from `<folder>/<fname>` in a storage, validating the environment
 * first (unless `validate: false`). The artifact itself is not changed.
 *
 * @example Usage
 * ```ts
 * import { JSONArtifact } from "./json_artifact.ts";
 * import { readArtifactFile, writeArtifactFile } from "./artifact_file.ts";
 * import { MemoryStorage } from "./open_storage.ts";
 *
 * const storage = new MemoryStorage();
 * const artifact = JSONArtifact.construct({ name: "features", value: [0, 1, 2] });
 * await writeArtifactFile(artifact, storage, "my-experiment");
 * console.log(await readArtifactFile(artifact, storage, "my-experiment")); // [ 0, 1, 2 ]
 * ```
 *
 * @param artifact The artifact (usually rebuilt from its entry by `artifactFromEntry`).
 * @param storage The storage holding the file.
 * @param folder The folder of the file.
 * @param options Validation and the reader's keyword arguments.
 * @returns The value.
 * @throws {ArtifactLoadError} When the environments differ, the file is missing, or the handler
 * cannot read it; the message names the artifact and the file, and `cause` holds the reason.
 */
export async function readArtifactFile(
  artifact: Artifact,
  storage: Storage,
  folder: string,
  options: Readonly<ReadArtifactOptions> = {},
): Promise<unknown> {
  if (options.validate ?? true) {
    validateArtifactEnvironment(artifact, options.environment);
  }
  const path = joinPath(folder, artifact.fname);
  const where =
    `artifact "${artifact.name}" (handler "${artifact.handler.alias}", file ${
      describeLocation(storage, path)
    })`;
  let data: Uint8Array;
  try {
    data = await storage.readFile(path);
  } catch (error) {
    const problem = error instanceof FileNotFoundError
      ? "the file does not exist"
      : String(error);
    throw new ArtifactLoadError(`Cannot load ${where}: ${problem}`, {
      cause: error,
    });
  }
  try {
    return await artifact.handler.read(data, options.readerKwargs);
  } catch (error) {
    throw new ArtifactLoadError(
      `Cannot load ${where}: ${(error as Error)?.message ?? error}`,
      { cause: error },
    );
  }
}

/**
 * Writes an artifact's value to `<folder>/<fname>` with its handler and `writerKwargs`:
 * atomically through a storage, or staged in a transaction (committed by the caller). The
 * caller clears `dirty` once everything is saved, as lazyscribe does after its transaction.
 *
 * @example Usage
 * ```ts
 * import { PickleArtifact } from "./pickle_artifact.ts";
 * import { writeArtifactFile } from "./artifact_file.ts";
 * import { MemoryStorage } from "./open_storage.ts";
 *
 * const storage = new MemoryStorage();
 * const artifact = PickleArtifact.construct({ name: "model", value: [1, 2, 3] });
 * await storage.atomically((transaction) => writeArtifactFile(artifact, transaction, "repo/model"));
 * console.log(await storage.isFile(`repo/model/${artifact.fname}`)); // true
 * ```
 *
 * @param artifact The artifact, with its value.
 * @param target A storage, or a transaction of one.
 * @param folder The folder of the file.
 * @throws {SaveError} When the handler cannot write the value or the file cannot be written;
 * the message names the artifact and the file, and `cause` holds the reason.
 */
export async function writeArtifactFile(
  artifact: Artifact,
  target: Storage | StorageTransaction,
  folder: string,
): Promise<void> {
  const path = joinPath(folder, artifact.fname);
  let data: Uint8Array;
  try {
    data = await artifact.handler.write(artifact.value, artifact.writerKwargs);
  } catch (error) {
    throw new SaveError(
      `Cannot write artifact "${artifact.name}" (handler "${artifact.handler.alias}") to ${path}: ${
        (error as Error)?.message ?? error
      }`,
      { cause: error },
    );
  }
  try {
    await target.writeFile(path, data);
  } catch (error) {
    throw new SaveError(
      `Cannot save artifact "${artifact.name}" to ${path}: ${
        (error as Error)?.message ?? error
      }`,
      { cause: error },
    );
  }
}
