/// <reference lib="dom" />
/**
 * The browser page of `tests/browser_test.ts` (bundled with esbuild into `page.js`): compiles
 * the codec asynchronously, as a browser's main thread requires, decodes the pickles the test
 * serves, encodes one for CPython to load, reads a project's artifact over `fetch`, and posts
 * what it got to `/result`.
 *
 * @module
 */

import {
  decode,
  encode,
  initWasmAsync,
  Project,
  taggedJson,
} from "../../../mod.ts";

/** What the page posts to `/result`. */
export interface PageResult {
  /** `taggedJson(decode(pickle, { exact: true }))` of each served pickle, by name. */
  decoded?: Record<string, string>;
  /** `encode(JSON.parse(encodeSource))`, base64. */
  encoded?: string;
  /** The artifact's value as tagged JSON. */
  artifact?: string;
  /** The user agent. */
  userAgent?: string;
  /** What went wrong. */
  error?: string;
}

/** The query the test passes: which artifact to read, and what to encode. */
async function run(): Promise<PageResult> {
  const query = new URL(location.href).searchParams;
  await initWasmAsync(fetch("/lazyscribe_codec.wasm"));
  const pickles: Record<string, string> = await (await fetch("/pickles.json"))
    .json();
  const decoded: Record<string, string> = {};
  for (const [name, base64] of Object.entries(pickles)) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    decoded[name] = taggedJson(decode(bytes, { exact: true }));
  }
  const pickle = encode(JSON.parse(query.get("encode")!));
  const project = await Project.open(
    `${location.origin}/project/project.json`,
    { mode: "r" },
  );
  const experiment = project.get(query.get("experiment")!)!;
  const artifact = taggedJson(
    await experiment.loadArtifact(query.get("artifact")!, {
      readerKwargs: { exact: true },
    }),
  );
  return {
    decoded,
    encoded: btoa(String.fromCharCode(...pickle)),
    artifact,
    userAgent: navigator.userAgent,
  };
}

const result = await run().catch((error: unknown): PageResult => ({
  error: error instanceof Error
    ? `${error.name}: ${error.message}\n${error.stack}`
    : String(error),
}));
document.getElementById("result")!.textContent = JSON.stringify(result);
await fetch("/result", { method: "POST", body: JSON.stringify(result) });
