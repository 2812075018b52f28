/**
 * lazyscribe's `Project` (`lazyscribe/project.py`): a `project.json` listing experiments, with
 * each experiment's artifacts in a folder next to it. Files are read and written exactly as
 * Python lazyscribe reads and writes them.
 *
 * @module
 */

import { ReadOnlyError } from "./errors.ts";
import { Experiment } from "./experiment.ts";
import type { Storage } from "./storage.ts";
import {
  currentUser,
  describeLocation,
  encodeListFile,
  locateListFile,
  readListFile,
} from "./_project_file.ts";
import { type ArtifactWrite, saveListFile } from "./_save_list_file.ts";

export { MalformedFileError } from "./_project_file.ts";

/**
 * How a project is opened (Python's `mode`):
 * - `"r"`: experiments are read-only, nothing can be logged, and `save()` throws;
 * - `"a"`: experiments are read-only, new ones can be logged;
 * - `"w"`: the file is not read, and `save()` replaces it;
 * - `"w+"`: experiments are editable and new ones can be logged.
 */
export type ProjectMode = "r" | "a" | "w" | "w+";

/** Options of {@linkcode Project.open}. */
export interface ProjectOptions {
  /** The mode. @default {"a"} */
  mode?: ProjectMode;
  /** The author of new experiments and of changes. @default {the user name} */
  author?: string;
  /**
   * The storage to use instead of the one the location's protocol names (for example a
   * `MemoryStorage` of your own); the location's path is then taken within it.
   */
  storage?: Storage;
  /** Options for the storage of the location's protocol (fsspec's `storage_options`). */
  storageOptions?: Readonly<Record<string, unknown>>;
}

/** What {@linkcode Project.filter} matches: every given field must match. */
export interface ExperimentFilter {
  /** The experiment's name. */
  name?: string;
  /** The experiment's slug or short slug. */
  slug?: string;
  /** A tag the experiment has. */
  tag?: string;
}

const MODES: readonly ProjectMode[] = ["r", "a", "w", "w+"];

/**
 * A lazyscribe project (Python's `lazyscribe.project.Project`).
 *
 * @example Open a project Python wrote and add an experiment
 * ```ts
 * import { Project } from "./project.ts";
 * import { MemoryStorage } from "./open_storage.ts";
 * const storage = new MemoryStorage();
 * const project = await Project.open("team/project.json", { storage, author: "ana" });
 * const experiment = project.log("Gradient boosting");
 * experiment.logMetric("auroc", 0.71);
 * experiment.logArtifact({ name: "features", value: ["age", "income"], handler: "json" });
 * await project.save();
 *
 * const reopened = await Project.open("team/project.json", { storage, mode: "r" });
 * console.log(reopened.experiments[0].metrics); // { auroc: 0.71 }
 * ```
 */
export class Project {
  /** The storage holding the project. */
  readonly storage: Storage;
  /** The path of `project.json` in the storage. */
  readonly path: string;
  /** The mode it was opened in. */
  readonly mode: ProjectMode;
  /** The author of new experiments and of changes. */
  readonly author: string;
  /** The experiments, oldest first. */
  readonly experiments: Experiment[] = [];

  private constructor(
    storage: Storage,
    path: string,
    mode: ProjectMode,
    author: string,
  ) {
    this.storage = storage;
    this.path = path;
    this.mode = mode;
    this.author = author;
  }

  /**
   * Opens a project: a path (`data/project.json`) or URL (`memory://…`, `https://…`, or a
   * protocol registered with `registerStorage`). In modes `"r"`, `"a"` and `"w+"` an existing
   * file is read; a missing one gives an empty project.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * const project = await Project.open("memory://examples/project.json", { mode: "w+" });
   * console.log(project.experiments.length); // 0
   * ```
   *
   * @param location Where `project.json` is.
   * @param options The mode, author and storage.
   * @returns The project.
   * @throws {RangeError} For an unknown mode or protocol.
   * @throws {MalformedFileError} When the file is not a lazyscribe project (artifact files are
   * only read by `loadArtifact`).
   */
  static async open(
    location = "project.json",
    options: Readonly<ProjectOptions> = {},
  ): Promise<Project> {
    const mode = options.mode ?? "a";
    const { storage, path } = locateListFile(
      location,
      options,
      mode,
      MODES,
      "project",
    );
    const project = new Project(
      storage,
      path,
      mode,
      options.author ?? currentUser(),
    );
    if (mode !== "w") await project.#load();
    return project;
  }

  async #load(): Promise<void> {
    const parsed = await readListFile(this.storage, this.path, "project");
    if (parsed === null) return;
    const where = describeLocation(this.storage, this.path);
    const readOnly = this.mode === "r" || this.mode === "a";
    parsed.friendly.forEach((entry, index) => {
      this.#insort(
        Experiment.fromEntry(
          entry,
          parsed.exact[index],
          { storage: this.storage, projectPath: this.path, readOnly },
          `experiment ${index} of ${where}`,
        ),
      );
    });
  }

  /** Python's `bisect.insort`: after every experiment that is not newer. */
  #insort(experiment: Experiment): void {
    let low = 0;
    let high = this.experiments.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (experiment.isOlderThan(this.experiments[middle])) high = middle;
      else low = middle + 1;
    }
    this.experiments.splice(low, 0, experiment);
  }

  #checkWritable(): void {
    if (this.mode === "r") {
      throw new ReadOnlyError(
        `Project ${
          describeLocation(this.storage, this.path)
        } is in read-only mode`,
      );
    }
  }

  /**
   * Starts a new experiment and adds it to the project (Python's `with project.log(name)`).
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * const project = await Project.open("memory://log-example/project.json", { author: "ana" });
   * const experiment = project.log("Baseline");
   * console.log(experiment.author, experiment.shortSlug); // "ana" "baseline"
   * ```
   *
   * @param name The experiment's name.
   * @returns The experiment, editable.
   * @throws {ReadOnlyError} In mode `"r"`.
   */
  log(name: string): Experiment {
    this.#checkWritable();
    const experiment = new Experiment({ name, author: this.author }, {
      storage: this.storage,
      projectPath: this.path,
      readOnly: false,
    });
    this.#insort(experiment);
    return experiment;
  }

  /**
   * Adds an experiment made elsewhere (Python's `append`), keeping the order.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * const a = await Project.open("memory://append-a/project.json");
   * const b = await Project.open("memory://append-b/project.json");
   * b.append(a.log("Run"));
   * console.log(b.experiments.length); // 1
   * ```
   *
   * @param experiment The experiment.
   * @throws {ReadOnlyError} In mode `"r"`.
   */
  append(experiment: Experiment): void {
    this.#checkWritable();
    this.#insort(experiment);
  }

  /**
   * The experiments that match: a predicate, or a filter of name, slug (or short slug) and tag.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * const project = await Project.open("memory://filter-example/project.json");
   * project.log("Baseline").tag("svm");
   * project.log("Boosted").tag("gbm");
   * console.log(project.filter({ tag: "gbm" }).map((e) => e.name)); // [ "Boosted" ]
   * console.log(project.filter((e) => "svm" !== e.tags[0]).length); // 1
   * ```
   *
   * @param match A predicate or an {@linkcode ExperimentFilter}.
   * @returns The matching experiments, oldest first.
   */
  filter(
    match: ((experiment: Experiment) => boolean) | Readonly<ExperimentFilter>,
  ): Experiment[] {
    if (typeof match === "function") return this.experiments.filter(match);
    return this.experiments.filter((experiment) =>
      (match.name === undefined || experiment.name === match.name) &&
      (match.slug === undefined || experiment.slug === match.slug ||
        experiment.shortSlug === match.slug) &&
      (match.tag === undefined || experiment.tags.includes(match.tag))
    );
  }

  /**
   * The newest experiment with a slug or short slug (Python's `project[slug]`).
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * const project = await Project.open("memory://get-example/project.json");
   * project.log("Baseline");
   * console.log(project.get("baseline")?.name); // "Baseline"
   * ```
   *
   * @param slug A slug or short slug.
   * @returns The experiment, or `undefined`.
   */
  get(slug: string): Experiment | undefined {
    return this.experiments.findLast((experiment) =>
      experiment.slug === slug || experiment.shortSlug === slug
    );
  }

  /**
   * Whether an experiment has a slug or short slug (Python's `slug in project`).
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * const project = await Project.open("memory://has-example/project.json");
   * console.log(project.has("baseline")); // false
   * ```
   *
   * @param slug A slug or short slug.
   * @returns Whether one does.
   */
  has(slug: string): boolean {
    return this.get(slug) !== undefined;
  }

  /**
   * The bytes of `project.json` as Python's `json.dump(…, sort_keys=True, indent=4)` writes
   * them for the project as it is now.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * const project = await Project.open("memory://encode-example/project.json", { mode: "w" });
   * console.log(new TextDecoder().decode(project.encode())); // "[]"
   * ```
   *
   * @returns The bytes.
   * @throws {TypeError} When a metric or parameter has no JSON form.
   * @throws {RangeError} When a value is circular or a date outside the years 1–9999.
   */
  encode(): Uint8Array {
    return encodeListFile(
      this.experiments.map((experiment) => experiment.toEntry()),
    );
  }

  /**
   * Saves the project: `project.json` and every unsaved artifact of the editable experiments
   * are staged and then moved into place together, so a failure leaves the previous files as
   * they were. In mode `"w+"` changed experiments are marked as last updated by the author.
   *
   * @example Usage
   * ```ts
   * import { Project } from "./project.ts";
   * const project = await Project.open("memory://save-example/project.json");
   * project.log("Run").logArtifact({ name: "n", value: 1, handler: "json" });
   * await project.save();
   * console.log(project.experiments[0].artifacts[0].dirty); // false
   * ```
   *
   * @throws {ReadOnlyError} In mode `"r"`, or when the storage is read-only.
   * @throws {SaveError} When a value cannot be written or a file cannot be moved into place;
   * `cause` holds the reason.
   */
  async save(): Promise<void> {
    this.#checkWritable();
    if (this.mode === "w+") {
      for (const experiment of this.experiments) {
        if (experiment.dirty) experiment.lastUpdatedBy = this.author;
      }
    }
    const writes: ArtifactWrite[] = [];
    const saved: { dirty: boolean }[] = [];
    for (const experiment of this.experiments) {
      if (experiment.readOnly) continue;
      const testArtifacts = experiment.tests.flatMap((test) =>
        test.artifacts.filter((artifact) => artifact.dirty).map((
          artifact,
        ) => ({ artifact, folder: test.path }))
      );
      if (!experiment.dirty && testArtifacts.length === 0) continue;
      const artifacts = experiment.artifacts.filter((artifact) =>
        artifact.dirty
      ).map((artifact) => ({ artifact, folder: experiment.path }));
      writes.push(...artifacts, ...testArtifacts);
      saved.push(experiment);
    }
    await saveListFile(
      this.storage,
      this.path,
      "project",
      () => this.encode(),
      writes,
    );
    for (const { artifact } of writes) artifact.dirty = false;
    for (const experiment of saved) experiment.dirty = false;
  }
}
