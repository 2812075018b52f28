/**
 * The decode-only entry point (`@lazyscribe/artifacts/decode`) gives the same objects as the
 * package root and loads none of the encoder, which is what makes it start faster.
 */

import assert from "node:assert/strict";
import * as decodeOnly from "../codec/decode_only.ts";
import * as root from "../mod.ts";

Deno.test("@lazyscribe/artifacts/decode exports the root's own objects", () => {
  const rootExports: Record<string, unknown> = root;
  for (const [name, value] of Object.entries(decodeOnly)) {
    assert.equal(rootExports[name], value, name);
  }
  assert.ok("decode" in decodeOnly && "NdArray" in decodeOnly);
  assert.ok(!("encode" in decodeOnly));
});

Deno.test("@lazyscribe/artifacts/decode does not load the encoder", async () => {
  const entry = new URL("../codec/decode_only.ts", import.meta.url);
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry.pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(code, 0);
  const graph: { modules: { specifier: string }[] } = JSON.parse(
    new TextDecoder().decode(stdout),
  );
  const files = graph.modules.map(({ specifier }) =>
    specifier.slice(specifier.lastIndexOf("/") + 1)
  );
  assert.ok(files.includes("decode.ts"), files.join(", "));
  for (const encoderFile of ["encode.ts", "_writer.ts", "_text.ts"]) {
    assert.ok(!files.includes(encoderFile), `${encoderFile} is loaded`);
  }
});
