/**
 * Node 20: the package's entry points (`mod.ts`, `cli.ts`) bundled with esbuild for Node run
 * `tests/runtimes/node_project.mjs`, which reads the demo project Python lazyscribe made from
 * disk and writes a new project with JSON and pickle artifacts, which Python lazyscribe then
 * loads.
 */

import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { Project } from "../src/project.ts";
import { taggedJson } from "../src/tagged_json.ts";
import { runPython } from "./_python.ts";
import {
  bundle,
  demoProjectDir,
  ensureRuntimes,
  rootDir,
  runtimesDir,
} from "./runtimes/_harness.ts";

const EXPERIMENT = "baseline-model-20261126052410";

Deno.test("Node 20: the bundled entry points read and write projects on disk", async () => {
  await ensureRuntimes();
  const dir = await Deno.makeTempDir({ prefix: "lazyscribe-node-" });
  try {
    for (const [entry, name] of [["mod.ts", "artifacts"], ["cli.ts", "cli"]]) {
      await bundle(`${rootDir}${entry}`, `${dir}/${name}.mjs`, {
        platform: "node",
      });
    }
    await Deno.copyFile(
      `${runtimesDir}/node_project.mjs`,
      `${dir}/node_project.mjs`,
    );
    const out = `${dir}/written`;
    await Deno.mkdir(out);

    const { code, stdout, stderr } = await new Deno.Command("node", {
      args: ["node_project.mjs", demoProjectDir, out, EXPERIMENT],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const errors = new TextDecoder().decode(stderr);
    assert.equal(code, 0, errors);
    const result = JSON.parse(new TextDecoder().decode(stdout));
    assert.match(result.node, /^v(2\d|[3-9]\d)\./, "Node 20 or later");

    const local = await Project.open(`${demoProjectDir}/project.json`, {
      mode: "r",
    });
    const experiment = local.get(EXPERIMENT)!;
    const expected: Record<string, string> = {};
    for (const { name } of experiment.artifacts) {
      expected[name] = taggedJson(
        await experiment.loadArtifact(name, { readerKwargs: { exact: true } }),
      );
    }
    assert.deepEqual(result.read, expected);

    const cli: string[] = [];
    const status = await main(
      ["cat", `${demoProjectDir}/project.json`, EXPERIMENT, "model", "--json"],
      { out: (line) => cli.push(line), err: (line) => cli.push(line) },
    );
    assert.deepEqual(result.cli, { status, out: cli.join("\n") });
    assert.equal(status, 0);

    await runPython(
      `
import datetime, sys
import numpy as np
from lazyscribe import Project
project = Project(sys.argv[1] + "/project.json", mode="r")
experiment = project[sys.argv[2]]
assert experiment.name == "Node run" and experiment.author == "node", experiment
assert experiment.metrics == {"auroc": 0.75}, experiment.metrics
assert experiment.parameters == {"runtime": "node"}, experiment.parameters
assert experiment.load_artifact("features") == ["age", "income"]
model = experiment.load_artifact("model")
assert list(model) == ["weights", "shape", "trained"], model
assert model["weights"].dtype == np.dtype("<f8")
assert np.array_equal(model["weights"], np.arange(6).reshape(2, 3) / 2), model["weights"]
assert model["shape"] == (2, 3)
assert model["trained"] == datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
`,
      [out, result.slug],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
