/**
 * A worker that decodes one pickle and reports how it ended, so that `bad_input_test.ts` can
 * put a deadline on a decode (a hang must fail the test, not stall the suite).
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

// Compile the codec before the first message, so that a report times the decode alone.
decode(new Uint8Array([0x4e, 0x2e]));

self.onmessage = ({ data }: MessageEvent<Uint8Array>) => {
  const start = performance.now();
  try {
    const value = decode(data);
    const facts = {
      hexLength: typeof value === "bigint" ? value.toString(16).length : null,
      decimalLength: typeof value === "bigint" ? value.toString().length : null,
      sharedPair: Array.isArray(value) && value.length === 2
        ? value[0] === value[1]
        : null,
      depth: depth(value),
    };
    self.postMessage({
      outcome: "value",
      ms: performance.now() - start,
      facts,
    });
  } catch (error) {
    self.postMessage({
      outcome: error instanceof UnpicklingError ? "rejected" : "other",
      error: String(error),
      ms: performance.now() - start,
    });
  }
};
