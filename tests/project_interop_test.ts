/**
 * Projects and repositories against the real Python lazyscribe 2.2.2 in `.cache/venv`: what
 * Python builds opens here with every field and value equal and is re-saved byte for byte; what
 * is built here opens in Python with the same values and the same version choices.
 */

import assert from "node:assert/strict";
import { decode } from "../codec/mod.ts";
import { Tuple } from "../codec/types.ts";
import { Project } from "../src/project.ts";
import type { Experiment } from "../src/experiment.ts";
import type { Test } from "../src/experiment_test_record.ts";
import type { PickleArtifact } from "../src/pickle_artifact.ts";
import { loads } from "../src/python_json.ts";
import { Repository } from "../src/repository.ts";
import { taggedJson } from "../src/tagged_json.ts";
import type { ArtifactVersion, VersionMatch } from "../src/_versions.ts";
import { pythonJson, pythonPath } from "./_python.ts";
import { compareTagged, type Tagged, toTagged } from "./_tagged.ts";

const root = new URL("../", import.meta.url).pathname;
const fixture = `${root}tests/fixtures/demo_project`;
const describeScript = `${root}tests/python/project_describe.py`;
const makeDemoScript = `${root}tests/python/project_make_demo.py`;

async function python(
  script: string,
  args: string[],
  cwd: string,
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(pythonPath(), {
    args: [script, ...args],
    cwd,
    env: { PYTHONHASHSEED: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(
      `python ${script} failed:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  return text;
}

async function copyTree(from: string): Promise<string> {
  const to = await Deno.makeTempDir({ prefix: "lazyscribe-project-" });
  const { code } = await new Deno.Command("cp", {
    args: ["-R", `${from}/.`, to],
  })
    .output();
  assert.equal(code, 0);
  return to;
}

/** Every file under a folder → its bytes. */
async function snapshot(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const pending = [""];
  while (pending.length > 0) {
    const relative = pending.pop()!;
    for await (const entry of Deno.readDir(`${dir}/${relative}`)) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory) pending.push(path);
      else out.set(path, await Deno.readFile(`${dir}/${path}`));
    }
  }
  return out;
}

interface PythonExperiment {
  entry: unknown;
  artifacts: Record<string, unknown>;
  tests: Record<string, Record<string, unknown>>;
  dependencies: Record<string, string>;
}

/** Python's description, parsed exactly (ints `bigint`, floats `number`, dicts `Map`). */
async function describeProject(dir: string): Promise<unknown[]> {
  const text = await python(describeScript, ["project", "project.json"], dir);
  return loads(text, { exact: true }) as unknown[];
}

function field(map: unknown, key: string): unknown {
  assert.ok(map instanceof Map, `expected a dict holding ${key}`);
  return map.get(key);
}

async function symbolicOf(path: string): Promise<Tagged> {
  const source = `
import json, sys
sys.path.insert(0, sys.argv[1])
import symbolic
with open(sys.argv[2], "rb") as f:
    print(json.dumps(symbolic.symbolic(f.read())))
`;
  const verdict = await pythonJson<{ ok: Tagged; message?: string }>(
    source,
    [`${root}tests/python`, path],
  );
  assert.ok("ok" in verdict, `CPython cannot read ${path}: ${verdict.message}`);
  return verdict.ok;
}

/** The artifacts of an experiment or test equal what Python loads, value by value. */
async function assertArtifactsEqual(
  holder: Experiment | Test,
  expected: unknown,
  where: string,
): Promise<void> {
  assert.ok(expected instanceof Map);
  assert.deepEqual(
    holder.artifacts.map((artifact) => artifact.name),
    [...expected.keys()],
  );
  for (const artifact of holder.artifacts) {
    const value = await holder.loadArtifact(artifact.name, {
      readerKwargs: { exact: true },
    });
    const pythonValue = expected.get(artifact.name);
    if (pythonValue instanceof Map && pythonValue.has("$unsupported")) {
      // A class the describer does not cover: compare with CPython's symbolic unpickler.
      const path = `${holder.path}/${artifact.fname}`;
      const data = await Deno.readFile(path);
      const difference = compareTagged(
        toTagged(decode(data, { exact: true }), { exact: true }),
        await symbolicOf(path),
      );
      assert.equal(
        difference,
        null,
        `${where} ${artifact.name}: ${difference}`,
      );
      continue;
    }
    assert.deepStrictEqual(
      loads(taggedJson(value), { exact: true }),
      pythonValue,
      `${where} artifact ${artifact.name}`,
    );
  }
}

/** Opens a Python-built project here and checks every field and value against Python's. */
async function assertProjectMatchesPython(dir: string): Promise<void> {
  const described = await describeProject(dir);
  const project = await Project.open(`${dir}/project.json`, { mode: "r" });
  assert.equal(project.experiments.length, described.length);
  for (const [index, experiment] of project.experiments.entries()) {
    const python = described[index] as Map<string, unknown>;
    const entry = field(python, "entry");
    assert.deepStrictEqual(experiment.toEntry(), entry, experiment.slug);
    await assertArtifactsEqual(
      experiment,
      field(python, "artifacts"),
      experiment.slug,
    );
    const tests = field(python, "tests") as Map<string, unknown>;
    for (const test of experiment.tests) {
      await assertArtifactsEqual(
        test,
        tests.get(test.name),
        `${experiment.slug}/${test.name}`,
      );
    }
    // Python resolves dependencies when it opens a project; here they resolve on demand.
    const dependencies = field(python, "dependencies") as Map<string, string>;
    const previous = Deno.cwd();
    Deno.chdir(dir);
    try {
      const resolved = await experiment.resolveDependencies();
      assert.deepEqual(
        new Map([...resolved].map(([key, value]) => [key, value.slug])),
        dependencies,
      );
    } finally {
      Deno.chdir(previous);
    }
  }
  // The Python-made data exercises what it should.
  const baseline = project.get("baseline-model")!;
  assert.equal(baseline.metrics.accuracy, 1);
  assert.equal(baseline.metrics.big, 2n ** 60n);
  assert.deepEqual(baseline.tags, ["baseline", "svm"]);
  assert.equal(baseline.tests.length, 2);
  assert.equal(project.get("gradient-boosting")!.parameters.trees, 300);
}

Deno.test("a project Python built opens here with every field and artifact equal", async () => {
  const dir = await copyTree(fixture);
  try {
    await assertProjectMatchesPython(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a project Python builds now opens here equal and re-saves byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lazyscribe-fresh-" });
  try {
    await python(makeDemoScript, [dir], root);
    await assertProjectMatchesPython(dir);
    const before = await snapshot(dir);
    for (const mode of ["w+", "a"] as const) {
      const project = await Project.open(`${dir}/project.json`, { mode });
      await project.save();
    }
    const repository = await Repository.open(`${dir}/repo/repository.json`);
    await repository.save();
    assert.deepStrictEqual(await snapshot(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Python-built files re-saved here unchanged are byte-identical", async () => {
  const dir = await copyTree(fixture);
  try {
    const before = await snapshot(dir);
    for (const location of ["project.json", "upstream/project.json"]) {
      for (const mode of ["w+", "a"] as const) {
        const project = await Project.open(`${dir}/${location}`, { mode });
        await project.save();
      }
    }
    const repository = await Repository.open(`${dir}/repo/repository.json`);
    await repository.save();
    const after = await snapshot(dir);
    assert.deepStrictEqual([...after.keys()].sort(), [...before.keys()].sort());
    for (const [path, bytes] of before) {
      assert.deepStrictEqual(after.get(path), bytes, path);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Version queries around every creation and expiry time of a repository, ±1 second. */
function versionQueries(
  repository: Repository,
): [string, ArtifactVersion | null, VersionMatch][] {
  const queries: [string, ArtifactVersion | null, VersionMatch][] = [];
  const names = new Set(repository.artifacts.map((artifact) => artifact.name));
  const times = new Set<number>();
  for (const artifact of repository.artifacts) {
    times.add(artifact.createdAt.getTime());
    if (artifact.expiry !== null) times.add(artifact.expiry.getTime());
  }
  for (const name of names) {
    queries.push([name, null, "exact"]);
    for (let version = 0; version <= 4; version++) {
      queries.push([name, version, "exact"]);
    }
    for (const time of times) {
      for (const delta of [-1000, 0, 1000]) {
        const text = new Date(time + delta).toISOString().slice(0, 19);
        queries.push([name, text, "asof"], [name, text, "exact"]);
      }
    }
  }
  queries.push(["missing", null, "exact"], ["thresholds", "yesterday", "asof"]);
  return queries;
}

const PYTHON_ERRORS: Record<string, string> = {
  VersionNotFoundError: "VersionNotFoundError",
  ArtifactLoadError: "ValueError",
  InvalidVersionError: "InvalidVersionError",
  TypeError: "ValueError",
};

async function assertVersionChoicesMatchPython(dir: string): Promise<number> {
  const repository = await Repository.open(`${dir}/repo/repository.json`, {
    mode: "r",
  });
  const queries = versionQueries(repository);
  const queryFile = `${dir}/queries.json`;
  await Deno.writeTextFile(queryFile, JSON.stringify(queries));
  const python = loads(
    await pythonCall(
      ["repository", "repo/repository.json", queryFile, "--parse-expiry"],
      dir,
    ),
    { exact: true },
  ) as Map<string, unknown>;
  await Deno.remove(queryFile);
  const answers = python.get("answers") as unknown[];
  let found = 0;
  for (const [index, [name, version, match]] of queries.entries()) {
    let mine: unknown;
    try {
      mine = BigInt(
        repository.findArtifact(name, { version, match }).version,
      );
      found++;
    } catch (error) {
      mine = PYTHON_ERRORS[(error as Error).name] ?? (error as Error).name;
    }
    assert.deepStrictEqual(
      mine,
      answers[index],
      `${name} ${version} ${match}`,
    );
  }
  const values = python.get("values") as Map<string, unknown>;
  for (const artifact of repository.artifacts) {
    const value = await repository.loadArtifact(artifact.name, {
      version: artifact.version,
      readerKwargs: { exact: true },
    });
    assert.deepStrictEqual(
      loads(taggedJson(value), { exact: true }),
      values.get(`${artifact.name}@${artifact.version}`),
    );
  }
  return found;
}

function pythonCall(args: string[], cwd: string): Promise<string> {
  return python(describeScript, args, cwd);
}

Deno.test("a repository Python built: version searches pick what Python picks", async () => {
  const dir = await copyTree(fixture);
  try {
    const found = await assertVersionChoicesMatchPython(dir);
    assert.ok(found > 20, `only ${found} queries found a version`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a project built here opens in Python lazyscribe with equal values", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lazyscribe-ts-" });
  try {
    const upstream = await Project.open(`${dir}/upstream/project.json`, {
      mode: "w",
      author: "deno",
    });
    const source = upstream.log("Feature build");
    source.logArtifact({ name: "columns", value: ["a", "b"], handler: "json" });
    await upstream.save();

    const fixtureProject = await Project.open(`${fixture}/project.json`, {
      mode: "r",
    });
    const numpyModel = await fixtureProject.get("baseline-model")!
      .loadArtifact("model", { readerKwargs: { exact: true } });
    const expected = new Map<string, string>();
    const project = await Project.open(`${dir}/project.json`, {
      mode: "w",
      author: "deno",
    });
    const experiment = project.log("Deno run");
    experiment.logMetric("auroc", 0.625);
    experiment.logMetric("epochs", 12);
    experiment.logMetric("big", 2n ** 64n);
    experiment.logParameter("layers", [64, 32]);
    experiment.logParameter("options", { z: null, a: [1.5, true, "x"] });
    experiment.logParameter("started", new Date("2025-01-20T13:23:30Z"));
    experiment.logParameter("note", "caf\u00e9 \u{1f600}");
    experiment.tag("deno", "interop");
    experiment.addDependency(source);
    const values: [string, unknown, string, Record<string, unknown>][] = [
      ["features", [0, 1, 2], "json", {}],
      ["config", { b: 1, a: { nested: [1.5, NaN] } }, "json", {
        indent: 2,
        sort_keys: true,
      }],
      [
        "model",
        new Map<unknown, unknown>([
          ["weights", [0.5, -1.25]],
          [Tuple.of(1, 2), "tuple key"],
          ["blob", new Uint8Array([0, 255])],
          ["tags", new Set(["a"])],
          ["count", 2n ** 70n],
        ]),
        "pickle",
        {},
      ],
      ["numpy model", numpyModel, "pickle", { protocol: 5 }],
    ];
    for (const [name, value, handler, kwargs] of values) {
      experiment.logArtifact({ name, value, handler, ...kwargs });
      expected.set(
        name,
        taggedJson(value, { exact: value === numpyModel }),
      );
    }
    experiment.logArtifact({
      name: "nested file",
      value: { x: 1 },
      handler: "json",
      fname: "sub/dir/nested.json",
    });
    expected.set("nested file", taggedJson({ x: 1 }, { exact: false }));
    const test = experiment.logTest("Segment A", "First segment");
    test.logMetric("auroc", 0.5);
    test.logParameter("rows", 10);
    test.logArtifact({ name: "ids", value: [3, 4], handler: "pickle" });
    await project.save();
    // Python opens the project with the dependency relative to its working directory.
    assert.equal(
      experiment.dependencies[0].project,
      `${dir}/upstream/project.json`,
    );

    const [python] = await describeProject(dir) as Map<string, unknown>[];
    assert.deepStrictEqual(experiment.toEntry(), python.get("entry"));
    const artifacts = python.get("artifacts") as Map<string, unknown>;
    for (const [name, text] of expected) {
      assert.deepStrictEqual(
        artifacts.get(name),
        loads(text, { exact: true }),
        name,
      );
    }
    const testValues = (python.get("tests") as Map<string, unknown>).get(
      "Segment A",
    ) as Map<string, unknown>;
    assert.deepStrictEqual(testValues.get("ids"), [3n, 4n]);
    assert.deepStrictEqual(
      python.get("dependencies"),
      new Map([["feature-build", source.slug]]),
    );
    assert.ok(
      (await Deno.stat(`${dir}/${experiment.slug}/sub/dir/nested.json`))
        .isFile,
    );
    assert.ok(
      (await Deno.stat(
        `${dir}/${experiment.slug}/segment-a/${test.artifacts[0].fname}`,
      )).isFile,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a repository built here: Python picks the same versions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lazyscribe-ts-repo-" });
  try {
    const repository = await Repository.open(`${dir}/repo/repository.json`);
    const hour = 3600_000;
    const start = Date.UTC(2025, 0, 20, 12);
    for (let version = 0; version < 4; version++) {
      for (const name of ["thresholds", "model"]) {
        const artifact = repository.logArtifact({
          name,
          value: name === "model" ? [version, version / 2] : { cut: version },
          handler: name === "model" ? "pickle" : "json",
          fname: `${name}-v${version}.${name === "model" ? "pkl" : "json"}`,
        });
        // Versions an hour apart; "model" versions a second later than "thresholds".
        artifact.createdAt = new Date(
          start + version * hour + (name === "model" ? 1000 : 0),
        );
      }
    }
    repository.setArtifactExpiry("thresholds", {
      version: 1,
      expiry: new Date(start + hour + 1800_000),
    });
    repository.setArtifactExpiry("thresholds", {
      version: 3,
      expiry: "2099-01-01T00:00:00",
    });
    repository.setArtifactExpiry("model", { version: 3 });
    await repository.save();
    const found = await assertVersionChoicesMatchPython(dir);
    assert.ok(found > 20, `only ${found} queries found a version`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Python refuses a pickle marked for another Python unless validate=False", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lazyscribe-pyver-" });
  try {
    const project = await Project.open(`${dir}/project.json`, { mode: "w" });
    const experiment = project.log("Versions");
    experiment.logArtifact({ name: "ok", value: [1], handler: "pickle" });
    const other = experiment.logArtifact({
      name: "other",
      value: [2],
      handler: "pickle",
    }) as PickleArtifact;
    other.pythonVersion = "3.12";
    await project.save();
    const source = `
import json
from lazyscribe import Project
from lazyscribe.exception import ArtifactLoadError
exp = Project("project.json", mode="r").experiments[0]
out = {"ok": exp.load_artifact("ok"), "unvalidated": exp.load_artifact("other", validate=False)}
try:
    exp.load_artifact("other")
except ArtifactLoadError:
    out["validated"] = "ArtifactLoadError"
print(json.dumps(out))
`;
    assert.deepEqual(await pythonJson(source, [], { cwd: dir }), {
      ok: [1],
      unvalidated: [2],
      validated: "ArtifactLoadError",
    });
    // The same check here.
    await assert.rejects(
      experiment.loadArtifact("other"),
      { name: "ArtifactLoadError" },
    );
    assert.deepEqual(
      await experiment.loadArtifact("other", { validate: false }),
      [2],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
