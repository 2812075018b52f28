/**
 * lazyscribe's `Test` (`lazyscribe/test.py`): the metrics, parameters and artifacts of one
 * sub-population of an experiment. (The file is not called `test.ts` so that `deno test` does
 * not take it for a test module.)
 *
 * @module
 */

import type { Artifact, ArtifactHandler } from "./artifact.ts";
import { ReadOnlyError } from "./errors.ts";
import { slugify } from "./slugify.ts";
import { joinPath, type Storage } from "./storage.ts";
import { EntryReader, KeptValues, utcNow } from "./_project_file.ts";
import {
  addArtifact,
  artifactEntries,
  artifactsFromEntries,
  constructLoggedArtifact,
  loadArtifactFrom,
} from "./_artifact_list.ts";

/**
 * What {@linkcode Experiment.logArtifact} and {@linkcode Test.logArtifact} take: lazyscribe's
 * `log_artifact(name, value, handler, fname=None, overwrite=False, **kwargs)`. Every other
 * property is a keyword argument for the handler's `write` (for a JSON artifact, `indent`,
 * `sort_keys`…; for a pickle, `protocol`).
 */
export interface LogArtifactOptions {
  /** The artifact's name. */
  name: string;
  /** The value to write when the project is saved. */
  value: unknown;
  /** The handler: an alias such as `"json"` or `"pickle"`, or a handler class. */
  handler: string | ArtifactHandler;
  /** The file name. @default {`slugify(name)-YYYYMMDDHHMMSS.suffix`} */
  fname?: string | null;
  /** Replace an artifact of the same name instead of throwing. @default {false} */
  overwrite?: boolean;
  /** Keyword arguments for the handler's `write`. */
  [writerKwarg: string]: unknown;
}

/** What `loadArtifact` takes besides the name. */
export interface LoadArtifactOptions {
  /**
   * Check that the current environment matches the artifact's first (for a pickle, that
   * `PickleArtifact.defaultPythonVersion` equals its `pythonVersion`), as Python's
   * `validate=True` does.
   *
   * @default {true}
   */
  validate?: boolean;
  /** Handler fields describing the current environment, e.g. `{ pythonVersion: "3.12" }`. */
  environment?: Readonly<Record<string, unknown>>;
  /** Keyword arguments for the handler's `read` (for a pickle, the codec's `decode()` options). */
  readerKwargs?: Readonly<Record<string, unknown>>;
}

/** Where an experiment's tests keep their files, and whether they may change. */
export interface TestContext {
  /** The storage of the project. */
  readonly storage: Storage;
  /** The test's folder: `<project folder>/<experiment slug>/<slugify(test name)>`. */
  readonly path: string;
  /** Whether the test belongs to a read-only experiment. */
  readonly readOnly: boolean;
}

/**
 * A sub-population test of an experiment (Python's `lazyscribe.test.Test`, or `ReadOnlyTest`
 * when its experiment is read-only). Make one with {@linkcode Experiment.logTest}. Its
 * artifacts are written to `<experiment slug>/<slugify(test name)>/` when the project is saved.
 *
 * @example Log a test
 * ```ts
 * import { Project } from "./project.ts";
 * import { MemoryStorage } from "./open_storage.ts";
 * const project = await Project.open("p/project.json", { storage: new MemoryStorage(), author: "me" });
 * const experiment = project.log("My experiment");
 * const test = experiment.logTest("Young users", "Customers under 25");
 * test.logMetric("auroc", 0.61);
 * test.logArtifact({ name: "confusion", value: [[5, 1], [2, 7]], handler: "json" });
 * await project.save();
 * console.log(await test.loadArtifact("confusion")); // [ [ 5, 1 ], [ 2, 7 ] ]
 * ```
 */
export class Test {
  /** The name. */
  readonly name: string;
  /** The description, or `null`. */
  readonly description: string | null;
  /** Metric name → value. */
  readonly metrics: Record<string, unknown>;
  /** Parameter name → value. */
  readonly parameters: Record<string, unknown>;
  /** The artifacts. */
  readonly artifacts: Artifact[];
  /** Whether the test is read-only (its experiment was opened read-only). */
  readonly readOnly: boolean;
  /** The folder of its artifacts, in the project's storage. */
  readonly path: string;
  #storage: Storage;
  #keptMetrics = new KeptValues({}, null);
  #keptParameters = new KeptValues({}, null);

  /**
   * Use {@linkcode Experiment.logTest}.
   *
   * @param name The name.
   * @param description The description.
   * @param context Where its files live and whether it may change.
   */
  constructor(
    name: string,
    description: string | null,
    context: TestContext,
  ) {
    this.name = name;
    this.description = description;
    this.metrics = {};
    this.parameters = {};
    this.artifacts = [];
    this.readOnly = context.readOnly;
    this.path = context.path;
    this.#storage = context.storage;
  }

  /**
   * Rebuilds a test from its entry in `project.json` (used when a project is opened).
   *
   * @param entry The entry, in the friendly mapping of `loads`.
   * @param exact The same entry, in the exact mapping (`loads(…, { exact: true })`).
   * @param experiment Where the experiment's files live and whether it may change: its
   * `path` is the experiment's folder; the test's is `<path>/<slugify(test name)>`.
   * @param where What the entry is, for error messages.
   * @returns The test (frozen when read-only).
   * @throws {MalformedFileError} When a field is missing or malformed.
   */
  static fromEntry(
    entry: unknown,
    exact: unknown,
    experiment: TestContext,
    where: string,
  ): Test {
    const reader = EntryReader.of(entry, where);
    const name = reader.string("name");
    const test = new Test(name, reader.optionalString("description"), {
      ...experiment,
      path: joinPath(experiment.path, slugify(name)),
    });
    const exactMap = exact instanceof Map ? exact : new Map();
    const metrics = reader.dict("metrics");
    const parameters = reader.dict("parameters");
    Object.assign(test.metrics, metrics);
    Object.assign(test.parameters, parameters);
    test.#keptMetrics = new KeptValues(metrics, exactMap.get("metrics"));
    test.#keptParameters = new KeptValues(
      parameters,
      exactMap.get("parameters"),
    );
    test.artifacts.push(...artifactsFromEntries(reader));
    if (test.readOnly) test.#freeze();
    return test;
  }

  #freeze(): void {
    Object.freeze(this.metrics);
    Object.freeze(this.parameters);
    Object.freeze(this.artifacts);
    Object.freeze(this);
  }

  #checkWritable(): void {
    if (this.readOnly) {
      throw new ReadOnlyError(
        `Test "${this.name}" belongs to a read-only experiment`,
      );
    }
  }

  /**
   * Logs a metric (replacing one of the same name).
   *
   * @example Usage
   * ```ts
   * import { Test } from "./experiment_test_record.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const test = new Test("Young users", null, { storage: new MemoryStorage(), path: "t", readOnly: false });
   * test.logMetric("auroc", 0.61);
   * console.log(test.metrics); // { auroc: 0.61 }
   * ```
   *
   * @param name The metric's name.
   * @param value Its value: a number, or any JSON value.
   * @throws {ReadOnlyError} When the test is read-only.
   */
  logMetric(name: string, value: unknown): void {
    this.#checkWritable();
    this.metrics[name] = value;
  }

  /**
   * Logs a parameter (replacing one of the same name).
   *
   * @example Usage
   * ```ts
   * import { Test } from "./experiment_test_record.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const test = new Test("Young users", null, { storage: new MemoryStorage(), path: "t", readOnly: false });
   * test.logParameter("max_age", 25);
   * console.log(test.parameters); // { max_age: 25 }
   * ```
   *
   * @param name The parameter's name.
   * @param value Its value: any JSON value (`Date`s are written as lazyscribe times).
   * @throws {ReadOnlyError} When the test is read-only.
   */
  logParameter(name: string, value: unknown): void {
    this.#checkWritable();
    this.parameters[name] = value;
  }

  /**
   * Logs an artifact, written to the test's folder when the project is saved.
   *
   * @example Usage
   * ```ts
   * import { Test } from "./experiment_test_record.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const test = new Test("Young users", null, { storage: new MemoryStorage(), path: "t", readOnly: false });
   * const artifact = test.logArtifact({ name: "counts", value: [1, 2], handler: "json", indent: 2 });
   * console.log(artifact.writerKwargs); // { indent: 2 }
   * ```
   *
   * @param options The name, value, handler, optional file name, `overwrite`, and the writer's
   * keyword arguments.
   * @returns The new artifact.
   * @throws {ReadOnlyError} When the test is read-only.
   * @throws {ArtifactLogError} When the name is taken and `overwrite` is not set.
   * @throws {UnknownHandlerError} When the handler alias is unknown.
   */
  logArtifact(options: Readonly<LogArtifactOptions>): Artifact {
    this.#checkWritable();
    const artifact = constructLoggedArtifact(options, utcNow());
    addArtifact(this.artifacts, artifact, options.overwrite ?? false, "test");
    return artifact;
  }

  /**
   * Loads the value of an artifact from its file (so it must have been saved), as Python's
   * `load_artifact` does.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const project = await Project.open("p/project.json", { storage: new MemoryStorage() });
   * const test = project.log("Run").logTest("Old users");
   * test.logArtifact({ name: "ages", value: [70, 81], handler: "pickle" });
   * await project.save();
   * console.log(await test.loadArtifact("ages")); // [ 70, 81 ]
   * ```
   *
   * @param name The artifact's name.
   * @param options Validation and reader options.
   * @returns The value.
   * @throws {ArtifactLoadError} When there is no such artifact, the environments differ, or
   * the file cannot be read.
   */
  loadArtifact(
    name: string,
    options: Readonly<LoadArtifactOptions> = {},
  ): Promise<unknown> {
    return loadArtifactFrom(
      this.artifacts,
      this.#storage,
      this.path,
      name,
      options,
    );
  }

  /**
   * The test's entry in `project.json`, in the exact mapping (`bigint` ints, `Map`s).
   *
   * @returns The entry.
   */
  toEntry(): Map<string, unknown> {
    return new Map<string, unknown>([
      ["name", this.name],
      ["description", this.description],
      ["metrics", this.#keptMetrics.exactDict(this.metrics)],
      ["parameters", this.#keptParameters.exactDict(this.parameters)],
      ["artifacts", artifactEntries(this.artifacts)],
    ]);
  }
}
