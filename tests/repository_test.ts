/** Repository: versions, searches, expiry, metadata, diffs (against CPython's difflib), promotion. */

import assert from "node:assert/strict";
import {
  ArtifactLoadError,
  ArtifactLogError,
  InvalidVersionError,
  LazyscribeError,
  ReadOnlyError,
  SaveError,
  VersionNotFoundError,
} from "../src/errors.ts";
import { MemoryStorage } from "../src/open_storage.ts";
import { Project } from "../src/project.ts";
import { Repository } from "../src/repository.ts";
import { splitLines, unifiedDiff } from "../src/_unified_diff.ts";
import { pythonJson } from "./_python.ts";

const HOUR = 3600_000;
const START = Date.UTC(2025, 0, 20, 12);

function at(hours: number): Date {
  return new Date(START + hours * HOUR);
}

/** "m" versions 0-3 created at hours 0-3; version 1 expires at hour 1.5, version 3 at hour 10. */
async function timedRepository(storage = new MemoryStorage()) {
  const repository = await Repository.open("r/repository.json", { storage });
  for (let version = 0; version < 4; version++) {
    const artifact = repository.logArtifact({
      name: "m",
      value: { v: version },
      handler: "json",
      fname: `m-${version}.json`,
    });
    artifact.createdAt = at(version);
  }
  repository.setArtifactExpiry("m", { version: 1, expiry: at(1.5) });
  repository.setArtifactExpiry("m", {
    version: 3,
    expiry: at(10).toISOString().slice(0, 19),
  });
  return repository;
}

Deno.test("versions count up per name; files go to <name>/<fname>", async () => {
  const storage = new MemoryStorage();
  const repository = await Repository.open("r/repository.json", { storage });
  assert.equal(repository.mode, "w+");
  const a0 = repository.logArtifact({
    name: "My Model",
    value: [1],
    handler: "pickle",
  });
  const b0 = repository.logArtifact({ name: "b", value: 1, handler: "json" });
  const a1 = repository.logArtifact({
    name: "My Model",
    value: [2],
    handler: "pickle",
  });
  assert.deepEqual([a0.version, b0.version, a1.version], [0, 0, 1]);
  assert.ok(a0.dirty);
  await repository.save();
  assert.ok(!a0.dirty);
  // The folder is the raw name, not a slug.
  assert.ok(await storage.isFile(`r/My Model/${a0.fname}`));
  const reopened = await Repository.open("r/repository.json", { storage });
  assert.equal(
    reopened.logArtifact({ name: "My Model", value: [3], handler: "pickle" })
      .version,
    2,
  );
  assert.ok(reopened.has("b"));
  assert.ok(!reopened.has("c"));
});

Deno.test("modes: r refuses changes, w ignores the file, a does not exist", async () => {
  const storage = new MemoryStorage();
  const repository = await timedRepository(storage);
  await repository.save();
  const reader = await Repository.open("r/repository.json", {
    storage,
    mode: "r",
  });
  assert.equal(reader.artifacts.length, 4);
  assert.throws(
    () => reader.logArtifact({ name: "m", value: 1, handler: "json" }),
    ReadOnlyError,
  );
  assert.throws(() => reader.setArtifactExpiry("m"), ReadOnlyError);
  await assert.rejects(reader.save(), ReadOnlyError);
  const writer = await Repository.open("r/repository.json", {
    storage,
    mode: "w",
  });
  assert.equal(writer.artifacts.length, 0);
  await assert.rejects(
    // @ts-expect-error: lazyscribe 2 removed mode "a"
    Repository.open("r/repository.json", { storage, mode: "a" }),
    RangeError,
  );
});

Deno.test("version search: latest, exact, asof with expiry, errors", async () => {
  const repository = await timedRepository();
  const find = (
    version?: number | Date | string | null,
    match?: "exact" | "asof",
  ) => repository.findArtifact("m", { version, match }).version;
  // Latest not expired now: version 3 expires at hour 10 of 2025, so it has expired.
  assert.equal(find(), 2);
  assert.equal(find(1), 1);
  assert.equal(find(at(2)), 2);
  assert.equal(find("2025-01-20T14:00:00"), 2);
  assert.equal(find("2025-1-20T14:0:0"), 2); // strptime accepts one-digit fields
  // asof is inclusive of the creation second.
  assert.equal(find(at(2), "asof"), 2);
  // Just before version 2: version 1 is the newest made, but it expired at hour 1.5.
  assert.equal(find(new Date(at(2).getTime() - 1000), "asof"), 0);
  // Version 1 expired at hour 1.5: as of then, version 0 is the newest alive.
  assert.equal(find(at(1.5), "asof"), 0);
  assert.equal(find(at(1.25), "asof"), 1);
  assert.equal(find(at(9), "asof"), 3);
  assert.equal(find(at(10), "asof"), 2);
  assert.throws(() => find(at(-1), "asof"), VersionNotFoundError);
  assert.throws(() => find(at(2.5)), VersionNotFoundError);
  assert.throws(() => find(7), VersionNotFoundError);
  assert.throws(() => find("yesterday"), InvalidVersionError);
  assert.throws(() => find("2025-02-30T00:00:00"), InvalidVersionError);
  assert.throws(() => find(1, "asof"), TypeError);
  assert.throws(
    () => repository.findArtifact("missing"),
    (error: Error) =>
      error instanceof ArtifactLoadError &&
      /No artifact with name missing/.test(error.message),
  );
  for (const artifact of repository.artifacts) artifact.expiry = at(0);
  assert.throws(() => find(), /all artifacts with the name 'm' are expired/);
  assert.throws(() => find(at(3), "asof"), /are expired/);
});

Deno.test("expiry: set as Date, text or now; parsed on load and written unchanged", async () => {
  const storage = new MemoryStorage();
  const repository = await timedRepository(storage);
  const before = Date.now();
  repository.setArtifactExpiry("m", { version: 0 });
  assert.ok(repository.artifacts[0].expiry!.getTime() >= before);
  assert.throws(
    () =>
      repository.setArtifactExpiry("m", {
        version: 2,
        expiry: 5 as unknown as Date,
      }),
    TypeError,
  );
  assert.throws(
    () => repository.setArtifactExpiry("m", { version: 2, expiry: "soon" }),
    InvalidVersionError,
  );
  await repository.save();
  const text = new TextDecoder().decode(
    await storage.readFile("r/repository.json"),
  );
  assert.match(text, /"expiry": "2025-01-20T13:30:00"/);
  assert.match(text, /"expiry": "2025-01-20T22:00:00"/);
  const reopened = await Repository.open("r/repository.json", {
    storage,
    mode: "r",
  });
  assert.deepEqual(reopened.artifacts[1].expiry, at(1.5));
  assert.equal(new TextDecoder().decode(reopened.encode()), text);
  assert.deepEqual(
    await reopened.loadArtifact("m", { version: at(1.25), match: "asof" }),
    {
      v: 1,
    },
  );
});

Deno.test("metadata is the stored entry of the chosen version", async () => {
  const repository = await timedRepository();
  assert.deepEqual(repository.getArtifactMetadata("m", { version: 1 }), {
    name: "m",
    fname: "m-1.json",
    created_at: "2025-01-20T13:00:00",
    expiry: "2025-01-20T13:30:00",
    version: 1,
    handler: "json",
  });
});

Deno.test("filter keeps one version per artifact and needs a saved, read-only repository", async () => {
  const storage = new MemoryStorage();
  const repository = await timedRepository(storage);
  repository.logArtifact({ name: "late", value: 1, handler: "json" });
  assert.throws(() => repository.filter(at(2)), /read-only mode for filtering/);
  await repository.save();
  const reader = await Repository.open("r/repository.json", {
    storage,
    mode: "r",
  });
  const asOf = reader.filter(at(2));
  assert.equal(asOf.mode, "r");
  // "late" was created now, after hour 2 of 2025: it is left out.
  assert.deepEqual(asOf.artifacts.map((a) => [a.name, a.version]), [["m", 2]]);
  assert.deepEqual(
    reader.filter([["m", 0], ["late", 0]]).artifacts.map((
      a,
    ) => [a.name, a.version]),
    [["m", 0], ["late", 0]],
  );
  assert.throws(() => reader.filter([["m", 9]]), VersionNotFoundError);
  reader.artifacts[0].dirty = true;
  assert.throws(() => reader.filter(at(2)), LazyscribeError);
});

Deno.test("version diffs: text only, saved only", async () => {
  const storage = new MemoryStorage();
  const repository = await Repository.open("r/repository.json", { storage });
  // Versions logged within a second share lazyscribe's default fname: name them.
  for (const b of [2, 3]) {
    repository.logArtifact({
      name: "cfg",
      value: { a: 1, b },
      handler: "json",
      fname: `cfg-${b}.json`,
      indent: 0,
    });
  }
  await assert.rejects(
    repository.getVersionDiff("cfg", 0),
    /call `Repository.save`/,
  );
  await repository.save();
  assert.equal(
    await repository.getVersionDiff("cfg", 0),
    '--- \n\n+++ \n\n@@ -1,4 +1,4 @@\n\n {\n "a": 1,\n-"b": 2\n+"b": 3\n }',
  );
  assert.equal(await repository.getVersionDiff("cfg", [1, 1]), "");
  repository.logArtifact({ name: "model", value: [1], handler: "pickle" });
  await repository.save();
  await assert.rejects(repository.getVersionDiff("model", 0), TypeError);
});

Deno.test("unified diffs equal CPython's difflib, long files and popular lines included", async () => {
  // Deterministic pseudo-random texts: small edits, moves, and >= 200 lines (difflib's autojunk).
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pairs: [string, string][] = [
    ["", ""],
    ["a\nb\nc", ""],
    ["", "x\r\ny\rz\u2028w\n"],
    ["same\n", "same\n"],
  ];
  for (let i = 0; i < 24; i++) {
    const length = i < 12 ? 5 + random(20) : 200 + random(150);
    const vocabulary = i % 3 === 0 ? 4 : 40;
    const a = Array.from({ length }, () => `line ${random(vocabulary)}`);
    const b = a.filter(() => random(10) > 0);
    for (let k = 0; k < 1 + random(6); k++) {
      b.splice(random(b.length + 1), 0, `new ${random(vocabulary)}`);
    }
    pairs.push([a.join("\n"), b.join("\n") + (i % 2 ? "\n" : "")]);
  }
  const expected = await pythonJson<string[]>(
    `
import difflib, json, sys
pairs = json.load(sys.stdin)
print(json.dumps(["\\n".join(difflib.unified_diff(a.splitlines(), b.splitlines())) for a, b in pairs]))
`,
    [],
    { stdin: new TextEncoder().encode(JSON.stringify(pairs)) },
  );
  pairs.forEach(([a, b], index) => {
    assert.equal(
      unifiedDiff(splitLines(a), splitLines(b)).join("\n"),
      expected[index],
      `pair ${index}`,
    );
  });
});

Deno.test("promoting an experiment artifact: logged, copied, versioned, refused when older", async () => {
  const storage = new MemoryStorage();
  const project = await Project.open("p/project.json", { storage });
  const experiment = project.log("Run");
  experiment.logArtifact({ name: "model", value: [1, 2], handler: "pickle" });
  experiment.logArtifact({ name: "unsaved", value: 3, handler: "json" });
  await project.save();
  experiment.logArtifact({ name: "fresh", value: 4, handler: "json" });
  const repository = await Repository.open("r/repository.json", { storage });

  await experiment.promoteArtifact(repository, "model");
  // Saved already: copied and the repository saved at once.
  const promoted = repository.artifacts[0];
  assert.equal(promoted.dirty, false);
  assert.deepEqual(await repository.loadArtifact("model"), [1, 2]);
  assert.ok(await storage.isFile(`r/model/${promoted.fname}`));

  // Not newer than the repository's latest version (compared, as in Python, with the stored
  // second-precision time): refused.
  const reread = await Project.open("p/project.json", { storage, mode: "r" });
  await assert.rejects(
    reread.experiments[0].promoteArtifact(repository, "model"),
    ArtifactLogError,
  );

  // Not saved yet: logged, written by the next save.
  await experiment.promoteArtifact(repository, "fresh");
  assert.equal(repository.artifacts.at(-1)!.dirty, true);
  await repository.save();
  assert.equal(await repository.loadArtifact("fresh"), 4);

  await assert.rejects(
    experiment.promoteArtifact(repository, "nope"),
    ArtifactLoadError,
  );

  // A newer artifact becomes the next version.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const later = project.log("Later");
  later.logArtifact({ name: "model", value: [3], handler: "pickle" });
  await project.save();
  await later.promoteArtifact(repository, "model");
  assert.equal(repository.findArtifact("model").version, 1);
  assert.deepEqual(await repository.loadArtifact("model"), [3]);
});

Deno.test("a failed repository save changes nothing; a failed promotion removes its copy", async () => {
  const storage = new MemoryStorage();
  const repository = await Repository.open("r/repository.json", { storage });
  repository.logArtifact({ name: "a", value: 1, handler: "json" });
  await repository.save();
  const before = await storage.readFile("r/repository.json");
  repository.logArtifact({ name: "bad", value: () => 1, handler: "json" });
  await assert.rejects(repository.save(), SaveError);
  assert.deepEqual(await storage.readFile("r/repository.json"), before);
  assert.deepEqual(
    storage.paths().filter((path) => path.startsWith("r/bad/")),
    [],
  );

  const project = await Project.open("p/project.json", { storage });
  const experiment = project.log("Run");
  experiment.logArtifact({ name: "model", value: [1], handler: "pickle" });
  await project.save();
  await assert.rejects(
    experiment.promoteArtifact(repository, "model"),
    SaveError,
  );
  assert.equal(repository.has("model"), false);
  assert.deepEqual(
    storage.paths().filter((path) => path.startsWith("r/model/")),
    [],
  );
});
