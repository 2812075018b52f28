/**
 * Differential fuzzing against CPython: `tests/python/fuzz_differential.py` mutates CPython's
 * vectors and the differential corpus and says, for each mutant, whether CPython's C unpickler
 * accepts it when every global is a harmless class (so that nothing runs, and what it rejects
 * is malformed rather than unrunnable), and what the symbolic unpickler says it holds. We must
 * accept exactly the same mutants, and decode each to the same value. Where the pickle is
 * well-formed but a type the decoder knows (datetime, numpy, …) refuses its arguments when
 * CPython really calls it, only running it could tell, so we may refuse it or keep a record.
 * Values are compared where the pickle calls no such type (their values are the differential
 * corpus's business, on unmutated pickles); where it does, the verdict is.
 *
 * `LSA_DIFF_FUZZ_COUNT` sets the number of mutants (default 4,000), `LSA_FUZZ_SEED` the seed.
 */

import assert from "node:assert/strict";
import {
  decode,
  type DecodeOptions,
  PyGlobal,
  PyObject,
  Tuple,
} from "../codec/mod.ts";
import { UnpicklingError } from "../codec/errors.ts";
import { compareTagged, type Tagged, toTagged } from "./_tagged.ts";
import { fromBase64, generateCorpus } from "./_corpus.ts";
import { pythonPath } from "./_python.ts";

const COUNT = Number(Deno.env.get("LSA_DIFF_FUZZ_COUNT") ?? 4000);
const SEED = Number(Deno.env.get("LSA_FUZZ_SEED") ?? 0x5eed);

type Verdict =
  | { pickle: string; verdict: "ok"; value: Tagged | null; known: boolean }
  | {
    pickle: string;
    verdict: "error" | "refused";
    error: string;
    message: string;
  }
  | { pickle: string; verdict: "crashed"; signal: number | string };

/**
 * A reducer's refusal of arguments (raised while the tape is materialized, so it names no
 * opcode): allowed where the real type would accept them, as the reducers check the shapes
 * that the writers of these types produce rather than all that their constructors take.
 */
const STRICTER = /\(in the opcodes from byte \d+\)$/;

/** What the oracle's harmless unpickler is given, given to us too. */
const OPTIONS: DecodeOptions = {
  exact: true,
  buffers: Array.from({ length: 1000 }, () => new Uint8Array(0)),
  persistentLoad: (pid) =>
    new PyObject("reduce", new PyGlobal("persistent", "load"), Tuple.of(pid)),
};

async function seeds(): Promise<string[]> {
  const { vectors } = JSON.parse(
    await Deno.readTextFile(
      new URL("./fixtures/vectors/cpython_pickletester.json", import.meta.url),
    ),
  ) as { vectors: { data: string; cpython: string; kwargs: object }[] };
  return [
    ...vectors
      .filter((v) => v.cpython === "ok" && Object.keys(v.kwargs).length === 0)
      .map((v) => v.data),
    ...(await generateCorpus("default")).cases
      .filter((c) =>
        "ok" in c.expected && c.buffers === undefined &&
        c.extensions === undefined && Object.keys(c.options).length === 0 &&
        c.pickle.length < 4000
      )
      .map((c) => c.pickle),
  ];
}

/** CPython's verdicts: on `COUNT` mutants of `pickles`, or on `pickles` themselves. */
async function verdicts(
  pickles: string[],
  mode: "mutants" | "given",
): Promise<Verdict[]> {
  const child = new Deno.Command(pythonPath(), {
    args: [
      new URL("python/fuzz_differential.py", import.meta.url).pathname,
      ...(mode === "given" ? ["--given"] : [String(SEED), String(COUNT)]),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(pickles)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** Our verdict and value on each case against CPython's. */
function compare(cases: Verdict[]) {
  const problems: string[] = [];
  const counts = {
    accepted: 0,
    rejected: 0,
    compared: 0,
    refused: 0,
    crashed: 0,
  };
  const stricter: string[] = [];
  for (const oracle of cases) {
    const data = fromBase64(oracle.pickle);
    let value: unknown;
    try {
      value = decode(data, OPTIONS);
    } catch (error) {
      if (oracle.verdict === "crashed" && error instanceof UnpicklingError) {
        counts.crashed++;
      } else if (
        oracle.verdict === "refused" && error instanceof UnpicklingError
      ) {
        counts.refused++;
      } else if (
        oracle.verdict === "ok" && oracle.known &&
        error instanceof UnpicklingError && STRICTER.test(error.message)
      ) {
        stricter.push(`${oracle.pickle}: ${error.message}`);
      } else if (!(error instanceof UnpicklingError)) {
        problems.push(`${oracle.pickle}: threw ${error}`);
      } else if (oracle.verdict === "ok") {
        problems.push(
          `${oracle.pickle}: CPython accepts it, we threw ${error}`,
        );
      } else counts.rejected++;
      continue;
    }
    if (oracle.verdict !== "ok") {
      if (oracle.verdict === "refused") counts.refused++;
      else if (oracle.verdict === "crashed") counts.crashed++;
      else {
        problems.push(
          `${oracle.pickle}: CPython raises ${oracle.error} (${oracle.message}), we decoded it`,
        );
      }
      continue;
    }
    counts.accepted++;
    if (oracle.value === null || oracle.known) continue;
    const difference = compareTagged(
      toTagged(value, { exact: true }),
      oracle.value,
    );
    if (difference !== null) problems.push(`${oracle.pickle}: ${difference}`);
    else counts.compared++;
  }
  return { problems, counts, stricter };
}

Deno.test("differential fuzz: mutated pickles are accepted exactly when CPython accepts them, with the same value", async () => {
  const cases = await verdicts(await seeds(), "mutants");
  const { problems, counts, stricter } = compare(cases);
  console.log(
    `${cases.length} mutants (seed ${SEED}): ${counts.rejected} rejected by both, ` +
      `${counts.accepted} accepted by both (${counts.compared} with the same value; the rest ` +
      `call a known type or hold a literal only the C unpickler reads: verdict compared), ` +
      `${counts.refused} well-formed but refused by a real known type (either verdict ` +
      `allowed), ${stricter.length} refused by our reducers although the real type accepts ` +
      `them (allowed, see codec/README.md, Hardening), ${counts.crashed} that crash CPython ` +
      `with numpy (we end in a value or UnpicklingError); ${problems.length} disagreements`,
  );
  for (const example of stricter.slice(0, 3)) {
    console.log(`  stricter: ${example}`);
  }
  assert.deepEqual(problems.slice(0, 10), []);
  assert.ok(counts.accepted > 0 && counts.rejected > 0);
  // The values, not only the verdicts, are compared for a good share of them, and being
  // stricter than CPython stays the exception.
  assert.ok(
    counts.compared > counts.accepted / 4,
    `${counts.compared} compared`,
  );
  assert.ok(
    stricter.length <= counts.accepted / 20,
    `${stricter.length} stricter`,
  );
});

Deno.test("differential fuzz: the past disagreements agree with CPython", async () => {
  const folder = new URL(
    "./fixtures/regressions/differential/",
    import.meta.url,
  );
  const pickles: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const data = await Deno.readFile(new URL(entry.name, folder));
    pickles.push(btoa(String.fromCharCode(...data)));
  }
  const cases = await verdicts(pickles, "given");
  assert.ok(cases.every((oracle) => (oracle.verdict as string) !== "skipped"));
  const { problems } = compare(cases);
  assert.deepEqual(problems, []);
  console.log(`${cases.length} past disagreements, all agreeing now`);
});
