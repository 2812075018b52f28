/**
 * JSR: `deno publish --dry-run` passes (no slow types), publishes neither tests nor benches,
 * `deno doc --lint` is clean for every entry point in `deno.json`'s `exports`, and every JSDoc
 * example of the published modules runs (`deno test --doc`).
 */

import assert from "node:assert/strict";
import { rootDir } from "./runtimes/_harness.ts";

async function deno(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: rootDir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  assert.equal(code, 0, `deno ${args.join(" ")}:\n${text}`);
  return text;
}

const config = JSON.parse(await Deno.readTextFile(`${rootDir}deno.json`));
const entryPoints: string[] = Object.values(config.exports);

Deno.test("JSR: publish --dry-run passes and ships only the package", async (t) => {
  const output = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assert.match(output, /Dry run complete/);
  const published = [...output.matchAll(/^\s+file:\/\/(\S+)/gm)].map((
    [, path],
  ) => path.slice(rootDir.length));
  for (const entry of entryPoints) {
    assert.ok(published.includes(entry.replace(/^\.\//, "")), entry);
  }
  for (const path of published) {
    assert.doesNotMatch(
      path,
      /^(tests|bench|\.cache|\.ci)\/|^codec\/(target|src)\//,
      path,
    );
  }

  await t.step("deno doc --lint is clean for every export", async () => {
    await deno(["doc", "--lint", ...entryPoints]);
  });

  await t.step("the JSDoc examples of the published modules run", async () => {
    const modules = published.filter((path) =>
      /\.ts$/.test(path) && !path.endsWith("/_wasm.d.ts")
    );
    const output = await deno(["test", "--doc", "--allow-all", ...modules]);
    assert.match(output, /\bok \| \d+ passed/);
  });
});
