import assert from "node:assert/strict";
import {
  Artifact,
  artifactFields,
  type ArtifactInit,
  fileStamp,
  validateArtifactEnvironment,
} from "../src/artifact.ts";
import { readArtifactFile, writeArtifactFile } from "../src/artifact_file.ts";
import { ArtifactLoadError, SaveError } from "../src/errors.ts";
import { JSONArtifact } from "../src/json_artifact.ts";
import {
  artifactFromEntry,
  artifactToEntry,
  formatTimestamp,
  parseTimestamp,
} from "../src/metadata.ts";
import { MemoryStorage } from "../src/open_storage.ts";
import { PickleArtifact } from "../src/pickle_artifact.ts";
import { dumps, JSONDecodeError } from "../src/python_json.ts";
import {
  getHandler,
  handlerAliases,
  registerHandler,
  UnknownHandlerError,
} from "../src/registry.ts";
import { pythonJson } from "./_python.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CREATED = new Date("2025-01-20T13:23:30.456Z");

/** A small asynchronous text handler, as a third party would write one. */
class CsvArtifact extends Artifact {
  static readonly alias = "csv";
  static readonly suffix = "csv";
  static construct(init: ArtifactInit): CsvArtifact {
    return new CsvArtifact(artifactFields(init, this.suffix));
  }
  static async read(data: Uint8Array): Promise<string[][]> {
    await Promise.resolve();
    return decoder.decode(data).split("\n").map((line) => line.split(","));
  }
  static async write(rows: unknown): Promise<Uint8Array> {
    await Promise.resolve();
    return encoder.encode(
      (rows as string[][]).map((row) => row.join(",")).join("\n"),
    );
  }
}

Deno.test("handlers carry lazyscribe's class attributes", () => {
  assert.deepEqual(
    [
      JSONArtifact.alias,
      JSONArtifact.suffix,
      JSONArtifact.binary,
      JSONArtifact.outputOnly,
    ],
    ["json", "json", false, false],
  );
  assert.deepEqual(
    [
      PickleArtifact.alias,
      PickleArtifact.suffix,
      PickleArtifact.binary,
      PickleArtifact.outputOnly,
    ],
    ["pickle", "pkl", true, false],
  );
  assert.deepEqual(JSONArtifact.fields, {});
  assert.deepEqual(PickleArtifact.fields, { pythonVersion: "python_version" });
});

Deno.test("construct() fills in lazyscribe's defaults", () => {
  const before = Date.now();
  const artifact = JSONArtifact.construct({
    name: "My features!",
    value: [0, 1, 2],
  });
  assert.ok(
    artifact.createdAt.getTime() >= before &&
      artifact.createdAt.getTime() <= Date.now(),
  );
  assert.equal(
    artifact.fname,
    `my-features-${fileStamp(artifact.createdAt)}.json`,
  );
  assert.deepEqual(artifact.writerKwargs, {});
  assert.equal(artifact.version, 0);
  assert.equal(artifact.dirty, true);
  assert.equal(artifact.expiry, null);
  assert.deepEqual(artifact.value, [0, 1, 2]);

  const explicit = PickleArtifact.construct({
    name: "model",
    fname: "models/model.pkl",
    createdAt: CREATED,
    expiry: new Date("2026-01-01T00:00:00Z"),
    writerKwargs: { protocol: 2 },
    version: 3,
    dirty: false,
    pythonVersion: "3.12",
  });
  assert.equal(explicit.fname, "models/model.pkl");
  assert.equal(explicit.version, 3);
  assert.equal(explicit.dirty, false);
  assert.equal(explicit.pythonVersion, "3.12");
  assert.deepEqual(explicit.writerKwargs, { protocol: 2 });
  // Python's `fname or default`: an empty name takes the default.
  assert.equal(
    JSONArtifact.construct({ name: "x", fname: "", createdAt: CREATED }).fname,
    "x-20250120132330.json",
  );
  assert.equal(PickleArtifact.construct({ name: "m" }).pythonVersion, "3.11");
  assert.throws(
    () => PickleArtifact.construct({ name: "m", pythonVersion: "3" }),
    TypeError,
  );
  assert.throws(
    () => JSONArtifact.construct({ name: "m", version: 1.5 }),
    TypeError,
  );
  assert.throws(
    () => JSONArtifact.construct({ name: "m", createdAt: new Date(NaN) }),
    /createdAt must be a valid Date/,
  );
  assert.throws(
    () =>
      JSONArtifact.construct({
        name: "m",
        expiry: "2025-01-01" as unknown as Date,
      }),
    /expiry must be a valid Date/,
  );
});

Deno.test("fileStamp() formats UTC as strftime('%Y%m%d%H%M%S')", () => {
  assert.equal(fileStamp(CREATED), "20250120132330");
  assert.equal(fileStamp(new Date("0999-03-04T05:06:07Z")), "09990304050607");
});

Deno.test("equality compares only the class and handler fields, as attrs does", () => {
  const a = JSONArtifact.construct({ name: "a", value: 1 });
  const b = JSONArtifact.construct({ name: "b", value: 2, version: 5 });
  assert.ok(a.equals(b));
  const p311 = PickleArtifact.construct({ name: "a", pythonVersion: "3.11" });
  const p311b = PickleArtifact.construct({ name: "b", pythonVersion: "3.11" });
  const p312 = PickleArtifact.construct({ name: "a", pythonVersion: "3.12" });
  assert.ok(p311.equals(p311b));
  assert.ok(!p311.equals(p312));
  assert.ok(!p311.equals(a));
  assert.ok(!a.equals(p311));
  assert.ok(!a.equals({ ...a }));
});

Deno.test("validation rebuilds the artifact in the current environment", () => {
  const artifact = PickleArtifact.construct({
    name: "model",
    pythonVersion: "3.12",
  });
  assert.throws(
    () => validateArtifactEnvironment(artifact),
    (error) =>
      error instanceof ArtifactLoadError &&
      error.message.includes('"model"') &&
      error.message.includes('{"python_version": "3.12"}') &&
      error.message.includes('{"python_version": "3.11"}'),
  );
  validateArtifactEnvironment(artifact, { pythonVersion: "3.12" });
  const saved = PickleArtifact.defaultPythonVersion;
  PickleArtifact.defaultPythonVersion = "3.12";
  try {
    validateArtifactEnvironment(artifact);
  } finally {
    PickleArtifact.defaultPythonVersion = saved;
  }
  validateArtifactEnvironment(JSONArtifact.construct({ name: "anything" }));
});

Deno.test("JSONArtifact writes what Python's json.dump writes and reads it back", () => {
  assert.equal(decoder.decode(JSONArtifact.write([0, 1, 2])), "[0, 1, 2]");
  assert.equal(
    decoder.decode(
      JSONArtifact.write({ b: 1, a: [1.5, "é"] }, {
        indent: 4,
        sort_keys: true,
      }),
    ),
    '{\n    "a": [\n        1.5,\n        "\\u00e9"\n    ],\n    "b": 1\n}',
  );
  assert.equal(
    decoder.decode(
      JSONArtifact.write({ a: "é" }, {
        ensure_ascii: false,
        separators: [",", ":"],
      }),
    ),
    '{"a":"é"}',
  );
  assert.equal(
    decoder.decode(JSONArtifact.write({ a: 1 }, { exact: true })),
    '{"a": 1.0}',
  );
  assert.throws(
    () => JSONArtifact.write(NaN, { allow_nan: false }),
    RangeError,
  );
  assert.throws(
    () => JSONArtifact.write(1, { cls: "Encoder" }),
    /unexpected keyword argument 'cls'/,
  );
  assert.throws(
    () => JSONArtifact.write("\ud800", { ensure_ascii: false }),
    TypeError,
  );
  assert.deepEqual(
    JSONArtifact.read(encoder.encode('{"loss": NaN, "n": [1, 2.0]}')),
    {
      loss: NaN,
      n: [1, 2],
    },
  );
  assert.deepEqual(
    JSONArtifact.read(encoder.encode('{"n": 2.0, "i": 2}'), { exact: true }),
    new Map<string, unknown>([["n", 2], ["i", 2n]]),
  );
  assert.throws(
    () => JSONArtifact.read(new Uint8Array([0x5b, 0xff, 0x5d])),
    TypeError,
  );
  assert.throws(
    () => JSONArtifact.read(encoder.encode("[1,")),
    JSONDecodeError,
  );
  assert.throws(
    () => JSONArtifact.read(encoder.encode("1"), { object_hook: null }),
    TypeError,
  );
});

Deno.test("the registry finds built-in and registered handlers", async () => {
  assert.equal(getHandler("json"), JSONArtifact);
  assert.equal(getHandler("pickle"), PickleArtifact);
  assert.throws(
    () => getHandler("yaml"),
    (error) =>
      error instanceof UnknownHandlerError &&
      error.message.includes('"yaml"') &&
      error.message.includes('"json", "pickle"'),
  );
  registerHandler(CsvArtifact);
  assert.equal(getHandler("csv"), CsvArtifact);
  assert.ok(handlerAliases().includes("csv"));

  const entry = artifactToEntry(
    CsvArtifact.construct({ name: "table", createdAt: CREATED }),
  );
  assert.equal(entry.handler, "csv");
  const artifact = artifactFromEntry(entry);
  assert.ok(artifact instanceof CsvArtifact);
  artifact.value = [["a", "b"], ["1", "2"]];
  const storage = new MemoryStorage();
  await writeArtifactFile(artifact, storage, "exp");
  assert.equal(
    decoder.decode(await storage.readFile("exp/table-20250120132330.csv")),
    "a,b\n1,2",
  );
  assert.deepEqual(await readArtifactFile(artifact, storage, "exp"), [[
    "a",
    "b",
  ], ["1", "2"]]);

  assert.throws(() => registerHandler({} as never), TypeError);
  assert.throws(
    () => registerHandler({ alias: "x", suffix: "x", construct() {} } as never),
    /no static read method/,
  );
});

Deno.test("artifactToEntry() gives lazyscribe's entry, byte-identical once dumped", () => {
  const features = JSONArtifact.construct({
    name: "features",
    createdAt: CREATED,
  });
  const estimator = PickleArtifact.construct({
    name: "estimator",
    createdAt: CREATED,
  });
  const entries = [features, estimator].map(artifactToEntry);
  assert.deepEqual(Object.keys(entries[1]), [
    "name",
    "fname",
    "created_at",
    "expiry",
    "version",
    "python_version",
    "handler",
  ]);
  // The "artifacts" list of a project.json, written out by hand in the layout of lazyscribe's
  // (Python's own output is compared in project_interop_test.ts).
  const expected = `[
    {
        "created_at": "2025-01-20T13:23:30",
        "expiry": null,
        "fname": "features-20250120132330.json",
        "handler": "json",
        "name": "features",
        "version": 0
    },
    {
        "created_at": "2025-01-20T13:23:30",
        "expiry": null,
        "fname": "estimator-20250120132330.pkl",
        "handler": "pickle",
        "name": "estimator",
        "python_version": "3.11",
        "version": 0
    }
]`;
  assert.equal(dumps(entries, { sortKeys: true, indent: 4 }), expected);
});

Deno.test("artifactFromEntry() loads current and legacy entries", () => {
  const current = artifactFromEntry({
    created_at: "2025-01-20T13:23:30",
    expiry: "2025-12-25T00:00:00",
    fname: "estimator-20250120132330.pkl",
    handler: "pickle",
    name: "estimator",
    python_version: "3.10",
    version: 2,
  });
  assert.ok(current instanceof PickleArtifact);
  assert.equal(current.pythonVersion, "3.10");
  assert.equal(current.version, 2);
  assert.equal(current.dirty, false);
  assert.equal(current.value, null);
  assert.deepEqual(current.createdAt, new Date("2025-01-20T13:23:30Z"));
  assert.deepEqual(current.expiry, new Date("2025-12-25T00:00:00Z"));
  assert.equal(artifactToEntry(current).expiry, "2025-12-25T00:00:00");

  // lazyscribe 0.4–0.6: no version, no expiry, a python_version on JSON entries, no timestamp in
  // fname; plus a key nobody knows.
  const legacy = artifactFromEntry({
    name: "features",
    fname: "features.json",
    created_at: "2023-06-01T10:00:00",
    python_version: "3.9",
    handler: "json",
    comment: "kept by nobody",
  });
  assert.ok(legacy instanceof JSONArtifact);
  assert.equal(legacy.version, 0);
  assert.equal(legacy.expiry, null);
  assert.equal(legacy.fname, "features.json");
  assert.deepEqual(artifactToEntry(legacy), {
    name: "features",
    fname: "features.json",
    created_at: "2023-06-01T10:00:00",
    expiry: null,
    version: 0,
    handler: "json",
  });

  // A pickle entry without python_version takes the default, as Python takes its own.
  const bare = artifactFromEntry({
    name: "m",
    created_at: "2025-01-20T13:23:30",
    handler: "pickle",
  });
  assert.equal((bare as PickleArtifact).pythonVersion, "3.11");
  assert.equal(bare.fname, "m-20250120132330.pkl");

  // An entry read with loads(…, { exact: true }) is a Map with bigint ints.
  const exact = artifactFromEntry(
    new Map<string, unknown>([
      ["name", "x"],
      ["created_at", "2025-01-20T13:23:30"],
      ["handler", "json"],
      ["version", 4n],
    ]),
  );
  assert.equal(exact.version, 4);
});

Deno.test("artifactFromEntry() names the artifact in every error", () => {
  const base = {
    name: "model",
    created_at: "2025-01-20T13:23:30",
    handler: "json",
  };
  const cases: [unknown, RegExp][] = [
    [[1], /must be an object/],
    [{ ...base, name: 3 }, /needs a string "name"/],
    [
      { ...base, handler: "yaml" },
      /Artifact "model": No handler available with the name "yaml"/,
    ],
    [
      { ...base, handler: undefined },
      /Artifact "model": "handler" must be a string/,
    ],
    [
      { ...base, created_at: undefined },
      /Artifact "model": the entry has no "created_at"/,
    ],
    [
      { ...base, created_at: "yesterday" },
      /Artifact "model": "created_at" Invalid isoformat/,
    ],
    [
      { ...base, expiry: "2025-02-30T00:00:00" },
      /Artifact "model": "expiry" Invalid/,
    ],
    [
      { ...base, version: "1" },
      /Artifact "model": "version" must be an integer/,
    ],
    [{ ...base, fname: 7 }, /Artifact "model": "fname" must be a string/],
    [
      { ...base, handler: "pickle", python_version: "three" },
      /Artifact "model": Python version/,
    ],
  ];
  for (const [entry, message] of cases) {
    assert.throws(
      () => artifactFromEntry(entry as Record<string, unknown>),
      (error) =>
        error instanceof ArtifactLoadError && message.test(error.message),
      String(message),
    );
  }
});

Deno.test("timestamps are read like datetime.fromisoformat and written naive UTC", async () => {
  assert.equal(formatTimestamp(CREATED), "2025-01-20T13:23:30");
  assert.equal(
    formatTimestamp(new Date("0042-01-02T03:04:05Z")),
    "0042-01-02T03:04:05",
  );
  const forms: [string, string][] = [
    ["2025-01-20T13:23:30", "2025-01-20T13:23:30.000Z"],
    ["2025-01-20 13:23:30.123456", "2025-01-20T13:23:30.123Z"],
    ["2025-01-20", "2025-01-20T00:00:00.000Z"],
    ["2025-01-20T13:23", "2025-01-20T13:23:00.000Z"],
    ["2025-01-20T13:23:30Z", "2025-01-20T13:23:30.000Z"],
    ["2025-01-20T13:23:30+02:00", "2025-01-20T11:23:30.000Z"],
    ["2025-01-20T13:23:30-05:30", "2025-01-20T18:53:30.000Z"],
    ["0042-01-02T03:04:05", "0042-01-02T03:04:05.000Z"],
  ];
  for (const [text, iso] of forms) {
    assert.equal(parseTimestamp(text).toISOString(), iso, text);
  }
  const bad = ["2025-13-01", "2025-02-29T00:00:00", "2025-01-20T24:00:00", "x"];
  for (const text of bad) {
    assert.throws(() => parseTimestamp(text), RangeError, text);
  }
  // Python agrees on every form, converting aware times to naive UTC as lazyscribe compares them.
  const python = await pythonJson<(string | null)[]>(
    "import json, sys\nfrom datetime import datetime, timezone\nout = []\n" +
      "for t in json.load(sys.stdin):\n    try:\n        d = datetime.fromisoformat(t)\n" +
      "    except ValueError:\n        out.append(None)\n        continue\n" +
      "    if d.tzinfo:\n        d = d.astimezone(timezone.utc).replace(tzinfo=None)\n" +
      "    out.append(d.isoformat(timespec='milliseconds') + 'Z')\n" +
      "print(json.dumps(out))",
    [],
    {
      stdin: encoder.encode(
        JSON.stringify([...forms.map(([text]) => text), ...bad]),
      ),
    },
  );
  assert.deepEqual(python, [
    ...forms.map(([, iso]) => iso),
    ...bad.map(() => null),
  ]);
  assert.throws(
    () => formatTimestamp(new Date("10000-01-01T00:00:00Z")),
    RangeError,
  );
});

Deno.test("readArtifactFile() and writeArtifactFile() name the artifact and file", async () => {
  const storage = new MemoryStorage();
  const artifact = JSONArtifact.construct({
    name: "features",
    value: { a: [1, 2] },
    fname: "sub/dir/features.json",
    writerKwargs: { indent: 2 },
  });
  await writeArtifactFile(artifact, storage, "project/my-exp");
  assert.equal(
    decoder.decode(
      await storage.readFile("project/my-exp/sub/dir/features.json"),
    ),
    '{\n  "a": [\n    1,\n    2\n  ]\n}',
  );
  assert.deepEqual(
    await readArtifactFile(artifact, storage, "project/my-exp"),
    { a: [1, 2] },
  );

  await assert.rejects(
    () => readArtifactFile(artifact, storage, "elsewhere"),
    (error) =>
      error instanceof ArtifactLoadError &&
      error.message.includes('artifact "features"') &&
      error.message.includes("memory://elsewhere/sub/dir/features.json") &&
      error.message.includes("does not exist"),
  );
  await storage.writeFile(
    "project/my-exp/sub/dir/features.json",
    encoder.encode('{"a": [1,'),
  );
  await assert.rejects(
    () => readArtifactFile(artifact, storage, "project/my-exp"),
    (error) =>
      error instanceof ArtifactLoadError &&
      error.cause instanceof JSONDecodeError &&
      error.message.includes("features.json") &&
      error.message.includes("Expecting value"),
  );

  const unwritable = JSONArtifact.construct({
    name: "bad",
    value: new Set([1]),
  });
  await assert.rejects(
    () => writeArtifactFile(unwritable, storage, "project"),
    (error) =>
      error instanceof SaveError && error.message.includes('"bad"') &&
      error.message.includes("not JSON serializable"),
  );
  assert.deepEqual(storage.paths(), ["project/my-exp/sub/dir/features.json"]);

  const pickled = PickleArtifact.construct({
    name: "model",
    pythonVersion: "3.9",
  });
  await assert.rejects(
    () => readArtifactFile(pickled, storage, "project"),
    /Runtime environments do not match/,
  );
});

Deno.test("PickleArtifact pickles with protocol 4 unless told otherwise", () => {
  const value = new Map<string, unknown>([["auroc", 0.5], ["n", 3n], ["tags", [
    "a",
  ]]]);
  const bytes = PickleArtifact.write(value);
  assert.deepEqual([bytes[0], bytes[1]], [0x80, 4]);
  assert.deepEqual(PickleArtifact.read(bytes, { exact: true }), value);
  for (const protocol of [0, 2, 5]) {
    const pickled = PickleArtifact.write([1, "a"], { protocol });
    if (protocol >= 2) {
      assert.deepEqual([pickled[0], pickled[1]], [0x80, protocol]);
    }
    assert.deepEqual(PickleArtifact.read(pickled), [1, "a"]);
  }
  // Python's spelling of pickle.dump's keyword arguments is accepted.
  const python2 = PickleArtifact.write(new Set([1]), {
    protocol: 2,
    fix_imports: true,
  });
  assert.ok(decoder.decode(python2).includes("__builtin__"));
  const python3 = PickleArtifact.write(new Set([1]), {
    protocol: 2,
    fix_imports: false,
  });
  assert.ok(decoder.decode(python3).includes("builtins"));
});
