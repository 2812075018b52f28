/**
 * Bad input: whatever the bytes, `decode()` returns a value or throws `UnpicklingError` — never
 * another error (`RangeError`, a wasm `RuntimeError`), never a hang, never memory or time out
 * of proportion with the input. Resource bombs run in a worker with a deadline so that a hang
 * fails the test instead of stalling the suite.
 */

import assert from "node:assert/strict";
import { decode } from "../codec/mod.ts";
import { UnpicklingError } from "../codec/errors.ts";
import { compareTagged, type Tagged, toTagged } from "./_tagged.ts";
import { fromBase64, generateCorpus } from "./_corpus.ts";
import { decodeApart } from "./_decode_apart.ts";

function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) =>
    typeof part === "string"
      ? Uint8Array.from(part, (c) => c.charCodeAt(0))
      : Uint8Array.from(part)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Decodes and reports how it ended; only `UnpicklingError` may escape `decode()`. */
function outcome(data: Uint8Array): "value" | "rejected" | string {
  return decoded(data).outcome;
}

/**
 * Decodes (exact numbers, optionally through windows of `windowSize` bytes) and reports how it
 * ended, with the tagged value when there is one.
 */
function decoded(
  data: Uint8Array,
  windowSize?: number,
): { outcome: "value" | "rejected" | string; tagged?: Tagged } {
  try {
    const value = decode(data, { exact: true, windowSize });
    return { outcome: "value", tagged: toTagged(value, { exact: true }) };
  } catch (error) {
    return {
      outcome: error instanceof UnpicklingError ? "rejected" : String(error),
    };
  }
}

const { vectors } = JSON.parse(
  await Deno.readTextFile(
    new URL("./fixtures/vectors/cpython_pickletester.json", import.meta.url),
  ),
) as { vectors: { data: string; cpython: string; kwargs: object }[] };
/**
 * Pickles CPython loads: its own test vectors, and the small pickles of the differential corpus
 * (datetime, Decimal, numpy, collections, class instances… at protocols 0–5), whose mutations
 * reach the reducers with arguments no pickler writes.
 */
const goodPickles = [
  ...vectors
    .filter((v) => v.cpython === "ok" && Object.keys(v.kwargs).length === 0)
    .map((v) => fromBase64(v.data)),
  ...(await generateCorpus("default")).cases
    .filter((c) =>
      "ok" in c.expected && c.buffers === undefined &&
      Object.keys(c.options).length === 0 && c.pickle.length < 2000
    )
    .map((c) => fromBase64(c.pickle)),
];

Deno.test("bad input: every 1-byte input is rejected", () => {
  const wrong: string[] = [];
  for (let byte = 0; byte < 256; byte++) {
    const result = outcome(new Uint8Array([byte]));
    if (result !== "rejected") wrong.push(`0x${byte.toString(16)}: ${result}`);
  }
  assert.deepEqual(wrong, []);
});

/**
 * Where to cut a pickle that stops at `stop`: everywhere in a short one; in a long one, within
 * its first and last 24 bytes (headers, the final opcodes) and at 16 points between.
 */
function cuts(stop: number): number[] {
  if (stop <= 64) return Array.from({ length: stop }, (_, i) => i);
  const stride = Math.ceil((stop - 48) / 16);
  const out: number[] = [];
  for (
    let end = 0;
    end < stop;
    end += end < 24 || end >= stop - 24 ? 1 : stride
  ) {
    out.push(end);
  }
  return out;
}

Deno.test("bad input: proper prefixes of good pickles are rejected", () => {
  const wrong: string[] = [];
  for (const pickle of goodPickles) {
    // A pickle ends at its STOP; without it nothing is complete.
    for (const end of cuts(pickle.lastIndexOf(0x2e))) {
      const result = outcome(pickle.subarray(0, end));
      if (result !== "rejected") {
        wrong.push(`${JSON.stringify([...pickle])}[:${end}]: ${result}`);
      }
    }
  }
  assert.deepEqual(wrong.slice(0, 10), []);
});

Deno.test("bad input: mutated pickles decode or throw UnpicklingError, whatever the windows", () => {
  // A fixed-seed xorshift, so that a failure reproduces.
  let seed = 0x9e3779b9;
  const random = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const wrong: string[] = [];
  let rejected = 0;
  for (let round = 0; round < 30_000; round++) {
    const pickle = goodPickles[random(goodPickles.length)].slice();
    for (let edits = 1 + random(3); edits > 0; edits--) {
      pickle[random(pickle.length)] = random(256);
    }
    const whole = decoded(pickle);
    // The same bytes fed in 5-byte windows must end the same way, with the same value.
    const windowed = decoded(pickle, 5);
    const input = JSON.stringify([...pickle]);
    if (whole.outcome === "rejected") rejected++;
    else if (whole.outcome !== "value") {
      wrong.push(`${input}: ${whole.outcome}`);
    }
    if (windowed.outcome !== whole.outcome) {
      wrong.push(
        `${input}: ${whole.outcome}, but ${windowed.outcome} in 5-byte windows`,
      );
    } else if (whole.tagged !== undefined) {
      const difference = compareTagged(windowed.tagged!, whole.tagged);
      if (difference !== null) {
        wrong.push(`${input}: in 5-byte windows, ${difference}`);
      }
    }
  }
  assert.deepEqual(wrong.slice(0, 10), []);
  assert.ok(rejected > 0);
});

// Start (and type-check) the worker once before the tests report, so that its first real use
// is timed fairly and the report stays one line per step.
await decodeApart(new Uint8Array([0x4e, 0x2e]));

/**
 * The bound for a decode that must be quick (the worker compiles the codec before it times):
 * some ten times what these linear decodes take on a loaded CI machine, and far below what the
 * quadratic or exponential behaviour these bombs provoke in other decoders costs (pickleparser
 * takes 192 s for a 1 MiB LONG4).
 */
const SLOW_MS = 2_000;

const le32 = (
  n: number,
) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
const le64 = (
  n: number,
) => [...le32(n % 2 ** 32), ...le32(Math.floor(n / 2 ** 32))];

function repeat(text: string, times: number): string {
  return text.repeat(times);
}

/** The memo DAG ("billion laughs"): L0 = [], Li = [L(i-1), L(i-1)], 40 levels. */
function memoDag(levels: number): Uint8Array {
  const parts: (string | number[])[] = ["\x80\x04", "]", "\x94"];
  for (let i = 1; i <= levels; i++) {
    // L(i) = [memo[i-1], memo[i-1]] → memo[i]
    parts.push("]", "\x94", "(", "j", le32(i - 1), "j", le32(i - 1), "e");
  }
  parts.push(".");
  return bytes(...parts);
}

Deno.test("bad input: resource bombs end quickly, in proportion to their size", async (t) => {
  const megabyte = 1 << 20;
  await t.step(
    "BINBYTES8 declaring 1 TiB with 10 bytes is rejected",
    async () => {
      const report = await decodeApart(
        bytes("\x80\x04\x8e", le64(2 ** 40), "0123456789."),
      );
      assert.equal(report.outcome, "rejected", report.error);
    },
  );
  await t.step("BINUNICODE declaring 4 GiB is rejected", async () => {
    const report = await decodeApart(bytes("X", [255, 255, 255, 255], "ab."));
    assert.equal(report.outcome, "rejected", report.error);
  });
  await t.step("FRAME declaring 1 TiB is rejected", async () => {
    const report = await decodeApart(
      bytes("\x80\x04\x95", le64(2 ** 40), "N."),
    );
    assert.equal(report.outcome, "rejected", report.error);
  });
  await t.step(
    "sparse memo keys (LONG_BINPUT 2^28, 2^32-1) allocate nothing",
    async () => {
      for (const key of [2 ** 28, 2 ** 32 - 1]) {
        const report = await decodeApart(
          bytes("\x80\x02N", "r", le32(key), "0", "j", le32(key), "."),
        );
        assert.notEqual(report.outcome, "other", report.error);
        assert.ok(report.ms < SLOW_MS, `${report.ms} ms`);
      }
    },
  );
  await t.step("a 1 MiB LONG4 decodes in linear time", async () => {
    const payload = new Uint8Array(megabyte).fill(0x11);
    payload[megabyte - 1] = 0x01;
    const report = await decodeApart(
      bytes("\x80\x02\x8b", le32(megabyte), payload, "."),
    );
    assert.equal(report.outcome, "value", report.error);
    assert.equal(report.facts?.hexLength, 2 * megabyte - 1);
    assert.ok(report.ms < SLOW_MS, `${report.ms} ms`);
  });
  await t.step("a 100k-digit text LONG is exact or rejected", async () => {
    const report = await decodeApart(
      bytes("L1", repeat("0", 99_999), "L\n."),
    );
    assert.notEqual(report.outcome, "other", report.error);
    if (report.outcome === "value") {
      assert.equal(report.facts?.decimalLength, 100_000);
    }
  });
  await t.step(
    "1e6 nested lists: a value or a depth error, never a stack overflow",
    async () => {
      const n = 1_000_000;
      const report = await decodeApart(
        bytes("\x80\x02", repeat("]", n), repeat("a", n - 1), "."),
      );
      assert.notEqual(report.outcome, "other", report.error);
      if (report.outcome === "value") assert.equal(report.facts?.depth, n - 1);
    },
  );
  await t.step("1e6 MARKs then TUPLE", async () => {
    const report = await decodeApart(bytes(repeat("(", 1_000_000), "t."));
    assert.notEqual(report.outcome, "other", report.error);
  });
  await t.step(
    "a 40-level memo DAG keeps its sharing instead of expanding",
    async () => {
      const report = await decodeApart(memoDag(40));
      assert.notEqual(report.outcome, "other", report.error);
      if (report.outcome === "value") {
        assert.equal(
          report.facts?.sharedPair,
          true,
        );
      }
      assert.ok(report.ms < SLOW_MS, `${report.ms} ms`);
    },
  );
  await t.step("GET of a missing memo key is rejected", async () => {
    for (
      const data of [bytes("h\x05."), bytes("j", le32(7), "."), bytes("g3\n.")]
    ) {
      assert.equal((await decodeApart(data)).outcome, "rejected");
    }
  });
});
