/**
 * The encoder checked by CPython: every value of `_encode_cases.ts`, encoded at each protocol,
 * must load in CPython's `pickle.loads` to the value the Python expression builds (same types
 * all the way down), print the pinned `repr`, and equal `pickle.dumps` of that value byte for
 * byte where the table says CPython's output is deterministic.
 */

import assert from "node:assert/strict";
import { encode } from "../codec/encode.ts";
import { DType, NdArray, NumpyScalar } from "../codec/types.ts";
import { ALL, ENCODE_CASES } from "./_encode_cases.ts";
import { runPython } from "./_python.ts";

const CHECKER = String.raw`
import argparse, array, base64, collections, datetime, decimal, fractions, json, math, pickle
import pickletools, sys, uuid, io
import numpy as np

def depth(x):
    n = 0
    while x:
        x = x[0]
        n += 1
    return n

def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, collections.deque):
        return a.maxlen == b.maxlen and same(list(a), list(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if isinstance(a, collections.defaultdict) and a.default_factory is not b.default_factory:
            return False
        return len(a) == len(b) and all(same(ka, kb) and same(va, vb)
                                        for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if isinstance(a, (set, frozenset)):
        return a == b
    if isinstance(a, np.ndarray):
        # numpy's _reconstruct loads a non-native byte order as native: compare modulo order.
        if a.dtype.newbyteorder("<") != b.dtype.newbyteorder("<") or a.shape != b.shape \
                or a.flags.f_contiguous != b.flags.f_contiguous \
                or a.flags.c_contiguous != b.flags.c_contiguous:
            return False
        return same(a.tolist(), b.tolist())
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, array.array):
        return a.typecode == b.typecode and a.tobytes() == b.tobytes()
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    if isinstance(a, argparse.Namespace):
        return vars(a) == vars(b)
    return a == b and repr(a) == repr(b)

def dis(data):
    out = io.StringIO()
    try:
        pickletools.dis(data, out)
    except Exception as exc:
        out.write("dis failed: %r" % exc)
    return out.getvalue()[:20000]

results = []
for case in json.load(sys.stdin):
    value = eval(case["py"])
    for protocol, encoded in case["pickles"].items():
        ours = base64.b64decode(encoded)
        protocol = int(protocol)
        result = {"name": case["name"], "protocol": protocol}
        try:
            loaded = pickle.loads(ours)
        except Exception as exc:
            result["error"] = "%s: %s" % (type(exc).__name__, exc)
            result["dis"] = dis(ours)
            results.append(result)
            continue
        if case.get("check"):
            result["equal"] = bool(eval(case["check"], globals(),
                                        {"x": loaded, "v": value, "protocol": protocol}))
        else:
            result["equal"] = same(loaded, value)
        if "repr" in case:
            result["repr"] = repr(loaded)
        if case["compare"]:
            theirs = pickle.dumps(value, protocol=protocol, fix_imports=not case["noFixImports"])
            result["identical"] = theirs == ours
            if theirs != ours:
                result["ours"] = dis(ours)
                result["theirs"] = dis(theirs)
        results.append(result)
json.dump(results, sys.stdout)
`;

interface Result {
  name: string;
  protocol: number;
  error?: string;
  dis?: string;
  equal?: boolean;
  repr?: string;
  identical?: boolean;
  ours?: string;
  theirs?: string;
}

const payload = ENCODE_CASES.map((c) => {
  const pickles: Record<string, string> = {};
  for (const protocol of c.protocols ?? ALL) {
    pickles[protocol] = encode(c.js(), {
      protocol,
      exact: c.exact ?? false,
      fixImports: !c.noFixImports,
    }).toBase64();
  }
  return {
    name: c.name,
    py: c.py,
    check: c.check,
    repr: c.repr,
    pickles,
    compare: (c.identical ?? ALL).length > 0,
    noFixImports: c.noFixImports ?? false,
  };
});

const { stdout } = await runPython(CHECKER, [], {
  stdin: new TextEncoder().encode(JSON.stringify(payload)),
});
const results: Result[] = JSON.parse(new TextDecoder().decode(stdout));

for (const testCase of ENCODE_CASES) {
  Deno.test(`encode → pickle.loads: ${testCase.name}`, () => {
    const mine = results.filter((r) => r.name === testCase.name);
    assert.equal(mine.length, (testCase.protocols ?? ALL).length);
    for (const result of mine) {
      const at = `protocol ${result.protocol}`;
      assert.equal(
        result.error,
        undefined,
        `${at}: ${result.error}\n${result.dis}`,
      );
      assert.ok(
        result.equal,
        `${at}: loads to a different value (${result.repr})`,
      );
      if (testCase.repr !== undefined) {
        assert.equal(result.repr, testCase.repr, at);
      }
      const mustMatch = (testCase.identical ?? ALL).includes(result.protocol);
      if (mustMatch) {
        assert.ok(
          result.identical,
          `${at}: not byte-identical to pickle.dumps\nours:\n${result.ours}\ntheirs:\n${result.theirs}`,
        );
      }
    }
  });
}

Deno.test("encode: byte-identity with pickle.dumps (summary)", () => {
  let identicalCount = 0;
  let comparedCount = 0;
  const unexpected: string[] = [];
  for (const result of results) {
    if (result.identical === undefined) continue;
    comparedCount++;
    if (result.identical) {
      identicalCount++;
      continue;
    }
    const testCase = ENCODE_CASES.find((c) => c.name === result.name)!;
    if ((testCase.identical ?? ALL).includes(result.protocol)) {
      unexpected.push(`${result.name} (protocol ${result.protocol})`);
    }
    if (Deno.env.get("ENCODE_SHOW_DIFF")) {
      console.log(
        `${result.name} p${result.protocol}\nours:\n${result.ours}\ntheirs:\n${result.theirs}`,
      );
    }
  }
  console.log(
    `byte-identical to CPython's pickle.dumps: ${identicalCount} of ${comparedCount} (case × protocol)`,
  );
  assert.deepEqual(unexpected, []);
  assert.ok(identicalCount > 250);
});

Deno.test("encode → pickle.loads: out-of-band numpy buffers", async () => {
  const c = new NdArray(
    new DType("f8", "<", 8),
    [2, 3],
    "C",
    new Float64Array([0, 1, 2, 3, 4, 5]),
  );
  const f = new NdArray(
    new DType("i2", ">", 2),
    [2, 3],
    "F",
    new Int16Array([0, 3, 1, 4, 2, 5]),
  );
  f.writeable = false;
  const buffers: Uint8Array[] = [];
  const data = encode([c, f], {
    protocol: 5,
    bufferCallback: (buffer) => {
      buffers.push(buffer.slice());
      return false;
    },
  });
  const { stdout } = await runPython(
    String.raw`
import base64, json, pickle, sys
import numpy as np
given = json.load(sys.stdin)
buffers = [bytearray(base64.b64decode(b)) for b in given["buffers"]]
x = pickle.loads(base64.b64decode(given["data"]), buffers=buffers)
want = [np.arange(6.0).reshape(2, 3), np.asfortranarray(np.arange(6, dtype=">i2").reshape(2, 3))]
want[1].setflags(write=False)
theirs = []
ours_again = pickle.dumps(want, protocol=5, buffer_callback=theirs.append)
print(json.dumps({
    "equal": all(a.dtype == b.dtype and (a == b).all() and a.flags.f_contiguous == b.flags.f_contiguous
                 and a.flags.writeable == b.flags.writeable for a, b in zip(x, want)),
    "identical": ours_again == base64.b64decode(given["data"]),
}))
`,
    [],
    {
      stdin: new TextEncoder().encode(JSON.stringify({
        data: data.toBase64(),
        buffers: buffers.map((buffer) => buffer.toBase64()),
      })),
    },
  );
  const result = JSON.parse(new TextDecoder().decode(stdout));
  assert.deepEqual(result, { equal: true, identical: true });
});

Deno.test("encode: protocol 0 floats are Python's repr() of 3000 random doubles", async () => {
  const view = new DataView(new ArrayBuffer(8));
  const values: number[] = [];
  let seed = 12345;
  while (values.length < 3000) {
    for (let i = 0; i < 8; i += 2) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      view.setUint16(i, seed >>> 16);
    }
    const value = view.getFloat64(0);
    if (!Number.isNaN(value)) values.push(value);
  }
  values.push(0.1, 1e-7, 123456789.125, 1e22, 1e16, 2.5e-308, -0, NaN);
  const data = encode(values, { protocol: 0, exact: true });
  const { stdout } = await runPython(
    String.raw`
import json, pickle, sys
given = sys.stdin.buffer.read()
values = pickle.loads(given)
print(json.dumps(pickle.dumps(values, protocol=0) == given))
`,
    [],
    { stdin: data },
  );
  assert.equal(new TextDecoder().decode(stdout).trim(), "true");
});

Deno.test("encode: numpyModule numpy.core is what numpy 1.26 writes, byte for byte", async () => {
  const f8 = new DType("f8", "<", 8);
  const values = () => [
    new NdArray(f8, [2, 3], "F", new Float64Array([0, 3, 1, 4, 2, 5])),
    new NumpyScalar(f8, 1.5, new Uint8Array(new Float64Array([1.5]).buffer)),
    new NdArray(new DType("O8", "|", 8), [2], "C", [1, null]),
  ];
  const pickles: Record<string, string> = {};
  for (const protocol of [2, 3, 4, 5]) {
    pickles[protocol] = encode(values(), {
      protocol,
      numpyModule: "numpy.core",
    })
      .toBase64();
  }
  const { stdout } = await runPython(
    String.raw`
import base64, json, pickle, sys
import numpy as np
value = [np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.float64(1.5),
         np.array([1, None], dtype=object)]
given = json.load(sys.stdin)
print(json.dumps({p: pickle.dumps(value, protocol=int(p)) == base64.b64decode(data)
                  for p, data in given.items()}))
`,
    [],
    {
      env: "numpy1",
      stdin: new TextEncoder().encode(JSON.stringify(pickles)),
    },
  );
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
    2: true,
    3: true,
    4: true,
    5: true,
  });
});
