/**
 * The artifact model of lazyscribe: handlers (`JSONArtifact`, `PickleArtifact`, your own), their
 * registry, the entries of project and repository files, Python-compatible JSON and slugs, and
 * the storages files live in.
 *
 * @module
 */

export {
  Artifact,
  type ArtifactFields,
  artifactFields,
  type ArtifactHandler,
  type ArtifactInit,
  fileStamp,
  type HandlerKwargs,
  validateArtifactEnvironment,
} from "./artifact.ts";
export {
  readArtifactFile,
  type ReadArtifactOptions,
  writeArtifactFile,
} from "./artifact_file.ts";
export {
  ArtifactError,
  ArtifactLoadError,
  ArtifactLogError,
  InvalidVersionError,
  LazyscribeError,
  ReadOnlyError,
  SaveError,
  VersionNotFoundError,
} from "./errors.ts";
export { JSONArtifact } from "./json_artifact.ts";
export {
  type ArtifactEntry,
  artifactFromEntry,
  artifactToEntry,
  formatTimestamp,
  parseTimestamp,
} from "./metadata.ts";
export {
  FileStorage,
  HttpStorage,
  type HttpStorageOptions,
  type Location,
  MemoryStorage,
  openStorage,
  registerStorage,
  splitLocation,
  type StorageFactory,
} from "./open_storage.ts";
export { PickleArtifact } from "./pickle_artifact.ts";
export {
  compareCodePoints,
  dumps,
  type DumpsOptions,
  floatRepr,
  JSONDecodeError,
  loads,
  type LoadsOptions,
} from "./python_json.ts";
export {
  getHandler,
  handlerAliases,
  registerHandler,
  UnknownHandlerError,
} from "./registry.ts";
export { slugify } from "./slugify.ts";
export {
  DEFAULT_LEFTOVER_GRACE_PERIOD,
  dirname,
  FileNotFoundError,
  joinPath,
  Storage,
  type StorageOptions,
  StorageTransaction,
} from "./storage.ts";
export {
  type ExperimentFilter,
  MalformedFileError,
  Project,
  type ProjectMode,
  type ProjectOptions,
} from "./project.ts";
export {
  Experiment,
  type ExperimentContext,
  type ExperimentDependency,
  type ExperimentInit,
} from "./experiment.ts";
export {
  type LoadArtifactOptions,
  type LogArtifactOptions,
  Test,
  type TestContext,
} from "./experiment_test_record.ts";
export {
  type ArtifactVersion,
  type ExpiryOptions,
  Repository,
  type RepositoryLoadOptions,
  type RepositoryMode,
  type RepositoryOptions,
  type VersionMatch,
  type VersionOptions,
} from "./repository.ts";
export { taggedJson, type TaggedJsonOptions } from "./tagged_json.ts";
export { valueTree, type ValueTreeOptions } from "./value_tree.ts";
