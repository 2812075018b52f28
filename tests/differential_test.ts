/**
 * Differential tests against CPython: `tests/python/corpus.py` pickles a broad catalogue of
 * values at protocols 0–5 (and hand-written Python 2 pickles), in the numpy 2 venv and, for the
 * numpy/pandas cases, in the numpy 1.x venv; each case carries what CPython's symbolic
 * unpickler says the pickle holds. Our decoder must produce the same value, in both number
 * modes, or reject what CPython rejects with an `UnpicklingError`.
 */

import {
  decode,
  type DecodeOptions,
  PyGlobal,
  PyObject,
  Tuple,
} from "../codec/mod.ts";
import { UnpicklingError } from "../codec/errors.ts";
import { compareTagged, type Tagged, toTagged } from "./_tagged.ts";
import {
  type CorpusCase as Case,
  fromBase64,
  generateCorpus,
} from "./_corpus.ts";

/**
 * The decode settings every case goes through: both number mappings, and windows so small that
 * nearly every opcode straddles two of them (the streaming path of large inputs).
 */
const MODES: { exact: boolean; windowSize?: number }[] = [
  { exact: true },
  { exact: false },
  { exact: true, windowSize: 7 },
];

/** Decodes one case in every mode; returns the problems found. */
function check(testCase: Case): string[] {
  const data = fromBase64(testCase.pickle);
  const problems: string[] = [];
  const label = testCase.protocol === null
    ? "hand-written"
    : `protocol ${testCase.protocol}`;
  for (const { exact, windowSize } of MODES) {
    const mode = `exact=${exact}${
      windowSize ? `, ${windowSize}-byte windows` : ""
    }`;
    const options: DecodeOptions = {
      ...testCase.options,
      exact,
      windowSize,
      buffers: testCase.buffers?.map(fromBase64),
      extensions: testCase.extensions &&
        new Map(
          testCase.extensions.map((
            [code, module, name],
          ) => [code, [module, name]]),
        ),
      persistentLoad: testCase.persistent
        ? (pid) =>
          new PyObject(
            "reduce",
            new PyGlobal("persistent", "load"),
            Tuple.of(pid),
          )
        : undefined,
    };
    let value: unknown;
    try {
      value = decode(data, options);
    } catch (error) {
      if (!("error" in testCase.expected)) {
        problems.push(`${label}, ${mode}: threw ${error}`);
      } else if (!(error instanceof UnpicklingError)) {
        problems.push(
          `${label}: CPython raises ${testCase.expected.error}, we threw ${error} (not an UnpicklingError)`,
        );
      }
      continue;
    }
    if ("error" in testCase.expected) {
      problems.push(
        `${label}: CPython raises ${testCase.expected.error} (${testCase.expected.message}), we decoded it`,
      );
      continue;
    }
    let tagged: Tagged;
    try {
      tagged = toTagged(value, { exact });
    } catch (error) {
      problems.push(`${label}, ${mode}: ${error}`);
      continue;
    }
    const difference = compareTagged(tagged, testCase.expected.ok, {
      looseFloats: !exact,
    });
    if (difference !== null) {
      problems.push(`${label}, ${mode}: ${difference}`);
    }
  }
  return problems;
}

const [numpy2, numpy1] = await Promise.all([
  generateCorpus("default", true),
  generateCorpus("numpy1"),
]);

for (
  const [label, corpus] of [
    [`CPython ${numpy2.python}, numpy ${numpy2.numpy}`, numpy2],
    [`numpy ${numpy1.numpy}`, numpy1],
  ] as const
) {
  const groups = new Map<string, Map<string, Case[]>>();
  for (const testCase of corpus.cases) {
    const group = groups.get(testCase.group) ?? new Map<string, Case[]>();
    groups.set(testCase.group, group);
    const cases = group.get(testCase.name) ?? [];
    group.set(testCase.name, cases);
    cases.push(testCase);
  }
  for (const [group, byName] of groups) {
    Deno.test(`differential (${label}): ${group}`, async (t) => {
      for (const [name, cases] of byName) {
        await t.step(name, () => {
          const problems = cases.flatMap(check);
          if (problems.length > 0) {
            throw new Error(
              `${problems.length} mismatch(es):\n  ${problems.join("\n  ")}`,
            );
          }
        });
      }
    });
  }
}
