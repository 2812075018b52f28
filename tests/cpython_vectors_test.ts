/**
 * CPython's own unpickling vectors (`Lib/test/pickletester.py`, extracted with their verdicts
 * by `tests/python/cpython_vectors.py` into `fixtures/vectors/cpython_pickletester.json`):
 * every pickle CPython accepts decodes to what the symbolic unpickler says, and every pickle
 * CPython rejects is rejected with an `UnpicklingError`.
 */

import assert from "node:assert/strict";
import { decode, type DecodeOptions } from "../codec/mod.ts";
import { UnpicklingError } from "../codec/errors.ts";
import { compareTagged, type Tagged, toTagged } from "./_tagged.ts";
import { pythonPath } from "./_python.ts";
import { fromBase64 } from "./_corpus.ts";

interface Vector {
  test: string;
  data: string;
  kwargs: { encoding?: string };
  expectError: boolean;
  cpython: string;
  symbolic: { ok: Tagged } | { error: string };
}

const fixture = new URL(
  "./fixtures/vectors/cpython_pickletester.json",
  import.meta.url,
);
const { vectors } = JSON.parse(await Deno.readTextFile(fixture)) as {
  vectors: Vector[];
};

/**
 * Vectors CPython rejects only by running code on real objects: `NEWOBJ` of `builtins.len`
 * ("not a class"), and a `LONG_BINPUT 0xffffffff` that its dense memo cannot allocate. A
 * decoder that calls nothing may accept them (as the symbolic unpickler does), but then must
 * return what the pickle says.
 */
function acceptableEitherWay(vector: Vector): boolean {
  return vector.cpython !== "ok" && "ok" in vector.symbolic;
}

const ENCODINGS: Record<string, DecodeOptions["encoding"]> = {
  ascii: "ASCII",
  latin1: "latin1",
  "latin-1": "latin1",
  bytes: "bytes",
  "utf-8": "utf-8",
};

/** Checks one vector with the given input window size (`undefined`: the default). */
function check(vector: Vector, windowSize?: number): string | null {
  const data = fromBase64(vector.data);
  const options: DecodeOptions = { exact: true, windowSize };
  if (vector.kwargs.encoding !== undefined) {
    const encoding = ENCODINGS[vector.kwargs.encoding.toLowerCase()];
    if (encoding === undefined) {
      // An encoding the decoder does not offer (only `koi8-r` in CPython's tests): the option
      // is refused, not ignored.
      const label = `${
        JSON.stringify(vector.data)
      } (encoding ${vector.kwargs.encoding})`;
      try {
        decode(data, {
          ...options,
          encoding: vector.kwargs.encoding as DecodeOptions["encoding"],
        });
      } catch (error) {
        return error instanceof RangeError ? null : `${label}: threw ${error}`;
      }
      return `${label}: decoded with an encoding the decoder does not offer`;
    }
    Object.assign(options, { encoding });
  }
  const label = `${JSON.stringify(vector.data)} (CPython: ${vector.cpython}${
    windowSize ? `; ${windowSize}-byte windows` : ""
  })`;
  let value: unknown;
  try {
    value = decode(data, options);
  } catch (error) {
    if (vector.cpython === "ok") return `${label}: threw ${error}`;
    return error instanceof UnpicklingError
      ? null
      : `${label}: threw ${error}, not an UnpicklingError`;
  }
  if (vector.cpython !== "ok" && !acceptableEitherWay(vector)) {
    return `${label}: decoded, but CPython rejects it`;
  }
  if (!("ok" in vector.symbolic)) return `${label}: no expectation`;
  const difference = compareTagged(
    toTagged(value, { exact: true }),
    vector.symbolic.ok,
  );
  return difference === null ? null : `${label}: ${difference}`;
}

Deno.test("CPython vectors: the recorded verdicts hold for this CPython", async () => {
  const script = new URL("./python/cpython_vectors.py", import.meta.url)
    .pathname;
  const { code, stdout, stderr } = await new Deno.Command(pythonPath(), {
    args: [script, "verify", fixture.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), []);
});

Deno.test("CPython vectors: the file holds the expected kinds", () => {
  const accepted = vectors.filter((v) => v.cpython === "ok").length;
  const rejected = vectors.length - accepted;
  assert.ok(accepted >= 90 && rejected >= 180, `${accepted}/${rejected}`);
});

const byTest = new Map<string, Vector[]>();
for (const vector of vectors) {
  const list = byTest.get(vector.test) ?? [];
  byTest.set(vector.test, list);
  list.push(vector);
}

Deno.test("CPython vectors: decode like CPython", async (t) => {
  for (const [test, list] of byTest) {
    await t.step(`${test} (${list.length})`, () => {
      // Also with 3-byte windows: truncation and stack checks must not depend on where the
      // input is cut into windows.
      const problems = [
        ...list.map((v) => check(v)),
        ...list.map((v) => check(v, 3)),
      ].filter((p) => p !== null);
      if (problems.length > 0) {
        throw new Error(
          `${problems.length} problem(s) in ${list.length} vectors:\n  ${
            problems.join("\n  ")
          }`,
        );
      }
    });
  }
});
