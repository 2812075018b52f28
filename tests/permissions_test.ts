/**
 * The package asks for nothing it does not need: pickles decode and encode under `deno run`
 * with no permissions (no network, files or environment: the WebAssembly module is embedded),
 * and a project on disk reads with `--allow-read` on its folder alone.
 */

import assert from "node:assert/strict";
import { decode, encode } from "../codec/mod.ts";
import { Project } from "../src/project.ts";
import { taggedJson } from "../src/tagged_json.ts";
import {
  cpythonPickles,
  demoProjectDir,
  rootDir,
  runtimesDir,
} from "./runtimes/_harness.ts";

async function denoRun(
  permissions: string[],
  script: string,
  args: string[],
  stdin?: string,
): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, script, ...args],
    cwd: rootDir,
    // No variables but where Deno keeps its cache: what the script may reach is its flags.
    clearEnv: true,
    env: Object.fromEntries(
      ["PATH", "HOME", "DENO_DIR"].flatMap((name) => {
        const value = Deno.env.get(name);
        return value === undefined ? [] : [[name, value]];
      }),
    ),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

Deno.test("permissions: decode and encode run with none", async () => {
  const pickles = [...(await cpythonPickles()).values()];
  const output: [string, string][] = JSON.parse(
    await denoRun(
      [],
      `${runtimesDir}/no_permissions.ts`,
      [],
      JSON.stringify(pickles.map((pickle) => pickle.toBase64())),
    ),
  );
  assert.equal(output.length, pickles.length);
  pickles.forEach((pickle, index) => {
    const value = decode(pickle, { exact: true });
    assert.deepEqual(output[index], [
      taggedJson(value),
      encode(value, { exact: true }).toBase64(),
    ]);
  });
});

Deno.test("permissions: a project on disk reads with --allow-read on its folder only", async () => {
  const output = JSON.parse(
    await denoRun(
      [`--allow-read=${demoProjectDir}`],
      `${runtimesDir}/read_project.ts`,
      [`${demoProjectDir}/project.json`],
    ),
  );
  const project = await Project.open(`${demoProjectDir}/project.json`, {
    mode: "r",
  });
  const expected: Record<string, string> = {};
  for (const experiment of project.experiments) {
    for (const { name } of experiment.artifacts) {
      expected[`${experiment.slug}/${name}`] = taggedJson(
        await experiment.loadArtifact(name, { readerKwargs: { exact: true } }),
      );
    }
  }
  assert.ok(Object.keys(expected).length >= 5);
  assert.deepEqual(output, expected);
});
