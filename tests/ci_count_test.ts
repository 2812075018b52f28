/**
 * The "N passed, N failed" line of `.ci/run` counts the leaves of Deno's test report with
 * `.ci/count_results.awk`. Checked against a real report: a throwaway test file with plain
 * tests, nested steps, a failing step, an ignored test and printed output that imitates a
 * result line.
 */

import assert from "node:assert/strict";

const SAMPLE = `
Deno.test("plain", () => {});
Deno.test({ name: "skipped", ignore: true, fn() {} });
Deno.test("with steps", async (t) => {
  await t.step("first", () => {});
  await t.step("nested", async (t) => {
    await t.step("inner one", () => {});
    await t.step("inner two", () => {});
    console.log("printed ... ok");
  });
  await t.step("failing", () => {
    throw new Error("expected failure");
  });
});
Deno.test("fails", () => {
  throw new Error("expected failure");
});
`;

Deno.test("ci: the pass/fail counter counts the leaves of Deno's report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/sample_test.ts`;
    await Deno.writeTextFile(file, SAMPLE);
    const report = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-check", file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const counter = new Deno.Command("awk", {
      args: [
        "-f",
        new URL("../.ci/count_results.awk", import.meta.url).pathname,
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = counter.stdin.getWriter();
    await writer.write(report.stdout);
    await writer.write(report.stderr);
    await writer.close();
    const counts = new TextDecoder().decode((await counter.output()).stdout);
    // Leaves: plain, first, inner one, inner two (passed); failing, fails (failed).
    assert.equal(counts.trim(), "4 2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
