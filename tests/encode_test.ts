/**
 * The encoder on its own: exact bytes for small values, errors with paths, options, deep
 * nesting, out-of-band buffers. What CPython makes of the output is `encode_python_test.ts`.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { encode, Encoder } from "../codec/encode.ts";
import { PicklingError } from "../codec/errors.ts";
import {
  ByteArray,
  DType,
  FrozenSet,
  NdArray,
  PyArray,
  PyDate,
  PyDateTime,
  PyGlobal,
  PyObject,
  PyTime,
  Tuple,
} from "../codec/types.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function pathOf(value: unknown, protocol = 4): string {
  try {
    encode(value, { protocol });
  } catch (error) {
    assert.ok(error instanceof PicklingError, String(error));
    return error.path;
  }
  throw new Error("encode did not throw");
}

Deno.test("encode: small values have CPython's exact bytes", () => {
  // pickle.dumps(None, 4), pickle.dumps(300, 4), pickle.dumps([1, 'a'], 2), pickle.dumps(True, 0)
  assert.equal(hex(encode(null)), "80 04 4e 2e");
  assert.equal(
    hex(encode(300)),
    "80 04 95 04 00 00 00 00 00 00 00 4d 2c 01 2e",
  );
  assert.equal(
    hex(encode([1, "a"], { protocol: 2 })),
    "80 02 5d 71 00 28 4b 01 58 01 00 00 00 61 71 01 65 2e",
  );
  assert.equal(hex(encode(true, { protocol: 0 })), "49 30 31 0a 2e");
  assert.equal(hex(encode(1.5, { protocol: 0 })), "46 31 2e 35 0a 2e");
});

Deno.test("encode: a value with no pickle form names its path", () => {
  assert.equal(
    pathOf({ models: [1, 2, { fit: () => 1 }] }),
    "value.models[2].fit",
  );
  assert.equal(pathOf(new Map([["a b", [Symbol("s")]]])), 'value["a b"][0]');
  assert.equal(pathOf(Tuple.of<unknown>(1, new Float32Array(2))), "value[1]");
  assert.equal(pathOf([new (class Model {})()]), "value[0]");
  assert.equal(pathOf({ when: new Date(NaN) }), "value.when");
  const record = new PyObject("reduce", new PyGlobal("m", "f"), Tuple.of(1));
  record.state = { weights: [() => 0] };
  assert.equal(pathOf([record]), "value[0].state.weights[0]");
  for (const protocol of [0, 1, 2, 3, 5]) {
    assert.equal(pathOf({ a: [{ b: () => 0 }] }, protocol), "value.a[0].b");
  }
});

Deno.test("encode: the error message says what and where", () => {
  assert.throws(
    () => encode({ fit: function train() {} }),
    (error: unknown) =>
      error instanceof PicklingError &&
      error.message === "A function (train) has no pickle form at value.fit",
  );
  assert.throws(
    () => encode([new (class Model {})()]),
    /An instance of Model has no pickle form at value\[0\]/,
  );
});

Deno.test("encode: an encoder works again after an error", () => {
  const encoder = new Encoder({ protocol: 2 });
  assert.throws(() => encoder.encode([1, [2, () => 3]]), PicklingError);
  assert.deepEqual(encoder.encode([1, "a"]), encode([1, "a"], { protocol: 2 }));
});

Deno.test("encode: options are checked", () => {
  assert.throws(() => encode(1, { protocol: 6 }), RangeError);
  assert.throws(() => encode(1, { protocol: 1.5 }), RangeError);
  assert.throws(
    () => encode(1, { protocol: 4, bufferCallback: () => false }),
    RangeError,
  );
  assert.throws(
    () => encode(1, { numpyModule: "numpy" as "numpy.core" }),
    RangeError,
  );
});

Deno.test("encode: an Encoder gives the same bytes as encode()", () => {
  const encoder = new Encoder({ protocol: 5 });
  const values = [[1, 2.5, "x"], new Map([[1, Tuple.of(2)]]), "é".repeat(100)];
  for (const value of values) {
    assert.deepEqual(encoder.encode(value), encode(value, { protocol: 5 }));
  }
});

Deno.test("encode: encodeShared returns the encoder's buffer, which the next call reuses", () => {
  const encoder = new Encoder({ protocol: 5 });
  const big = new NdArray(
    new DType("f8", "<", 8),
    [300_000],
    "C",
    new Float64Array(300_000).fill(1.5),
  );
  const values = [[1, 2.5, "x"], big, "é".repeat(100), big, []];
  const kept = values.map((value) => encoder.encode(value));
  let previous: Uint8Array | null = null;
  for (const value of values) {
    const view = encoder.encodeShared(value);
    assert.deepEqual(view, encode(value, { protocol: 5 }));
    if (previous !== null) assert.equal(view.buffer, previous.buffer);
    previous = view;
  }
  // What encode() returned is the caller's, whatever the encoder wrote since.
  values.forEach((value, i) =>
    assert.deepEqual(kept[i], encode(value, { protocol: 5 }))
  );
  // A view of more than the kept maximum (16 MiB) is the caller's too.
  const huge = new Uint8Array(17 * 1024 * 1024).fill(9);
  const hugeView = encoder.encodeShared(huge);
  encoder.encodeShared([1]);
  assert.equal(hugeView[hugeView.length - 3], 9); // then MEMOIZE, STOP
});

Deno.test("encode: a million levels of nesting do not overflow the stack", () => {
  let value: unknown = [];
  for (let i = 0; i < 1_000_000; i++) value = [value];
  const bytes = encode(value, { protocol: 4 });
  // EMPTY_LIST, MEMOIZE per level, APPEND per level but the innermost.
  assert.ok(bytes.length > 3_000_000);
  assert.equal(bytes[bytes.length - 1], 0x2e);
});

Deno.test("encode: a tuple that contains itself with no list between is refused", () => {
  const record = new PyObject("reduce", new PyGlobal("m", "f"), new Tuple());
  record.args.push(record);
  assert.throws(() => encode(record), PicklingError);
});

Deno.test("encode: bufferCallback gets numpy data without a copy and decides in-band", () => {
  const data = new Float64Array([1, 2, 3]);
  const array = new NdArray(new DType("f8", "<", 8), [3], "C", data);
  const seen: Uint8Array[] = [];
  const outOfBand = encode(array, {
    protocol: 5,
    bufferCallback: (buffer) => {
      seen.push(buffer);
      return false;
    },
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].buffer, data.buffer);
  assert.equal(seen[0].byteLength, 24);
  assert.ok(outOfBand.includes(0x97)); // NEXT_BUFFER
  assert.ok(!outOfBand.includes(0x96)); // no BYTEARRAY8
  const inBand = encode(array, { protocol: 5, bufferCallback: () => true });
  assert.deepEqual(inBand, encode(array, { protocol: 5 }));
});

Deno.test("encode: large bytes are written once, outside frames", () => {
  const payload = new Uint8Array(200_000).fill(7);
  const bytes = encode([payload], { protocol: 4 });
  // PROTO, EMPTY_LIST MEMOIZE (too short for a FRAME), BINBYTES outside any frame, then
  // MEMOIZE APPEND STOP (too short for a FRAME again).
  assert.equal(hex(bytes.subarray(0, 9)), "80 04 5d 94 42 40 0d 03 00");
  assert.equal(bytes.length, 9 + payload.length + 3);
  assert.deepEqual(bytes.subarray(9, 9 + payload.length), payload);
});

Deno.test("encode: protocol 2 bytes are their Latin-1 text in UTF-8, at any offset and length", () => {
  const latin1 = (data: Uint8Array) =>
    new TextEncoder().encode(String.fromCharCode(...data));
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 2, maxLength: 300 }),
      fc.nat(7),
      (array, skip) => {
        const data = array.subarray(Math.min(skip, array.length - 2));
        const bytes = encode(data, { protocol: 2 });
        // PROTO 2, GLOBAL '_codecs\nencode\n', BINPUT 0, BINUNICODE n <text>, BINPUT 1, …
        const text = latin1(data);
        assert.equal(bytes[20], 0x58);
        assert.equal(
          new DataView(bytes.buffer).getUint32(21, true),
          text.length,
        );
        assert.deepEqual(bytes.subarray(25, 25 + text.length), text);
        assert.equal(bytes[25 + text.length], 0x71);
      },
    ),
  );
});

Deno.test("encode: dates Python would refuse are refused", () => {
  assert.equal(pathOf({ d: new PyDate(2020, 13, 1) }), "value.d");
  assert.equal(pathOf([new PyTime(24, 0, 0, 0)]), "value[0]");
  assert.equal(
    pathOf(new Map([["t", new PyDateTime(10000, 1, 1)]])),
    "value.t",
  );
});

Deno.test("encode: numpy and array data must fit the declared type", () => {
  const f8 = new DType("f8", "<", 8);
  assert.equal(
    pathOf([new NdArray(f8, [3], "C", new Float64Array(2))]),
    "value[0]",
  );
  assert.equal(
    pathOf({ a: new PyArray("d", new Float32Array(2)) }),
    "value.a",
  );
});

Deno.test("encode: a record's arguments are a tuple even when given as an array", () => {
  const fromArray = new PyObject(
    "reduce",
    new PyGlobal("fractions", "Fraction"),
    [1, 3] as unknown as Tuple,
  );
  const fromTuple = new PyObject(
    "reduce",
    new PyGlobal("fractions", "Fraction"),
    Tuple.of(1, 3),
  );
  assert.deepEqual(encode(fromArray), encode(fromTuple));
});

Deno.test("encode: a name nested beyond 1000 levels is refused below protocol 4", () => {
  const name = Array.from({ length: 1001 }, (_, i) => `a${i}`).join(".");
  assert.throws(
    () => encode(new PyGlobal("m", name), { protocol: 3 }),
    PicklingError,
  );
  assert.ok(
    encode(new PyGlobal("m", name), { protocol: 4 }).length > name.length,
  );
});

/** Follows a `PicklingError` path (`value.a[2]["b c"]`) through arrays, maps and objects. */
function follow(root: unknown, path: string): unknown {
  assert.ok(path.startsWith("value"), path);
  let value = root;
  const token = /\.([A-Za-z_$][\w$]*)|\[(-?\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  token.lastIndex = 5;
  while (token.lastIndex < path.length) {
    const match = token.exec(path);
    assert.ok(match, `cannot follow ${path} at ${token.lastIndex}`);
    const key = match[1] ??
      (match[2] !== undefined ? Number(match[2]) : JSON.parse(match[3]));
    if (value instanceof Map) value = value.get(key);
    else value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

Deno.test("encode: the path of a refused value leads to it (property)", () => {
  const poison = fc.constantFrom<unknown>(
    () => 1,
    Symbol("s"),
    new Float32Array(1),
    new (class Model {})(),
  );
  const key = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.integer({ min: -5, max: 50 }),
  );
  const leaf = fc.oneof(fc.integer(), fc.string(), fc.constant(null));
  const tree = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      leaf,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map((pairs) =>
        new Map(pairs)
      ),
      fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), { maxKeys: 4 }),
    ),
  })).value;
  // Puts the poison at the end of the first container on a random walk.
  const withPoison = fc.tuple(
    tree,
    poison,
    fc.array(fc.nat(), { maxLength: 6 }),
  ).map(
    ([root, bad, walk]) => {
      const holder: unknown[] = [root];
      let parent: unknown = holder;
      for (const step of walk) {
        const children = parent instanceof Map
          ? [...parent.values()]
          : Array.isArray(parent)
          ? parent
          : Object.values(parent as object);
        const next = children.filter((c) =>
          typeof c === "object" && c !== null
        );
        if (next.length === 0) break;
        parent = next[step % next.length];
      }
      if (parent instanceof Map) parent.set("poison", bad);
      else if (Array.isArray(parent)) parent.push(bad);
      else (parent as Record<string, unknown>).poison = bad;
      return { holder, bad };
    },
  );
  fc.assert(
    fc.property(
      withPoison,
      fc.constantFrom(0, 2, 4, 5),
      ({ holder, bad }, protocol) => {
        try {
          encode(holder, { protocol });
        } catch (error) {
          assert.ok(error instanceof PicklingError, String(error));
          assert.equal(follow(holder, error.path), bad, error.path);
          return;
        }
        throw new Error("encode did not refuse the value");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("encode: keys and set items Python cannot hash are refused", () => {
  assert.equal(pathOf(new Map([[[1], "x"]])), "value<key 0>");
  assert.equal(
    pathOf({ a: new Map<unknown, number>([["k", 1], [new Map(), 2]]) }),
    "value.a<key 1>",
  );
  for (const protocol of [2, 4]) {
    assert.throws(() => encode(new Set([1, [2]]), { protocol }), PicklingError);
    assert.throws(
      () => encode(new FrozenSet([new ByteArray(1)]), { protocol }),
      PicklingError,
    );
  }
  assert.doesNotThrow(() =>
    encode(
      new Map<unknown, unknown>([[Tuple.of(1, 2), 1], [new FrozenSet([1]), 2]]),
    )
  );
});
