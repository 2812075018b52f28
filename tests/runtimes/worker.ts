/**
 * A Cloudflare Worker over the module, as a Workers user would write one: the codec is handed
 * the precompiled `WebAssembly.Module` that the `.wasm` import gives (Workers refuse to compile
 * WebAssembly from bytes), then the worker decodes and encodes pickles and reads lazyscribe
 * artifacts over `fetch`. `worker_entry.js` is the file a user would point Wrangler at;
 * `tests/edge_workerd_test.ts` bundles it with esbuild and runs it in `workerd`.
 *
 * Routes:
 * - `POST /decode`: the body is a pickle; answers its value as tagged JSON.
 * - `POST /encode?protocol=4`: the body is JSON; answers it pickled.
 * - `GET /artifact?project=<url>&experiment=<slug>&name=<name>`: an experiment's artifact.
 * - `GET /repository?location=<url>&name=<name>&version=<n>`: a repository's artifact.
 * - `GET /compile-from-bytes`: whether this runtime lets code compile WebAssembly bytes.
 *
 * @module
 */

import {
  decode,
  encode,
  initWasm,
  Project,
  Repository,
  taggedJson,
} from "../../mod.ts";

/** A module worker: what `export default` of a Workers script is. */
export interface ModuleWorker {
  /** Answers a request. */
  fetch(request: Request): Promise<Response>;
}

/** The 8 bytes of an empty WebAssembly module. */
const EMPTY_MODULE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

function required(url: URL, name: string): string {
  const value = url.searchParams.get(name);
  if (value === null) throw new TypeError(`Missing query parameter "${name}"`);
  return value;
}

async function route(request: Request): Promise<Response> {
  const url = new URL(request.url);
  switch (`${request.method} ${url.pathname}`) {
    case "POST /decode": {
      const value = decode(new Uint8Array(await request.arrayBuffer()), {
        exact: true,
      });
      return new Response(taggedJson(value));
    }
    case "POST /encode": {
      const protocol = Number(url.searchParams.get("protocol") ?? 4);
      // encode() is typed `Uint8Array<ArrayBufferLike>`, which `BodyInit` does not take; its
      // buffer is an ArrayBuffer.
      const pickle = encode(await request.json(), { protocol });
      return new Response(pickle as Uint8Array<ArrayBuffer>);
    }
    case "GET /artifact": {
      const project = await Project.open(required(url, "project"), {
        mode: "r",
      });
      const experiment = project.get(required(url, "experiment"));
      if (experiment === undefined) {
        return new Response("no such experiment", { status: 404 });
      }
      const value = await experiment.loadArtifact(required(url, "name"), {
        readerKwargs: { exact: true },
      });
      return new Response(taggedJson(value));
    }
    case "GET /repository": {
      const repository = await Repository.open(required(url, "location"), {
        mode: "r",
      });
      const value = await repository.loadArtifact(required(url, "name"), {
        version: Number(required(url, "version")),
        readerKwargs: { exact: true },
      });
      return new Response(taggedJson(value));
    }
    case "GET /compile-from-bytes": {
      try {
        new WebAssembly.Module(EMPTY_MODULE);
        return Response.json({ refused: false });
      } catch (error) {
        return Response.json({ refused: true, message: String(error) });
      }
    }
    default:
      return new Response("not found", { status: 404 });
  }
}

/**
 * Makes the worker. The codec is initialized here, before any request, from the module the
 * runtime compiled when it loaded the script.
 *
 * @param wasm What `import wasm from "./lazyscribe_codec.wasm"` gives.
 * @returns The worker.
 */
export function makeWorker(wasm: WebAssembly.Module): ModuleWorker {
  initWasm(wasm);
  return {
    async fetch(request: Request): Promise<Response> {
      try {
        return await route(request);
      } catch (error) {
        const text = error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
        return new Response(text, { status: 500 });
      }
    },
  };
}
