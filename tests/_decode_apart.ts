/**
 * `decodeApart()`: a decode in a fresh worker (`_decode_worker.ts`) with a deadline, for the
 * tests of bad and hostile input.
 */

/** What the worker reports about one decode. */
export interface Report {
  outcome: "value" | "rejected" | "other";
  /** The error, as `String(error)`; empty for a value. */
  error: string;
  ms: number;
  /** The heap the decode kept, value included. */
  heapMiB: number;
  /** For a value. */
  facts?: {
    hexLength: number | null;
    decimalLength: number | null;
    sharedPair: boolean | null;
    depth: number;
    summary: string;
  };
}

/** Decodes in a fresh worker; a decode that outlives `deadlineMs` fails as a hang. */
export async function decodeApart(
  data: Uint8Array,
  deadlineMs = 20_000,
): Promise<Report> {
  const worker = new Worker(
    new URL("./_decode_worker.ts", import.meta.url),
    { type: "module" },
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<Report>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`decode still running after ${deadlineMs} ms`)),
        deadlineMs,
      );
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`worker died: ${event.message}`));
      };
      worker.postMessage(data);
    });
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}
