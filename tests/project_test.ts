/** Project, Experiment and Test: modes, read-only experiments, layout, atomic saves, errors. */

import assert from "node:assert/strict";
import {
  ArtifactLoadError,
  ArtifactLogError,
  ReadOnlyError,
  SaveError,
} from "../src/errors.ts";
import { MalformedFileError, Project } from "../src/project.ts";
import { MemoryStorage } from "../src/open_storage.ts";
import { UnknownHandlerError } from "../src/registry.ts";
import { fileStamp } from "../src/artifact.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function readText(storage: MemoryStorage, path: string): Promise<string> {
  return decoder.decode(await storage.readFile(path));
}

/** A project with one experiment holding one artifact and one test artifact, saved. */
async function savedProject(storage: MemoryStorage) {
  const project = await Project.open("p/project.json", {
    storage,
    author: "ana",
  });
  const experiment = project.log("Baseline model");
  experiment.logMetric("auroc", 0.5);
  experiment.logArtifact({ name: "features", value: [0, 1], handler: "json" });
  const test = experiment.logTest("Young users", "Under 25");
  test.logArtifact({ name: "ages", value: [18, 24], handler: "pickle" });
  await project.save();
  return { project, experiment, test };
}

Deno.test("a saved project has lazyscribe's layout and file names", async () => {
  const storage = new MemoryStorage();
  const { experiment, test } = await savedProject(storage);
  const stamp = experiment.slug.slice(-14);
  assert.match(stamp, /^\d{14}$/);
  assert.equal(experiment.slug, `baseline-model-${stamp}`);
  assert.equal(experiment.shortSlug, "baseline-model");
  assert.equal(experiment.path, `p/${experiment.slug}`);
  assert.equal(test.path, `p/${experiment.slug}/young-users`);
  const features = experiment.artifacts[0];
  // An artifact is stamped with the experiment's last update at the time it is logged.
  assert.ok(features.createdAt <= experiment.lastUpdated);
  assert.equal(
    features.fname,
    `features-${fileStamp(features.createdAt)}.json`,
  );
  assert.equal(
    await readText(storage, `${experiment.path}/${features.fname}`),
    "[0, 1]",
  );
  assert.ok(await storage.isFile(`${test.path}/${test.artifacts[0].fname}`));
  const text = await readText(storage, "p/project.json");
  assert.ok(text.startsWith('[\n    {\n        "artifacts": [\n'));
  assert.ok(!text.endsWith("\n"));
  assert.ok(experiment.artifacts.every((artifact) => !artifact.dirty));
  assert.equal(experiment.dirty, false);
});

Deno.test("mode r: experiments are read-only, nothing can be logged or saved", async () => {
  const storage = new MemoryStorage();
  await savedProject(storage);
  const project = await Project.open("p/project.json", { storage, mode: "r" });
  const [experiment] = project.experiments;
  assert.equal(experiment.readOnly, true);
  assert.throws(() => project.log("New"), ReadOnlyError);
  await assert.rejects(project.save(), ReadOnlyError);
  assert.throws(() => experiment.logMetric("x", 1), ReadOnlyError);
  assert.throws(() => experiment.logParameter("x", 1), ReadOnlyError);
  assert.throws(() => experiment.tag("x"), ReadOnlyError);
  assert.throws(
    () => experiment.logArtifact({ name: "x", value: 1, handler: "json" }),
    ReadOnlyError,
  );
  assert.throws(() => experiment.logTest("x"), ReadOnlyError);
  assert.throws(() => experiment.tests[0].logMetric("x", 1), ReadOnlyError);
  // Fields are frozen, as Python's frozen attrs classes are.
  assert.throws(() => {
    experiment.metrics.auroc = 1;
  }, TypeError);
  assert.throws(() => {
    experiment.tags.push("x");
  }, TypeError);
  assert.deepEqual(await experiment.loadArtifact("features"), [0, 1]);
  assert.deepEqual(await experiment.tests[0].loadArtifact("ages"), [18, 24]);
});

Deno.test("mode a: old experiments stay read-only, new ones are saved beside them", async () => {
  const storage = new MemoryStorage();
  const { experiment: old } = await savedProject(storage);
  const oldFile = `${old.path}/${old.artifacts[0].fname}`;
  await storage.writeFile(oldFile, encoder.encode("[9]"));
  const project = await Project.open("p/project.json", { storage });
  assert.equal(project.mode, "a");
  assert.equal(project.experiments[0].readOnly, true);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const added = project.log("Second");
  added.logArtifact({ name: "n", value: 1, handler: "json" });
  await project.save();
  // The read-only experiment's artifact is not rewritten.
  assert.equal(await readText(storage, oldFile), "[9]");
  const reopened = await Project.open("p/project.json", { storage, mode: "r" });
  assert.deepEqual(
    reopened.experiments.map((experiment) => experiment.name),
    ["Baseline model", "Second"],
  );
  assert.equal(await reopened.experiments[1].loadArtifact("n"), 1);
});

Deno.test("mode w ignores the file and replaces it; w+ edits and stamps the editor", async () => {
  const storage = new MemoryStorage();
  await savedProject(storage);
  const fresh = await Project.open("p/project.json", { storage, mode: "w" });
  assert.equal(fresh.experiments.length, 0);

  const editable = await Project.open("p/project.json", {
    storage,
    mode: "w+",
    author: "bo",
  });
  const [experiment] = editable.experiments;
  assert.equal(experiment.readOnly, false);
  assert.equal(experiment.lastUpdatedBy, "ana");
  const before = experiment.lastUpdated;
  experiment.logMetric("recall", 0.25);
  assert.ok(experiment.lastUpdated >= before);
  await editable.save();
  assert.equal(experiment.lastUpdatedBy, "bo");
  assert.equal(experiment.author, "ana");

  await fresh.save();
  assert.equal(await readText(storage, "p/project.json"), "[]");
});

Deno.test("an invalid mode or a missing file", async () => {
  const storage = new MemoryStorage();
  await assert.rejects(
    // @ts-expect-error: not a mode
    Project.open("p/project.json", { storage, mode: "x" }),
    RangeError,
  );
  const empty = await Project.open("nothing/project.json", { storage });
  assert.equal(empty.experiments.length, 0);
});

Deno.test("malformed project files throw MalformedFileError naming the place", async () => {
  const cases: [string, RegExp][] = [
    ["{", /not valid JSON: Expecting property name/],
    ['{"a": 1}', /must hold a JSON list, not an object/],
    [
      "[1]",
      /Experiment 0 of memory:\/\/p\/project.json must be an object, not a number/,
    ],
    [
      '[{"created_at": "2025-01-01T00:00:00"}]',
      /"name" must be a string, not missing/,
    ],
    [
      '[{"name": "x", "created_at": "yesterday", "last_updated": "2025-01-01T00:00:00"}]',
      /"created_at" Invalid isoformat string: 'yesterday'/,
    ],
    [
      '[{"name": "x", "created_at": "2025-01-01T00:00:00", "last_updated": "2025-01-01T00:00:00", "dependencies": ["a|b|c"]}]',
      /dependency 0 must be "<project>\|<slug>"/,
    ],
    [
      '[{"name": "x", "created_at": "2025-01-01T00:00:00", "last_updated": "2025-01-01T00:00:00", "artifacts": [{"name": "a", "handler": "yaml", "created_at": "2025-01-01T00:00:00"}]}]',
      /artifact 0: Artifact "a": No handler available with the name "yaml"/,
    ],
    [
      '[{"name": "x", "created_at": "2025-01-01T00:00:00", "last_updated": "2025-01-01T00:00:00", "tests": [{"metrics": {}}]}]',
      /Test 0 of experiment 0 of memory:\/\/p\/project.json: "name" must be a string/,
    ],
  ];
  for (const [text, message] of cases) {
    const storage = new MemoryStorage();
    await storage.writeFile("p/project.json", encoder.encode(text));
    await assert.rejects(
      Project.open("p/project.json", { storage }),
      (error: Error) => {
        assert.ok(error instanceof MalformedFileError, text);
        assert.match(error.message, message);
        return true;
      },
    );
  }
  const storage = new MemoryStorage();
  await storage.writeFile("p/project.json", new Uint8Array([0x5b, 0xff, 0x5d]));
  await assert.rejects(
    Project.open("p/project.json", { storage }),
    /is not UTF-8 text/,
  );
});

Deno.test("entries of older lazyscribe versions load with defaults", async () => {
  const storage = new MemoryStorage();
  await storage.writeFile(
    "p/project.json",
    encoder.encode(JSON.stringify([{
      name: "Old run",
      author: "ana",
      created_at: "2023-06-01T10:00:00",
      last_updated: "2023-06-01T10:00:00",
      metrics: { auroc: 0.5 },
      short_slug: "old-run",
      slug: "old-run-20230601100000",
      tests: [{ name: "t", description: null, metrics: {}, parameters: {} }],
      artifacts: [{
        name: "features",
        fname: "features.json",
        created_at: "2023-06-01T10:00:00",
        handler: "json",
        python_version: "3.10",
      }],
    }])),
  );
  const project = await Project.open("p/project.json", { storage, mode: "w+" });
  const [experiment] = project.experiments;
  assert.equal(experiment.lastUpdatedBy, "ana");
  assert.deepEqual(experiment.tags, []);
  assert.deepEqual(experiment.tests[0].artifacts, []);
  await project.save();
  const saved = JSON.parse(await readText(storage, "p/project.json"));
  // As Python lazyscribe 2.x rewrites it: missing fields filled in, legacy ones dropped.
  assert.deepEqual(saved[0].artifacts[0], {
    created_at: "2023-06-01T10:00:00",
    expiry: null,
    fname: "features.json",
    handler: "json",
    name: "features",
    version: 0,
  });
  assert.deepEqual(saved[0].tests[0].artifacts, []);
  assert.deepEqual(saved[0].dependencies, []);
});

Deno.test("metrics and parameters keep their Python types until they change", async () => {
  const storage = new MemoryStorage();
  const text = `[
    {
        "artifacts": [],
        "author": "ana",
        "created_at": "2025-01-20T13:23:30",
        "dependencies": [],
        "last_updated": "2025-01-20T13:23:30",
        "last_updated_by": "ana",
        "metrics": {
            "accuracy": 1.0,
            "big": 123456789012345678901234567890,
            "n": 3
        },
        "name": "Run",
        "parameters": {
            "grid": [
                1.0,
                2
            ]
        },
        "short_slug": "run",
        "slug": "run-20250120132330",
        "tags": [],
        "tests": []
    }
]`;
  await storage.writeFile("p/project.json", encoder.encode(text));
  const project = await Project.open("p/project.json", { storage, mode: "w+" });
  const [experiment] = project.experiments;
  assert.equal(experiment.metrics.accuracy, 1);
  assert.equal(experiment.metrics.big, 123456789012345678901234567890n);
  assert.equal(decoder.decode(project.encode()), text);
  experiment.logMetric("n", 4);
  experiment.logMetric("ratio", 2);
  (experiment.parameters.grid as number[]).push(3.5);
  const saved = decoder.decode(project.encode());
  assert.match(saved, /"accuracy": 1\.0,/);
  assert.match(saved, /"n": 4,/);
  assert.match(saved, /"ratio": 2\n/);
  // A changed value is written from its JavaScript form: integral numbers are ints.
  assert.match(saved, /"grid": \[\n\s+1,\n\s+2,\n\s+3\.5\n/);
});

Deno.test("parameters: dates become lazyscribe times, values without JSON form fail the save", async () => {
  const storage = new MemoryStorage();
  const project = await Project.open("p/project.json", { storage });
  const experiment = project.log("Run");
  experiment.logParameter("start", new Date("2025-01-20T13:23:30.900Z"));
  assert.match(
    decoder.decode(project.encode()),
    /"start": "2025-01-20T13:23:30"/,
  );
  experiment.logParameter("bad", () => 1);
  await assert.rejects(project.save(), (error: Error) => {
    assert.ok(error instanceof SaveError);
    assert.match(
      error.message,
      /Unable to save the project JSON file to memory:\/\/p\/project.json/,
    );
    return true;
  });
  assert.equal(await storage.isFile("p/project.json"), false);
});

Deno.test("logging artifacts: names are unique unless overwritten, handlers must exist", async () => {
  const storage = new MemoryStorage();
  const project = await Project.open("p/project.json", { storage });
  const experiment = project.log("Run");
  experiment.logArtifact({ name: "a", value: 1, handler: "json" });
  assert.throws(
    () => experiment.logArtifact({ name: "a", value: 2, handler: "json" }),
    ArtifactLogError,
  );
  experiment.logArtifact({
    name: "a",
    value: 2,
    handler: "pickle",
    overwrite: true,
  });
  assert.equal(experiment.artifacts.length, 1);
  assert.equal(experiment.artifacts[0].handler.alias, "pickle");
  assert.throws(
    () => experiment.logArtifact({ name: "b", value: 1, handler: "yaml" }),
    UnknownHandlerError,
  );
  const test = experiment.logTest("T");
  test.logArtifact({ name: "a", value: 1, handler: "json" });
  assert.throws(
    () => test.logArtifact({ name: "a", value: 1, handler: "json" }),
    /already exists in the test/,
  );
  await assert.rejects(experiment.loadArtifact("missing"), ArtifactLoadError);
  // Python reads artifacts from their files: an unsaved one cannot be loaded yet.
  await assert.rejects(experiment.loadArtifact("a"), /the file does not exist/);
});

Deno.test("writer keyword arguments reach the handler; fname may hold folders", async () => {
  const storage = new MemoryStorage();
  const project = await Project.open("p/project.json", { storage });
  const experiment = project.log("Run");
  const artifact = experiment.logArtifact({
    name: "cfg",
    value: { b: 1, a: 2 },
    handler: "json",
    fname: "configs/cfg.json",
    indent: 2,
    sort_keys: true,
  });
  assert.deepEqual(artifact.writerKwargs, { indent: 2, sort_keys: true });
  await project.save();
  assert.equal(
    await readText(storage, `${experiment.path}/configs/cfg.json`),
    '{\n  "a": 2,\n  "b": 1\n}',
  );
});

Deno.test("a failed save leaves the previous project intact", async () => {
  const storage = new MemoryStorage();
  const { project } = await savedProject(storage);
  const before = await storage.readFile("p/project.json");
  const experiment = project.log("Broken");
  experiment.logArtifact({ name: "ok", value: [1], handler: "json" });
  // A JSON artifact cannot hold a function: the handler fails after the project file is staged.
  experiment.logArtifact({ name: "bad", value: () => 1, handler: "json" });
  await assert.rejects(project.save(), (error: Error) => {
    assert.ok(error instanceof SaveError);
    assert.match(error.message, /Cannot write artifact "bad"/);
    return true;
  });
  assert.deepEqual(await storage.readFile("p/project.json"), before);
  assert.equal(await storage.isDir(experiment.path), true); // staging made the folder
  assert.equal(
    await storage.isFile(`${experiment.path}/${experiment.artifacts[0].fname}`),
    false,
  );
  assert.equal(experiment.artifacts[0].dirty, true);
  assert.equal(experiment.dirty, true);
});

/** A storage that fails to move a temporary file onto one target, to break a commit. */
class FailingStorage extends MemoryStorage {
  failingTarget = "";
  override rename(from: string, to: string): Promise<void> {
    if (to === this.failingTarget && from.endsWith(".tmp")) {
      return Promise.reject(new Error("disk full"));
    }
    return super.rename(from, to);
  }
}

Deno.test("a save that fails while moving files into place rolls back", async () => {
  const storage = new FailingStorage();
  const { project, experiment } = await savedProject(storage);
  const before = await storage.readFile("p/project.json");
  const project2 = await Project.open("p/project.json", {
    storage,
    mode: "w+",
  });
  project2.experiments[0].logArtifact({
    name: "features",
    value: [5],
    handler: "json",
    overwrite: true,
  });
  const newFile = `${experiment.path}/${
    project2.experiments[0].artifacts.find((a) => a.name === "features")!.fname
  }`;
  const oldFeatures = await storage.readFile(
    `${experiment.path}/${experiment.artifacts[0].fname}`,
  );
  // project.json is replaced first, then the artifact's move fails.
  storage.failingTarget = newFile;
  await assert.rejects(project2.save(), (error: Error) => {
    assert.ok(error instanceof SaveError);
    assert.match(error.message, /disk full/);
    return true;
  });
  assert.deepEqual(await storage.readFile("p/project.json"), before);
  assert.deepEqual(
    await storage.readFile(
      `${experiment.path}/${experiment.artifacts[0].fname}`,
    ),
    oldFeatures,
  );
  if (newFile !== `${experiment.path}/${experiment.artifacts[0].fname}`) {
    assert.equal(await storage.isFile(newFile), false);
  }
  assert.deepEqual(
    storage.paths().filter((path) => /\.(tmp|bak)$/.test(path)),
    [],
  );
  assert.ok(project.experiments.length === 1);
});

Deno.test("filter, get and has find experiments by name, slug and tag", async () => {
  const storage = new MemoryStorage();
  const project = await Project.open("p/project.json", { storage });
  const first = project.log("Boosting");
  first.tag("gbm");
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const second = project.log("Boosting");
  second.tag("gbm", "final");
  const svm = project.log("SVM");
  svm.tag("svm");
  assert.notEqual(first.slug, second.slug);
  assert.equal(project.get("boosting"), second);
  assert.equal(project.get(first.slug), first);
  assert.equal(project.get("nope"), undefined);
  assert.ok(project.has("svm"));
  assert.deepEqual(project.filter({ tag: "gbm" }), [first, second]);
  assert.deepEqual(project.filter({ tag: "gbm", slug: second.slug }), [second]);
  assert.deepEqual(project.filter({ name: "SVM" }), [svm]);
  assert.deepEqual(project.filter((e) => e.tags.includes("final")), [second]);
  second.tag("only", { overwrite: true });
  assert.deepEqual(second.tags, ["only"]);
});

Deno.test("dependencies are written as project|slug and resolve to upstream experiments", async () => {
  const storage = new MemoryStorage();
  const upstream = await Project.open("up/project.json", { storage });
  const source = upstream.log("Features");
  await upstream.save();
  const project = await Project.open("down/project.json", { storage });
  const experiment = project.log("Model");
  experiment.addDependency(source);
  await project.save();
  const saved = JSON.parse(await readText(storage, "down/project.json"));
  assert.deepEqual(saved[0].dependencies, [`up/project.json|${source.slug}`]);
  const reopened = await Project.open("down/project.json", {
    storage,
    mode: "r",
  });
  const resolved = await reopened.experiments[0].resolveDependencies();
  assert.equal(resolved.get("features")?.slug, source.slug);

  experiment.addDependency(project.log("Not saved"));
  await assert.rejects(experiment.resolveDependencies(), ArtifactLoadError);
});

Deno.test("a read-only storage refuses the save", async () => {
  const storage = new MemoryStorage();
  await savedProject(storage);
  Object.defineProperty(storage, "readOnly", { value: true });
  const project = await Project.open("p/project.json", { storage, mode: "w+" });
  await assert.rejects(project.save(), ReadOnlyError);
});
