import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- a dev-only tool; deno.json has no import map yet
import fc from "npm:fast-check@3";
import {
  compareCodePoints,
  dumps,
  type DumpsOptions,
  floatRepr,
  JSONDecodeError,
  loads,
} from "../src/python_json.ts";
import { pythonJson } from "./_python.ts";

const encoder = new TextEncoder();

function float64Hex(value: number): string {
  const bytes = new Uint8Array(new Float64Array([value]).buffer);
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A value spelled so that Python rebuilds exactly the Python value it stands for. */
type Tagged =
  | null
  | boolean
  | { i: string }
  | { f: string }
  | { s: number[] }
  | { l: Tagged[] }
  | { d: [Tagged, Tagged][] };

/** The Python value of a JS value under the documented mapping (`exact` or not). */
function tag(value: unknown, exact: boolean): Tagged {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "bigint") return { i: value.toString() };
  if (typeof value === "number") {
    return !exact && Number.isInteger(value) && !Object.is(value, -0)
      ? { i: BigInt(value).toString() }
      : { f: float64Hex(value) };
  }
  if (typeof value === "string") {
    return {
      s: Array.from({ length: value.length }, (_, i) => value.charCodeAt(i)),
    };
  }
  if (Array.isArray(value)) return { l: value.map((item) => tag(item, exact)) };
  const entries = value instanceof Map
    ? [...value]
    : Object.entries(value as object);
  return {
    d: entries.map(([key, item]) => [tag(key, exact), tag(item, exact)]),
  };
}

const PYTHON_UNTAG = `
import json, struct, sys
def untag(t):
    if t is None or isinstance(t, bool): return t
    if 'i' in t: return int(t['i'])
    if 'f' in t: return struct.unpack('<d', bytes.fromhex(t['f']))[0]
    if 's' in t: return struct.pack('<%dH' % len(t['s']), *t['s']).decode('utf-16-le', 'surrogatepass')
    if 'l' in t: return [untag(x) for x in t['l']]
    return {untag(k): untag(v) for k, v in t['d']}
`;

/** Python's `json.dumps(value, **kwargs)` for each case. */
function pythonDumps(
  cases: { value: Tagged; kwargs: Record<string, unknown> }[],
) {
  return pythonJson<string[]>(
    PYTHON_UNTAG +
      "cases = json.load(sys.stdin)\n" +
      "print(json.dumps([json.dumps(untag(c['value']), **c['kwargs']) for c in cases]))",
    [],
    { stdin: encoder.encode(JSON.stringify(cases)) },
  );
}

const KWARG_SETS: { options: DumpsOptions; kwargs: Record<string, unknown> }[] =
  [
    { options: {}, kwargs: {} },
    {
      options: { sortKeys: true, indent: 4 },
      kwargs: { sort_keys: true, indent: 4 },
    },
    { options: { indent: 0 }, kwargs: { indent: 0 } },
    {
      options: { indent: "\t", sortKeys: true },
      kwargs: { indent: "\t", sort_keys: true },
    },
    { options: { ensureAscii: false }, kwargs: { ensure_ascii: false } },
    { options: { separators: [",", ":"] }, kwargs: { separators: [",", ":"] } },
    {
      options: { separators: [", ", ": "], indent: 2, ensureAscii: false },
      kwargs: { separators: [", ", ": "], indent: 2, ensure_ascii: false },
    },
  ];

const anyString = fc.oneof(
  fc.string(),
  fc.fullUnicodeString({ maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom(
    "",
    "\u007f",
    "\ud800",
    "\udfff\ud800",
    "\u2028",
    '"\\/\b\f\n\r\t',
    "\x00\x1f",
  ),
);
const anyFloat = fc.oneof(
  fc.double(),
  fc.constantFrom(
    1e16,
    1e15,
    9999999999999998,
    1e-4,
    1e-5,
    0.1,
    5e-324,
    1.7976931348623157e308,
  ),
  fc.integer().map((n) => n / 8),
);
const anyInt = fc.oneof(
  fc.integer(),
  fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }),
);

function jsonValue(exact: boolean) {
  const scalar = exact
    ? fc.oneof(fc.constant(null), fc.boolean(), anyInt, anyFloat, anyString)
    : fc.oneof(
      fc.constant(null),
      fc.boolean(),
      anyInt,
      anyFloat,
      fc.maxSafeInteger(),
      anyString,
    );
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      scalar,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(anyString, tie("value"), { maxKeys: 4 }),
    ),
  })).value;
}

Deno.test("floatRepr() equals Python's repr(float)", async () => {
  const values = [
    ...fc.sample(fc.double(), { numRuns: 3000, seed: 1 }),
    ...fc.sample(fc.integer().map((n) => n / 1000), { numRuns: 500, seed: 2 }),
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    1,
    1e16,
    1e15,
    123456789012345680000,
    1e22,
    1e-4,
    1e-5,
    0.1,
    1 / 3,
    5e-324,
    2 ** 53,
    2 ** 53 + 2,
  ];
  const expected = await pythonJson<string[]>(
    "import json, struct, sys\n" +
      "print(json.dumps([repr(struct.unpack('<d', bytes.fromhex(h))[0]) for h in json.load(sys.stdin)]))",
    [],
    { stdin: encoder.encode(JSON.stringify(values.map(float64Hex))) },
  );
  values.forEach((value, i) =>
    assert.equal(floatRepr(value), expected[i], String(value))
  );
});

for (const exact of [false, true]) {
  Deno.test(`dumps() equals Python's json.dumps on generated data (exact: ${exact})`, async () => {
    const values = fc.sample(jsonValue(exact), {
      numRuns: 400,
      seed: exact ? 7 : 8,
    });
    const cases = values.flatMap((value) =>
      KWARG_SETS.map(({ options, kwargs }) => ({ value, options, kwargs }))
    );
    const expected = await pythonDumps(
      cases.map(({ value, kwargs }) => ({ value: tag(value, exact), kwargs })),
    );
    cases.forEach(({ value, options }, i) => {
      assert.equal(
        dumps(value, { ...options, exact }),
        expected[i],
        JSON.stringify(options),
      );
    });
  });

  Deno.test(`loads() reads what Python writes and dumps() writes it back (exact: ${exact})`, async () => {
    const values = fc.sample(jsonValue(true), {
      numRuns: 400,
      seed: exact ? 9 : 10,
    });
    const cases = values.flatMap((value) =>
      KWARG_SETS.map(({ options, kwargs }) => ({ value, options, kwargs }))
    );
    const texts = await pythonDumps(
      cases.map(({ value, kwargs }) => ({ value: tag(value, true), kwargs })),
    );
    cases.forEach(({ value, options }, i) => {
      const parsed = loads(texts[i], { exact });
      if (exact) {
        // Lossless: ints are bigints, floats numbers, dicts Maps in Python's order.
        assert.equal(dumps(parsed, { ...options, exact: true }), texts[i]);
      } else {
        assert.equal(dumps(parsed, options), dumps(value, options));
      }
    });
  });
}

Deno.test("dumps() converts dict keys and sorts by code point as Python does", async () => {
  const value = new Map<unknown, unknown>([
    ["b", 1],
    [2, "int"],
    [0.5, "float"],
    [true, "bool"],
    [null, "none"],
    [10n ** 20n, "big"],
  ]);
  const [expected, sortedExpected] = await pythonJson<string[]>(
    "import json\n" +
      "d = {'b': 1, 2: 'int', 0.5: 'float', True: 'bool', None: 'none', 10**20: 'big'}\n" +
      "s = {'\\uffff': 1, '\\U00010000': 2, 'a': 3, '': 4}\n" +
      "print(json.dumps([json.dumps(d), json.dumps(s, sort_keys=True)]))",
  );
  assert.equal(dumps(value), expected);
  assert.equal(
    dumps({ "\uffff": 1, "\u{10000}": 2, a: 3, "": 4 }, { sortKeys: true }),
    sortedExpected,
  );
  assert.ok(compareCodePoints("\u{10000}", "\uffff") > 0);
  assert.throws(
    () =>
      dumps(new Map<unknown, unknown>([["a", 1], [1, 2]]), { sortKeys: true }),
    TypeError,
  );
});

Deno.test("dumps() rejects what Python rejects", () => {
  assert.throws(() => dumps(NaN, { allowNan: false }), RangeError);
  assert.throws(
    () => dumps(new Set([1])),
    /Object of type set is not JSON serializable/,
  );
  assert.throws(() => dumps(undefined), TypeError);
  assert.throws(() => dumps({ a: new Uint8Array(1) }), /type bytes/);
  const cycle: unknown[] = [];
  cycle.push(cycle);
  assert.throws(() => dumps(cycle), /Circular reference detected/);
  assert.throws(() => dumps(new Map([[Symbol("k"), 1]])), /keys must be str/);
  assert.equal(
    dumps(new Map<unknown, number>([[Symbol("k"), 1], ["a", 2]]), {
      skipKeys: true,
    }),
    '{"a": 2}',
  );
  assert.equal(
    dumps(new Set([1, 2]), { default: (value) => [...(value as Set<number>)] }),
    "[1, 2]",
  );
});

Deno.test("dumps() and loads() handle deep nesting without recursion", () => {
  const depth = 100_000;
  const text = "[".repeat(depth) + "]".repeat(depth);
  const value = loads(text);
  assert.equal(dumps(value).length, text.length);
});

Deno.test("loads() rejects what Python rejects, with Python's messages", async () => {
  const bad = [
    "",
    " ",
    "[1,]",
    '{"a": 1,}',
    "{",
    "[",
    "[1 2]",
    '{"a" 1}',
    "{1: 2}",
    "01",
    "1.",
    "-",
    ".5",
    "nan",
    "-NaN",
    "[1]x",
    '"abc',
    '"a\\x"',
    '"\\u12"',
    '"\\u12G4"',
    '"a\tb"',
    "\ufeff[]",
    "\n\n  [\n1,\n]",
    "tru",
    "[true false]",
  ];
  const expected = await pythonJson<string[]>(
    "import json, sys\nout = []\nfor t in json.load(sys.stdin):\n" +
      "    try:\n        json.loads(t)\n        out.append('ok')\n" +
      "    except json.JSONDecodeError as e:\n        out.append(str(e))\n" +
      "print(json.dumps(out))",
    [],
    { stdin: encoder.encode(JSON.stringify(bad)) },
  );
  bad.forEach((text, i) => {
    assert.throws(
      () => loads(text),
      (error) =>
        error instanceof JSONDecodeError && error.message === expected[i],
      `${JSON.stringify(text)} should fail with ${expected[i]}`,
    );
  });
});

Deno.test("loads() keeps Python's semantics for keys, numbers and escapes", () => {
  const value = loads(
    '{"__proto__": 1, "a": 1, "a": 2, "n": 123456789012345678901}',
  ) as Record<
    string,
    unknown
  >;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.keys(value), ["__proto__", "a", "n"]);
  assert.equal(value.a, 2);
  assert.equal(value.n, 123456789012345678901n);
  assert.equal(loads('"\\ud83d\\ude00\\ud800x"'), "\u{1f600}\ud800x");
  assert.deepEqual(loads("[NaN, Infinity, -Infinity, 1e400, -0.0]"), [
    NaN,
    Infinity,
    -Infinity,
    Infinity,
    -0,
  ]);
  assert.deepEqual(
    loads('{"2": 1, "1": 2}', { exact: true }),
    new Map([["2", 1n], ["1", 2n]]),
  );
});
