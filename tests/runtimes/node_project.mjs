// Runs under Node 20 against the bundles of the package's entry points (`artifacts.mjs` from
// mod.ts, `cli.mjs` from cli.ts), next to this file: reads the demo project from disk, writes a
// new project with a JSON and a pickle artifact, and runs the command line's `cat`.
// Usage: node node_project.mjs <demo project folder> <output folder> <experiment slug>
// Prints one JSON line: what it read, the command line's output, and the runtime.
import {
  DType,
  NdArray,
  Project,
  PyDateTime,
  taggedJson,
  Tuple,
} from "./artifacts.mjs";
import { main } from "./cli.mjs";

const [fixture, out, slug] = process.argv.slice(2);

const project = await Project.open(`${fixture}/project.json`, { mode: "r" });
const experiment = project.get(slug);
const read = {};
for (const { name } of experiment.artifacts) {
  read[name] = taggedJson(
    await experiment.loadArtifact(name, { readerKwargs: { exact: true } }),
  );
}

const written = await Project.open(`${out}/project.json`, {
  mode: "w",
  author: "node",
});
const run = written.log("Node run");
run.logMetric("auroc", 0.75);
run.logParameter("runtime", "node");
run.logArtifact({
  name: "features",
  value: ["age", "income"],
  handler: "json",
});
run.logArtifact({
  name: "model",
  handler: "pickle",
  value: new Map([
    [
      "weights",
      new NdArray(
        new DType("f8", "<", 8),
        [2, 3],
        "C",
        new Float64Array([0, 0.5, 1, 1.5, 2, 2.5]),
      ),
    ],
    ["shape", Tuple.of(2, 3)],
    ["trained", new PyDateTime(2024, 5, 6, 7, 8, 9, 123456)],
  ]),
});
await written.save();

const cli = [];
const status = await main(
  ["cat", `${fixture}/project.json`, slug, "model", "--json"],
  { out: (line) => cli.push(line), err: (line) => cli.push(line) },
);

console.log(JSON.stringify({
  read,
  cli: { status, out: cli.join("\n") },
  node: process.version,
  slug: run.slug,
}));
