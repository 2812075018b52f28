/**
 * The command line, on the demo project Python lazyscribe made: what it shows, what it prints
 * for every artifact (compared with what Python loads), its errors and exit statuses, and its
 * bounds on hostile pickles.
 */

import assert from "node:assert/strict";
import { decode, encode } from "../codec/mod.ts";
import { DType, NdArray, Tuple } from "../codec/types.ts";
import { main } from "../cli.ts";
import { MemoryStorage } from "../src/open_storage.ts";
import { Project } from "../src/project.ts";
import { loads } from "../src/python_json.ts";
import { taggedJson } from "../src/tagged_json.ts";
import { valueTree } from "../src/value_tree.ts";
import { pythonPath } from "./_python.ts";

const root = new URL("../", import.meta.url).pathname;
const fixture = `${root}tests/fixtures/demo_project`;
const projectFile = `${fixture}/project.json`;
const repositoryFile = `${fixture}/repo/repository.json`;

interface Run {
  status: number;
  out: string;
  err: string;
}

async function run(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(args, {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  });
  return { status, out: out.join("\n"), err: err.join("\n") };
}

async function python(source: string, cwd: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(pythonPath(), {
    args: ["-c", source],
    cwd,
    env: { PYTHONHASHSEED: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

Deno.test("--help for the program and each command", async () => {
  for (
    const args of [
      [],
      ["--help"],
      ["-h"],
      ["help"],
      ["help", "cat"],
      ["show", "--help"],
      ["cat", "-h"],
      ["diff", "--help"],
    ]
  ) {
    const result = await run(...args);
    assert.equal(result.status, 0, args.join(" "));
    assert.match(result.out, /Usage/);
    assert.equal(result.err, "");
  }
  assert.match((await run("cat", "--help")).out, /--version <v>/);
  assert.equal((await run("help", "nope")).status, 2);
});

Deno.test("show: a project's experiments, metrics, parameters, tests and artifacts", async () => {
  const { status, out } = await run("show", projectFile);
  assert.equal(status, 0);
  const project = await Project.open(projectFile, { mode: "r" });
  assert.match(out, /: 3 experiments/);
  for (const experiment of project.experiments) {
    assert.ok(out.includes(`${experiment.name}  [${experiment.slug}]`));
    for (const artifact of experiment.artifacts) {
      assert.ok(out.includes(artifact.fname), artifact.fname);
    }
  }
  // Python's types survive: 1.0 stays a float, big ints are tagged.
  assert.match(out, /\n {4}accuracy {2}1\.0\n/);
  assert.match(out, /\n {4}big {7}\{"\$int": "1152921504606846976"\}\n/);
  assert.match(out, /tags: baseline, svm/);
  assert.match(
    out,
    /depends on: feature-build-\d{14} in upstream\/project.json/,
  );
  assert.match(out, /Young users — Customers under 25/);
  assert.match(
    out,
    /model +pickle +model-\d{14}\.pkl +created \S+ +python_version=3\.11/,
  );
});

Deno.test("show --json: the entries, with Python's ints and floats apart", async () => {
  const project = await run("show", projectFile, "--json");
  assert.equal(project.status, 0, project.err);
  const stored = loads(await Deno.readTextFile(projectFile), { exact: true });
  const entries = loads(project.out, { exact: true }) as Map<string, unknown>[];
  assert.equal(entries.length, 3);
  // Metrics and parameters as stored: 1.0 a float, 1000 an int.
  const metrics = entries[0].get("metrics") as Map<string, unknown>;
  assert.equal(metrics.get("accuracy"), 1);
  assert.equal(metrics.get("n_rows"), 1000n);
  assert.deepStrictEqual(
    (stored as Map<string, unknown>[])[0].get("metrics"),
    new Map([...metrics].map(([key, value]) => [
      key,
      value instanceof Map ? BigInt(value.get("$int") as string) : value,
    ])),
  );
  const repository = await run("show", repositoryFile, "--json");
  assert.deepStrictEqual(
    loads(repository.out, { exact: true }),
    loads(await Deno.readTextFile(repositoryFile), { exact: true }),
  );
});

Deno.test("show: a repository's versions with expiry and the latest marked", async () => {
  const { status, out } = await run("show", repositoryFile);
  assert.equal(status, 0);
  assert.match(out, /2 artifacts, 5 versions/);
  const thresholds = out.slice(out.indexOf("thresholds (json)"));
  const lines = thresholds.split("\n").slice(1, 4);
  assert.match(
    lines[0],
    /^ {2}v0 +created \S+ +thresholds-\d{14}\.json +never expires$/,
  );
  assert.match(lines[1], /^ {2}v1 .* expired \S+$/);
  assert.match(lines[2], /^ {2}v2 .* expires 2099-12-31T23:59:59 +← latest$/);
  assert.match(out, /model \(pickle\)\n {2}v0 .*\n {2}v1 .*← latest/);
});

Deno.test("cat --json prints every artifact as Python lazyscribe loads it", async () => {
  const described = loads(
    await python(
      `
import runpy, sys
sys.argv = ["describe", "project", "project.json"]
runpy.run_path(${
        JSON.stringify(`${root}tests/python/project_describe.py`)
      }, run_name="__main__")
`,
      fixture,
    ),
    { exact: true },
  ) as Map<string, unknown>[];
  const project = await Project.open(projectFile, { mode: "r" });
  let compared = 0;
  for (const [index, experiment] of project.experiments.entries()) {
    const expected = described[index];
    const holders: [string[], Map<string, unknown>][] = [
      [[], expected.get("artifacts") as Map<string, unknown>],
      ...[...(expected.get("tests") as Map<string, Map<string, unknown>>)]
        .map(([name, values]): [string[], Map<string, unknown>] => [
          ["--test", name],
          values,
        ]),
    ];
    for (const [testArgs, values] of holders) {
      for (const [name, value] of values) {
        const result = await run(
          "cat",
          projectFile,
          experiment.slug,
          name,
          ...testArgs,
          "--json",
        );
        assert.equal(result.status, 0, result.err);
        const printed = loads(result.out, { exact: true });
        if (value instanceof Map && value.has("$unsupported")) {
          // A pandas DataFrame: an inert record of the class it names.
          assert.equal(
            (printed as Map<string, unknown>).get("$object"),
            value.get("$unsupported"),
          );
        } else {
          assert.deepStrictEqual(printed, value, `${experiment.slug} ${name}`);
        }
        compared++;
      }
    }
  }
  assert.equal(compared, 8);
});

Deno.test("cat --tree, and repository versions by number and by time", async () => {
  const model = await run("cat", projectFile, "baseline-model", "model");
  assert.equal(model.status, 0, model.err);
  assert.match(model.out, /^dict \(9 items\)\n/);
  assert.match(
    model.out,
    /'weights': ndarray float64 dtype\('<f8'\) shape \(3, 4\) \[0\.0, 0\.25/,
  );
  assert.match(model.out, /'left': list \(3 items\) &1\n/);
  assert.match(model.out, /'right': \*1 \(shown above\)/);
  assert.match(model.out, /'epochs': 1180591620717411303424/);
  const byName = await run("cat", projectFile, "Baseline model", "model");
  assert.equal(byName.status, 0, byName.err);
  assert.equal(byName.out, model.out);
  const scores = await run(
    "cat",
    projectFile,
    "baseline-model",
    "scores",
    "--test",
    "Young users",
  );
  assert.equal(
    scores.out,
    "ndarray float32 dtype('<f4') shape (5,) [0.0, 0.25, 0.5, 0.75, 1.0]",
  );

  const latest = await run("cat", repositoryFile, "thresholds");
  assert.equal(latest.out, "dict (1 item)\n└── 'cut': 0.6");
  const first = await run(
    "cat",
    repositoryFile,
    "thresholds",
    "--version",
    "1",
    "--json",
  );
  assert.equal(first.out, '{\n  "cut": 0.55\n}');
  const repository = JSON.parse(await Deno.readTextFile(repositoryFile));
  const v1 = repository.find((entry: { name: string; version: number }) =>
    entry.name === "thresholds" && entry.version === 1
  );
  const asOf = await run(
    "cat",
    repositoryFile,
    "thresholds",
    "--version",
    v1.created_at,
    "--asof",
    "--json",
    "--indent",
    "0",
  );
  assert.equal(asOf.out, '{"cut": 0.55}');
  // Version 1 expired the second version 2 was made; asof includes that second.
  const atExpiry = await run(
    "cat",
    repositoryFile,
    "thresholds",
    `--version=${v1.expiry}`,
    "--asof",
    "--json",
    "--indent=0",
  );
  assert.equal(atExpiry.out, '{"cut": 0.6}');
});

Deno.test("diff prints what Python lazyscribe's get_version_diff returns", async () => {
  const expected = await python(
    `
from datetime import datetime
from lazyscribe import Repository
repo = Repository("repo/repository.json", mode="r")
# lazyscribe 2.2.2 keeps a stored expiry as text and cannot compare it; parse it as it means to.
for art in repo.artifacts:
    if isinstance(art.expiry, str):
        art.expiry = datetime.fromisoformat(art.expiry)
print(repo.get_version_diff("thresholds", (0, 1)))
print("=====")
print(repo.get_version_diff("thresholds", 0))
`,
    fixture,
  );
  const pair = await run("diff", repositoryFile, "thresholds", "0", "1");
  assert.equal(pair.status, 0, pair.err);
  const single = await run("diff", repositoryFile, "thresholds", "0");
  assert.equal(`${pair.out}\n=====\n${single.out}\n`, expected);
  const binary = await run("diff", repositoryFile, "model", "0", "1");
  assert.equal(binary.status, 1);
  assert.match(binary.err, /binary handler 'pickle'/);
});

Deno.test("errors: a clear message and a non-zero status", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lazyscribe-cli-" });
  try {
    await Deno.writeTextFile(`${dir}/broken.json`, "[{");
    await Deno.writeTextFile(`${dir}/object.json`, "{}");
    await Deno.writeTextFile(`${dir}/odd.json`, '[{"x": 1}]');
    await Deno.writeTextFile(`${dir}/bad-entry.json`, '[{"slug": "x"}]');
    // A copy of the demo whose pickle is cut short and whose JSON artifact is gone.
    await new Deno.Command("cp", {
      args: ["-R", `${fixture}/.`, `${dir}/demo`],
    }).output();
    const project = await Project.open(`${dir}/demo/project.json`, {
      mode: "r",
    });
    const baseline = project.get("baseline-model")!;
    const pickle = `${baseline.path}/${baseline.artifacts[3].fname}`;
    const bytes = await Deno.readFile(pickle);
    await Deno.writeFile(pickle, bytes.subarray(0, bytes.length - 9));
    await Deno.remove(`${baseline.path}/${baseline.artifacts[0].fname}`);
    const demo = `${dir}/demo/project.json`;

    const cases: [string[], number, RegExp][] = [
      [["show", `${dir}/missing.json`], 1, /No such file: .*missing\.json/],
      [
        ["show", `${dir}/broken.json`],
        1,
        /is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 3/,
      ],
      [["show", `${dir}/object.json`], 1, /must hold a JSON list/],
      [["show", `${dir}/odd.json`], 1, /neither "slug" nor "handler"/],
      [
        ["show", `${dir}/bad-entry.json`],
        1,
        /Experiment 0 of .*: "name" must be a string, not missing/,
      ],
      [["frobnicate"], 2, /Unknown command "frobnicate"/],
      [["show"], 2, /show takes one file/],
      [["cat", demo, "--colour"], 2, /Unknown option --colour/],
      [
        ["cat", demo, "x", "y", "--json", "--tree"],
        2,
        /Choose one of --json and --tree/,
      ],
      [
        ["cat", repositoryFile, "thresholds", "--version"],
        2,
        /--version needs a value/,
      ],
      [
        ["cat", demo, "baseline-model", "model", "--version", "1"],
        2,
        /for repositories/,
      ],
      [
        ["cat", demo, "nope", "model"],
        1,
        /No experiment "nope" .* its experiments are "baseline-model-\d+"/,
      ],
      [
        ["cat", demo, "baseline-model", "nope"],
        1,
        /its artifacts are "features", "config", "plot data", "model"/,
      ],
      [
        ["cat", demo, "baseline-model", "x", "--test", "nope"],
        1,
        /has no test "nope"; its tests are "Young users", "Old users"/,
      ],
      [
        ["cat", demo, "baseline-model", "model"],
        1,
        /Cannot load artifact "model" \(handler "pickle", file .*model-\d+\.pkl\)/,
      ],
      [
        ["cat", demo, "baseline-model", "features"],
        1,
        /Cannot load artifact "features" .*: the file does not exist/,
      ],
      [
        ["cat", repositoryFile, "thresholds", "--version", "9"],
        1,
        /No artifact named thresholds with version 9/,
      ],
      [
        ["cat", repositoryFile, "thresholds", "--version", "soon"],
        1,
        /not in the format YYYY-MM-DDTHH:MM:SS/,
      ],
      [
        ["cat", repositoryFile, "nope"],
        1,
        /its artifacts are "model", "thresholds"/,
      ],
      [
        [
          "cat",
          projectFile,
          "baseline-model",
          "scores",
          "--test",
          "Young users",
          "--validate",
          "--python-version",
          "3.12",
        ],
        1,
        /Runtime environments do not match/,
      ],
      [["diff", projectFile, "x", "0"], 2, /is a project, not a repository/],
    ];
    for (const [args, status, message] of cases) {
      const result = await run(...args);
      assert.equal(result.status, status, `${args.join(" ")}: ${result.err}`);
      assert.match(result.err, message, args.join(" "));
      assert.equal(result.out, "", args.join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hostile pickles print in bounded time and size", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lazyscribe-cli-bomb-" });
  try {
    // Each level holds the level below twice: 2^20 leaves if shared references were expanded
    // (the decoder refuses much deeper ones: it bounds the expanded size itself).
    let dag: unknown[] = ["leaf"];
    for (let level = 0; level < 20; level++) dag = [dag, dag];
    // One long string referred to a thousand times through the pickle's memo.
    const long = "x".repeat(10_000);
    const repeated = Array.from({ length: 1000 }, () => long);
    const project = await Project.open(`${dir}/project.json`, { mode: "w" });
    const experiment = project.log("Bombs");
    experiment.logArtifact({ name: "dag", value: dag, handler: "pickle" });
    experiment.logArtifact({
      name: "repeated",
      value: repeated,
      handler: "pickle",
    });
    await project.save();
    const pickled = await Deno.readFile(
      `${experiment.path}/${experiment.artifacts[0].fname}`,
    );
    assert.ok(pickled.length < 10_000, `${pickled.length} bytes`);
    assert.ok(encode(repeated).length < 20_000);

    const started = performance.now();
    const json = await run(
      "cat",
      `${dir}/project.json`,
      "bombs",
      "dag",
      "--json",
      "--indent",
      "0",
    );
    const tree = await run(
      "cat",
      `${dir}/project.json`,
      "bombs",
      "dag",
      "--max-lines",
      "0",
    );
    assert.ok(performance.now() - started < 5000);
    assert.equal(json.status, 0);
    assert.ok(json.out.length < 20_000);
    assert.match(
      json.out,
      /^\[\{"\$id": 1, "\$list": \[\{"\$id": 2, "\$list": /,
    );
    assert.ok(json.out.includes('["leaf"]}, {"$ref": 20}]}, {"$ref": 19}]}'));
    // The root, then each level's list and its second, referring, item; then the leaf.
    assert.equal(tree.out.split("\n").length, 1 + 2 * 20 + 1);

    const refused = await run(
      "cat",
      `${dir}/project.json`,
      "bombs",
      "repeated",
      "--json",
      "--max-chars",
      "100000",
    );
    assert.equal(refused.status, 1);
    assert.match(refused.err, /longer than 100000 characters/);
    const cut = await run("cat", `${dir}/project.json`, "bombs", "repeated");
    assert.equal(cut.status, 0);
    assert.ok(cut.out.length < 10_000);
    assert.match(cut.out, /… \(10000 characters\)/);
    assert.match(cut.out, /… 980 more$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the program: exit statuses and output streams of a real process", async () => {
  const command = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", `${root}cli.ts`, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const shown = await command("show", repositoryFile);
  assert.equal(shown.code, 0);
  assert.match(new TextDecoder().decode(shown.stdout), /thresholds \(json\)/);
  const missing = await command("show", `${root}no-such-project.json`);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout.length, 0);
  assert.match(
    new TextDecoder().decode(missing.stderr),
    /^lazyscribe-artifacts: No such file/,
  );
  const usage = await command("cat");
  assert.equal(usage.code, 2);
});

Deno.test("locations may be URLs of any registered storage", async () => {
  const { storage, path } = {
    storage: new MemoryStorage(),
    path: "p/project.json",
  };
  const project = await Project.open(path, { storage, mode: "w" });
  project.log("Run").logMetric("auroc", 0.5);
  await project.save();
  const shared = await Project.open("memory://cli-test/project.json", {
    mode: "w",
  });
  shared.log("Shared").logArtifact({
    name: "n",
    value: [1.5],
    handler: "json",
  });
  await shared.save();
  const result = await run(
    "cat",
    "memory://cli-test/project.json",
    "shared",
    "n",
    "--json",
  );
  assert.equal(result.out, "[1.5]");
});

Deno.test("cat over http: a project served by a web server reads as from disk", async () => {
  const controller = new AbortController();
  const server = Deno.serve(
    {
      port: 0,
      hostname: "127.0.0.1",
      signal: controller.signal,
      onListen() {},
    },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      try {
        const body = await Deno.readFile(`${fixture}${path}`);
        return new Response(request.method === "HEAD" ? null : body);
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const remote = await run(
      "cat",
      `${base}/project.json`,
      "baseline-model",
      "model",
      "--json",
    );
    const local = await run(
      "cat",
      projectFile,
      "baseline-model",
      "model",
      "--json",
    );
    assert.equal(remote.status, 0, remote.err);
    assert.equal(remote.out, local.out);
    const shown = await run("show", `${base}/repo/repository.json`);
    assert.equal(shown.status, 0, shown.err);
    assert.match(shown.out, /thresholds \(json\)/);
    const missing = await run("show", `${base}/nothing.json`);
    assert.equal(missing.status, 1);
    assert.match(missing.err, /No such file/);
  } finally {
    controller.abort();
    await server.finished;
  }
});

Deno.test("the printers: every value type the decoder makes, in both forms", async () => {
  // CPython's demo pickle: datetimes with zones, timedelta, UUID, OrderedDict, Decimal,
  // frozenset, numpy arrays and scalars, deque, and a class instance.
  const value = decode(
    await Deno.readFile(`${root}tests/fixtures/demo.pkl`),
    { exact: true },
  );
  const json = loads(taggedJson(value), { exact: true }) as Map<
    string,
    unknown
  >;
  const tag = (key: string) =>
    [...(json.get(key) as Map<string, unknown>).keys()][0];
  assert.equal(tag("created_at"), "$datetime");
  assert.deepEqual(
    json.get("finished_at"),
    new Map<string, unknown>([
      ["$datetime", "2025-01-20T13:26:42.623456"],
      [
        "tzinfo",
        new Map<string, unknown>([["$timezone", [0n, 0n, 0n]], ["name", null]]),
      ],
    ]),
  );
  assert.deepEqual(
    json.get("duration"),
    new Map([["$timedelta", [0n, 192n, 500000n]]]),
  );
  assert.equal(tag("run_id"), "$uuid");
  assert.equal(tag("metrics"), "$ordereddict");
  assert.deepEqual(json.get("threshold"), new Map([["$decimal", "0.4500"]]));
  assert.equal(tag("tags"), "$frozenset");
  assert.deepEqual(json.get("params_again"), new Map([["$ref", 1n]]));
  assert.equal((json.get("params") as Map<string, unknown>).get("$id"), 1n);
  assert.equal(tag("history"), "$deque");
  assert.equal(tag("feature_importances"), "$ndarray");
  assert.equal(tag("best_score"), "$npscalar");
  const model = json.get("model") as Map<string, unknown>;
  assert.equal(model.get("$object"), "experiments.models.RandomForestSummary");
  assert.equal(model.get("via"), "newobj");

  const tree = valueTree(value);
  for (
    const line of [
      "├── 'finished_at': datetime 2025-01-20T13:26:42.623456+00:00",
      "├── 'threshold': Decimal('0.4500')",
      "├── 'params_again': *1 (shown above)",
      "├── 'feature_importances': ndarray float32 dtype('<f4') shape (4,) [0.41, 0.27, 0.19, 0.13]",
      "├── 'best_score': numpy.float64(0.9312)",
      "└── 'model': experiments.models.RandomForestSummary object (not executed; made by newobj)",
    ]
  ) {
    assert.ok(tree.includes(line), line);
  }

  // Dicts that JSON objects cannot hold, non-finite floats, and containers as keys.
  const odd = new Map<unknown, unknown>([
    [1n, "int key"],
    ["$id", "dollar key"],
    [Tuple.of(1n, 2n), [NaN, -Infinity, -0]],
  ]);
  assert.equal(
    taggedJson(odd, { indent: 0 }),
    '{"$dict": [[1, "int key"], ["$id", "dollar key"], [{"$tuple": [1, 2]}, ' +
      '[{"$float": "nan"}, {"$float": "-inf"}, -0.0]]]}',
  );
  assert.equal(
    valueTree(odd),
    "dict (3 items)\n├── 1: 'int key'\n├── '$id': 'dollar key'\n" +
      '└── {"$tuple": [1, 2]}: list (3 items)\n    ├── nan\n    ├── -inf\n    └── -0.0',
  );
  // Large numpy data is written element by element, and cut off at the limit.
  const large = new NdArray(
    new DType("f8", "<", 8),
    [1_000_000],
    "C",
    new Float64Array(1_000_000).fill(0.5),
  );
  assert.throws(
    () => taggedJson(large, { maxLength: 100_000 }),
    /longer than 100000 characters/,
  );
  assert.ok(taggedJson(large, { indent: 0 }).endsWith(", 0.5, 0.5]}"));
  // With the default decode mapping, integral numbers are ints.
  assert.equal(
    taggedJson([1, 1.5, 2n ** 60n], { exact: false, indent: 0 }),
    '[1, 1.5, {"$int": "1152921504606846976"}]',
  );
  assert.equal(
    valueTree([1, 1.5], { exact: false }),
    "list (2 items)\n├── 1\n└── 1.5",
  );
});
