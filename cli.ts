/**
 * The command line of `@lazyscribe/artifacts`: look into lazyscribe projects and repositories
 * without Python. Nothing in a pickle is executed; classes are shown as the inert records the
 * decoder makes of them.
 *
 * ```sh
 * deno run --allow-read jsr:@lazyscribe/artifacts/cli show project.json
 * deno run --allow-read jsr:@lazyscribe/artifacts/cli show repository.json --json
 * deno run --allow-read jsr:@lazyscribe/artifacts/cli cat project.json baseline model
 * deno run --allow-read jsr:@lazyscribe/artifacts/cli cat repository.json thresholds --version 1 --json
 * deno run --allow-read jsr:@lazyscribe/artifacts/cli diff repository.json thresholds 0 2
 * ```
 *
 * Locations may be paths or URLs (`https://…` needs `--allow-net`). Run with `--help`, or
 * `<command> --help`, for the options. Exit status: 0 on success, 1 when a file is missing or
 * malformed or an artifact cannot be loaded, 2 for a usage error.
 *
 * @module
 */

import type { Artifact } from "./src/artifact.ts";
import { LazyscribeError } from "./src/errors.ts";
import type { Experiment } from "./src/experiment.ts";
import type { Test } from "./src/experiment_test_record.ts";
import { artifactToEntry, formatTimestamp } from "./src/metadata.ts";
import { openStorage } from "./src/open_storage.ts";
import { Project } from "./src/project.ts";
import { JSONDecodeError, loads } from "./src/python_json.ts";
import { Repository } from "./src/repository.ts";
import { FileNotFoundError } from "./src/storage.ts";
import { taggedJson } from "./src/tagged_json.ts";
import { valueTree } from "./src/value_tree.ts";
import { toExact } from "./src/_project_file.ts";
import { PickleError } from "./codec/errors.ts";

/** Where the command line writes. */
export interface CliOutput {
  /** Receives the standard output, line by line. */
  out(text: string): void;
  /** Receives the error output, line by line. */
  err(text: string): void;
}

/** A mistake in the command line itself: printed with the usage, exit status 2. */
class UsageError extends Error {
  constructor(message: string, readonly command: string | null) {
    super(message);
    this.name = "UsageError";
  }
}

const PROGRAM = "lazyscribe-artifacts";

const HELP: Record<string, string> = {
  main:
    `${PROGRAM}: look into lazyscribe projects and repositories without Python.

Usage:
  ${PROGRAM} show <project.json | repository.json> [--json]
  ${PROGRAM} cat <project.json> <experiment> <artifact> [--test <name>] [--json | --tree]
  ${PROGRAM} cat <repository.json> <artifact> [--version <v>] [--asof] [--json | --tree]
  ${PROGRAM} diff <repository.json> <artifact> <version> [<version>]
  ${PROGRAM} help [<command>]

Locations are paths or URLs (memory://, https://…). Nothing in a pickle is executed.
Run '${PROGRAM} <command> --help' for a command's options.`,
  show: `Usage: ${PROGRAM} show <project.json | repository.json> [--json]

Shows a project (each experiment's author, dates, tags, dependencies, metrics, parameters,
tests and artifacts) or a repository (each artifact's versions, creation times, expiry, and
which version is the latest). Which one it is comes from the file's content.

  --json                 the entries instead, as lazyscribe stores them, in the tagged JSON
                         of 'cat --json' (ints and floats apart), for scripts`,
  cat: `Usage:
  ${PROGRAM} cat <project.json> <experiment> <artifact> [options]
  ${PROGRAM} cat <repository.json> <artifact> [options]

Prints an artifact's value, JSON and pickles alike.

  <experiment>           the experiment's slug, short slug or name (the newest that matches)
  --test <name>          the artifact of this test of the experiment
  --version <v>          repository only: an integer version, or a creation time
                         YYYY-MM-DDTHH:MM:SS (default: the latest version not expired)
  --asof                 repository only: the newest version created at or before the
                         --version time that had not expired by then
  --tree                 a readable tree (the default)
  --json                 tagged JSON that loses nothing: ints and floats apart (1 vs 1.0),
                         {"$bytes": …}, {"$tuple": …}, {"$dict": [[key, value], …]} for
                         non-string keys, {"$ndarray": …}, {"$object": …} for class instances,
                         {"$id": n} / {"$ref": n} for shared objects
  --indent <n>           spaces per level of --json output (default 2; 0 for one line)
  --max-chars <n>        refuse --json output longer than this (default 67108864), so that
                         a pickle built to expand cannot exhaust memory
  --max-items <n>        items shown per container in --tree output (default 20)
  --max-lines <n>        lines of --tree output (default 500; 0 for no limit)
  --validate             refuse artifacts made for another Python (as Python lazyscribe does)
  --python-version <v>   the Python "major.minor" --validate compares with (default 3.11)`,
  diff:
    `Usage: ${PROGRAM} diff <repository.json> <artifact> <version> [<version>]

Prints the unified diff between two versions of a text artifact, as Python lazyscribe's
Repository.get_version_diff does; with one version, against the latest. Versions are integers
or creation times YYYY-MM-DDTHH:MM:SS.

  --asof                 match creation times as "asof" instead of exactly`,
};

interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set([
  "--test",
  "--version",
  "--indent",
  "--max-items",
  "--max-lines",
  "--python-version",
  "--max-chars",
]);
const BOOLEAN_FLAGS = new Set([
  "--json",
  "--tree",
  "--asof",
  "--validate",
  "--help",
]);

function parseArgs(args: readonly string[], command: string): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.set("--help", true);
      continue;
    }
    if (!arg.startsWith("--") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const equals = arg.indexOf("=");
    const name = equals === -1 ? arg : arg.slice(0, equals);
    if (VALUE_FLAGS.has(name)) {
      const value = equals === -1 ? args[++i] : arg.slice(equals + 1);
      if (value === undefined) {
        throw new UsageError(`${name} needs a value`, command);
      }
      flags.set(name, value);
    } else if (BOOLEAN_FLAGS.has(name) && equals === -1) {
      flags.set(name, true);
    } else {
      throw new UsageError(`Unknown option ${arg}`, command);
    }
  }
  return { positional, flags };
}

function integerFlag(
  parsed: ParsedArgs,
  name: string,
  fallback: number,
  command: string,
): number {
  const value = parsed.flags.get(name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value)) {
    throw new UsageError(
      `${name} must be a whole number, not ${JSON.stringify(value)}`,
      command,
    );
  }
  return number;
}

function versionArgument(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** What a lazyscribe file holds, told from its content (or, when empty, its name). */
async function fileKind(location: string): Promise<"project" | "repository"> {
  const { storage, path } = openStorage(location);
  let data: Uint8Array;
  try {
    data = await storage.readFile(path);
  } catch (error) {
    if (error instanceof FileNotFoundError) {
      throw new LazyscribeError(`No such file: ${location}`);
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = loads(new TextDecoder().decode(data));
  } catch (error) {
    if (error instanceof JSONDecodeError) {
      throw new LazyscribeError(
        `${location} is not valid JSON: ${error.message}`,
      );
    }
    throw error;
  }
  if (!Array.isArray(parsed)) {
    throw new LazyscribeError(
      `${location} is not a lazyscribe project or repository: it must hold a JSON list`,
    );
  }
  const first = parsed[0];
  if (typeof first === "object" && first !== null) {
    if ("slug" in first || "short_slug" in first || "metrics" in first) {
      return "project";
    }
    if ("handler" in first) return "repository";
    throw new LazyscribeError(
      `${location} is not a lazyscribe project or repository: its entries have neither ` +
        `"slug" nor "handler"`,
    );
  }
  if (first !== undefined) {
    throw new LazyscribeError(
      `${location} is not a lazyscribe project or repository: its entries must be objects`,
    );
  }
  return /repository[^/]*$/.test(location) ? "repository" : "project";
}

function inlineValue(value: unknown): string {
  return taggedJson(value, { indent: 0, maxLength: 2000 });
}

function alignedRows(rows: string[][], indent: string): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    indent +
    row.map((cell, index) =>
      index === row.length - 1 ? cell : cell.padEnd(widths[index])
    ).join("  ")
  );
}

function dictLines(
  title: string,
  values: unknown,
  indent: string,
): string[] {
  if (!(values instanceof Map) || values.size === 0) return [];
  return [
    `${indent}${title}:`,
    ...alignedRows(
      [...values].map(([key, value]) => [String(key), inlineValue(value)]),
      indent + "  ",
    ),
  ];
}

function artifactRow(artifact: Artifact): string[] {
  const fields = Object.entries(artifact.handlerFields()).map(([key, value]) =>
    `${key}=${value}`
  );
  return [
    artifact.name,
    artifact.handler.alias,
    artifact.fname,
    `created ${formatTimestamp(artifact.createdAt)}`,
    [
      artifact.expiry === null
        ? ""
        : `expires ${formatTimestamp(artifact.expiry)}`,
      ...fields,
    ].filter((part) => part !== "").join(" "),
  ];
}

function artifactLines(
  artifacts: readonly Artifact[],
  indent: string,
): string[] {
  if (artifacts.length === 0) return [];
  return [
    `${indent}artifacts:`,
    ...alignedRows(artifacts.map(artifactRow), indent + "  ").map((line) =>
      line.trimEnd()
    ),
  ];
}

function testLines(test: Test, indent: string): string[] {
  const entry = test.toEntry();
  return [
    `${indent}${test.name}${
      test.description === null ? "" : ` — ${test.description}`
    }  (${test.path})`,
    ...dictLines("metrics", entry.get("metrics"), indent + "  "),
    ...dictLines("parameters", entry.get("parameters"), indent + "  "),
    ...artifactLines(test.artifacts, indent + "  "),
  ];
}

function experimentLines(experiment: Experiment): string[] {
  const entry = experiment.toEntry();
  const lines = [
    `${experiment.name}  [${experiment.slug}]`,
    `  author ${experiment.author}, created ${
      formatTimestamp(experiment.createdAt)
    }, last updated ${
      formatTimestamp(experiment.lastUpdated)
    } by ${experiment.lastUpdatedBy}`,
  ];
  if (experiment.tags.length > 0) {
    lines.push(`  tags: ${experiment.tags.join(", ")}`);
  }
  for (const dependency of experiment.dependencies) {
    lines.push(`  depends on: ${dependency.slug} in ${dependency.project}`);
  }
  lines.push(...dictLines("metrics", entry.get("metrics"), "  "));
  lines.push(...dictLines("parameters", entry.get("parameters"), "  "));
  lines.push(...artifactLines(experiment.artifacts, "  "));
  if (experiment.tests.length > 0) {
    lines.push("  tests:");
    for (const test of experiment.tests) lines.push(...testLines(test, "    "));
  }
  return lines;
}

async function openProject(location: string): Promise<Project> {
  return await Project.open(location, { mode: "r", author: PROGRAM });
}

async function show(parsed: ParsedArgs, output: CliOutput): Promise<void> {
  if (parsed.positional.length !== 1) {
    throw new UsageError("show takes one file", "show");
  }
  if (parsed.flags.has("--tree")) {
    throw new UsageError("Unknown option --tree", "show");
  }
  const [location] = parsed.positional;
  const json = parsed.flags.has("--json");
  if (await fileKind(location) === "project") {
    const project = await openProject(location);
    if (json) {
      output.out(
        taggedJson(project.experiments.map((item) => item.toEntry()), {
          indent: 2,
        }),
      );
      return;
    }
    output.out(
      `Project ${location}: ${
        plural(project.experiments.length, "experiment")
      }`,
    );
    for (const experiment of project.experiments) {
      output.out("");
      for (const line of experimentLines(experiment)) output.out(line);
    }
    return;
  }
  const repository = await Repository.open(location, { mode: "r" });
  if (json) {
    output.out(
      taggedJson(
        repository.artifacts.map((item) => toExact(artifactToEntry(item))),
      ),
    );
    return;
  }
  const names = [...new Set(repository.artifacts.map((item) => item.name))];
  output.out(
    `Repository ${location}: ${plural(names.length, "artifact")}, ${
      plural(repository.artifacts.length, "version")
    }`,
  );
  const now = new Date();
  for (const name of names) {
    const versions = repository.artifacts.filter((item) => item.name === name)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    let latest: Artifact | null = null;
    try {
      latest = repository.findArtifact(name);
    } catch {
      // Every version has expired: none is marked as the latest.
    }
    output.out("");
    output.out(`${name} (${versions[0].handler.alias})`);
    const rows = versions.map((artifact) => {
      const row = artifactRow(artifact);
      const expiry = artifact.expiry === null
        ? "never expires"
        : `${artifact.expiry <= now ? "expired" : "expires"} ${
          formatTimestamp(artifact.expiry)
        }`;
      const fields = Object.entries(artifact.handlerFields()).map((
        [key, value],
      ) => `${key}=${value}`);
      return [
        `v${artifact.version}`,
        row[3],
        row[2],
        [expiry, ...fields].join(" "),
        artifact === latest ? "← latest" : "",
      ];
    });
    for (const line of alignedRows(rows, "  ")) output.out(line.trimEnd());
  }
}

function plural(size: number, noun: string): string {
  return `${size} ${noun}${size === 1 ? "" : "s"}`;
}

function loadOptions(parsed: ParsedArgs) {
  const pythonVersion = parsed.flags.get("--python-version");
  return {
    validate: parsed.flags.has("--validate"),
    environment: typeof pythonVersion === "string" ? { pythonVersion } : {},
    readerKwargs: { exact: true },
  };
}

async function cat(parsed: ParsedArgs, output: CliOutput): Promise<void> {
  const { positional, flags } = parsed;
  if (positional.length < 2) {
    throw new UsageError("cat needs a file and an artifact", "cat");
  }
  if (flags.has("--json") && flags.has("--tree")) {
    throw new UsageError("Choose one of --json and --tree", "cat");
  }
  const location = positional[0];
  const options = loadOptions(parsed);
  let value: unknown;
  if (await fileKind(location) === "project") {
    if (positional.length !== 3) {
      throw new UsageError(
        "cat on a project needs an experiment and an artifact",
        "cat",
      );
    }
    if (flags.has("--version") || flags.has("--asof")) {
      throw new UsageError(
        "--version and --asof are for repositories; projects keep one version",
        "cat",
      );
    }
    const [, slug, name] = positional;
    const project = await openProject(location);
    const experiment = project.get(slug) ??
      project.experiments.findLast((item) => item.name === slug);
    if (experiment === undefined) {
      throw new LazyscribeError(
        `No experiment ${
          JSON.stringify(slug)
        } in ${location}; its experiments are ${
          listOf(project.experiments.map((item) => item.slug))
        }`,
      );
    }
    const testName = flags.get("--test");
    let holder: Experiment | Test = experiment;
    if (typeof testName === "string") {
      const test = experiment.tests.find((item) => item.name === testName);
      if (test === undefined) {
        throw new LazyscribeError(
          `Experiment ${experiment.slug} has no test ${
            JSON.stringify(testName)
          }; its tests are ${
            listOf(experiment.tests.map((item) => item.name))
          }`,
        );
      }
      holder = test;
    }
    if (!holder.artifacts.some((item) => item.name === name)) {
      throw new LazyscribeError(
        `No artifact ${JSON.stringify(name)} in ${
          holder === experiment
            ? `experiment ${experiment.slug}`
            : `test ${JSON.stringify(testName)}`
        }; its artifacts are ${
          listOf(holder.artifacts.map((item) => item.name))
        }`,
      );
    }
    value = await holder.loadArtifact(name, options);
  } else {
    if (positional.length !== 2) {
      throw new UsageError(
        "cat on a repository needs one artifact name",
        "cat",
      );
    }
    if (flags.has("--test")) {
      throw new UsageError("--test is for projects", "cat");
    }
    const name = positional[1];
    const repository = await Repository.open(location, { mode: "r" });
    if (!repository.has(name)) {
      throw new LazyscribeError(
        `No artifact ${
          JSON.stringify(name)
        } in ${location}; its artifacts are ${
          listOf([...new Set(repository.artifacts.map((item) => item.name))])
        }`,
      );
    }
    const version = flags.get("--version");
    if (flags.has("--asof") && typeof version !== "string") {
      throw new UsageError("--asof needs --version <time>", "cat");
    }
    value = await repository.loadArtifact(name, {
      ...options,
      version: typeof version === "string" ? versionArgument(version) : null,
      match: flags.has("--asof") ? "asof" : "exact",
    });
  }
  if (flags.has("--json")) {
    output.out(
      taggedJson(value, {
        indent: integerFlag(parsed, "--indent", 2, "cat"),
        maxLength: integerFlag(parsed, "--max-chars", 2 ** 26, "cat"),
      }),
    );
  } else {
    const maxLines = integerFlag(parsed, "--max-lines", 500, "cat");
    output.out(
      valueTree(value, {
        maxItems: integerFlag(parsed, "--max-items", 20, "cat"),
        maxLines: maxLines === 0 ? Infinity : maxLines,
      }),
    );
  }
}

function listOf(names: readonly string[]): string {
  return names.length === 0
    ? "none"
    : names.map((name) => JSON.stringify(name)).join(", ");
}

async function diff(parsed: ParsedArgs, output: CliOutput): Promise<void> {
  const { positional, flags } = parsed;
  if (positional.length !== 3 && positional.length !== 4) {
    throw new UsageError(
      "diff needs a repository, an artifact and one or two versions",
      "diff",
    );
  }
  const [location, name, ...versions] = positional;
  if (await fileKind(location) !== "repository") {
    throw new UsageError(`${location} is a project, not a repository`, "diff");
  }
  const repository = await Repository.open(location, { mode: "r" });
  const match = flags.has("--asof") ? "asof" : "exact";
  const text = versions.length === 1
    ? await repository.getVersionDiff(name, versionArgument(versions[0]), {
      match,
    })
    : await repository.getVersionDiff(name, [
      versionArgument(versions[0]),
      versionArgument(versions[1]),
    ], { match });
  if (text !== "") output.out(text);
}

const COMMANDS: Record<
  string,
  (parsed: ParsedArgs, output: CliOutput) => Promise<void>
> = { show, cat, diff };

const consoleOutput: CliOutput = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

/**
 * Runs the command line.
 *
 * @example Usage
 * ```ts
 * import { main } from "./cli.ts";
 * const lines: string[] = [];
 * const status = await main(["--help"], { out: (t) => lines.push(t), err: (t) => lines.push(t) });
 * console.log(status, lines[0].startsWith("lazyscribe-artifacts")); // 0 true
 * ```
 *
 * @param args The arguments, without the program name.
 * @param output Where to write (the console by default).
 * @returns The exit status: 0 on success, 1 for a missing or malformed file or an artifact
 * that cannot be loaded, 2 for a usage error.
 */
export async function main(
  args: readonly string[],
  output: CliOutput = consoleOutput,
): Promise<number> {
  const [command = "help", ...rest] = args;
  try {
    if (command === "help" || command === "--help" || command === "-h") {
      const topic = rest[0] ?? "main";
      if (!Object.hasOwn(HELP, topic)) {
        throw new UsageError(`Unknown command ${JSON.stringify(topic)}`, null);
      }
      output.out(HELP[topic]);
      return 0;
    }
    if (!Object.hasOwn(COMMANDS, command)) {
      throw new UsageError(`Unknown command ${JSON.stringify(command)}`, null);
    }
    const parsed = parseArgs(rest, command);
    if (parsed.flags.has("--help")) {
      output.out(HELP[command]);
      return 0;
    }
    await COMMANDS[command](parsed, output);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`${PROGRAM}: ${error.message}`);
      output.err(
        `Run '${PROGRAM} ${
          error.command === null ? "" : `${error.command} `
        }--help' for usage.`,
      );
      return 2;
    }
    if (
      error instanceof LazyscribeError || error instanceof PickleError ||
      error instanceof RangeError || error instanceof TypeError ||
      error instanceof FileNotFoundError ||
      (error instanceof Error &&
        (error.name === "PermissionDenied" || error.name === "NotCapable"))
    ) {
      output.err(`${PROGRAM}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
