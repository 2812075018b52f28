/**
 * Pickles made by the reference CPython at test time, with what Python says they hold.
 *
 * `pythonCases(source)` runs `source` after a prelude that defines
 * `emit(name, obj, protocols=range(6), expect=None, **dumps_kwargs)`; every call pickles `obj`
 * at each protocol and records `expect` (any JSON, or a function of what CPython's
 * `pickle.loads` returns for that pickle) next to it.
 */

import { fromBase64 } from "./_corpus.ts";
import { type PythonEnv, runPython } from "./_python.ts";

/** One pickle made by CPython. */
export interface PickleCase {
  name: string;
  protocol: number;
  data: Uint8Array;
  expect: unknown;
  /** The out-of-band buffers, when `emit` was given `oob=True`. */
  buffers: Uint8Array[];
}

const PRELUDE = `
import base64, json, pickle, sys
_cases = []
def _b64(data):
    return base64.b64encode(bytes(data)).decode()
def emit(name, obj, protocols=range(6), expect=None, oob=False, raw=None, **kwargs):
    for protocol in protocols:
        buffers = []
        if raw is not None:
            data = raw
        elif oob:
            data = pickle.dumps(obj, protocol=protocol, buffer_callback=buffers.append, **kwargs)
        else:
            data = pickle.dumps(obj, protocol=protocol, **kwargs)
        value = expect(pickle.loads(data, buffers=buffers)) if callable(expect) else expect
        _cases.append({"name": name, "protocol": protocol, "data": _b64(data), "expect": value,
                       "buffers": [_b64(b.raw()) for b in buffers]})
`;

const EPILOGUE = `
sys.stdout.write(json.dumps(_cases))
`;

/** Hex of a byte view. */
export function hex(view: ArrayBufferView): string {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs a Python script that calls `emit(...)` and returns its pickles.
 *
 * @param source The Python code (after the prelude).
 * @param env Which reference interpreter.
 */
export async function pythonCases(
  source: string,
  env: PythonEnv = "default",
): Promise<PickleCase[]> {
  const { stdout } = await runPython(PRELUDE + source + EPILOGUE, [], { env });
  const raw = JSON.parse(new TextDecoder().decode(stdout)) as {
    name: string;
    protocol: number;
    data: string;
    expect: unknown;
    buffers: string[];
  }[];
  return raw.map((c) => ({
    name: c.name,
    protocol: c.protocol,
    data: fromBase64(c.data),
    expect: c.expect,
    buffers: c.buffers.map(fromBase64),
  }));
}

/** The error `fn` throws; fails the test when it returns. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("Expected an error, but the call returned");
}
