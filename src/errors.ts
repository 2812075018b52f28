/**
 * lazyscribe's exception hierarchy (`lazyscribe/exception.py`), as JavaScript error classes with
 * the same names, so that code ported from Python catches the same things.
 *
 * @module
 */

/**
 * The base of every lazyscribe error (Python's `LazyscribeError`).
 *
 * @example Catch any lazyscribe error
 * ```ts
 * import { ArtifactLoadError, LazyscribeError } from "./errors.ts";
 * try {
 *   throw new ArtifactLoadError("No artifact with name features");
 * } catch (error) {
 *   console.log(error instanceof LazyscribeError); // true
 * }
 * ```
 */
export class LazyscribeError extends Error {
  /**
   * Makes the error.
   *
   * @param message What went wrong and where.
   * @param options The error's `cause`, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Thrown when a project or repository opened read-only is asked to write, or when a storage
 * that cannot write (such as `http`) is.
 *
 * @example Usage
 * ```ts
 * import { ReadOnlyError } from "./errors.ts";
 * const error = new ReadOnlyError("Storage https is read-only");
 * console.log(error.name); // "ReadOnlyError"
 * ```
 */
export class ReadOnlyError extends LazyscribeError {}

/**
 * Thrown when a project or repository cannot save its files; `cause` holds the first failure.
 *
 * @example Usage
 * ```ts
 * import { SaveError } from "./errors.ts";
 * const error = new SaveError("Unable to save the repository", { cause: new Error("disk full") });
 * console.log(error.name); // "SaveError"
 * ```
 */
export class SaveError extends LazyscribeError {}

/**
 * The base of the artifact errors (Python's `ArtifactError`).
 *
 * @example Usage
 * ```ts
 * import { ArtifactError, ArtifactLogError } from "./errors.ts";
 * console.log(new ArtifactLogError("x") instanceof ArtifactError); // true
 * ```
 */
export class ArtifactError extends LazyscribeError {}

/**
 * Thrown when an artifact cannot be logged (for example an unknown handler alias).
 *
 * @example Usage
 * ```ts
 * import { ArtifactLogError } from "./errors.ts";
 * const error = new ArtifactLogError("No handler available with the name yaml");
 * console.log(error.name); // "ArtifactLogError"
 * ```
 */
export class ArtifactLogError extends ArtifactError {}

/**
 * Thrown when an artifact cannot be loaded: a missing or corrupt file, an entry that names an
 * unknown handler, or a runtime environment that does not match the artifact's.
 *
 * @example Usage
 * ```ts
 * import { ArtifactLoadError } from "./errors.ts";
 * const error = new ArtifactLoadError("No artifact with name features");
 * console.log(error.message); // "No artifact with name features"
 * ```
 */
export class ArtifactLoadError extends ArtifactError {}

/**
 * Thrown when a requested artifact version does not exist or has expired.
 *
 * @example Usage
 * ```ts
 * import { VersionNotFoundError } from "./errors.ts";
 * console.log(new VersionNotFoundError("No version 3 of model").name); // "VersionNotFoundError"
 * ```
 */
export class VersionNotFoundError extends LazyscribeError {}

/**
 * Thrown when a version is given in a form that cannot be understood (a string that is not
 * `YYYY-MM-DDTHH:MM:SS`, for instance).
 *
 * @example Usage
 * ```ts
 * import { InvalidVersionError } from "./errors.ts";
 * console.log(new InvalidVersionError("Bad version 'yesterday'").name); // "InvalidVersionError"
 * ```
 */
export class InvalidVersionError extends LazyscribeError {}
