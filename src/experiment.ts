/**
 * lazyscribe's `Experiment` (`lazyscribe/experiment.py`): one run of a project, with its
 * metrics, parameters, tags, tests and artifacts.
 *
 * @module
 */

import type { Artifact } from "./artifact.ts";
import { fileStamp } from "./artifact.ts";
import {
  ArtifactLoadError,
  ArtifactLogError,
  ReadOnlyError,
  SaveError,
} from "./errors.ts";
import { formatTimestamp } from "./metadata.ts";
import { slugify } from "./slugify.ts";
import { dirname, joinPath, type Storage } from "./storage.ts";
import {
  type LoadArtifactOptions,
  type LogArtifactOptions,
  Test,
} from "./experiment_test_record.ts";
import {
  addArtifact,
  artifactEntries,
  artifactsFromEntries,
  constructLoggedArtifact,
  loadArtifactFrom,
} from "./_artifact_list.ts";
import { Project } from "./project.ts";
import type { Repository } from "./repository.ts";
import {
  currentUser,
  EntryReader,
  KeptValues,
  toExact,
  utcNow,
} from "./_project_file.ts";

/**
 * An upstream experiment this one depends on, stored in `project.json` as
 * `"<project path>|<experiment slug>"`.
 */
export interface ExperimentDependency {
  /** The path of the upstream `project.json` (or the key of Python's project registry). */
  readonly project: string;
  /** The slug of the upstream experiment. */
  readonly slug: string;
}

/** Where an experiment keeps its files and whether it may change. */
export interface ExperimentContext {
  /** The storage of the project. */
  readonly storage: Storage;
  /** The path of `project.json` in the storage; the experiment's folder is next to it. */
  readonly projectPath: string;
  /** Whether the experiment is read-only (Python's `ReadOnlyExperiment`). */
  readonly readOnly: boolean;
}

/** What {@linkcode Experiment} is made from; everything but `name` has lazyscribe's default. */
export interface ExperimentInit {
  /** The name. */
  name: string;
  /** The author. @default {the user name, as Python's `getpass.getuser()`} */
  author?: string;
  /** The last editor. @default {author} */
  lastUpdatedBy?: string;
  /** When it was created. @default {now} */
  createdAt?: Date;
  /** When it was last changed. @default {now} */
  lastUpdated?: Date;
  /** `slugify(name)`. */
  shortSlug?: string;
  /** `slugify(name + "-" + YYYYMMDDHHMMSS of createdAt)`. */
  slug?: string;
  /** Whether it has changes to save. @default {true} */
  dirty?: boolean;
}

/**
 * One experiment of a project (Python's `lazyscribe.experiment.Experiment`). Make one with
 * {@linkcode Project.log}; experiments read from a project opened in mode `"r"` or `"a"` are
 * read-only (Python's `ReadOnlyExperiment`): their methods throw {@linkcode ReadOnlyError} and
 * their fields are frozen.
 *
 * Metrics and parameters hold JSON values. Values read from `project.json` keep their Python
 * types while unchanged, so a float `1.0` is written back as `1.0`; a number you log is written
 * as a Python int when it is integral and as a float otherwise.
 *
 * @example Log an experiment
 * ```ts
 * import { Project } from "./project.ts";
 * import { MemoryStorage } from "./open_storage.ts";
 * const project = await Project.open("p/project.json", { storage: new MemoryStorage(), author: "me" });
 * const experiment = project.log("My experiment");
 * experiment.logMetric("auroc", 0.5);
 * experiment.logParameter("algorithm", "svm");
 * experiment.tag("baseline");
 * experiment.logArtifact({ name: "features", value: [0, 1, 2], handler: "json" });
 * await project.save();
 * console.log(await experiment.loadArtifact("features")); // [ 0, 1, 2 ]
 * ```
 */
export class Experiment {
  /** The name. */
  readonly name: string;
  /** The author. */
  readonly author: string;
  /** The last editor. */
  lastUpdatedBy: string;
  /** Metric name → value. */
  readonly metrics: Record<string, unknown>;
  /** Parameter name → value. */
  readonly parameters: Record<string, unknown>;
  /** When it was created. */
  readonly createdAt: Date;
  /** When it was last changed. */
  lastUpdated: Date;
  /** The upstream experiments it depends on. */
  readonly dependencies: ExperimentDependency[];
  /** `slugify(name)`. */
  readonly shortSlug: string;
  /** The unique identifier and folder name: `slugify(name-YYYYMMDDHHMMSS)`. */
  readonly slug: string;
  /** The sub-population tests. */
  readonly tests: Test[];
  /** The artifacts. */
  readonly artifacts: Artifact[];
  /** The tags. */
  readonly tags: string[];
  /** Whether it has changes that the next save writes. */
  dirty: boolean;
  /** Whether it is read-only. */
  readonly readOnly: boolean;
  /** The path of its project file in the storage. */
  readonly projectPath: string;
  #storage: Storage;
  #keptMetrics = new KeptValues({}, null);
  #keptParameters = new KeptValues({}, null);

  /**
   * Use {@linkcode Project.log}.
   *
   * @param init The name and optional fields.
   * @param context Where its files live and whether it may change.
   */
  constructor(init: Readonly<ExperimentInit>, context: ExperimentContext) {
    this.name = init.name;
    this.author = init.author ?? currentUser();
    this.lastUpdatedBy = init.lastUpdatedBy ?? this.author;
    this.metrics = {};
    this.parameters = {};
    this.createdAt = init.createdAt ?? utcNow();
    this.lastUpdated = init.lastUpdated ?? utcNow();
    this.dependencies = [];
    this.shortSlug = init.shortSlug ?? slugify(init.name);
    this.slug = init.slug ??
      slugify(`${init.name}-${fileStamp(this.createdAt)}`);
    this.tests = [];
    this.artifacts = [];
    this.tags = [];
    this.dirty = init.dirty ?? true;
    this.readOnly = context.readOnly;
    this.projectPath = context.projectPath;
    this.#storage = context.storage;
  }

  /**
   * Rebuilds an experiment from its entry in `project.json` (used when a project is opened).
   *
   * @param entry The entry, in the friendly mapping of `loads`.
   * @param exact The same entry, in the exact mapping (`loads(…, { exact: true })`).
   * @param context Where its files live and whether it may change.
   * @param where What the entry is, for error messages.
   * @returns The experiment, not dirty (frozen when read-only).
   * @throws {MalformedFileError} When a field is missing or malformed.
   */
  static fromEntry(
    entry: unknown,
    exact: unknown,
    context: ExperimentContext,
    where: string,
  ): Experiment {
    const reader = EntryReader.of(entry, where);
    const name = reader.string("name");
    const author = reader.entry.author === undefined
      ? currentUser()
      : reader.string("author");
    const createdAt = reader.time("created_at");
    const experiment = new Experiment({
      name,
      author,
      lastUpdatedBy: reader.string("last_updated_by", author),
      createdAt,
      lastUpdated: reader.time("last_updated"),
      shortSlug: reader.string("short_slug", slugify(name)),
      slug: reader.string(
        "slug",
        slugify(`${name}-${fileStamp(createdAt)}`),
      ),
      dirty: false,
    }, context);
    const exactMap = exact instanceof Map ? exact : new Map();
    const metrics = reader.dict("metrics");
    const parameters = reader.dict("parameters");
    Object.assign(experiment.metrics, metrics);
    Object.assign(experiment.parameters, parameters);
    experiment.#keptMetrics = new KeptValues(metrics, exactMap.get("metrics"));
    experiment.#keptParameters = new KeptValues(
      parameters,
      exactMap.get("parameters"),
    );
    for (const [index, text] of reader.strings("dependencies").entries()) {
      const parts = text.split("|");
      if (parts.length !== 2) {
        reader.fail(
          `dependency ${index} must be "<project>|<slug>", not ${
            JSON.stringify(text)
          }`,
        );
      }
      experiment.dependencies.push({ project: parts[0], slug: parts[1] });
    }
    experiment.tags.push(...reader.strings("tags"));
    const exactTests = exactMap.get("tests");
    for (const [index, test] of reader.list("tests").entries()) {
      experiment.tests.push(
        Test.fromEntry(
          test,
          Array.isArray(exactTests) ? exactTests[index] : undefined,
          {
            storage: context.storage,
            path: experiment.path,
            readOnly: context.readOnly,
          },
          `test ${index} of ${where}`,
        ),
      );
    }
    experiment.artifacts.push(...artifactsFromEntries(reader));
    if (experiment.readOnly) {
      for (
        const part of [
          experiment.metrics,
          experiment.parameters,
          experiment.dependencies,
          experiment.tests,
          experiment.artifacts,
          experiment.tags,
          experiment,
        ]
      ) {
        Object.freeze(part);
      }
    }
    return experiment;
  }

  /**
   * The experiment's folder in the project's storage: `<project folder>/<slug>`.
   *
   * @returns The folder.
   */
  get path(): string {
    return joinPath(dirname(this.projectPath), this.slug);
  }

  /**
   * The storage of the project.
   *
   * @returns The storage.
   */
  get storage(): Storage {
    return this.#storage;
  }

  #touch(): void {
    if (this.readOnly) {
      throw new ReadOnlyError(`Experiment "${this.slug}" is read-only`);
    }
    this.lastUpdated = utcNow();
    this.dirty = true;
  }

  /**
   * Logs a metric (replacing one of the same name).
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const project = await Project.open("p/project.json", { storage: new MemoryStorage() });
   * const experiment = project.log("Run");
   * experiment.logMetric("auroc", 0.5);
   * console.log(experiment.metrics); // { auroc: 0.5 }
   * ```
   *
   * @param name The metric's name.
   * @param value Its value: a number, or any JSON value.
   * @throws {ReadOnlyError} When the experiment is read-only.
   */
  logMetric(name: string, value: unknown): void {
    this.#touch();
    this.metrics[name] = value;
  }

  /**
   * Logs a parameter (replacing one of the same name).
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const project = await Project.open("p/project.json", { storage: new MemoryStorage() });
   * const experiment = project.log("Run");
   * experiment.logParameter("layers", [64, 32]);
   * console.log(experiment.parameters); // { layers: [ 64, 32 ] }
   * ```
   *
   * @param name The parameter's name.
   * @param value Its value: any JSON value (`Date`s are written as lazyscribe times).
   * @throws {ReadOnlyError} When the experiment is read-only.
   */
  logParameter(name: string, value: unknown): void {
    this.#touch();
    this.parameters[name] = value;
  }

  /**
   * Adds tags, or replaces them all with `{ overwrite: true }` as the last argument.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const project = await Project.open("p/project.json", { storage: new MemoryStorage() });
   * const experiment = project.log("Run");
   * experiment.tag("baseline", "svm");
   * experiment.tag("final", { overwrite: true });
   * console.log(experiment.tags); // [ "final" ]
   * ```
   *
   * @param tags The tags, optionally followed by `{ overwrite }`.
   * @throws {ReadOnlyError} When the experiment is read-only.
   */
  tag(...tags: (string | { overwrite?: boolean })[]): void {
    this.#touch();
    const last = tags.at(-1);
    const overwrite = typeof last === "object" && last.overwrite === true;
    const names = tags.filter((tag): tag is string => typeof tag === "string");
    if (overwrite) this.tags.length = 0;
    this.tags.push(...names);
  }

  /**
   * Records an upstream experiment this one depends on.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * const upstream = await Project.open("features/project.json", { storage });
   * const source = upstream.log("Feature build");
   * const project = await Project.open("model/project.json", { storage });
   * project.log("Model").addDependency(source);
   * ```
   *
   * @param upstream The upstream experiment.
   * @throws {ReadOnlyError} When this experiment is read-only.
   */
  addDependency(upstream: Experiment): void {
    this.#touch();
    this.dependencies.push({
      project: upstream.projectPath,
      slug: upstream.slug,
    });
  }

  /**
   * Logs an artifact, written to the experiment's folder when the project is saved. Its
   * `createdAt` is the experiment's new `lastUpdated`, as in Python.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const project = await Project.open("p/project.json", { storage: new MemoryStorage() });
   * const experiment = project.log("Run");
   * const artifact = experiment.logArtifact({ name: "model", value: { w: [1.5] }, handler: "pickle" });
   * console.log(artifact.fname.endsWith(".pkl")); // true
   * ```
   *
   * @param options The name, value, handler, optional file name, `overwrite`, and the writer's
   * keyword arguments.
   * @returns The new artifact.
   * @throws {ReadOnlyError} When the experiment is read-only.
   * @throws {ArtifactLogError} When the name is taken and `overwrite` is not set.
   * @throws {UnknownHandlerError} When the handler alias is unknown.
   */
  logArtifact(options: Readonly<LogArtifactOptions>): Artifact {
    this.#touch();
    const artifact = constructLoggedArtifact(options, this.lastUpdated);
    addArtifact(
      this.artifacts,
      artifact,
      options.overwrite ?? false,
      "experiment",
    );
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
   * project.log("Run").logArtifact({ name: "features", value: [0, 1], handler: "json" });
   * await project.save();
   * console.log(await project.experiments[0].loadArtifact("features")); // [ 0, 1 ]
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
   * Adds a sub-population test, whose artifacts live in `<slug>/<slugify(name)>/`.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const project = await Project.open("p/project.json", { storage: new MemoryStorage() });
   * const test = project.log("Run").logTest("Young users", "Under 25");
   * test.logMetric("auroc", 0.61);
   * ```
   *
   * @param name The test's name.
   * @param description Its description.
   * @returns The test.
   * @throws {ReadOnlyError} When the experiment is read-only.
   */
  logTest(name: string, description: string | null = null): Test {
    this.#touch();
    const test = new Test(name, description, {
      storage: this.#storage,
      path: joinPath(this.path, slugify(name)),
      readOnly: false,
    });
    this.tests.push(test);
    return test;
  }

  /**
   * Opens the upstream experiments: each dependency's project is opened read-only from the
   * same storage, as Python opens `<protocol>://<project path>`.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * const upstream = await Project.open("features/project.json", { storage });
   * const source = upstream.log("Feature build");
   * await upstream.save();
   * const project = await Project.open("model/project.json", { storage });
   * const experiment = project.log("Model");
   * experiment.addDependency(source);
   * console.log([...(await experiment.resolveDependencies()).keys()]); // [ "feature-build" ]
   * ```
   *
   * @returns Upstream short slug → upstream experiment.
   * @throws {ArtifactLoadError} When an upstream project has no such experiment.
   * @throws {MalformedFileError} When an upstream project file is malformed.
   */
  async resolveDependencies(): Promise<Map<string, Experiment>> {
    const projects = new Map<string, Promise<Project>>();
    const out = new Map<string, Experiment>();
    for (const dependency of this.dependencies) {
      let opening = projects.get(dependency.project);
      if (opening === undefined) {
        opening = Project.open(dependency.project, {
          mode: "r",
          storage: this.#storage,
        });
        projects.set(dependency.project, opening);
      }
      const upstream = (await opening).get(dependency.slug);
      if (upstream === undefined) {
        throw new ArtifactLoadError(
          `Upstream project ${dependency.project} has no experiment ${dependency.slug}`,
        );
      }
      out.set(upstream.shortSlug, upstream);
    }
    return out;
  }

  /**
   * Moves an artifact into a versioned repository, as Python's `promote_artifact`: if the
   * repository already has versions of it, the artifact must be newer than the latest and
   * becomes the next version. An unsaved artifact is simply logged to the repository; a saved
   * one is copied to `<repository folder>/<name>/<fname>` and the repository is saved (the copy
   * is removed again if that save fails). Unlike Python, the two may use different storages.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * import { Repository } from "./repository.ts";
   * import { MemoryStorage } from "./open_storage.ts";
   * const storage = new MemoryStorage();
   * const project = await Project.open("p/project.json", { storage });
   * const experiment = project.log("Run");
   * experiment.logArtifact({ name: "model", value: [1, 2], handler: "pickle" });
   * await project.save();
   * const repository = await Repository.open("repo/repository.json", { storage });
   * await experiment.promoteArtifact(repository, "model");
   * console.log(await repository.loadArtifact("model")); // [ 1, 2 ]
   * ```
   *
   * @param repository The repository.
   * @param name The artifact's name.
   * @throws {ArtifactLoadError} When the experiment has no such artifact.
   * @throws {ArtifactLogError} When it is not newer than the repository's latest version.
   * @throws {VersionNotFoundError} When every version in the repository has expired.
   * @throws {SaveError} When copying the file or saving the repository fails.
   */
  async promoteArtifact(repository: Repository, name: string): Promise<void> {
    const artifact = this.artifacts.find((item) => item.name === name);
    if (artifact === undefined) {
      throw new ArtifactLoadError(`No artifact with name ${name}`);
    }
    const promoted = Object.assign(
      Object.create(Object.getPrototypeOf(artifact)),
      artifact,
    ) as Artifact;
    if (repository.artifacts.some((item) => item.name === name)) {
      const latest = repository.getArtifactMetadata(name);
      // Python compares the stored, second-precision time with the in-memory one.
      const latestTime = Date.parse(`${latest.created_at}Z`);
      if (latestTime >= artifact.createdAt.getTime()) {
        throw new ArtifactLogError(
          `Artifact \`${name}\` is not newer than the latest version available in the repository.`,
        );
      }
      promoted.version = Number(latest.version) + 1;
    }
    if (artifact.dirty) {
      repository.artifacts.push(promoted);
      return;
    }
    const source = joinPath(this.path, artifact.fname);
    const target = joinPath(repository.dir, artifact.name, artifact.fname);
    try {
      await repository.storage.writeFile(
        target,
        await this.#storage.readFile(source),
      );
    } catch (error) {
      throw new SaveError(
        `Unable to copy artifact '${name}' from ${source} to ${target}: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    repository.artifacts.push(promoted);
    try {
      await repository.save();
    } catch (error) {
      await repository.storage.remove(target).catch(() => {});
      repository.artifacts.splice(repository.artifacts.indexOf(promoted), 1);
      throw error;
    }
  }

  /**
   * Python's `Experiment.__lt__`: experiments with the same slug are ordered by `lastUpdated`,
   * others by `createdAt`. Projects keep their experiments in this order.
   *
   * @param other Another experiment.
   * @returns Whether this one comes first.
   */
  isOlderThan(other: Experiment): boolean {
    return this.slug === other.slug
      ? this.lastUpdated.getTime() < other.lastUpdated.getTime()
      : this.createdAt.getTime() < other.createdAt.getTime();
  }

  /**
   * The experiment's entry in `project.json`, in the exact mapping (`bigint` ints, `Map`s).
   *
   * @returns The entry.
   * @throws {RangeError} When a date is outside the years 1–9999.
   */
  toEntry(): Map<string, unknown> {
    return new Map<string, unknown>([
      ["name", this.name],
      ["author", this.author],
      ["last_updated_by", this.lastUpdatedBy],
      ["metrics", this.#keptMetrics.exactDict(this.metrics)],
      ["parameters", this.#keptParameters.exactDict(this.parameters)],
      ["created_at", formatTimestamp(this.createdAt)],
      ["last_updated", formatTimestamp(this.lastUpdated)],
      [
        "dependencies",
        this.dependencies.map(({ project, slug }) => `${project}|${slug}`),
      ],
      ["short_slug", this.shortSlug],
      ["slug", this.slug],
      ["tests", this.tests.map((test) => test.toEntry())],
      ["artifacts", artifactEntries(this.artifacts)],
      ["tags", toExact(this.tags)],
    ]);
  }
}
