/**
 * A worker that decodes one pickle and reports how it ended (see `_decode_apart.ts`), so that
 * the bad-input and hostile tests can put a deadline on a decode (a hang must fail the test, not
 * stall the suite) and measure the heap it kept.
 */

/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

import { decode } from "../codec/mod.ts";
import { UnpicklingError } from "../codec/errors.ts";

/** The length of the chain of first elements: how deep a nested list is. */
function depth(value: unknown): number {
  let levels = 0;
  while (Array.isArray(value) && value.length > 0) {
    value = value[0];
    levels++;
  }
  return levels;
}

/** Whether `value` is a pair of one shared value. */
function sharedPair(value: unknown): boolean {
  const pair = value as ArrayLike<unknown> | null;
  return pair !== null && typeof pair === "object" && pair.length === 2 &&
    pair[0] === pair[1];
}

/** A line saying what the value is, for a report. */
function summary(value: unknown): string {
  const shared = sharedPair(value) ? ", shared" : "";
  if (typeof value === "bigint") {
    return `int of ${value.toString(16).length} hex digits`;
  }
  if (Array.isArray(value)) return `list of ${value.length}${shared}`;
  if (value !== null && typeof value === "object") {
    return value.constructor.name + shared;
  }
  return String(value);
}

// Compile the codec before the first message, so that a report times the decode alone.
decode(new Uint8Array([0x4e, 0x2e]));

self.onmessage = ({ data }: MessageEvent<Uint8Array>) => {
  const heap = Deno.memoryUsage().heapUsed;
  const start = performance.now();
  const measured = () => ({
    ms: performance.now() - start,
    heapMiB: (Deno.memoryUsage().heapUsed - heap) / 2 ** 20,
  });
  let value: unknown;
  try {
    value = decode(data);
  } catch (error) {
    self.postMessage({
      ...measured(),
      outcome: error instanceof UnpicklingError ? "rejected" : "other",
      error: String(error),
    });
    return;
  }
  const { ms, heapMiB } = measured();
  self.postMessage({
    outcome: "value",
    error: "",
    ms,
    heapMiB,
    facts: {
      hexLength: typeof value === "bigint" ? value.toString(16).length : null,
      decimalLength: typeof value === "bigint" ? value.toString().length : null,
      sharedPair: Array.isArray(value) ? sharedPair(value) : null,
      depth: depth(value),
      summary: summary(value),
    },
  });
};
