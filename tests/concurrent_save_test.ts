/**
 * Two processes saving the same project (or repository) at once. There is no lock: each save
 * reads the index, adds its own entry and replaces the index with an atomic rename, so the last
 * rename wins and the other process's entry is lost from the index (its artifact files stay, whole
 * and unlisted). What must never happen, and what this test checks: a torn `project.json` or
 * `repository.json` (a reader polling it during the race always parses a complete list), or an
 * index that lists an artifact whose file is missing or partial.
 */

import assert from "node:assert/strict";
import { Project } from "../src/project.ts";
import { Repository } from "../src/repository.ts";

const root = new URL("../", import.meta.url);
const ROUNDS = 25;

const WRITER = `
import { Project } from ${JSON.stringify(new URL("src/project.ts", root).href)};
import { Repository } from ${
  JSON.stringify(new URL("src/repository.ts", root).href)
};
const [kind, path, label, roundsText] = Deno.args;
for (let round = 0; round < Number(roundsText); round++) {
  if (kind === "project") {
    const project = await Project.open(path, { author: label });
    const experiment = project.log(label + " " + round);
    experiment.logArtifact({ name: "table", value: { label, round, rows: new Array(500).fill(round) }, handler: "json" });
    await project.save();
  } else {
    const repository = await Repository.open(path);
    repository.logArtifact({ name: label, value: [label, round, "p".repeat(5000)], handler: "pickle" });
    await repository.save();
  }
}
`;

async function race(kind: "project" | "repository") {
  const folder = await Deno.makeTempDir({ prefix: "lsa_race_" });
  const script = `${folder}/writer.ts`;
  await Deno.writeTextFile(script, WRITER);
  const index = `${folder}/data/${
    kind === "project" ? "project.json" : "repository.json"
  }`;
  try {
    const writers = ["a", "b"].map((label) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-check",
          "--allow-all",
          script,
          kind,
          index,
          label,
          String(ROUNDS),
        ],
        stdout: "null",
        stderr: "piped",
      }).output()
    );
    let reads = 0;
    let finished = false;
    const done = Promise.all(writers).finally(() => finished = true);
    // A reader polls the index all through the race: every read must be a whole JSON list.
    while (!finished) {
      let text: string | undefined;
      try {
        text = await Deno.readTextFile(index);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      if (text !== undefined) {
        assert.ok(Array.isArray(JSON.parse(text)), `torn index: ${text}`);
        reads++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (const result of await done) {
      assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    }
    // The final index lists only whole artifacts.
    // Which writers' final rounds the index lists: the last rename is some writer's last save.
    const lastRounds = new Set<string>();
    let listed: number;
    if (kind === "project") {
      const project = await Project.open(index, { mode: "r" });
      listed = project.experiments.length;
      for (const experiment of project.experiments) {
        const [label, round] = experiment.name.split(" ");
        const table = await experiment.loadArtifact("table") as {
          label: string;
          round: number;
          rows: number[];
        };
        assert.equal(table.label, label);
        assert.equal(table.round, Number(round));
        assert.equal(table.rows.length, 500);
        if (Number(round) === ROUNDS - 1) lastRounds.add(label);
      }
    } else {
      const repository = await Repository.open(index, { mode: "r" });
      listed = repository.artifacts.length;
      for (const artifact of repository.artifacts) {
        const value = await repository.loadArtifact(artifact.name, {
          version: artifact.version,
        }) as unknown[];
        assert.equal(value[0], artifact.name);
        assert.equal((value[2] as string).length, 5000);
        if (value[1] === ROUNDS - 1) lastRounds.add(artifact.name);
      }
    }
    const saves = 2 * ROUNDS;
    // Without a lock, a save may replace an index that a stale read of the other writer built
    // on, so the count has no lower bound beyond the final save's own entry.
    assert.ok(listed >= 1 && listed <= saves, `${listed} listed`);
    assert.ok(lastRounds.size >= 1, "the last save's own entry is listed");
    assert.ok(reads > 0, "the reader read the index during the race");
    console.log(
      `${kind}: ${saves} saves by 2 processes, ${reads} reads of the index during the race, none torn; ` +
        `${listed} entries listed, ${saves - listed} lost to the last writer`,
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

Deno.test("concurrent saves: two processes on one project.json, no torn file", async () => {
  await race("project");
});

Deno.test("concurrent saves: two processes on one repository.json, no torn file", async () => {
  await race("repository");
});
