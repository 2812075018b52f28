/**
 * Round trips through `decode()`:
 *
 * - the decoder's differential corpus (`tests/python/corpus.py`): every pickle CPython wrote,
 *   decoded with `exact: true` and encoded again at every protocol, must mean to CPython what the
 *   original means (the symbolic unpickler's verdict, and `pickle.loads` where the classes
 *   import), and is counted as byte-identical when it equals the original;
 * - random value trees (fast-check) encode → decode to an equal tree at every protocol, in
 *   both number modes;
 * - shared references and cycles come back as the same objects.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ByteArray,
  Complex,
  decode,
  encode,
  type EncodeOptions,
  FrozenSet,
  PicklingError,
  Tuple,
} from "../codec/mod.ts";
import { type PythonEnv, pythonJson } from "./_python.ts";
import { fromBase64, generateCorpus } from "./_corpus.ts";
import { toTagged } from "./_tagged.ts";

const PROTOCOLS = [0, 1, 2, 3, 4, 5];

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * What cannot survive, by design: a Python `str` holding a surrogate pair as two code points is
 * one astral character in JS; `fold` exists only from protocol 4 on (CPython drops it too).
 */
const KNOWN = [
  /^strings\/surrogate pair as two code points /,
  /^datetime\/(time )?fold=1 \(p[45] → p[0-3]\)$/,
];

const pythonDir = new URL("./python/", import.meta.url).pathname;

/** Asks CPython whether each re-encoded pickle means what the original meant. */
const CHECKER = String.raw`
import base64, json, pickle, sys
sys.path.insert(0, sys.argv[1])
import symbolic

def from_copyreg(node):
    """copyreg.__newobj__(cls, *args) and copyreg.__newobj_ex__(cls, args, kwargs), which the
    encoder writes below the protocols that have NEWOBJ/NEWOBJ_EX, as the records they mean."""
    if isinstance(node, list):
        return [from_copyreg(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: from_copyreg(v) for k, v in node.items()}
    if node.get("$reduce") in ({"$global": ["copyreg", "__newobj__"]},
                               {"$global": ["copyreg", "__newobj_ex__"]}):
        args = node["args"]["$tuple"]
        record = {k: v for k, v in node.items() if k not in ("$reduce", "args")}
        if node["$reduce"]["$global"][1] == "__newobj__":
            record.update({"$newobj": args[0], "args": {"$tuple": args[1:]}})
        else:
            record.update({"$newobj_ex": args[0], "args": args[1], "kwargs": args[2]})
        return record
    return node

def real(data):
    try:
        return symbolic.canonical(symbolic.tag_real(pickle.loads(data)))
    except Exception:
        return None

out = []
for item in json.load(sys.stdin):
    original = base64.b64decode(item["original"])
    ours = base64.b64decode(item["ours"])
    mine = symbolic.symbolic(ours)
    result = {"symbolic": "ok" in mine and
              symbolic.canonical(from_copyreg(mine["ok"])) == symbolic.canonical(item["expected"])}
    if not result["symbolic"]:
        result["got"] = json.dumps(mine)[:600]
    want = real(original)
    if want is not None:
        result["real"] = real(ours) == want
    out.append(result)
json.dump(out, sys.stdout)
`;

/**
 * Re-encodes the corpus of `env` at `protocols` and asks CPython what each means. At most
 * `notIdentical` re-encodings at the pickle's own protocol may differ from it byte for byte
 * (the known reasons are in codec/README.md, Encoder).
 */
async function checkCorpus(
  env: PythonEnv,
  protocols: number[],
  notIdentical: number,
  options: EncodeOptions = {},
): Promise<void> {
  const cases = (await generateCorpus(env)).cases.filter((c) =>
    "ok" in c.expected && c.buffers === undefined
  );
  const items: {
    label: string;
    original: string;
    ours: string;
    expected: unknown;
  }[] = [];
  const refused: string[] = [];
  let identical = 0;
  let sameProtocol = 0;
  const different: string[] = [];
  for (const c of cases) {
    const data = fromBase64(c.pickle);
    const value = decode(data, { ...c.options, exact: true });
    for (const protocol of protocols) {
      const label = `${c.group}/${c.name} (p${c.protocol} → p${protocol})`;
      let ours: Uint8Array;
      try {
        ours = encode(value, { ...options, protocol, exact: true });
      } catch (error) {
        if (!(error instanceof PicklingError)) throw error;
        refused.push(`${label}: ${error.message}`);
        continue;
      }
      if (protocol === c.protocol) {
        sameProtocol++;
        if (equalBytes(ours, data)) identical++;
        else different.push(label);
      }
      items.push({
        label,
        original: c.pickle,
        ours: ours.toBase64(),
        expected: (c.expected as { ok: unknown }).ok,
      });
    }
  }
  const results = await pythonJson<
    { symbolic: boolean; real?: boolean; got?: string }[]
  >(CHECKER, [pythonDir], {
    stdin: new TextEncoder().encode(JSON.stringify(items)),
    env,
  });
  const problems: string[] = [];
  let realChecked = 0;
  results.forEach((result, i) => {
    if (KNOWN.some((known) => known.test(items[i].label))) return;
    if (!result.symbolic) {
      problems.push(`${items[i].label}: CPython reads ${result.got}`);
    }
    if (result.real !== undefined) {
      realChecked++;
      if (!result.real) {
        problems.push(
          `${items[i].label}: pickle.loads gives a different value`,
        );
      }
    }
  });
  console.log(
    `corpus round trip (${env}${
      options.numpyModule ? `, ${options.numpyModule}` : ""
    }): ${items.length} re-encodings of ${cases.length} pickles checked ` +
      `(${realChecked} also by pickle.loads), ${refused.length} refused; ` +
      `byte-identical to the original at its own protocol: ${identical} of ${sameProtocol}` +
      (different.length > 0
        ? ` (not: ${different.slice(0, 8).join("; ")}${
          different.length > 8 ? "; …" : ""
        })`
        : ""),
  );
  assert.deepEqual(problems, []);
  assert.ok(
    realChecked > items.length / 2,
    `${realChecked} checked by pickle.loads`,
  );
  assert.ok(sameProtocol > 0);
  assert.ok(
    different.length <= notIdentical,
    `${different.length} not byte-identical: ${different.join("; ")}`,
  );
  // Only a record that ADDITEMS built cannot be written below protocol 4.
  for (const reason of refused) assert.match(reason, /needs protocol 4/);
}

Deno.test("round trip: the differential corpus, re-encoded at every protocol, means the same to CPython", async () => {
  await checkCorpus("default", PROTOCOLS, 7);
});

// numpy 1.x reads what numpy 2 writes at protocols 0-4 (`numpy._core.multiarray` has a
// stub there), but not numpy 2's protocol 5 `numpy._core.numeric._frombuffer`: neither ours.
Deno.test("round trip: the numpy 1.x corpus, re-encoded at protocols 0-4, means the same to numpy 1.26", async () => {
  await checkCorpus("numpy1", [0, 1, 2, 3, 4], Infinity);
});

Deno.test("round trip: the numpy 1.x corpus, re-encoded with numpy 1.x names at every protocol, means the same to numpy 1.26", async () => {
  await checkCorpus("numpy1", PROTOCOLS, 1, { numpyModule: "numpy.core" });
});

// ---- random trees ----

const key = fc.string({ maxLength: 8 });
const text = fc.oneof(
  fc.string(),
  fc.fullUnicodeString(),
  fc.string({ unit: "binary" }),
  fc.constantFrom("\n", "\\", "\r\x1a\0", "\ud800", "a\udfffb"),
);

function tree(exact: boolean) {
  // Without `exact`, an integral number beyond 2**53 is an int that comes back as a bigint.
  const number = exact ? fc.double() : fc.oneof(
    fc.double().filter((x) => !Number.isInteger(x) || Number.isSafeInteger(x)),
    fc.integer(),
    fc.maxSafeInteger(),
  );
  const bigint = exact
    ? fc.bigInt({ min: -(2n ** 600n), max: 2n ** 600n })
    : fc.oneof(
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 600n }),
      fc.bigInt({ min: -(2n ** 600n), max: -(2n ** 53n) }),
    );
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    number,
    bigint,
    text,
    fc.uint8Array({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 20 }).map((b) => new ByteArray(b)),
    fc.tuple(fc.double(), fc.double()).map(([re, im]) => new Complex(re, im)),
  );
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.array(tie("value"), { maxLength: 6 }),
      fc.array(tie("value"), { maxLength: 5 }).map((items) =>
        Tuple.of(...items)
      ),
      fc.array(fc.tuple(key, tie("value")), { maxLength: 5 }).map((pairs) =>
        new Map(pairs)
      ),
      fc.array(text, { maxLength: 5 }).map((items) => new Set(items)),
      fc.array(text, { maxLength: 5 }).map((items) => new FrozenSet(items)),
    ),
  })).value;
}

for (const exact of [true, false]) {
  Deno.test(`round trip: random trees at every protocol (exact: ${exact})`, () => {
    fc.assert(
      fc.property(
        tree(exact),
        fc.constantFrom(...PROTOCOLS),
        (value, protocol) => {
          const bytes = encode(value, { protocol, exact });
          assert.deepStrictEqual(decode(bytes, { exact }), value);
        },
      ),
      { numRuns: 400 },
    );
  });
}

Deno.test("round trip: shared references and cycles stay shared", () => {
  const shared = [1, 2];
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  const dict = new Map<string, unknown>();
  dict.set("self", dict);
  const inner: unknown[] = [];
  const tuple = Tuple.of<unknown>(inner, 1);
  inner.push(tuple);
  for (const protocol of PROTOCOLS) {
    const back = decode(
      encode([shared, shared, cyclic, dict, tuple], { protocol }),
    ) as unknown[];
    assert.equal(back[0], back[1], `p${protocol}`);
    const list = back[2] as unknown[];
    assert.equal(list[0], list, `p${protocol}`);
    const map = back[3] as Map<string, unknown>;
    assert.equal(map.get("self"), map, `p${protocol}`);
    const t = back[4] as unknown[];
    assert.ok(t instanceof Tuple);
    assert.equal((t[0] as unknown[])[0], t, `p${protocol}`);
  }
});

Deno.test("round trip: runs of strings, ASCII or not, come back whole", () => {
  const values = [
    ["abcd", "efgh", "ijkl", "mnoé"],
    ["é", "a", "b", "c", "d"],
    ["a", "b", "c", "\ud800", "d", "", "e"],
    Array.from(
      { length: 2500 },
      (_, i) => i % 700 === 3 ? "€" + i : "k" + (i % 9),
    ),
    ["x".repeat(255), "y".repeat(256), "z", "w", "v"],
  ];
  for (const protocol of PROTOCOLS) {
    for (const value of values) {
      assert.deepStrictEqual(decode(encode(value, { protocol })), value);
    }
  }
});

Deno.test("round trip: random trees, read by CPython's pickle.loads, are the same values", async () => {
  const items = [true, false].flatMap((exact) =>
    fc.sample(fc.tuple(tree(exact), fc.constantFrom(...PROTOCOLS)), {
      numRuns: 300,
      seed: exact ? 20240521 : 20240522,
    }).map(([value, protocol]) => ({
      protocol,
      pickle: encode(value, { protocol, exact }).toBase64(),
      expected: toTagged(value, { exact }),
    }))
  );
  const results = await pythonJson<(string | null)[]>(
    String.raw`
import base64, json, pickle, sys
sys.path.insert(0, sys.argv[1])
import symbolic

def floats(node):
    # JSON.stringify writes 7.0e+20 as 706691256332014800000, which json reads as an int.
    if isinstance(node, list):
        return [floats(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {k: (float(v) if k == "$float" and isinstance(v, int) else floats(v))
            for k, v in node.items()}

out = []
for item in json.load(sys.stdin):
    real = symbolic.canonical(symbolic.tag_real(pickle.loads(base64.b64decode(item["pickle"]))))
    same = real == symbolic.canonical(floats(item["expected"]))
    out.append(None if same else json.dumps(real)[:300])
json.dump(out, sys.stdout)
`,
    [pythonDir],
    { stdin: new TextEncoder().encode(JSON.stringify(items)) },
  );
  const problems = results.flatMap((got, i) =>
    got === null ? [] : [
      `p${items[i].protocol}: expected ${
        JSON.stringify(items[i].expected).slice(0, 300)
      }, CPython loads ${got}`,
    ]
  );
  assert.deepEqual(problems, []);
});
