/**
 * A Deno Deploy (or any `Deno.serve`) endpoint that serves a lazyscribe project's artifacts as
 * JSON, reading them over HTTP from wherever the project lives (a web server, a bucket's public
 * URL). Copy it and import from `jsr:@lazyscribe/artifacts` instead of `../../mod.ts`, then:
 *
 * ```sh
 * LAZYSCRIBE_PROJECT=https://example.com/team/project.json \
 *   deno serve --allow-net --allow-env=LAZYSCRIBE_PROJECT deploy_handler.ts
 * ```
 *
 * - `GET /` lists the experiments: `[{ "slug", "name", "artifacts": [names] }]`.
 * - `GET /<experiment slug>/<artifact name>` is the artifact's value as tagged JSON (`taggedJson`:
 *   a Python int stays exact, a tuple is `{"$tuple": [...]}`, bytes are base64, …).
 *
 * Unknown experiments and artifacts answer 404; a project or artifact that cannot be read
 * answers 502 with the error.
 *
 * @module
 */

import { ArtifactLoadError, Project, taggedJson } from "../../mod.ts";

/** Options of {@linkcode artifactHandler}. */
export interface ArtifactHandlerOptions {
  /** The `fetch` that reads the project. @default {globalThis.fetch} */
  fetch?: typeof fetch;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

/**
 * Makes the request handler for the project at `projectUrl`. The project file is read afresh
 * for each request, so new experiments show without a restart.
 *
 * @example Usage
 * ```ts ignore
 * import { artifactHandler } from "./deploy_handler.ts";
 * Deno.serve(artifactHandler("https://example.com/team/project.json"));
 * ```
 *
 * @param projectUrl The `http(s)://` location of `project.json`.
 * @param options The `fetch` to read it with.
 * @returns The handler.
 */
export function artifactHandler(
  projectUrl: string,
  options: Readonly<ArtifactHandlerOptions> = {},
): (request: Request) => Promise<Response> {
  const storageOptions = options.fetch === undefined
    ? {}
    : { fetch: options.fetch };
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Only GET is served", { status: 405 });
    }
    const [slug, name, ...rest] = new URL(request.url).pathname.split("/")
      .slice(1).map(decodeURIComponent);
    let project: Project;
    try {
      project = await Project.open(projectUrl, { mode: "r", storageOptions });
    } catch (error) {
      return new Response(`Cannot read ${projectUrl}: ${error}`, {
        status: 502,
      });
    }
    if (!slug) {
      const experiments = project.experiments.map((experiment) => ({
        slug: experiment.slug,
        name: experiment.name,
        artifacts: experiment.artifacts.map((artifact) => artifact.name),
      }));
      return new Response(JSON.stringify(experiments), {
        headers: JSON_HEADERS,
      });
    }
    const experiment = project.get(slug);
    if (experiment === undefined || name === undefined || rest.length > 0) {
      return new Response("Not found", { status: 404 });
    }
    if (!experiment.artifacts.some((artifact) => artifact.name === name)) {
      return new Response(`No artifact "${name}" in ${slug}`, { status: 404 });
    }
    try {
      const value = await experiment.loadArtifact(name, {
        readerKwargs: { exact: true },
      });
      return new Response(taggedJson(value), { headers: JSON_HEADERS });
    } catch (error) {
      const status = error instanceof ArtifactLoadError ? 502 : 500;
      return new Response(String(error), { status });
    }
  };
}

/** What `deno serve` runs: the project named by the `LAZYSCRIBE_PROJECT` variable. */
export default {
  fetch(request: Request): Promise<Response> {
    const projectUrl = Deno.env.get("LAZYSCRIBE_PROJECT");
    if (projectUrl === undefined) {
      return Promise.resolve(
        new Response("Set LAZYSCRIBE_PROJECT to the URL of project.json", {
          status: 500,
        }),
      );
    }
    return artifactHandler(projectUrl)(request);
  },
} satisfies Deno.ServeDefaultExport;
