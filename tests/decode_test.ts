/**
 * `decode()` against pickles that the reference CPython makes at test time: the core value
 * mapping at every protocol, identity, options, streaming windows, limits and errors.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  ByteArray,
  decode,
  Decoder,
  FrozenSet,
  initWasm,
  initWasmAsync,
  PickleError,
  PyArray,
  PyGlobal,
  Tuple,
  UnpicklingError,
} from "../codec/mod.ts";
import {
  base64Bytes,
  base64TableBytes,
  codecExports,
} from "../codec/_instance.ts";
import { wasmBase64 } from "../codec/_wasm.js";
import { valueTree } from "../src/value_tree.ts";
import { pythonCases, thrown } from "./_cases.ts";
import { fromBase64 } from "./_corpus.ts";
import { runPython } from "./_python.ts";

const encoder = new TextEncoder();

/** A pickle from Python source text of bytes (`b"..."` literal body) — for handmade vectors. */
async function pythonBytes(expression: string): Promise<Uint8Array> {
  const { stdout } = await runPython(
    `import sys, pickle, base64\nsys.stdout.write(base64.b64encode(${expression}).decode())`,
  );
  return fromBase64(new TextDecoder().decode(stdout));
}

function expectInt(actual: unknown, digits: string, exact: boolean) {
  const big = BigInt(digits);
  if (exact || big > 9007199254740991n || big < -9007199254740991n) {
    assert.equal(actual, big, `${digits}`);
  } else {
    assert.equal(actual, Number(digits), `${digits}`);
  }
}

Deno.test("decode: ints at every width cutoff, protocols 0-5, exact and not", async () => {
  const cases = await pythonCases(`
values = [0, 1, -1, 255, 256, -255, -256, 65535, 65536, -65535, -65536, 2**31 - 1, -2**31,
          2**31, -2**31 - 1, 2**53 - 1, -(2**53 - 1), 2**53, -2**53, 2**63 - 1, -2**63, 2**64,
          2**70 + 1, -(2**100), 10**30, True, False]
emit("ints", values, expect=[str(int(v)) for v in values])
`);
  assert.equal(cases.length, 6);
  for (const { data, expect, protocol } of cases) {
    for (const exact of [false, true]) {
      const value = decode(data, { exact }) as unknown[];
      const digits = expect as string[];
      assert.equal(value.length, digits.length);
      for (let i = 0; i < digits.length - 2; i++) {
        expectInt(value[i], digits[i], exact);
      }
      assert.equal(value[digits.length - 2], true, `protocol ${protocol}`);
      assert.equal(value[digits.length - 1], false);
    }
  }
});

Deno.test("decode: floats keep -0, nan, inf and every bit, protocols 0-5", async () => {
  const cases = await pythonCases(`
import math
values = [0.0, -0.0, 1.5, 2.0, 0.1, 1e308, 5e-324, -1e-300, math.inf, -math.inf, math.nan, 1/3]
emit("floats", values, expect=[v.hex() for v in values])
`);
  for (const { data, expect } of cases) {
    for (const exact of [false, true]) {
      const value = decode(data, { exact }) as number[];
      const hexes = expect as string[];
      const numbers = [
        0,
        -0,
        1.5,
        2,
        0.1,
        1e308,
        5e-324,
        -1e-300,
        Infinity,
        -Infinity,
        NaN,
        1 / 3,
      ];
      assert.equal(value.length, hexes.length);
      for (let i = 0; i < numbers.length; i++) {
        assert.ok(Object.is(value[i], numbers[i]), `${hexes[i]}: ${value[i]}`);
      }
    }
  }
});

Deno.test("decode: exact mode tells ints from integral floats", async () => {
  const [p4] = await pythonCases(
    `emit("mixed", [2, 2.0, True, None], protocols=[4])`,
  );
  assert.deepEqual(decode(p4.data), [2, 2, true, null]);
  assert.deepEqual(decode(p4.data, { exact: true }), [2n, 2, true, null]);
});

Deno.test("decode: strings with escapes, astral chars and lone surrogates, protocols 0-5", async () => {
  const cases = await pythonCases(`
values = ["", "a", "caf\\u00e9", "\\u65e5\\u672c", "\\U0001F600", "\\ud800", "x\\udfffy",
          "a\\nb\\\\c\\r\\x1a\\x00", "\\ufeffbom", "x" * 300, "\\u20ac" * 70000]
emit("strings", values, expect=values)
`);
  for (const { data, expect, protocol } of cases) {
    assert.deepEqual(decode(data), expect, `protocol ${protocol}`);
  }
});

Deno.test("decode: bytes and bytearray, protocols 0-5", async () => {
  const cases = await pythonCases(`
import base64
values = [b"", b"a", bytes(range(256)), b"x" * 300]
emit("bytes", values, expect=[base64.b64encode(v).decode() for v in values])
emit("bytearray", [bytearray(v) for v in values],
     expect=[base64.b64encode(v).decode() for v in values])
`);
  assert.equal(cases.length, 12);
  for (const { name, data, expect, protocol } of cases) {
    const value = decode(data) as Uint8Array[];
    const wanted = (expect as string[]).map(fromBase64);
    assert.equal(value.length, wanted.length);
    for (let i = 0; i < wanted.length; i++) {
      assert.ok(value[i] instanceof Uint8Array, `${name} ${protocol}`);
      assert.equal(
        value[i] instanceof ByteArray,
        name === "bytearray",
        `${name} at protocol ${protocol}`,
      );
      assert.deepEqual(Array.from(value[i]), Array.from(wanted[i]));
    }
  }
});

Deno.test("decode: containers keep their Python types, protocols 0-5", async () => {
  const cases = await pythonCases(`
value = {
    "list": [1, [2, []]],
    "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
    "set": {1, 2, 3},
    "frozenset": frozenset(["a"]),
    "empty_set": set(),
    "keys": {1: "int", "1": "str", (1, 2): "tuple", None: "none", 2.5: "float", True: "bool"},
}
emit("containers", value)
`);
  for (const { data, protocol } of cases) {
    const value = decode(data) as Map<string, unknown>;
    assert.ok(value instanceof Map, `protocol ${protocol}`);
    assert.deepEqual(value.get("list"), [1, [2, []]]);
    const tuples = value.get("tuples") as unknown[];
    assert.equal(tuples.length, 5);
    tuples.forEach((tuple, i) => {
      assert.ok(tuple instanceof Tuple, `tuple ${i} at protocol ${protocol}`);
      assert.deepEqual([...tuple], [1, 2, 3, 4].slice(0, i));
    });
    const set = value.get("set");
    assert.ok(set instanceof Set && !(set instanceof FrozenSet));
    assert.deepEqual([...set].sort(), [1, 2, 3]);
    const frozen = value.get("frozenset");
    assert.ok(frozen instanceof FrozenSet);
    assert.deepEqual([...frozen], ["a"]);
    assert.equal((value.get("empty_set") as Set<unknown>).size, 0);
    const keys = value.get("keys") as Map<unknown, unknown>;
    assert.equal(keys.get(1), "bool"); // Python: {1: ..., True: ...} is one key
    assert.equal(keys.get("1"), "str");
    assert.equal(keys.get(null), "none");
    assert.equal(keys.get(2.5), "float");
    const tupleKey = [...keys.keys()].find((k) => k instanceof Tuple);
    assert.deepEqual([...tupleKey as Tuple], [1, 2]);
    assert.equal(keys.get(tupleKey), "tuple");
    assert.deepEqual([...keys.keys()].slice(0, 2), [1, "1"]);
  }
});

Deno.test("decode: shared references and cycles keep identity, protocols 0-5", async () => {
  const cases = await pythonCases(`
shared = [1]
cyclic = []
cyclic.append(cyclic)
d = {}
d["self"] = d
inner = []
t = (inner,)
inner.append(t)
emit("shared", [shared, shared, (shared,), cyclic, d, t, "s", "s"])
`);
  for (const { data, protocol } of cases) {
    const value = decode(data) as unknown[];
    const [a, b, tuple, cyclic, dict, t] = value as [
      unknown[],
      unknown[],
      Tuple,
      unknown[],
      Map<string, unknown>,
      Tuple,
    ];
    assert.equal(a, b, `protocol ${protocol}`);
    assert.equal(tuple[0], a);
    assert.equal(cyclic[0], cyclic);
    assert.equal(dict.get("self"), dict);
    assert.ok(t instanceof Tuple);
    assert.equal((t[0] as unknown[])[0], t);
  }
});

Deno.test("decode: a __proto__ key is an inert Map key", async () => {
  const cases = await pythonCases(`
emit("proto", {"__proto__": {"polluted": 1}, "constructor": 2, "toString": 3})
`);
  for (const { data } of cases) {
    const value = decode(data) as Map<string, unknown>;
    assert.ok(value instanceof Map);
    assert.deepEqual(value.get("__proto__"), new Map([["polluted", 1]]));
    assert.equal(value.get("constructor"), 2);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(value), Map.prototype);
  }
});

Deno.test("decode: Python 2 str under each encoding, as CPython decodes it", async () => {
  const vectors = [
    String.raw`b"S'caf\\xe9'\np0\n."`,
    String.raw`b"\x80\x02U\x04caf\xe9q\x00."`,
    String.raw`b"T\x04\x00\x00\x00caf\xe9."`,
    String.raw`b"(S'ab'\nU\x02\xc3\xa9l."`,
  ];
  for (const vector of vectors) {
    const data = await pythonBytes(vector);
    for (const encoding of ["ASCII", "latin1", "bytes", "utf-8"] as const) {
      const { stdout } = await runPython(
        `import pickle, sys, json, base64
try:
    v = pickle.loads(${vector}, encoding=${JSON.stringify(encoding)})
    def tag(x):
        if isinstance(x, bytes): return {"bytes": base64.b64encode(x).decode()}
        if isinstance(x, list): return [tag(i) for i in x]
        return x
    print(json.dumps({"ok": tag(v)}))
except Exception as e:
    print(json.dumps({"error": type(e).__name__}))`,
      );
      const python = JSON.parse(new TextDecoder().decode(stdout));
      if ("error" in python) {
        assert.throws(
          () => decode(data, { encoding }),
          UnpicklingError,
          `${vector} ${encoding}`,
        );
        continue;
      }
      const untag = (x: unknown): unknown =>
        Array.isArray(x)
          ? x.map(untag)
          : typeof x === "object" && x !== null
          ? fromBase64((x as { bytes: string }).bytes)
          : x;
      assert.deepEqual(
        decode(data, { encoding }),
        untag(python.ok),
        `${vector} ${encoding}`,
      );
    }
  }
});

Deno.test("decode: fixImports maps Python 2 names of protocol 0-2 pickles", async () => {
  const cases = await pythonCases(`
emit("range", range, protocols=[0, 2, 3])
`);
  for (const { data, protocol } of cases) {
    const mapped = decode(data) as PyGlobal;
    assert.ok(mapped instanceof PyGlobal);
    assert.equal(String(mapped), "builtins.range");
    const raw = decode(data, { fixImports: false }) as PyGlobal;
    assert.equal(
      String(raw),
      protocol < 3 ? "__builtin__.xrange" : "builtins.range",
    );
  }
});

Deno.test("decode: persistent ids go through persistentLoad, or fail with the offset", async () => {
  const cases = await pythonCases(`
import io
class P(pickle.Pickler):
    def persistent_id(self, obj):
        return "ref-" + obj[4:] if isinstance(obj, str) and obj.startswith("ext:") else None
for protocol in range(6):
    f = io.BytesIO()
    P(f, protocol=protocol).dump(["ext:a", 1, "ext:b"])
    emit("persid", None, protocols=[protocol], raw=f.getvalue())
`);
  for (const { data, protocol } of cases) {
    const seen: unknown[] = [];
    const value = decode(data, {
      persistentLoad: (pid) => {
        seen.push(pid);
        return { loaded: pid };
      },
    });
    assert.deepEqual(value, [{ loaded: "ref-a" }, 1, { loaded: "ref-b" }]);
    assert.deepEqual(seen, ["ref-a", "ref-b"]);
    const error = thrown(() => decode(data)) as UnpicklingError;
    assert.ok(error instanceof UnpicklingError);
    assert.equal(error.opcode, protocol === 0 ? "PERSID" : "BINPERSID");
    assert.equal(
      data[error.offset],
      (protocol === 0 ? "P" : "Q").charCodeAt(0),
    );
  }
});

Deno.test("decode: extension codes resolve through the extensions table", async () => {
  const cases = await pythonCases(`
import copyreg, collections
copyreg.add_extension("collections", "OrderedDict", 240)
copyreg.add_extension("collections", "Counter", 70000)
emit("ext", [collections.OrderedDict([("a", 1)]), collections.Counter], protocols=[2, 4])
`);
  const extensions = new Map<number, readonly [string, string]>([
    [240, ["collections", "OrderedDict"]],
    [70000, ["collections", "Counter"]],
  ]);
  for (const { data } of cases) {
    const [ordered, counter] = decode(data, { extensions }) as [
      Map<string, number>,
      PyGlobal,
    ];
    assert.equal(ordered.constructor.name, "OrderedDict");
    assert.deepEqual([...ordered], [["a", 1]]);
    assert.equal(String(counter), "collections.Counter");
    const error = thrown(() => decode(data)) as UnpicklingError;
    assert.ok(error instanceof UnpicklingError);
    assert.equal(error.opcode, "EXT1");
    assert.match(error.message, /240/);
  }
});

Deno.test("decode: protocol 5 buffers, in band and out of band", async () => {
  const cases = await pythonCases(`
from pickle import PickleBuffer
value = [PickleBuffer(b"read-only"), PickleBuffer(bytearray(b"writable"))]
emit("inband", value, protocols=[5])
emit("oob", value, protocols=[5], oob=True)
`);
  const [inband, oob] = cases;
  const [readOnly, writable] = decode(inband.data) as Uint8Array[];
  assert.ok(!(readOnly instanceof ByteArray));
  assert.equal(new TextDecoder().decode(readOnly), "read-only");
  assert.ok(writable instanceof ByteArray);
  assert.equal(new TextDecoder().decode(writable), "writable");

  assert.equal(oob.buffers.length, 2);
  const buffers = [new ByteArray(oob.buffers[0]), oob.buffers[1]];
  const [first, second] = decode(oob.data, { buffers }) as Uint8Array[];
  assert.ok(!(first instanceof ByteArray), "READONLY_BUFFER drops mutability");
  assert.equal(first.buffer, buffers[0].buffer, "a view of the given buffer");
  assert.equal(second, buffers[1], "the buffer as given");

  const missing = thrown(() => decode(oob.data)) as UnpicklingError;
  assert.ok(missing instanceof UnpicklingError);
  assert.equal(missing.opcode, "NEXT_BUFFER");
  const few = thrown(() =>
    decode(oob.data, { buffers: [buffers[0]] })
  ) as UnpicklingError;
  assert.ok(few instanceof UnpicklingError);
  assert.equal(few.opcode, "NEXT_BUFFER");
  assert.ok(few.offset > missing.offset);
});

Deno.test("decode: any window size gives the same value; bytes are views of the input", async () => {
  const [big] = await pythonCases(`
value = {"strings": ["s%d\\u00e9" % i for i in range(3000)], "blob": bytes(range(256)) * 12000,
         "ints": list(range(-5000, 5000, 7)), "big": [2**80 + i for i in range(50)],
         "floats": [i / 7 for i in range(2000)], "nested": [[[i]] for i in range(100)]}
emit("big", value, protocols=[4])
`);
  const whole = decode(big.data) as Map<string, unknown>;
  const blob = whole.get("blob") as Uint8Array;
  assert.equal(blob.length, 256 * 12000);
  assert.equal(blob.buffer, big.data.buffer, "zero-copy view of the input");
  assert.equal(blob[257], 1);
  for (const windowSize of [1, 7, 64, 4096, 100_000]) {
    const value = decode(big.data, { windowSize }) as Map<string, unknown>;
    assert.deepEqual(value, whole, `windowSize ${windowSize}`);
  }
});

Deno.test("decode: Decoder keeps its options across calls", async () => {
  const cases = await pythonCases(`emit("n", [7, 2**70], protocols=[2, 4])`);
  const decoder = new Decoder({ exact: true });
  for (const { data } of cases) {
    assert.deepEqual(decoder.decode(data), [7n, 2n ** 70n]);
    assert.deepEqual(decoder.decode(data), [7n, 2n ** 70n]);
  }
  assert.throws(() => new Decoder({ windowSize: 0 }), RangeError);
  assert.throws(() => new Decoder({ maxDepth: -1 }), RangeError);
  assert.throws(() => new Decoder({ maxNodes: 0 }), RangeError);
  assert.throws(() => new Decoder({ maxIntDigits: 1.5 }), RangeError);
  assert.throws(
    () => new Decoder({ encoding: "koi8-r" as "bytes" }),
    RangeError,
  );
});

Deno.test("decode: bytes after STOP are ignored, like CPython", () => {
  assert.equal(decode(encoder.encode("N.garbage")), null);
});

Deno.test("decode: malformed input throws UnpicklingError, never a RuntimeError", async () => {
  const cases = await pythonCases(`
emit("v", {"a": [1, 2.5, "x" * 40, b"y" * 300, (None, True)], "b": 2**70}, protocols=[0, 2, 4])
`);
  for (const { data, protocol } of cases) {
    for (let cut = 0; cut < data.length; cut++) {
      const error = thrown(() => decode(data.subarray(0, cut)));
      assert.ok(
        error instanceof UnpicklingError,
        `protocol ${protocol} cut at ${cut}: ${error}`,
      );
      assert.ok(error instanceof PickleError);
      assert.ok(
        error.offset >= -1 && error.offset <= cut,
        `offset ${error.offset}`,
      );
    }
  }
  for (
    const bad of [
      "",
      "a",
      "e",
      "u",
      "(t",
      "]q\x00h\x05.",
      "\xff.",
      "I12x\n.",
      "S'abc\n.",
    ]
  ) {
    const data = Uint8Array.from(bad, (c) => c.charCodeAt(0));
    const error = thrown(() => decode(data));
    assert.ok(
      error instanceof UnpicklingError,
      `${JSON.stringify(bad)}: ${error}`,
    );
    assert.match(error.message, /byte/);
  }
  const underflow = thrown(() =>
    decode(new Uint8Array([0x61])) as UnpicklingError
  ) as UnpicklingError;
  assert.equal(underflow.offset, 0);
  assert.equal(underflow.opcode, "APPEND");
  assert.throws(() => decode("N." as unknown as Uint8Array), TypeError);
});

Deno.test("decode: limits on depth, int digits and expanded size", async () => {
  const [nested, digits, bomb, long4] = await pythonCases(`
deep = []
for _ in range(200):
    deep = [deep]
emit("nested", deep, protocols=[4])
sys.set_int_max_str_digits(0)
emit("digits", 10**5000, protocols=[0])
node = []
for _ in range(40):
    node = [node, node]
emit("bomb", node, protocols=[4])
emit("long4", -(1 << (8 * 1024 * 1024 - 9)) + 12345, protocols=[4])
`);
  assert.throws(() => decode(nested.data, { maxDepth: 50 }), UnpicklingError);
  let deepest = decode(nested.data) as unknown[];
  for (let i = 0; i < 200; i++) deepest = deepest[0] as unknown[];
  assert.deepEqual(deepest, []);

  assert.throws(() => decode(digits.data), UnpicklingError);
  assert.equal(
    decode(digits.data, { maxIntDigits: Infinity }),
    10n ** 5000n,
  );

  assert.throws(() => decode(bomb.data), UnpicklingError);
  const shared = decode(bomb.data, { maxNodes: Infinity }) as unknown[];
  assert.equal(shared[0], shared[1]);
  assert.ok(
    valueTree(shared).length < 10_000,
    "the printer expands nothing",
  );

  const start = performance.now();
  const huge = decode(long4.data) as bigint;
  assert.ok(performance.now() - start < 2000, "a 1 MiB LONG4 is linear");
  assert.equal(huge, -(1n << BigInt(8 * 1024 * 1024 - 9)) + 12345n);
});

Deno.test("demo: the bundled pickle decodes to what Python says it holds", async () => {
  const data = await Deno.readFile(
    new URL("./fixtures/demo.pkl", import.meta.url),
  );
  const facts = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/demo.json", import.meta.url)),
  );
  const value = decode(data, { exact: true }) as Map<string, unknown>;
  assert.deepEqual([...value.keys()], facts.keys);
  assert.equal(String(value.get("run_id")), facts.run_id);
  assert.equal(value.get("seed"), BigInt(facts.seed));
  assert.equal(value.get("params"), value.get("params_again"));
  const text = valueTree(value);
  assert.match(text, /'created_at': datetime 2025-01-20T13:23:30\.123456\n/);
  assert.match(
    text,
    /experiments\.models\.RandomForestSummary object \(not executed; made by newobj\)/,
  );
  assert.match(text, /'params': dict \(3 items\) &1\n/);
  assert.match(text, /'params_again': \*1 \(shown above\)/);
});

/**
 * A module with the codec's exports whose `lsa_decoder_step` traps (`unreachable`): one page of
 * memory; `lsa_alloc` returns 64, `lsa_decoder_new` 8, `lsa_decoder_result` 0, the frees nothing.
 */
const TRAPPING_MODULE = base64Bytes(
  "AGFzbQEAAAABIQVgAX8Bf2ACf38AYAZ8f39/f3wBf2AEf39/fAF/YAF/AAMHBgABAgMABAUD" +
    "AQABB24HBm1lbW9yeQIACWxzYV9hbGxvYwAACGxzYV9mcmVlAAEPbHNhX2RlY29kZXJfbmV3" +
    "AAIQbHNhX2RlY29kZXJfc3RlcAADEmxzYV9kZWNvZGVyX3Jlc3VsdAAEEGxzYV9kZWNvZGVy" +
    "X2ZyZWUABQodBgUAQcAACwMAAQsEAEEICwMAAAsEAEEACwMAAQs=",
);

Deno.test("decode: a trap in the codec is an UnpicklingError; initWasm swaps the module", async () => {
  const none = new Uint8Array([0x4e, 0x2e]);
  initWasm(new WebAssembly.Module(TRAPPING_MODULE));
  try {
    for (let i = 0; i < 2; i++) {
      const error = thrown(() => decode(none)) as UnpicklingError;
      assert.ok(error instanceof UnpicklingError, String(error));
      assert.ok(error.cause instanceof WebAssembly.RuntimeError);
      assert.equal(error.offset, 0);
    }
  } finally {
    initWasm(new WebAssembly.Module(base64Bytes(wasmBase64)));
  }
  assert.equal(decode(none), null);
  await initWasmAsync(base64Bytes(wasmBase64));
  assert.equal(decode(none), null);
  await initWasmAsync();
  assert.equal(decode(none), null);
  assert.throws(() => initWasm({} as WebAssembly.Module), TypeError);
});

Deno.test("decode: the lookup-table base64 decoder agrees with the native one", () => {
  assert.deepEqual(base64TableBytes(wasmBase64), base64Bytes(wasmBase64));
  for (const text of ["", "YQ==", "YWI=", "YWJj", "YWJjZA"]) {
    assert.deepEqual(
      base64TableBytes(text),
      Uint8Array.from(
        atob(text.padEnd(Math.ceil(text.length / 4) * 4, "=")),
        (c) => c.charCodeAt(0),
      ),
    );
  }
  assert.throws(() => base64TableBytes("ab$d"), SyntaxError);
});

Deno.test("decode: without Uint8Array.fromBase64, base64 goes through Node's Buffer", () => {
  const native = Object.getOwnPropertyDescriptor(Uint8Array, "fromBase64")!;
  delete (Uint8Array as { fromBase64?: unknown }).fromBase64;
  (globalThis as { Buffer?: unknown }).Buffer = Buffer;
  try {
    const bytes = base64Bytes(wasmBase64);
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
    assert.deepEqual(bytes, base64TableBytes(wasmBase64));
    assert.deepEqual(base64Bytes("YWI="), new Uint8Array([97, 98]));
    assert.throws(() => base64Bytes("ab$d"), SyntaxError);
  } finally {
    Object.defineProperty(Uint8Array, "fromBase64", native);
    delete (globalThis as { Buffer?: unknown }).Buffer;
  }
});

Deno.test("decode: persistentLoad may decode again (re-entrant), even when memory grows", async () => {
  const [outer] = await pythonCases(`
import io
class P(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.name if type(obj).__name__ == "Ref" else None
class Ref:
    def __init__(self, name):
        self.name = name
f = io.BytesIO()
P(f, protocol=4).dump([Ref("inner"), "after", 2.5, [Ref("inner"), 2**70]])
emit("outer", None, protocols=[4], raw=f.getvalue())
`);
  const [inner] = await pythonCases(
    `emit("inner", ["x" * 100 for _ in range(20000)], protocols=[4])`,
  );
  let grew = false;
  const value = decode(outer.data, {
    persistentLoad: () => {
      const before = codecExports().memory.buffer.byteLength;
      const length = (decode(inner.data, { windowSize: 1 << 24 }) as string[])
        .length;
      grew ||= codecExports().memory.buffer.byteLength > before;
      return length;
    },
  });
  assert.deepEqual(value, [20000, "after", 2.5, [20000, 2n ** 70n]]);
  assert.ok(grew, "the nested decode grew the memory under the outer one");
});

Deno.test("decode: batches of ints, floats and references, whole or cut by windows, protocols 0-5", async () => {
  const cases = await pythonCases(`
shared = [7]
value = [list(range(-5, 2500)), [i / 8 for i in range(2500)], [1.5, 2, 2.5, 3] * 300,
         [[i, i + 0.5] for i in range(50)], [2**40, 1, 2, 3, 2.0], [shared] * 2100,
         ["a"] + list(range(1500))]
# Lists whose batches something else interrupts: a nested list, a reducer reading the list.
import array
nested = list(range(1200))
nested.insert(1000, [i / 2 for i in range(1500)])
value += [nested, array.array("d", [i / 4 for i in range(2500)]), array.array("q", range(2500))]
emit("batches", value, expect=[[repr(x) for x in xs] for xs in value[:3]])
`);
  for (const { data, expect, protocol } of cases) {
    for (const exact of [false, true]) {
      for (const windowSize of [1 << 20, 333]) {
        const where =
          `protocol ${protocol} exact ${exact} window ${windowSize}`;
        const [
          ints,
          floats,
          mixed,
          pairs,
          tail,
          refs,
          strFirst,
          nested,
          doubles,
          longs,
        ] = decode(data, { exact, windowSize }) as unknown[][];
        const [intText, floatText, mixedText] = expect as string[][];
        assert.deepEqual(
          ints,
          intText.map((x) => exact ? BigInt(x) : Number(x)),
          where,
        );
        assert.deepEqual(floats, floatText.map(Number), where);
        assert.deepEqual(
          mixed,
          mixedText.map((x) =>
            exact && !x.includes(".") ? BigInt(x) : Number(x)
          ),
          where,
        );
        assert.deepEqual(pairs[49], [exact ? 49n : 49, 49.5], where);
        assert.deepEqual(
          tail,
          exact ? [2n ** 40n, 1n, 2n, 3n, 2] : [2 ** 40, 1, 2, 3, 2],
          where,
        );
        assert.equal(refs.length, 2100, where);
        assert.ok(refs.every((ref) => ref === refs[0]), where);
        assert.deepEqual(refs[0], [exact ? 7n : 7], where);
        assert.equal(strFirst.length, 1501, where);
        assert.deepEqual(
          strFirst.slice(0, 3),
          ["a", exact ? 0n : 0, exact ? 1n : 1],
          where,
        );
        assert.equal(strFirst[1500], exact ? 1499n : 1499, where);
        const int = (n: number) => exact ? BigInt(n) : n;
        assert.equal(nested.length, 1201, where);
        assert.deepEqual(nested.slice(998, 1000), [int(998), int(999)], where);
        assert.deepEqual(
          nested.slice(1001, 1003),
          [int(1000), int(1001)],
          where,
        );
        assert.equal(nested[1200], int(1199), where);
        const inner = nested[1000] as number[];
        assert.equal(inner.length, 1500, where);
        assert.deepEqual([inner[0], inner[1499]], [0, 749.5], where);
        for (
          const [array, typecode, last] of [[doubles, "d", 624.75], [
            longs,
            "q",
            2499,
          ]] as const
        ) {
          assert.ok(array instanceof PyArray, where);
          assert.equal(array.typecode, typecode, where);
          assert.equal(array.data.length, 2500, where);
          assert.equal(Number(array.data[2499]), last, where);
        }
      }
    }
  }
});

Deno.test("demo: tests/python/make_fixtures.py reproduces the committed fixtures", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script =
      new URL("./python/make_fixtures.py", import.meta.url).pathname;
    await runPython(
      `import runpy, sys; sys.argv = ["make_fixtures.py", ${
        JSON.stringify(dir)
      }]; runpy.run_path(${JSON.stringify(script)}, run_name="__main__")`,
    );
    for (const name of ["demo.pkl", "demo.json"]) {
      assert.deepEqual(
        await Deno.readFile(`${dir}/${name}`),
        await Deno.readFile(new URL(`./fixtures/${name}`, import.meta.url)),
        name,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decode: a pickle inside a larger buffer (byteOffset) gives the right views", async () => {
  const [p5] = await pythonCases(
    `emit("views", [b"abc" * 100, bytearray(b"xyz" * 100)], protocols=[5])`,
  );
  const buffer = new Uint8Array(p5.data.length + 7);
  buffer.set(p5.data, 3);
  const [bytes, bytearray] = decode(
    buffer.subarray(3, 3 + p5.data.length),
  ) as Uint8Array[];
  assert.equal(new TextDecoder().decode(bytes), "abc".repeat(100));
  assert.ok(bytearray instanceof ByteArray);
  assert.equal(new TextDecoder().decode(bytearray), "xyz".repeat(100));
  assert.equal(bytes.buffer, buffer.buffer);
  assert.equal(bytearray.buffer, buffer.buffer);
});
