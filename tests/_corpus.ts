/**
 * The differential corpus: pickles of a broad catalogue of values, made by CPython at test time
 * (`tests/python/corpus.py`), each with what CPython's symbolic unpickler says it holds.
 */

import type { DecodeOptions } from "../codec/mod.ts";
import type { Tagged } from "./_tagged.ts";
import { type PythonEnv, pythonPath } from "./_python.ts";

/** One pickle of the corpus. */
export interface CorpusCase {
  /** The catalogue group (`"ints"`, `"numpy"`, …). */
  group: string;
  /** The value's name within its group. */
  name: string;
  /** The protocol `pickle.dumps` used, or `null` for a hand-written (Python 2 style) pickle. */
  protocol: number | null;
  /** The pickle, base64. */
  pickle: string;
  /** The `pickle.loads` options (`encoding`). */
  options: { encoding?: DecodeOptions["encoding"] };
  /** Out-of-band buffers (protocol 5), base64. */
  buffers?: string[];
  /** The extension registry the pickle needs: `[code, module, name]`. */
  extensions?: [number, string, string][];
  /** Whether the pickle holds persistent ids, which load as the record `persistent.load(pid)`. */
  persistent?: boolean;
  /** The symbolic unpickler's value, or the exception CPython raises. */
  expected: { ok: Tagged } | { error: string; message: string };
  /** Whether the expectation was also checked against what `pickle.loads` really built. */
  checkedAgainstReal: boolean;
}

/** A generated corpus and the interpreter that made it. */
export interface Corpus {
  python: string;
  numpy: string | null;
  cases: CorpusCase[];
}

const CORPUS_SCRIPT = new URL("./python/corpus.py", import.meta.url).pathname;

/**
 * Runs `corpus.py` in a reference venv.
 *
 * @param env Which venv: numpy 2 (everything) or numpy 1.x (`--scientific-only`).
 * @param withOptionCases Also the pickles that decode only with options (`extensions`,
 * `persistentLoad`).
 * @returns The corpus.
 * @throws {Error} When the script fails (its standard error is in the message).
 *
 * @example Usage
 * ```ts ignore
 * const { cases } = await generateCorpus("default");
 * console.log(cases[0].group, cases[0].protocol); // "none_bool" 0
 * ```
 */
export async function generateCorpus(
  env: PythonEnv,
  withOptionCases = false,
): Promise<Corpus> {
  const args = env === "numpy1" ? ["--scientific-only"] : [];
  if (withOptionCases) args.push("--option-cases");
  const { code, stdout, stderr } = await new Deno.Command(pythonPath(env), {
    args: [CORPUS_SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `corpus.py (${env}) failed:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

/**
 * Decodes base64.
 *
 * @example Usage
 * ```ts ignore
 * console.log(fromBase64("Tg4=")); // Uint8Array(2) [ 78, 14 ]
 * ```
 *
 * @param text Base64 text.
 * @returns The bytes.
 */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
