import assert from "node:assert/strict";
import { ReadOnlyError } from "../src/errors.ts";
import {
  FileStorage,
  HttpStorage,
  MemoryStorage,
  openStorage,
  registerStorage,
  splitLocation,
} from "../src/open_storage.ts";
import {
  DEFAULT_LEFTOVER_GRACE_PERIOD,
  dirname,
  FileNotFoundError,
  joinPath,
  type Storage,
} from "../src/storage.ts";
import { pythonJson } from "./_python.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function listFiles(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(root)) {
    if (entry.isDirectory) {
      names.push(
        ...(await listFiles(`${root}/${entry.name}`)).map((name) =>
          `${entry.name}/${name}`
        ),
      );
    } else {
      names.push(entry.name);
    }
  }
  return names.sort();
}

Deno.test("splitLocation() splits as lazyscribe does with urlparse and Path", async () => {
  const locations = [
    "project.json",
    "data/project.json",
    "./data//x/./project.json",
    "/abs/path/project.json",
    "//server/share/project.json",
    "file:///tmp/x/project.json",
    "file://localhost/tmp/x/project.json",
    "FILE:///tmp/y.json",
    "memory://team/project.json",
    "memory:///team/project.json",
    "s3://bucket/prefix/repository.json",
    "https://example.com/a/b/project.json?token=1#frag",
    "http://example.com:8080/p.json",
    "data/my;params.json",
    "data;x/p.json",
    "a b/c#d.json",
    "a?b.json",
    " \x01 leading/space.json",
    "tab\tin/side.json",
    "gs://bucket",
    "gs://bucket/",
    "1abc://x/y",
    "ab+c.d-e://host/p",
    "mailto:user@example.com",
    "",
  ];
  const expected = await pythonJson<[string, string][]>(
    "import json, sys\nfrom pathlib import Path\nfrom urllib.parse import urlparse\nout = []\n" +
      "for s in json.load(sys.stdin):\n    p = urlparse(s)\n" +
      "    out.append([p.scheme or 'file', str(Path(p.netloc + p.path))])\n" +
      "print(json.dumps(out))",
    [],
    { stdin: encoder.encode(JSON.stringify(locations)) },
  );
  locations.forEach((location, i) => {
    const [protocol, path] = expected[i];
    assert.deepEqual(
      splitLocation(location),
      { protocol, path: path === "." ? "" : path },
      JSON.stringify(location),
    );
  });
  // A Windows drive is a path here, where Python would take "c" as a protocol.
  assert.equal(splitLocation("C:/data/project.json").protocol, "file");
});

Deno.test("joinPath() and dirname() follow PurePosixPath", () => {
  assert.equal(joinPath("a", "b/", "./c"), "a/b/c");
  assert.equal(joinPath("a", "/b", "c"), "/b/c");
  assert.equal(joinPath("", "x.json"), "x.json");
  assert.equal(joinPath("a", "../b"), "a/../b");
  assert.equal(dirname("a/b/c.json"), "a/b");
  assert.equal(dirname("/c.json"), "/");
  assert.equal(dirname("c.json"), "");
});

Deno.test("openStorage() picks storages by protocol and names unknown ones", () => {
  assert.ok(openStorage("data/project.json").storage instanceof FileStorage);
  assert.ok(openStorage("file:///tmp/p.json").storage instanceof FileStorage);
  assert.equal(
    openStorage("memory://a/p.json").storage,
    openStorage("memory://b/p.json").storage,
  );
  assert.ok(
    openStorage("https://example.com/p.json").storage instanceof HttpStorage,
  );
  assert.throws(
    () => openStorage("s3://bucket/p.json"),
    (error) =>
      error instanceof RangeError && /"s3"/.test(error.message) &&
      /memory/.test(error.message),
  );
  const scratch = new MemoryStorage();
  registerStorage("scratch", () => scratch);
  assert.equal(openStorage("scratch://x/p.json").storage, scratch);
});

async function exerciseStorage(storage: Storage, root: string): Promise<void> {
  const path = joinPath(root, "exp/sub/a.json");
  await storage.writeFile(path, encoder.encode("[0, 1, 2]"));
  assert.equal(decoder.decode(await storage.readFile(path)), "[0, 1, 2]");
  assert.equal(await storage.isFile(path), true);
  assert.equal(await storage.isDir(joinPath(root, "exp/sub")), true);
  assert.equal(await storage.isFile(joinPath(root, "exp")), false);
  await storage.writeFile(path, encoder.encode("[3]"));
  assert.equal(decoder.decode(await storage.readFile(path)), "[3]");
  await storage.copy(path, joinPath(root, "copy/a.json"));
  assert.equal(
    decoder.decode(await storage.readFile(joinPath(root, "copy/a.json"))),
    "[3]",
  );
  await assert.rejects(
    () => storage.readFile(joinPath(root, "missing.json")),
    FileNotFoundError,
  );
  await storage.remove(joinPath(root, "copy/a.json"));
  assert.equal(await storage.isFile(joinPath(root, "copy/a.json")), false);

  // A failed write (the target is a folder) leaves neither a partial nor a temporary file.
  await assert.rejects(() =>
    storage.writeFile(joinPath(root, "exp/sub"), encoder.encode("x"))
  );
  assert.equal(await storage.isDir(joinPath(root, "exp/sub")), true);

  // A transaction whose second rename fails puts the first file back as it was.
  const first = joinPath(root, "project.json");
  await storage.writeFile(first, encoder.encode("old"));
  const failing = storage.transaction();
  await failing.writeFile(first, encoder.encode("new"));
  await failing.writeFile(
    joinPath(root, "exp/brand-new.json"),
    encoder.encode("1"),
  );
  await failing.writeFile(joinPath(root, "exp/new.json"), encoder.encode("{}"));
  await storage.makeDirs(joinPath(root, "exp/new.json")); // now the last target is a folder
  await assert.rejects(() => failing.commit());
  assert.equal(decoder.decode(await storage.readFile(first)), "old");
  assert.equal(
    await storage.isFile(joinPath(root, "exp/brand-new.json")),
    false,
  );

  // A transaction that commits moves everything into place.
  await storage.atomically(async (transaction) => {
    await transaction.writeFile(first, encoder.encode("new"));
    await transaction.writeFile(
      joinPath(root, "exp/b.pkl"),
      new Uint8Array([0x80, 4]),
    );
  });
  assert.equal(decoder.decode(await storage.readFile(first)), "new");
  assert.deepEqual(
    await storage.readFile(joinPath(root, "exp/b.pkl")),
    new Uint8Array([0x80, 4]),
  );

  // One that is aborted leaves nothing.
  await assert.rejects(() =>
    storage.atomically(async (transaction) => {
      await transaction.writeFile(
        joinPath(root, "exp/c.json"),
        encoder.encode("1"),
      );
      throw new Error("user code failed");
    })
  );
  assert.equal(await storage.isFile(joinPath(root, "exp/c.json")), false);
}

Deno.test("FileStorage writes atomically and commits or rolls back transactions", async () => {
  const root = await Deno.makeTempDir();
  try {
    await exerciseStorage(new FileStorage(), root);
    assert.deepEqual(await listFiles(root), [
      "exp/b.pkl",
      "exp/sub/a.json",
      "project.json",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("MemoryStorage behaves as FileStorage", async () => {
  const storage = new MemoryStorage();
  await exerciseStorage(storage, "/root");
  // Temporary and backup files never outlive a write or a transaction.
  assert.deepEqual(storage.paths(), [
    "/root/exp/b.pkl",
    "/root/exp/sub/a.json",
    "/root/project.json",
  ]);
});

/** Files a killed save leaves, and look-alikes that are not leftovers. */
const LEFTOVERS = {
  staleTemporary: "exp/.a.json.0123abcd.tmp",
  staleBackup: "exp/.a.json.89abcdef.bak",
  orphanBackup: "exp/.gone.json.01234567.bak",
  dottedTemporary: "exp/.model.v1.pkl.fedcba98.tmp",
  upperCase: "exp/.a.json.0123ABCD.tmp",
  noRandom: "exp/.a.json.tmp",
  notHidden: "exp/a.json.01234567.tmp",
  subfolder: "exp/run/.a.json.01234567.tmp",
  deeper: "exp/run/deep/.a.json.01234567.tmp",
  otherFolder: "other/.a.json.01234567.tmp",
};

/**
 * Leaves what killed saves leave and commits while it is fresh and while another save is in
 * flight: everything stays and the other save commits. Then `age()` makes the leftovers older
 * than the grace period (and gives the storage to go on with), and one more commit removes the
 * leftovers of the folder it writes into and of its subfolders, except a backup whose target is
 * missing; nothing else is touched.
 */
async function exerciseLeftovers(
  storage: Storage,
  root: string,
  age: () => Promise<Storage>,
): Promise<string[]> {
  const at = (path: string) => joinPath(root, path);
  await storage.makeDirs(at("other"));
  await storage.makeDirs(at("exp/run/deep"));
  await storage.writeFile(at("exp/a.json"), encoder.encode("1"));
  for (const path of Object.values(LEFTOVERS)) {
    await storage.writeNewFile(at(path), encoder.encode("partial"));
  }
  const inFlight = storage.transaction();
  await inFlight.writeFile(at("exp/a.json"), encoder.encode("2"));
  await storage.writeFile(at("exp/b.json"), encoder.encode("3"));
  await inFlight.commit();
  assert.equal(decoder.decode(await storage.readFile(at("exp/a.json"))), "2");
  for (const path of Object.values(LEFTOVERS)) {
    assert.equal(await storage.isFile(at(path)), true, `${path} is fresh`);
  }
  const later = await age();
  await later.writeFile(at("exp/b.json"), encoder.encode("4"));
  const kept = [];
  for (const [kind, path] of Object.entries(LEFTOVERS)) {
    if (await storage.isFile(at(path))) kept.push(kind);
  }
  return kept;
}

const KEPT = [
  "orphanBackup",
  "upperCase",
  "noRandom",
  "notHidden",
  "deeper",
  "otherFolder",
];

Deno.test("FileStorage commits remove stale leftovers of killed saves and keep fresh ones", async () => {
  const root = await Deno.makeTempDir();
  try {
    // The grace period is the storage's: two storages on one folder, one that waits and one
    // that does not.
    const patient = new FileStorage();
    assert.equal(patient.leftoverGracePeriod, DEFAULT_LEFTOVER_GRACE_PERIOD);
    const eager = new FileStorage({ leftoverGracePeriod: 0 });
    const kept = await exerciseLeftovers(
      patient,
      root,
      () => Promise.resolve(eager),
    );
    assert.deepEqual(kept, KEPT);

    // A backup made as a hard link keeps its target's old modification time, yet is fresh.
    const old = joinPath(root, "old.json");
    await patient.writeFile(old, encoder.encode("old"));
    await Deno.utime(old, new Date(2000, 0, 1), new Date(2000, 0, 1));
    await patient.snapshot(old, joinPath(root, ".old.json.00000000.bak"));
    await patient.writeFile(joinPath(root, "new.json"), encoder.encode("new"));
    assert.equal(
      await patient.isFile(joinPath(root, ".old.json.00000000.bak")),
      true,
    );
    // A commit into the root reaches `other` too, one level down, but not `exp/run/deep`.
    await eager.writeFile(joinPath(root, "new.json"), encoder.encode("new"));
    assert.deepEqual(
      await listFiles(root),
      [
        "exp/a.json",
        "exp/b.json",
        LEFTOVERS.orphanBackup,
        LEFTOVERS.upperCase,
        LEFTOVERS.noRandom,
        LEFTOVERS.notHidden,
        LEFTOVERS.deeper,
        "new.json",
        "old.json",
      ].sort(),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("MemoryStorage commits remove stale leftovers of killed saves and keep fresh ones", async () => {
  const storage = new MemoryStorage({ leftoverGracePeriod: 300 });
  const kept = await exerciseLeftovers(
    storage,
    "/root",
    () => new Promise((resolve) => setTimeout(() => resolve(storage), 400)),
  );
  assert.deepEqual(kept, KEPT);
  const listing = await storage.listFolder("/root/exp");
  assert.deepEqual(listing.folders, ["run"]);
  assert.deepEqual(
    listing.files.map((file) => file.name).sort(),
    [
      ".a.json.0123ABCD.tmp",
      ".a.json.tmp",
      ".gone.json.01234567.bak",
      "a.json",
      "a.json.01234567.tmp",
      "b.json",
    ].sort(),
  );
  assert.deepEqual(await storage.listFolder("/missing"), {
    files: [],
    folders: [],
  });
});

Deno.test("HttpStorage reads over fetch and refuses writes", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/team/features.json") {
        return new Response(request.method === "HEAD" ? null : "[0, 1, 2]");
      }
      if (url.pathname === "/broken") {
        return new Response("no", {
          status: 500,
        });
      }
      if (url.pathname === "/My%20Model/a%23b%3F%C3%A9.json") {
        return new Response("escaped");
      }
      return new Response("missing", { status: 404 });
    },
  );
  try {
    const { storage, path } = openStorage(
      `http://127.0.0.1:${server.addr.port}/team/features.json`,
    );
    assert.equal(decoder.decode(await storage.readFile(path)), "[0, 1, 2]");
    assert.equal(await storage.isFile(path), true);
    assert.equal(
      await storage.isFile(`127.0.0.1:${server.addr.port}/team/other.json`),
      false,
    );
    await assert.rejects(
      () => storage.readFile(`127.0.0.1:${server.addr.port}/team/other.json`),
      FileNotFoundError,
    );
    await assert.rejects(
      () => storage.readFile(`127.0.0.1:${server.addr.port}/broken`),
      /500/,
    );
    // A repository folder is the raw artifact name: spaces, `#` and `?` are escaped.
    const escaped = `127.0.0.1:${server.addr.port}/My Model/a#b?é.json`;
    assert.equal(decoder.decode(await storage.readFile(escaped)), "escaped");
    await assert.rejects(
      () => storage.writeFile(path, encoder.encode("[]")),
      ReadOnlyError,
    );
    assert.throws(() => storage.transaction(), ReadOnlyError);
  } finally {
    await server.shutdown();
  }
});

const node = new Deno.Command("node", { args: ["--version"] }).output().then(
  (output) => output.success,
  () => false,
);

Deno.test({
  name: "FileStorage and JSON artifacts work under Node (bundled)",
  // In CI a missing Node fails the test instead of skipping it.
  ignore: !(await node) && !Deno.env.get("CI"),
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const script = `${root}/smoke.ts`;
      await Deno.writeTextFile(
        script,
        `declare const process: { argv: string[] };
import { JSONArtifact, openStorage, readArtifactFile, writeArtifactFile } from ${
          JSON.stringify(new URL("../src/mod.ts", import.meta.url).href)
        };
const folder = process.argv[2];
const { storage, path } = openStorage(folder + "/project.json");
const artifact = JSONArtifact.construct({ name: "features", value: { a: [1, 2.5] } });
await writeArtifactFile(artifact, storage, folder);
await storage.writeFile(path, new TextEncoder().encode("[]"));
console.log(JSON.stringify([await readArtifactFile(artifact, storage, folder), artifact.fname]));
`,
      );
      const bundle = await new Deno.Command(Deno.execPath(), {
        args: [
          "bundle",
          "--quiet",
          "--platform=node",
          "-o",
          `${root}/smoke.mjs`,
          script,
        ],
      }).output();
      assert.ok(bundle.success, decoder.decode(bundle.stderr));
      const folder = `${root}/data`;
      const run = await new Deno.Command("node", {
        args: [`${root}/smoke.mjs`, folder],
      })
        .output();
      assert.ok(run.success, decoder.decode(run.stderr));
      const [value, fname] = JSON.parse(decoder.decode(run.stdout));
      assert.deepEqual(value, { a: [1, 2.5] });
      assert.equal(
        await Deno.readTextFile(`${folder}/${fname}`),
        '{"a": [1, 2.5]}',
      );
      assert.equal(await Deno.readTextFile(`${folder}/project.json`), "[]");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
