/**
 * Reads every artifact of every experiment of a project on disk, for a run with only
 * `--allow-read` on the project's folder. Usage: `deno run --allow-read=<folder>
 * read_project.ts <folder>/project.json`. Prints a JSON object: `"<slug>/<name>"` → the
 * artifact's value as tagged JSON.
 *
 * @module
 */

import { Project, taggedJson } from "../../mod.ts";

const project = await Project.open(Deno.args[0], { mode: "r" });
const values: Record<string, string> = {};
for (const experiment of project.experiments) {
  for (const { name } of experiment.artifacts) {
    values[`${experiment.slug}/${name}`] = taggedJson(
      await experiment.loadArtifact(name, { readerKwargs: { exact: true } }),
    );
  }
}
console.log(JSON.stringify(values));
