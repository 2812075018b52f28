/**
 * What the runtime tests share: the pinned tools of `tests/runtimes/setup.sh` (workerd,
 * esbuild, chromium), bundling the module as a user's bundler would, the codec's `.wasm` file,
 * and a static file server on 127.0.0.1.
 *
 * @module
 */

import { base64Bytes } from "../../codec/_instance.ts";
import { pythonJson, runPython } from "../_python.ts";

/** The checkout's root folder, with a trailing slash. */
export const rootDir: string = decodeURIComponent(
  new URL("../../", import.meta.url).pathname,
);

/** The folder of the runtime tests' sources. */
export const runtimesDir: string = `${rootDir}tests/runtimes`;

/** The demo project that CPython and Python lazyscribe made (`tests/python/make_fixtures.py`). */
export const demoProjectDir: string = `${rootDir}tests/fixtures/demo_project`;

const toolsDir = `${rootDir}.cache/runtimes/node_modules/.bin`;

/** The path of a tool that `tests/runtimes/setup.sh` installs from npm. */
export function toolPath(name: "workerd" | "esbuild"): string {
  return `${toolsDir}/${name}`;
}

let setup: Promise<void> | undefined;

/**
 * Runs `tests/runtimes/setup.sh` once per process (it returns at once when everything is
 * installed), so that a test file run on its own finds its tools.
 */
export function ensureRuntimes(): Promise<void> {
  setup ??= (async () => {
    const { code, stderr } = await new Deno.Command("bash", {
      args: [`${runtimesDir}/setup.sh`],
      stdout: "inherit",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    if (text) console.error(text.trimEnd());
    if (code !== 0) throw new Error(`tests/runtimes/setup.sh failed (${code})`);
  })();
  return setup;
}

/** Options of {@linkcode bundle}. */
export interface BundleOptions {
  /** esbuild's platform. */
  platform: "browser" | "node" | "neutral";
  /** Imports left to the runtime (`*.wasm`, `node:*`). */
  external?: readonly string[];
  /** Extra esbuild flags. */
  flags?: readonly string[];
}

/**
 * Bundles a module into one ES module file with esbuild, as Wrangler and Vite do for users.
 *
 * @returns The bundle's size in bytes.
 */
export async function bundle(
  entry: string,
  outfile: string,
  options: BundleOptions,
): Promise<number> {
  const { code, stderr } = await new Deno.Command(toolPath("esbuild"), {
    args: [
      entry,
      "--bundle",
      "--format=esm",
      `--platform=${options.platform}`,
      "--target=es2022",
      "--log-level=warning",
      `--outfile=${outfile}`,
      ...(options.external ?? []).map((pattern) => `--external:${pattern}`),
      ...(options.flags ?? []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `esbuild ${entry} failed:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  return (await Deno.stat(outfile)).size;
}

/** A running static file server. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** The paths requested so far, in order. */
  readonly requested: string[];
  /** Stops the server. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  wasm: "application/wasm",
};

/**
 * Serves the files of a folder on 127.0.0.1 at a free port (GET and HEAD; 404 otherwise), as a
 * web server or a bucket's public URL serves a lazyscribe project.
 */
export function serveDirectory(dir: string): StaticServer {
  const requested: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      requested.push(path);
      if (path.split("/").includes("..")) {
        return new Response("bad path", { status: 400 });
      }
      try {
        const body = await Deno.readFile(`${dir}${path}`);
        const extension = path.slice(path.lastIndexOf(".") + 1);
        return new Response(request.method === "HEAD" ? null : body, {
          headers: {
            "content-type": CONTENT_TYPES[extension] ??
              "application/octet-stream",
          },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    requested,
    close: () => server.shutdown(),
  };
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Waits until a URL answers (any status), polling; throws with `describe()` after the timeout.
 */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new Error(
          `${url} did not answer in ${timeoutMs} ms\n${describe()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Reads a child's output stream into a growing text, for error messages. */
export function collectText(stream: ReadableStream<Uint8Array>): () => string {
  let text = "";
  (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
    }
  })();
  return () => text;
}

/** Pickles that the reference CPython writes, by name (`<value>.p<protocol>`). */
export async function cpythonPickles(): Promise<
  Map<string, Uint8Array<ArrayBuffer>>
> {
  const values = await pythonJson<Record<string, string>>(`
import base64, collections, datetime, decimal, json, pickle
import numpy as np
values = {
    "metrics": {"auroc": 0.91, "n_rows": 1000, "big": 2**70, "curve": [0.0, 0.25, 1.0]},
    "mixed": (None, True, b"\\x00\\xff", "caf\\u00e9 \\U0001f600", {1, 2}, frozenset()),
    "stdlib": [datetime.datetime(2024, 5, 6, 7, 8, 9, 123456), decimal.Decimal("1.10"),
               collections.OrderedDict(a=1), complex(1, -2)],
    "numpy": {"weights": np.arange(6, dtype="<f8").reshape(2, 3), "seed": np.int64(7)},
}
out = {}
for name, value in values.items():
    for protocol in (0, 2, 4, 5):
        out[f"{name}.p{protocol}"] = base64.b64encode(pickle.dumps(value, protocol=protocol)).decode()
print(json.dumps(out))
`);
  return new Map(
    Object.entries(values).map(([name, text]) => [name, base64Bytes(text)]),
  );
}

/**
 * Asks the reference CPython whether each pickle loads as the value of the JSON text given with
 * it; throws with Python's message when one does not.
 */
export async function assertPythonLoads(
  cases: readonly { pickle: Uint8Array; json: string }[],
): Promise<void> {
  const input = JSON.stringify(
    cases.map(({ pickle, json }) => [pickle.toBase64(), json]),
  );
  await runPython(
    `
import base64, json, pickle, sys
for index, (data, text) in enumerate(json.load(sys.stdin)):
    loaded = pickle.loads(base64.b64decode(data))
    expected = json.loads(text)
    assert loaded == expected and json.dumps(loaded) == json.dumps(expected), (index, loaded, expected)
`,
    [],
    { stdin: new TextEncoder().encode(input) },
  );
}
