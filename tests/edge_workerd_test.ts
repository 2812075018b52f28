/**
 * Cloudflare Workers, in the real runtime: `tests/runtimes/worker_entry.js` bundled with esbuild
 * as Wrangler bundles it (the `.wasm` import left to the runtime), run by `workerd` (npm) on
 * 127.0.0.1 with Cloudflare's rule that no WebAssembly is compiled from bytes. The worker
 * decodes CPython's pickles, encodes pickles that CPython loads, and reads the demo project and
 * repository that Python lazyscribe made, over `fetch` from a local web server.
 */

import assert from "node:assert/strict";
import { decode } from "../codec/mod.ts";
import { wasmBytes } from "../codec/wasm.ts";
import { Project } from "../src/project.ts";
import { Repository } from "../src/repository.ts";
import { taggedJson } from "../src/tagged_json.ts";
import {
  assertPythonLoads,
  bundle,
  collectText,
  cpythonPickles,
  demoProjectDir,
  ensureRuntimes,
  freePort,
  runtimesDir,
  serveDirectory,
  toolPath,
  waitForHttp,
} from "./runtimes/_harness.ts";

const EXPERIMENT = "baseline-model-20261126052410";

Deno.test("Cloudflare Workers (workerd): precompiled codec, pickles, artifacts over fetch", async (t) => {
  await ensureRuntimes();
  const dir = await Deno.makeTempDir({ prefix: "lazyscribe-workerd-" });
  const fixtures = serveDirectory(demoProjectDir);
  let worker: Deno.ChildProcess | undefined;
  try {
    const size = await bundle(
      `${runtimesDir}/worker_entry.js`,
      `${dir}/worker.js`,
      {
        platform: "browser",
        // What Wrangler does with `nodejs_compat`: `.wasm` imports and Node built-ins are the
        // runtime's (the file storage's lazy `node:fs/promises` import is never reached here).
        external: ["*.wasm", "node:*"],
      },
    );
    assert.ok(size > 0);
    await Deno.writeFile(`${dir}/lazyscribe_codec.wasm`, wasmBytes());
    await Deno.copyFile(
      `${runtimesDir}/workerd.capnp`,
      `${dir}/workerd.capnp`,
    );

    const port = freePort();
    worker = new Deno.Command(toolPath("workerd"), {
      args: [
        "serve",
        "workerd.capnp",
        "--socket-addr",
        `http=127.0.0.1:${port}`,
      ],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = collectText(worker.stderr);
    const stdout = collectText(worker.stdout);
    const origin = `http://127.0.0.1:${port}`;
    await waitForHttp(
      `${origin}/health`,
      30_000,
      () => `workerd output:\n${stdout()}${output()}`,
    );

    const call = async (path: string, init?: RequestInit) => {
      const response = await fetch(`${origin}${path}`, init);
      const body = new Uint8Array(await response.arrayBuffer());
      assert.equal(
        response.status,
        200,
        `${path}: ${new TextDecoder().decode(body)}\n${output()}`,
      );
      return body;
    };
    const text = async (path: string, init?: RequestInit) =>
      new TextDecoder().decode(await call(path, init));

    await t.step(
      "compiling WebAssembly from bytes is refused, as on Cloudflare",
      async () => {
        const answer = JSON.parse(await text("/compile-from-bytes"));
        assert.equal(answer.refused, true);
        assert.match(answer.message, /disallowed by embedder/);
      },
    );

    await t.step("decodes CPython's pickles as Deno does", async () => {
      for (const [name, pickle] of await cpythonPickles()) {
        const fromWorker = await text("/decode", {
          method: "POST",
          body: pickle,
        });
        assert.equal(
          fromWorker,
          taggedJson(decode(pickle, { exact: true })),
          name,
        );
      }
    });

    await t.step("encodes pickles that CPython loads", async () => {
      const json = JSON.stringify({
        run: "baseline",
        metrics: { auroc: 0.5, n_rows: 1000, curve: [0, 0.25, 1] },
        tags: ["a", "caf\u00e9", "\u{1f600}"],
        notes: null,
        done: true,
      });
      const cases = [];
      for (const protocol of [0, 1, 2, 3, 4, 5]) {
        const pickle = await call(`/encode?protocol=${protocol}`, {
          method: "POST",
          body: json,
        });
        cases.push({ pickle, json });
      }
      await assertPythonLoads(cases);
    });

    await t.step("reads a project's artifacts over fetch", async () => {
      const local = await Project.open(`${demoProjectDir}/project.json`, {
        mode: "r",
      });
      const experiment = local.get(EXPERIMENT)!;
      for (const name of ["features", "config", "plot data", "model"]) {
        const query = new URLSearchParams({
          project: `${fixtures.origin}/project.json`,
          experiment: EXPERIMENT,
          name,
        });
        assert.equal(
          await text(`/artifact?${query}`),
          taggedJson(
            await experiment.loadArtifact(name, {
              readerKwargs: { exact: true },
            }),
          ),
          name,
        );
      }
      assert.ok(
        fixtures.requested.includes(`/${EXPERIMENT}/model-20261126052410.pkl`),
        "the pickle came from the web server",
      );
    });

    await t.step("reads a repository's versions over fetch", async () => {
      const local = await Repository.open(
        `${demoProjectDir}/repo/repository.json`,
        { mode: "r" },
      );
      for (
        const [name, version] of [["model", 0], ["model", 1], [
          "thresholds",
          2,
        ]] as const
      ) {
        const query = new URLSearchParams({
          location: `${fixtures.origin}/repo/repository.json`,
          name,
          version: String(version),
        });
        assert.equal(
          await text(`/repository?${query}`),
          taggedJson(
            await local.loadArtifact(name, {
              version,
              readerKwargs: { exact: true },
            }),
          ),
          `${name} v${version}`,
        );
      }
    });
  } finally {
    if (worker !== undefined) {
      worker.kill("SIGTERM");
      await worker.status;
    }
    await fixtures.close();
    await Deno.remove(dir, { recursive: true });
  }
});
