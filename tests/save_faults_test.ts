/**
 * Faults during a save: a child Deno process saving a project (or a repository) over and over is
 * killed with a real `SIGKILL` at random moments, and every folder it leaves must open, in this
 * module and in Python lazyscribe, as a state the writer had reached or was writing, with every
 * artifact whole. After the kills, one more save of each folder, through a storage without a
 * grace period, removes every temporary and backup file the killed saves left, and the folder
 * still opens here and in Python. Then a full disk and a read-only folder: a `SaveError` that
 * names the file, and the previous state untouched.
 *
 * `LSA_SAVE_KILLS` sets the number of kills (default 200, half on projects, half on
 * repositories).
 */

import assert from "node:assert/strict";
import { Project } from "../src/project.ts";
import { Repository } from "../src/repository.ts";
import { SaveError } from "../src/errors.ts";
import { FileStorage } from "../src/open_storage.ts";
import { pythonPath } from "./_python.ts";

const root = new URL("../", import.meta.url);
const KILLS = Number(Deno.env.get("LSA_SAVE_KILLS") ?? 200);
const PARALLEL = 2;

type Kind = "project" | "repository";
const INDEX: Record<Kind, string> = {
  project: "project.json",
  repository: "repository.json",
};

function expectedTable(index: number) {
  return { n: index, rows: new Array(50).fill(index) };
}

function expectedModel(index: number) {
  return [index, "w".repeat(2000), [index, -index]];
}

/**
 * The writer: each round opens the folder, adds experiment `run <n>` (a JSON `table` and a
 * pickled `model`) or version `n` of the repository's `model`, saves, and prints the new count.
 * With a round limit it stops by itself; otherwise it runs until it is killed.
 */
const WRITER = `
import { Project } from ${JSON.stringify(new URL("src/project.ts", root).href)};
import { Repository } from ${
  JSON.stringify(new URL("src/repository.ts", root).href)
};
const [kind, path, roundsText] = Deno.args;
const rounds = roundsText === undefined ? Infinity : Number(roundsText);
console.log("ready");
${expectedTable.toString()}
${expectedModel.toString()}
for (let round = 0; round < rounds; round++) {
  if (kind === "project") {
    const project = await Project.open(path, { author: "fault" });
    const n = project.experiments.length;
    const experiment = project.log("run " + n);
    experiment.logArtifact({ name: "table", value: expectedTable(n), handler: "json", fname: "table.json" });
    experiment.logArtifact({ name: "model", value: expectedModel(n), handler: "pickle", fname: "model.pkl" });
    await project.save();
    console.log(n + 1);
  } else {
    const repository = await Repository.open(path);
    const n = repository.artifacts.length;
    repository.logArtifact({ name: "model", value: expectedModel(n), handler: "pickle", fname: "model-v" + n + ".pkl" });
    await repository.save();
    console.log(n + 1);
  }
}
`;

let writerPath: string | undefined;

async function writer(): Promise<string> {
  if (writerPath === undefined) {
    writerPath = await Deno.makeTempFile({ suffix: "_writer.ts" });
    await Deno.writeTextFile(writerPath, WRITER);
  }
  return writerPath;
}

function writerCommand(
  kind: Kind,
  path: string,
  rounds?: number,
): Promise<Deno.Command> {
  return writer().then((script) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-check",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        script,
        kind,
        path,
        ...(rounds === undefined ? [] : [String(rounds)]),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
  );
}

/** Every file under `folder`, as paths relative to it. */
async function listFiles(folder: string, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const relative = prefix + entry.name;
    if (entry.isDirectory) {
      files.push(...await listFiles(`${folder}/${entry.name}`, relative + "/"));
    } else files.push(relative);
  }
  return files;
}

const isLeftover = (file: string) =>
  /(^|\/)\.[^/]+\.[0-9a-f]{8}\.(tmp|bak)$/.test(file);

/**
 * Opens what a killed writer left and checks it is a whole state: the count, with every
 * artifact of every experiment or version loading to what the writer logged. Artifact files
 * that nothing refers to yet (the save in flight moves them before the index) must be whole
 * too.
 */
async function checkState(
  kind: Kind,
  folder: string,
): Promise<{ count: number; orphans: number }> {
  const path = `${folder}/${INDEX[kind]}`;
  const referenced = new Set([INDEX[kind]]);
  let count: number;
  let orphans = 0;
  if (kind === "project") {
    const project = await Project.open(path, { mode: "r" });
    count = project.experiments.length;
    for (const [index, experiment] of project.experiments.entries()) {
      assert.equal(experiment.name, `run ${index}`);
      assert.deepEqual(
        await experiment.loadArtifact("table"),
        expectedTable(index),
      );
      assert.deepEqual(
        await experiment.loadArtifact("model"),
        expectedModel(index),
      );
      const relative = experiment.path.slice(folder.length + 1);
      referenced.add(`${relative}/table.json`).add(`${relative}/model.pkl`);
    }
  } else {
    const repository = await Repository.open(path, { mode: "r" });
    count = repository.artifacts.length;
    for (let index = 0; index < count; index++) {
      assert.deepEqual(
        await repository.loadArtifact("model", { version: index }),
        expectedModel(index),
      );
      referenced.add(`model/model-v${index}.pkl`);
    }
  }
  for (const file of await listFiles(folder)) {
    if (referenced.has(file) || isLeftover(file)) continue;
    // An artifact of the save in flight, in place before its index: it must be whole.
    const bytes = await Deno.readFile(`${folder}/${file}`);
    const orphan = kind === "project"
      ? /^run-(\d+)-\d{14}\/(table\.json|model\.pkl)$/.exec(file)
      : /^model\/model-v(\d+)\.pkl$/.exec(file);
    assert.ok(orphan, `unexpected file ${file}`);
    const index = Number(orphan[1]);
    // Of this save in flight, or of an earlier one killed before its index moved.
    assert.ok(index <= count, `${file} is of no save that ever started`);
    orphans++;
    const { decode } = await import("../codec/mod.ts");
    if (file.endsWith(".json")) {
      assert.deepEqual(
        JSON.parse(new TextDecoder().decode(bytes)),
        expectedTable(index),
      );
    } else assert.deepEqual(decode(bytes), expectedModel(index));
  }
  return { count, orphans };
}

/** One round of the writer, in this process and through `storage`. */
async function saveOnce(
  kind: Kind,
  path: string,
  storage: FileStorage,
): Promise<void> {
  if (kind === "project") {
    const project = await Project.open(path, { author: "fault", storage });
    const n = project.experiments.length;
    const experiment = project.log("run " + n);
    experiment.logArtifact({
      name: "table",
      value: expectedTable(n),
      handler: "json",
      fname: "table.json",
    });
    experiment.logArtifact({
      name: "model",
      value: expectedModel(n),
      handler: "pickle",
      fname: "model.pkl",
    });
    await project.save();
  } else {
    const repository = await Repository.open(path, { storage });
    const n = repository.artifacts.length;
    repository.logArtifact({
      name: "model",
      value: expectedModel(n),
      handler: "pickle",
      fname: "model-v" + n + ".pkl",
    });
    await repository.save();
  }
}

/** What Python lazyscribe makes of folders (`python/fuzz_save_check.py`), in one process. */
async function pythonCounts(
  folders: { kind: Kind; path: string }[],
): Promise<{ count?: number; error?: string }[]> {
  const python = new Deno.Command(pythonPath(), {
    args: [new URL("python/fuzz_save_check.py", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writerStream = python.stdin.getWriter();
  await writerStream.write(new TextEncoder().encode(JSON.stringify(folders)));
  await writerStream.close();
  const result = await python.output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

interface KillReport {
  kind: Kind;
  before: number;
  acknowledged: number;
  found: number;
  orphans: number;
  snapshot: string;
}

/** One kill: start a writer, wait a random time, SIGKILL it, check and snapshot the folder. */
async function killOnce(
  kind: Kind,
  folder: string,
  snapshot: string,
  delayMs: number,
): Promise<KillReport> {
  const before = (await checkState(kind, folder)).count;
  const child = (await writerCommand(kind, `${folder}/${INDEX[kind]}`)).spawn();
  const errors = new Response(child.stderr).text();
  // The delay starts once the writer has loaded its modules, so that the kill lands in saves.
  let output = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!output.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    output += value;
  }
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill("SIGKILL");
  const status = await child.status;
  for (
    let chunk = await reader.read();
    !chunk.done;
    chunk = await reader.read()
  ) {
    output += chunk.value;
  }
  const lines = output.split("\n").filter((line) => /^\d+$/.test(line));
  const stderr = await errors;
  assert.equal(
    status.signal,
    "SIGKILL",
    `the writer ended by itself: ${stderr}`,
  );
  const acknowledged = lines.length === 0 ? before : Number(lines.at(-1));
  const { count: found, orphans } = await checkState(kind, folder);
  assert.ok(
    found >= acknowledged && found <= acknowledged + 1,
    `${kind}: ${found} saved, but the writer had reported ${acknowledged}`,
  );
  await new Deno.Command("cp", { args: ["-a", folder, snapshot] }).output();
  return { kind, before, acknowledged, found, orphans, snapshot };
}

Deno.test({
  name:
    `save faults: ${KILLS} SIGKILLs during Project.save() and Repository.save()`,
  sanitizeResources: false,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "lsa_kills_" });
    try {
      // Start each writer once uninterrupted, so that the module graph is cached and the
      // kills land in saves rather than in start-up.
      const kinds: Kind[] = ["project", "repository"];
      const lanes = Array.from({ length: PARALLEL * 2 }, (_, lane) => ({
        kind: kinds[lane % 2],
        folder: `${base}/lane${lane}`,
      }));
      for (const lane of lanes) {
        await Deno.mkdir(lane.folder);
        const done = await (await writerCommand(
          lane.kind,
          `${lane.folder}/${INDEX[lane.kind]}`,
          1,
        )).output();
        assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
      }
      // Probe how long three saves take on this machine, so that the kill delays spread over
      // the first saves whatever its speed.
      const probe = (await writerCommand(
        "project",
        `${base}/probe/project.json`,
        3,
      )).spawn();
      const probeReader = probe.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let probeOutput = "";
      while (!probeOutput.includes("ready\n")) {
        const { value, done } = await probeReader.read();
        if (done) break;
        probeOutput += value;
      }
      const started = performance.now();
      while (!(await probeReader.read()).done);
      await probe.status;
      const runMs = performance.now() - started;
      let seed = 0x2545f491;
      const random = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      const reports: KillReport[] = [];
      const perLane = Math.ceil(KILLS / lanes.length);
      // allSettled: a failing lane must not leave the other one writing during clean-up.
      const lanesDone = await Promise.allSettled(
        Array.from({ length: PARALLEL }, async (_, worker) => {
          for (let kill = 0; kill < perLane * 2; kill++) {
            const lane = lanes[worker * 2 + (kill % 2)];
            const snapshot = `${base}/snap-${worker}-${kill}`;
            const delayMs = random() * runMs * 4;
            reports.push(
              await killOnce(lane.kind, lane.folder, snapshot, delayMs),
            );
          }
        }),
      );
      for (const lane of lanesDone) {
        if (lane.status === "rejected") throw lane.reason;
      }
      // Python lazyscribe opens every snapshot as the same state, in one process.
      const verdicts = await pythonCounts(
        reports.map((report) => ({
          kind: report.kind,
          path: `${report.snapshot}/${INDEX[report.kind]}`,
        })),
      );
      const disagreements = reports.flatMap((report, index) =>
        verdicts[index].count === report.found ? [] : [
          `${report.snapshot}: ${
            JSON.stringify(verdicts[index])
          }, we saw ${report.found}`,
        ]
      );
      assert.deepEqual(disagreements, []);
      // After the kills, each folder still saves, and a save whose storage has no grace period
      // removes every leftover of the killed saves (none of them is in flight any more).
      let leftoversBefore = 0;
      const eager = new FileStorage({ leftoverGracePeriod: 0 });
      for (const lane of lanes) {
        const before = (await checkState(lane.kind, lane.folder)).count;
        leftoversBefore += (await listFiles(lane.folder)).filter(isLeftover)
          .length;
        await saveOnce(lane.kind, `${lane.folder}/${INDEX[lane.kind]}`, eager);
        assert.equal(
          (await checkState(lane.kind, lane.folder)).count,
          before + 1,
        );
        assert.deepEqual((await listFiles(lane.folder)).filter(isLeftover), []);
      }
      const laneVerdicts = await pythonCounts(
        lanes.map((lane) => ({
          kind: lane.kind,
          path: `${lane.folder}/${INDEX[lane.kind]}`,
        })),
      );
      for (const [index, lane] of lanes.entries()) {
        assert.deepEqual(laneVerdicts[index], {
          count: (await checkState(lane.kind, lane.folder)).count,
        });
      }
      const inFirst = reports.filter((report) =>
        report.found === report.before
      ).length;
      const unreported = reports.filter((report) =>
        report.found > report.acknowledged
      ).length;
      const withOrphans = reports.filter((report) => report.orphans > 0).length;
      let saved = 0;
      for (const lane of lanes) {
        saved += (await checkState(lane.kind, lane.folder)).count;
      }
      console.log(
        `${reports.length} kills (parallelism ${PARALLEL}, delays 0-${
          (runMs * 4).toFixed(0)
        } ms after start-up, 4 times the time of 3 saves), ${saved} saves completed in ${lanes.length} ` +
          `folders: every folder opened as a whole state here and in Python lazyscribe; ` +
          `${inFirst} kills fell before the writer's first save completed, ${unreported} after ` +
          `a save completed and before it was reported; ${withOrphans} kills left whole ` +
          `artifact files that no index lists (a save killed before its index moved); ` +
          `${leftoversBefore} hidden .tmp/.bak files left by the kills, all removed by one ` +
          `more save of each folder once past the grace period`,
      );
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});

/** Runs a command and says whether it succeeded, with its stderr. */
async function run(command: string, ...args: string[]) {
  const result = await new Deno.Command(command, {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  return {
    ok: result.success,
    stderr: new TextDecoder().decode(result.stderr).trim(),
  };
}

/** Every file under `folder` with its bytes, to compare a state before and after. */
async function contents(folder: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const file of (await listFiles(folder)).sort()) {
    files.set(
      file,
      (await Deno.readTextFile(`${folder}/${file}`)).slice(0, 200),
    );
  }
  return files;
}

/**
 * Mounts a filesystem over a fresh folder for `body`: a tmpfs of 64 KiB, or the folder bound
 * read-only onto itself. Root bypasses permission bits, so a read-only mount is the honest way
 * to refuse writes here.
 */
async function withMount(
  kind: "tmpfs" | "readonly",
  prepare: (folder: string) => Promise<void>,
  body: (folder: string) => Promise<void>,
): Promise<void> {
  const folder = await Deno.makeTempDir({ prefix: `lsa_${kind}_` });
  let mounted = false;
  try {
    if (kind === "tmpfs") {
      const mount = await run(
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=64k",
        "tmpfs",
        folder,
      );
      assert.ok(mount.ok, `mount -t tmpfs failed: ${mount.stderr}`);
      mounted = true;
      await prepare(folder);
    } else {
      await prepare(folder);
      const bind = await run("mount", "--bind", folder, folder);
      assert.ok(bind.ok, `mount --bind failed: ${bind.stderr}`);
      mounted = true;
      const readOnly = await run("mount", "-o", "remount,bind,ro", folder);
      assert.ok(readOnly.ok, readOnly.stderr);
    }
    await body(folder);
  } finally {
    if (mounted) await run("umount", folder);
    await Deno.remove(folder, { recursive: true });
  }
}

/** Whether this machine lets the tests mount (root, outside a locked-down container). */
async function canMount(): Promise<boolean> {
  const folder = await Deno.makeTempDir({ prefix: "lsa_mount_probe_" });
  try {
    const mount = await run(
      "mount",
      "-t",
      "tmpfs",
      "-o",
      "size=4k",
      "tmpfs",
      folder,
    );
    if (mount.ok) await run("umount", folder);
    return mount.ok;
  } catch {
    return false;
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

// CI must mount; elsewhere a machine that cannot is reported as ignored, not passed.
const mountTestsIgnored = !Deno.env.get("CI") && !await canMount();

/** A project with one saved experiment, and the artifact that a second save adds. */
async function saveFirstExperiment(folder: string): Promise<void> {
  const project = await Project.open(`${folder}/project.json`, {
    author: "ana",
  });
  const experiment = project.log("first");
  experiment.logArtifact({ name: "small", value: [1, 2, 3], handler: "json" });
  await project.save();
  const repository = await Repository.open(`${folder}/repo/repository.json`);
  repository.logArtifact({ name: "model", value: [1], handler: "pickle" });
  await repository.save();
}

/** Tries to add what does not fit (or may not be written) and checks the refusal. */
async function refuseSecondSave(folder: string, reason: RegExp): Promise<void> {
  const before = await contents(folder);
  const big = "x".repeat(256 * 1024);

  const project = await Project.open(`${folder}/project.json`, {
    author: "ana",
  });
  project.log("second").logArtifact({
    name: "big",
    value: [big],
    handler: "json",
  });
  const projectError = await project.save().then(() => null, (error) => error);
  assert.ok(projectError instanceof SaveError, String(projectError));
  assert.match(
    projectError.message,
    /second-\d{14}\/big-\d{14}\.json|project\.json/,
  );
  assert.match(String(projectError.cause), reason);

  const repository = await Repository.open(`${folder}/repo/repository.json`);
  repository.logArtifact({ name: "model", value: [big], handler: "pickle" });
  const repositoryError = await repository.save().then(
    () => null,
    (error) => error,
  );
  assert.ok(repositoryError instanceof SaveError, String(repositoryError));
  assert.match(repositoryError.message, /model-\d{14}\.pkl|repository\.json/);
  assert.match(String(repositoryError.cause), reason);

  // The previous state, file for file, with nothing temporary left.
  assert.deepEqual(await contents(folder), before);
  const reopened = await Project.open(`${folder}/project.json`, { mode: "r" });
  assert.deepEqual(reopened.experiments.map((experiment) => experiment.name), [
    "first",
  ]);
  assert.deepEqual(await reopened.experiments[0].loadArtifact("small"), [
    1,
    2,
    3,
  ]);
  console.log(`${projectError.message}\n${repositoryError.message}`);
}

Deno.test({
  name:
    "save faults: a full disk gives SaveError naming the file, and the previous state stays",
  ignore: mountTestsIgnored,
}, async () => {
  await withMount("tmpfs", saveFirstExperiment, async (folder) => {
    await refuseSecondSave(folder, /No space left on device|ENOSPC/);
    // Now with no artifact at all: the disk is full when project.json itself is staged.
    const filler = await Deno.open(`${folder}/filler`, {
      write: true,
      create: true,
    });
    try {
      while (true) await filler.write(new Uint8Array(4096));
    } catch (error) {
      assert.match(String(error), /No space left on device|ENOSPC/);
    } finally {
      filler.close();
    }
    const before = await contents(folder);
    const project = await Project.open(`${folder}/project.json`, {
      author: "ana",
    });
    project.log("third").logMetric("auroc", 0.7);
    const error = await project.save().then(() => null, (error) => error);
    assert.ok(error instanceof SaveError, String(error));
    assert.match(error.message, /project\.json/);
    assert.deepEqual(await contents(folder), before);
    console.log(error.message);
  });
});

Deno.test({
  name:
    "save faults: a read-only folder gives SaveError naming the file, and the previous state stays",
  ignore: mountTestsIgnored,
}, async () => {
  await withMount("readonly", saveFirstExperiment, async (folder) => {
    await refuseSecondSave(folder, /Read-only file system|EROFS/);
  });
});
