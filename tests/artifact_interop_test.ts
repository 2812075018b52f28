/**
 * Interoperability with the real Python lazyscribe (pinned in tests/python/requirements.txt):
 * what Python writes loads here to the same values, and what is written here Python loads to
 * the same values, for JSON and pickle artifacts in repositories, experiments and tests.
 */

import assert from "node:assert/strict";
import {
  ByteArray,
  DType,
  FrozenSet,
  NdArray,
  NumpyScalar,
  Tuple,
  UnpicklingError,
} from "../codec/mod.ts";
import type { Artifact } from "../src/artifact.ts";
import { readArtifactFile, writeArtifactFile } from "../src/artifact_file.ts";
import { ArtifactLoadError } from "../src/errors.ts";
import { JSONArtifact } from "../src/json_artifact.ts";
import {
  artifactFromEntry,
  artifactToEntry,
  formatTimestamp,
} from "../src/metadata.ts";
import { FileStorage } from "../src/open_storage.ts";
import { PickleArtifact } from "../src/pickle_artifact.ts";
import {
  compareCodePoints,
  dumps,
  floatRepr,
  loads,
} from "../src/python_json.ts";
import { slugify } from "../src/slugify.ts";
import { joinPath } from "../src/storage.ts";
import { fileStamp } from "../src/artifact.ts";
import { runPython } from "./_python.ts";

const SCRIPT = new URL("./python/artifact_interop.py", import.meta.url);
const storage = new FileStorage();
const decoder = new TextDecoder();

/** The JSON tree `describe()` in artifact_interop.py gives for the Python value of `value`. */
type Description = unknown;

interface Described {
  name: string;
  version?: number;
  validated?: boolean;
  value: Description;
}

interface ExperimentDescription {
  slug: string;
  artifacts: Described[];
  tests: { name: string; artifacts: Described[] }[];
}

interface Report {
  repository: Described[];
  project: ExperimentDescription[];
}

async function python(
  command: "write" | "read",
  root: string,
): Promise<Report> {
  const { stdout } = await runPython(await Deno.readTextFile(SCRIPT), [
    command,
    root,
  ]);
  return JSON.parse(decoder.decode(stdout));
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function dtypeText(dtype: DType): string {
  return (dtype.byteorder === "=" ? "<" : dtype.byteorder) + dtype.str;
}

function element(dtype: DType, value: unknown): Description {
  const kind = dtype.str[0];
  if (kind === "b" && dtype.str === "b1" || kind === "?") return Boolean(value);
  if (kind === "f") return { float: floatRepr(value as number) };
  return { int: String(value) };
}

/** numpy's `tolist()` of an array, from its elements in memory order. */
function arrayValues(array: NdArray): Description {
  const { shape, data, order } = array;
  const strides = new Array<number>(shape.length);
  let stride = 1;
  const dims = order === "C" ? [...shape.keys()].reverse() : [...shape.keys()];
  for (const dim of dims) {
    strides[dim] = stride;
    stride *= shape[dim];
  }
  const build = (dim: number, offset: number): Description => {
    if (dim === shape.length) {
      return element(array.dtype, (data as ArrayLike<unknown>)[offset]);
    }
    return {
      list: Array.from(
        { length: shape[dim] },
        (_, i) => build(dim + 1, offset + i * strides[dim]),
      ),
    };
  };
  return build(0, 0);
}

/** The mirror of artifact_interop.py's `describe()`, under the documented JS ↔ Python mapping. */
function describe(value: unknown, exact: boolean): Description {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "bigint") return { int: value.toString() };
  if (typeof value === "number") {
    return !exact && Number.isInteger(value) && !Object.is(value, -0)
      ? { int: String(value) }
      : { float: floatRepr(value) };
  }
  if (typeof value === "string") return { str: value };
  if (value instanceof ByteArray) return { bytearray: hex(value) };
  if (value instanceof Uint8Array) return { bytes: hex(value) };
  if (value instanceof Tuple) {
    return { tuple: Array.from(value, (item) => describe(item, exact)) };
  }
  if (Array.isArray(value)) {
    return { list: value.map((item) => describe(item, exact)) };
  }
  if (value instanceof Set) {
    const items = [...value].map((item) => describe(item, exact)).sort((a, b) =>
      compareCodePoints(dumps(a), dumps(b))
    );
    return value instanceof FrozenSet ? { frozenset: items } : { set: items };
  }
  if (value instanceof NdArray) {
    return {
      ndarray: {
        dtype: dtypeText(value.dtype),
        shape: value.shape,
        fortran: value.order === "F" &&
          value.shape.filter((dim) => dim > 1).length > 1,
        values: arrayValues(value),
      },
    };
  }
  if (value instanceof NumpyScalar) {
    return {
      npscalar: {
        dtype: dtypeText(value.dtype),
        value: element(value.dtype, value.value),
      },
    };
  }
  const entries = value instanceof Map
    ? [...value]
    : Object.entries(value as object);
  return {
    dict: entries.map((
      [key, item],
    ) => [describe(key, exact), describe(item, exact)]),
  };
}

async function readEntries(
  path: string,
): Promise<{ text: string; entries: unknown[] }> {
  const text = decoder.decode(await storage.readFile(path));
  return { text, entries: loads(text, { exact: true }) as unknown[] };
}

Deno.test("artifacts written by Python lazyscribe load here to the same values", async () => {
  const root = await Deno.makeTempDir();
  try {
    const expected = await python("write", root);

    const repository = await readEntries(joinPath(root, "repository.json"));
    const artifacts = repository.entries.map((entry) =>
      artifactFromEntry(entry as Map<string, unknown>)
    );
    const loaded: Described[] = [];
    for (const artifact of artifacts) {
      const value = await readArtifactFile(
        artifact,
        storage,
        joinPath(root, artifact.name),
        {
          readerKwargs: { exact: true },
        },
      );
      loaded.push({
        name: artifact.name,
        version: artifact.version,
        value: describe(value, true),
      });
    }
    assert.deepEqual(loaded, expected.repository);
    // Re-saved without changes, repository.json is byte-identical (expiry included).
    assert.equal(
      dumps(artifacts.map(artifactToEntry), { sortKeys: true, indent: 4 }),
      repository.text,
    );
    assert.deepEqual(artifacts[0].expiry, new Date("2030-01-01T00:00:00Z"));
    // And JSON artifacts are written back byte for byte.
    for (const [index, kwargs] of [[0, {}], [1, { indent: 2 }]] as const) {
      const artifact = artifacts[index];
      const path = joinPath(root, artifact.name, artifact.fname);
      const value = await readArtifactFile(
        artifact,
        storage,
        joinPath(root, artifact.name),
        {
          readerKwargs: { exact: true },
        },
      );
      assert.equal(
        decoder.decode(JSONArtifact.write(value, { ...kwargs, exact: true })),
        decoder.decode(await storage.readFile(path)),
      );
    }

    const project = await readEntries(joinPath(root, "project.json"));
    assert.equal(
      dumps(project.entries, { sortKeys: true, indent: 4, exact: true }),
      project.text,
    );
    const experiments: ExperimentDescription[] = [];
    for (const experiment of project.entries as Map<string, unknown>[]) {
      const slug = experiment.get("slug") as string;
      const load = async (entries: unknown, folder: string) => {
        const out: Described[] = [];
        for (const entry of entries as Map<string, unknown>[]) {
          const artifact = artifactFromEntry(entry);
          const value = await readArtifactFile(artifact, storage, folder, {
            readerKwargs: { exact: true },
          });
          out.push({ name: artifact.name, value: describe(value, true) });
        }
        return out;
      };
      const tests = [];
      for (const test of experiment.get("tests") as Map<string, unknown>[]) {
        const name = test.get("name") as string;
        const folder = joinPath(root, slug, slugify(name));
        assert.ok(
          await storage.isDir(folder),
          `${folder} is the folder Python made`,
        );
        tests.push({
          name,
          artifacts: await load(test.get("artifacts"), folder),
        });
      }
      experiments.push({
        slug,
        artifacts: await load(
          experiment.get("artifacts"),
          joinPath(root, slug),
        ),
        tests,
      });
    }
    assert.deepEqual(experiments, expected.project);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const CREATED = new Date("2025-01-20T13:23:30Z");

function f8(
  shape: number[],
  values: number[],
  order: "C" | "F" = "C",
): NdArray {
  return new NdArray(
    new DType("f8", "<", 8),
    shape,
    order,
    new Float64Array(values),
  );
}

function i4(
  shape: number[],
  values: number[],
  order: "C" | "F" = "C",
): NdArray {
  return new NdArray(
    new DType("i4", "<", 4),
    shape,
    order,
    new Int32Array(values),
  );
}

Deno.test("artifacts written here load in Python lazyscribe to the same values", async () => {
  const root = await Deno.makeTempDir();
  try {
    const repositoryArtifacts: Artifact[] = [
      JSONArtifact.construct({
        name: "config",
        value: {
          lr: 0.001,
          layers: [64, 32],
          name: "ü😀",
          nested: { empty: {}, list: [] },
        },
        createdAt: CREATED,
        expiry: new Date("2031-06-01T12:00:00Z"),
      }),
      JSONArtifact.construct({
        name: "config",
        value: [1, 2.5, "x", { a: -0, b: 1e-7 }],
        fname: "config-v1.json",
        createdAt: new Date(CREATED.getTime() + 1000),
        writerKwargs: { indent: 4, sort_keys: true },
        version: 1,
      }),
      PickleArtifact.construct({
        name: "weights",
        value: new Map<string, unknown>([
          ["w", f8([2, 3], [0.5, 1, 1.5, 2, 2.5, -3])],
          ["counts", i4([2, 2], [1, 2, 3, 4], "F")],
          ["meta", Tuple.of<unknown>("x", 1n, 2.5)],
          ["blob", new Uint8Array([0, 255, 98])],
          ["mutable", new ByteArray([97, 98])],
          ["tags", new Set(["b", "a"])],
          ["frozen", new FrozenSet([1n, 2n])],
          ["big", 2n ** 70n],
          ["nested", [[1n, [null, true]], new Map([["k", false]])]],
          ["float", 1],
        ]),
        createdAt: CREATED,
        writerKwargs: { exact: true },
      }),
      PickleArtifact.construct({
        name: "for python 3.13",
        value: [1n],
        createdAt: CREATED,
        pythonVersion: "3.13",
      }),
      PickleArtifact.construct({
        name: "legacy protocol",
        value: [
          1,
          2.5,
          "s",
          new Map<unknown, unknown>([[1, "int key"]]),
          Tuple.of(true),
        ],
        createdAt: CREATED,
        writerKwargs: { protocol: 2 },
      }),
    ];
    const experimentArtifacts = [
      JSONArtifact.construct({
        name: "features",
        value: [0, 1, 2],
        createdAt: CREATED,
      }),
      PickleArtifact.construct({
        name: "estimator",
        value: new Map([["weights", f8([2], [0.5, 1.5])]]),
        createdAt: CREATED,
      }),
    ];
    const testName = "Bias test: région";
    const testArtifacts = [
      JSONArtifact.construct({
        name: "report",
        value: { passed: true, score: 1 },
        createdAt: CREATED,
        writerKwargs: { exact: true },
      }),
    ];
    const name = "TS experiment";
    const slug = slugify(`${name}-${fileStamp(CREATED)}`);
    const experiment = {
      name,
      author: "deno",
      last_updated_by: "deno",
      metrics: { auroc: 0.75 },
      parameters: { algorithm: "svm" },
      created_at: formatTimestamp(CREATED),
      last_updated: formatTimestamp(CREATED),
      dependencies: [],
      short_slug: slugify(name),
      slug,
      tests: [{
        name: testName,
        description: null,
        metrics: {},
        parameters: {},
        artifacts: testArtifacts.map(artifactToEntry),
      }],
      artifacts: experimentArtifacts.map(artifactToEntry),
      tags: [],
    };

    const encoder = new TextEncoder();
    await storage.atomically(async (transaction) => {
      await transaction.writeFile(
        joinPath(root, "repository.json"),
        encoder.encode(
          dumps(repositoryArtifacts.map(artifactToEntry), {
            sortKeys: true,
            indent: 4,
          }),
        ),
      );
      await transaction.writeFile(
        joinPath(root, "project.json"),
        encoder.encode(dumps([experiment], { sortKeys: true, indent: 4 })),
      );
      for (const artifact of repositoryArtifacts) {
        await writeArtifactFile(
          artifact,
          transaction,
          joinPath(root, artifact.name),
        );
      }
      for (const artifact of experimentArtifacts) {
        await writeArtifactFile(artifact, transaction, joinPath(root, slug));
      }
      for (const artifact of testArtifacts) {
        await writeArtifactFile(
          artifact,
          transaction,
          joinPath(root, slug, slugify(testName)),
        );
      }
    });

    const report = await python("read", root);
    const exactOf = (artifact: Artifact) =>
      artifact.writerKwargs.exact === true;
    assert.deepEqual(
      report.repository,
      repositoryArtifacts.map((artifact) => ({
        name: artifact.name,
        version: artifact.version,
        // Python (3.11, like PickleArtifact.defaultPythonVersion) refuses only the 3.13 pickle.
        validated: artifact.name !== "for python 3.13",
        value: describe(artifact.value, exactOf(artifact)),
      })),
    );
    const described = (artifacts: Artifact[]) =>
      artifacts.map((artifact) => ({
        name: artifact.name,
        value: describe(artifact.value, exactOf(artifact)),
      }));
    assert.deepEqual(report.project, [{
      slug,
      artifacts: described(experimentArtifacts),
      tests: [{ name: testName, artifacts: described(testArtifacts) }],
    }]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("bad artifact files and entries give errors naming the artifact and file", async () => {
  const root = await Deno.makeTempDir();
  try {
    await python("write", root);
    const { entries } = await readEntries(joinPath(root, "repository.json"));
    const model = artifactFromEntry(
      (entries as Map<string, unknown>[]).find((entry) =>
        entry.get("name") === "model"
      )!,
    );
    const folder = joinPath(root, "model");
    const path = joinPath(folder, model.fname);
    const bytes = await storage.readFile(path);

    const expectLoadError = async (cause: new (...args: never[]) => Error) => {
      await assert.rejects(
        () => readArtifactFile(model, storage, folder),
        (error) =>
          error instanceof ArtifactLoadError && error.cause instanceof cause &&
          error.message.includes('artifact "model"') &&
          error.message.includes(path),
      );
    };
    await storage.writeFile(path, bytes.subarray(0, bytes.length >> 1));
    await expectLoadError(UnpicklingError);
    const corrupt = bytes.slice();
    corrupt.fill(0xff, 10, 40); // not an opcode
    await storage.writeFile(path, corrupt);
    await expectLoadError(UnpicklingError);
    await storage.remove(path);
    await assert.rejects(
      () => readArtifactFile(model, storage, folder),
      (error) =>
        error instanceof ArtifactLoadError && error.message.includes(path) &&
        error.message.includes("does not exist"),
    );

    const misnamed = new Map(entries[0] as Map<string, unknown>);
    misnamed.set("handler", "jsn");
    assert.throws(
      () => artifactFromEntry(misnamed),
      (error) =>
        error instanceof ArtifactLoadError &&
        error.message.includes('Artifact "features"') &&
        error.message.includes('"jsn"') &&
        error.message.includes('"json", "pickle"'),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
