/**
 * A browser: headless Chromium (Debian's `chromium`, installed by `tests/runtimes/setup.sh`)
 * loads `tests/runtimes/browser/index.html`, served on 127.0.0.1, whose script (the module
 * bundled with esbuild) compiles the codec asynchronously from the `.wasm` file, decodes
 * CPython's pickles, encodes one that CPython loads, and reads the demo project's pickle over
 * `fetch`; it posts the results back to the server, where this test reads them.
 *
 * Chromium missing fails the test in CI (`CI` set); elsewhere the test is skipped with a
 * message.
 */

import assert from "node:assert/strict";
import { decode } from "../codec/mod.ts";
import { wasmBytes } from "../codec/wasm.ts";
import { Project } from "../src/project.ts";
import { taggedJson } from "../src/tagged_json.ts";
import {
  assertPythonLoads,
  bundle,
  collectText,
  cpythonPickles,
  demoProjectDir,
  ensureRuntimes,
  runtimesDir,
} from "./runtimes/_harness.ts";

/** What the page posts (`PageResult` of `tests/runtimes/browser/page.ts`, which is DOM code). */
interface PageResult {
  decoded?: Record<string, string>;
  encoded?: string;
  artifact?: string;
  userAgent?: string;
  error?: string;
}

const EXPERIMENT = "baseline-model-20261126052410";
const ENCODE_JSON = JSON.stringify({
  auroc: 0.5,
  folds: [1, 2, 3],
  name: "caf\u00e9 \u{1f600}",
  done: null,
});

async function findChromium(): Promise<string | undefined> {
  for (const path of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch {
      // not there: try the next name
    }
  }
  return undefined;
}

const inCi = Boolean(Deno.env.get("CI"));
let chromium = await findChromium();
if (chromium === undefined && inCi) {
  await ensureRuntimes();
  chromium = await findChromium();
}
if (chromium === undefined) {
  console.warn(
    "browser_test: /usr/bin/chromium is missing: skipped here (in CI it fails); " +
      "run `bash tests/runtimes/setup.sh` as root to install it",
  );
}

Deno.test({
  name:
    "Chromium (headless): a page decodes and encodes pickles and reads a project over fetch",
  ignore: chromium === undefined && !inCi,
  async fn() {
    assert.ok(
      chromium !== undefined,
      "Debian's chromium is not installed (tests/runtimes/setup.sh installs it as root)",
    );
    await ensureRuntimes();
    const dir = await Deno.makeTempDir({ prefix: "lazyscribe-browser-" });
    const pickles = await cpythonPickles();
    const files = new Map<string, [Uint8Array<ArrayBuffer>, string]>([
      [
        "/index.html",
        [
          await Deno.readFile(`${runtimesDir}/browser/index.html`),
          "text/html; charset=utf-8",
        ],
      ],
      ["/lazyscribe_codec.wasm", [wasmBytes(), "application/wasm"]],
      [
        "/pickles.json",
        [
          new TextEncoder().encode(JSON.stringify(Object.fromEntries(
            [...pickles].map(([name, bytes]) => [name, bytes.toBase64()]),
          ))),
          "application/json",
        ],
      ],
    ]);
    await bundle(`${runtimesDir}/browser/page.ts`, `${dir}/page.js`, {
      platform: "browser",
      // The file storage's lazy `node:fs/promises` import is never reached in a page.
      external: ["node:*"],
    });
    files.set("/page.js", [
      await Deno.readFile(`${dir}/page.js`),
      "text/javascript; charset=utf-8",
    ]);

    const { promise: posted, resolve } = Promise.withResolvers<PageResult>();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        const path = decodeURIComponent(new URL(request.url).pathname);
        if (request.method === "POST" && path === "/result") {
          resolve(await request.json());
          return new Response("thanks");
        }
        const file = files.get(path);
        if (file !== undefined) {
          return new Response(file[0], {
            headers: { "content-type": file[1] },
          });
        }
        if (path.startsWith("/project/") && !path.includes("..")) {
          try {
            return new Response(
              await Deno.readFile(
                `${demoProjectDir}/${path.slice("/project/".length)}`,
              ),
            );
          } catch {
            // a missing file is a 404, as on any web server
          }
        }
        return new Response("not found", { status: 404 });
      },
    );
    const query = new URLSearchParams({
      experiment: EXPERIMENT,
      artifact: "model",
      encode: ENCODE_JSON,
    });
    const browser = new Deno.Command(chromium!, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-quic",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${dir}/profile`,
        `http://127.0.0.1:${server.addr.port}/index.html?${query}`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = collectText(browser.stderr);
    collectText(browser.stdout);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `The page posted nothing in 60 s; chromium:\n${output()}`,
              ),
            ),
          60_000,
        );
      });
      const exited = browser.status.then((status) => {
        throw new Error(
          `chromium exited (${status.code}) before the page posted:\n${output()}`,
        );
      });
      const result = await Promise.race([posted, timeout, exited]);
      assert.equal(result.error, undefined, result.error);
      assert.match(result.userAgent!, /Chrome\//);

      const expected: Record<string, string> = {};
      for (const [name, bytes] of pickles) {
        expected[name] = taggedJson(decode(bytes, { exact: true }));
      }
      assert.deepEqual(result.decoded, expected);

      const local = await Project.open(`${demoProjectDir}/project.json`, {
        mode: "r",
      });
      assert.equal(
        result.artifact,
        taggedJson(
          await local.get(EXPERIMENT)!.loadArtifact("model", {
            readerKwargs: { exact: true },
          }),
        ),
      );

      await assertPythonLoads([{
        pickle: Uint8Array.fromBase64(result.encoded!),
        json: ENCODE_JSON,
      }]);
    } finally {
      clearTimeout(timer);
      try {
        browser.kill("SIGTERM");
      } catch {
        // it has exited already
      }
      await browser.status;
      await server.shutdown();
      await removeProfile(dir);
    }
  },
});

/**
 * Removes the test's directory: Chromium's helper processes outlive the browser process for a
 * moment and may still write to its profile there ("Directory not empty").
 */
async function removeProfile(dir: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await Deno.remove(dir, { recursive: true });
      return;
    } catch (error) {
      if (attempt === 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
