/**
 * Decodes and re-encodes pickles with no permissions at all (`deno run` without flags): the
 * codec needs no file, network or environment access, only its embedded WebAssembly module.
 * Reads a JSON array of base64 pickles on stdin; prints a JSON array of
 * `[taggedJson(value), base64 of encode(value)]`, each decoded and encoded with `exact: true`.
 *
 * @module
 */

import { decode, encode, taggedJson } from "../../mod.ts";

const input: string[] = JSON.parse(
  await new Response(Deno.stdin.readable).text(),
);
const output = input.map((base64) => {
  const value = decode(Uint8Array.fromBase64(base64), { exact: true });
  return [taggedJson(value), encode(value, { exact: true }).toBase64()];
});
console.log(JSON.stringify(output));
