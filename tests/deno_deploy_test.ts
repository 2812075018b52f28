/**
 * Deno Deploy style: `tests/runtimes/deploy_handler.ts` run by `deno serve` with only the
 * permissions Deploy grants it (network to the project's host, one environment variable) serves
 * the artifacts of the demo project that Python lazyscribe made, read over HTTP from a local
 * web server, as JSON.
 */

import assert from "node:assert/strict";
import { Project } from "../src/project.ts";
import { taggedJson } from "../src/tagged_json.ts";
import {
  collectText,
  demoProjectDir,
  freePort,
  runtimesDir,
  serveDirectory,
  waitForHttp,
} from "./runtimes/_harness.ts";
import { artifactHandler } from "./runtimes/deploy_handler.ts";

const EXPERIMENT = "baseline-model-20261126052410";

Deno.test("Deno Deploy: deno serve of deploy_handler.ts serves a project's artifacts as JSON", async () => {
  const fixtures = serveDirectory(demoProjectDir);
  const port = freePort();
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      "--allow-env=LAZYSCRIBE_PROJECT",
      "--host=127.0.0.1",
      `--port=${port}`,
      `${runtimesDir}/deploy_handler.ts`,
    ],
    env: { LAZYSCRIBE_PROJECT: `${fixtures.origin}/project.json` },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = collectText(server.stdout);
  const stderr = collectText(server.stderr);
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${origin}/`, 60_000, () => stdout() + stderr());
    const local = await Project.open(`${demoProjectDir}/project.json`, {
      mode: "r",
    });

    const listing = await fetch(`${origin}/`);
    assert.equal(listing.status, 200);
    assert.deepEqual(
      await listing.json(),
      local.experiments.map((experiment) => ({
        slug: experiment.slug,
        name: experiment.name,
        artifacts: experiment.artifacts.map((artifact) => artifact.name),
      })),
    );

    for (const experiment of local.experiments) {
      for (const { name } of experiment.artifacts) {
        const response = await fetch(
          `${origin}/${experiment.slug}/${encodeURIComponent(name)}`,
        );
        assert.equal(response.status, 200, `${experiment.slug}/${name}`);
        assert.match(response.headers.get("content-type")!, /json/);
        assert.equal(
          await response.text(),
          taggedJson(
            await experiment.loadArtifact(name, {
              readerKwargs: { exact: true },
            }),
          ),
          `${experiment.slug}/${name}`,
        );
      }
    }
    assert.ok(
      fixtures.requested.includes(`/${EXPERIMENT}/model-20261126052410.pkl`),
      "the pickle came from the web server",
    );

    for (const path of [`/${EXPERIMENT}/nothing`, "/no-such-run/model"]) {
      const response = await fetch(`${origin}${path}`);
      await response.body?.cancel();
      assert.equal(response.status, 404, path);
    }
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await fixtures.close();
  }
});

Deno.test("Deno Deploy: the handler answers 502 when the project cannot be read", async () => {
  const fixtures = serveDirectory(`${demoProjectDir}/repo`);
  try {
    const handler = artifactHandler(`${fixtures.origin}/missing/project.json`);
    const listing = await handler(new Request("http://deploy.test/"));
    // A missing project.json is an empty project, as in Python lazyscribe.
    assert.equal(listing.status, 200);
    assert.deepEqual(await listing.json(), []);

    const broken = artifactHandler(`${fixtures.origin}/repository.json`, {
      fetch: () => Promise.resolve(new Response("down", { status: 503 })),
    });
    const response = await broken(new Request("http://deploy.test/"));
    assert.equal(response.status, 502);
    assert.match(await response.text(), /503/);
  } finally {
    await fixtures.close();
  }
});
