/**
 * The native reducers against CPython: the stdlib and numpy types at every protocol they pickle
 * at, numpy 1 and 2, and the inert records of everything else.
 */

import assert from "node:assert/strict";
import {
  ByteArray,
  Complex,
  Decimal,
  decode,
  DefaultDict,
  Deque,
  DType,
  encode,
  NdArray,
  NumpyScalar,
  OrderedDict,
  PyArray,
  PyDate,
  PyDateTime,
  PyGlobal,
  PyObject,
  PyTime,
  PyTimeDelta,
  PyTimeZone,
  Tuple,
  UnpicklingError,
  UUID,
} from "../codec/mod.ts";
import { compatTables } from "../codec/_compat_pickle.ts";
import { hex, pythonCases } from "./_cases.ts";
import { type PythonEnv, pythonJson } from "./_python.ts";

Deno.test("reducers: datetime, date, time, timedelta, timezone at protocols 0-5", async () => {
  const cases = await pythonCases(`
from datetime import datetime, date, time, timedelta, timezone
utc = timezone.utc
plus = timezone(timedelta(hours=5, minutes=30), "IST")
values = [
    datetime(2025, 1, 20, 13, 23, 30, 123456),
    datetime(1, 1, 1),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=utc),
    datetime(2021, 11, 7, 1, 30, fold=1, tzinfo=plus),
    date(2024, 2, 29),
    time(23, 59, 1, 5, tzinfo=utc, fold=1),
    time(0, 0),
    timedelta(days=-1, seconds=5, microseconds=7),
    timedelta(days=999999999, seconds=86399, microseconds=999999),
    plus,
]
def fields(v):
    if isinstance(v, datetime):
        return ["datetime", v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond,
                fields(v.tzinfo), v.fold]
    if isinstance(v, date):
        return ["date", v.year, v.month, v.day]
    if isinstance(v, time):
        return ["time", v.hour, v.minute, v.second, v.microsecond, fields(v.tzinfo), v.fold]
    if isinstance(v, timedelta):
        return ["timedelta", v.days, v.seconds, v.microseconds]
    if isinstance(v, timezone):
        off = v.utcoffset(None)
        return ["timezone", off.days, off.seconds, off.microseconds,
                None if v is utc else v.tzname(None)]
    return None
emit("datetime", values, expect=lambda loaded: [fields(v) for v in loaded])
`);
  const fields = (value: unknown): unknown => {
    if (value === null) return null;
    if (value instanceof PyDateTime) {
      return [
        "datetime",
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        fields(value.tzinfo),
        value.fold,
      ];
    }
    if (value instanceof PyDate) {
      return ["date", value.year, value.month, value.day];
    }
    if (value instanceof PyTime) {
      return [
        "time",
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        fields(value.tzinfo),
        value.fold,
      ];
    }
    if (value instanceof PyTimeDelta) {
      return ["timedelta", value.days, value.seconds, value.microseconds];
    }
    if (value instanceof PyTimeZone) {
      return [
        "timezone",
        value.offset.days,
        value.offset.seconds,
        value.offset.microseconds,
        value.name,
      ];
    }
    return `unexpected ${String(value)}`;
  };
  assert.equal(cases.length, 6);
  for (const { data, expect, protocol } of cases) {
    for (const exact of [false, true]) {
      const value = decode(data, { exact }) as unknown[];
      assert.deepEqual(value.map(fields), expect, `protocol ${protocol}`);
    }
  }
  const naive = decode(cases[4].data) as PyDateTime[];
  assert.equal(
    naive[0].toDate().toISOString(),
    "2025-01-20T13:23:30.123Z",
  );
  assert.equal(
    naive[3].toDate().toISOString(),
    "2021-11-06T20:00:00.000Z",
  );
});

Deno.test("reducers: Python 2 datetime and numpy state as latin-1 str", async () => {
  const cases = await pythonCases(`
import numpy as np
state = bytes([7, 233, 1, 20, 13, 23, 30, 1, 226, 64])
dt = b"\\x80\\x02cdatetime\\ndatetime\\nU\\n" + state + b"\\x85R."
arr = np.array([1.5, -2.0])
nd = (b"\\x80\\x02cnumpy.core.multiarray\\n_reconstruct\\ncnumpy\\nndarray\\nK\\x00\\x85U\\x01b\\x87R"
      b"(K\\x01K\\x02\\x85cnumpy\\ndtype\\nU\\x02f8K\\x00K\\x01\\x87R(K\\x03U\\x01<NNNJ\\xff\\xff\\xff"
      b"\\xffJ\\xff\\xff\\xff\\xffK\\x00tb\\x89U\\x10" + arr.tobytes() + b"tb.")
assert pickle.loads(dt, encoding="latin1").microsecond == 123456
assert (pickle.loads(nd, encoding="latin1") == arr).all()
emit("dt", None, protocols=[2], raw=dt)
emit("nd", None, protocols=[2], raw=nd)
`);
  for (const encoding of ["latin1", "bytes"] as const) {
    const dt = decode(cases[0].data, { encoding }) as PyDateTime;
    assert.ok(dt instanceof PyDateTime);
    assert.deepEqual(
      [dt.year, dt.month, dt.day, dt.hour, dt.microsecond],
      [2025, 1, 20, 13, 123456],
    );
  }
  const nd = decode(cases[1].data, { encoding: "latin1" }) as NdArray;
  assert.ok(nd instanceof NdArray);
  assert.deepEqual(Array.from(nd.data as Float64Array), [1.5, -2]);
  assert.throws(() => decode(cases[0].data), UnpicklingError);
});

Deno.test("reducers: Decimal, complex, bytearray, set, frozenset at protocols 0-5", async () => {
  const cases = await pythonCases(`
from decimal import Decimal
texts = ["0.4500", "-3.14159", "NaN", "sNaN", "Infinity", "-0", "1E+10", "-Infinity"]
emit("misc", [[Decimal(t) for t in texts], complex(1.5, -2), 3j, bytearray(b"\\x00\\xffab"),
              bytearray(), {1, "a"}, frozenset({2}), set(), frozenset()],
     expect=[str(Decimal(t)) for t in texts])
`);
  for (const { data, expect, protocol } of cases) {
    const [decimals, c1, c2, ba, empty, set, frozen, emptySet, emptyFrozen] =
      decode(data) as unknown[];
    assert.deepEqual(
      (decimals as Decimal[]).map((d) => {
        assert.ok(d instanceof Decimal, `protocol ${protocol}`);
        return d.toString();
      }),
      expect,
    );
    assert.deepEqual(c1, new Complex(1.5, -2));
    assert.deepEqual(c2, new Complex(0, 3));
    assert.ok(ba instanceof ByteArray, `protocol ${protocol}`);
    assert.deepEqual([...ba], [0, 255, 97, 98]);
    assert.ok(empty instanceof ByteArray && empty.length === 0);
    assert.ok(set instanceof Set);
    assert.deepEqual(new Set(set), new Set([1, "a"]));
    assert.equal((frozen as object).constructor.name, "FrozenSet");
    assert.deepEqual([...frozen as Set<number>], [2]);
    assert.equal((emptySet as Set<unknown>).size, 0);
    assert.equal((emptyFrozen as object).constructor.name, "FrozenSet");
  }
});

Deno.test("reducers: OrderedDict, defaultdict, deque, UUID at protocols 0-5", async () => {
  const cases = await pythonCases(`
import collections, uuid
od = collections.OrderedDict([("b", 1), ("a", 2)])
dd = collections.defaultdict(list, {"k": [1]})
dq = collections.deque([1, 2, 3], maxlen=5)
u = uuid.UUID("6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5")
emit("collections", [od, dd, dq, collections.deque(), u, od], expect=u.int.__str__())
`);
  for (const { data, expect, protocol } of cases) {
    const [od, dd, dq, empty, u, od2] = decode(data) as unknown[];
    assert.ok(od instanceof OrderedDict, `protocol ${protocol}`);
    assert.deepEqual([...od], [["b", 1], ["a", 2]]);
    assert.equal(od2, od);
    assert.ok(dd instanceof DefaultDict);
    assert.equal(String(dd.defaultFactory), "builtins.list");
    assert.deepEqual([...dd], [["k", [1]]]);
    assert.ok(dq instanceof Deque);
    assert.deepEqual([...dq], [1, 2, 3]);
    assert.equal(dq.maxlen, 5);
    assert.ok(empty instanceof Deque && empty.maxlen === null);
    assert.ok(u instanceof UUID, `UUID at protocol ${protocol}: ${u}`);
    assert.equal(u.int, BigInt(expect as string));
    assert.equal(String(u), "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5");
  }
});

Deno.test("reducers: array.array of every type code at protocols 0-5", async () => {
  const cases = await pythonCases(`
import array
codes = {"b": [-128, 127], "B": [0, 255], "h": [-32768, 5], "H": [65535], "i": [-2**31, 7],
         "I": [2**32 - 1], "l": [-2**63, 1], "L": [2**64 - 1], "q": [2**63 - 1], "Q": [0],
         "f": [1.5, -0.25], "d": [0.1, 1e300]}
values = [array.array(c, v) for c, v in codes.items()] + [array.array("u", "h\\u00e9\\U0001F600"),
                                                         array.array("d")]
emit("array", values, expect=[[a.typecode, [str(x) for x in a.tolist()]] for a in values[:-2]])
`);
  for (const { data, expect, protocol } of cases) {
    const arrays = decode(data) as PyArray[];
    const wanted = expect as [string, string[]][];
    wanted.forEach(([typecode, items], i) => {
      const array = arrays[i];
      assert.ok(
        array instanceof PyArray,
        `${typecode} at protocol ${protocol}`,
      );
      assert.equal(array.typecode, typecode);
      const data = array.data as ArrayLike<number | bigint>;
      assert.deepEqual(
        Array.from(data, (x) => typeof x === "bigint" ? String(x) : x),
        items.map((x) =>
          "fd".includes(typecode)
            ? Number(x)
            : /[lLqQ]/.test(typecode)
            ? x
            : Number(x)
        ),
      );
    });
    const unicode = arrays[wanted.length];
    assert.equal(unicode.typecode, "u");
    assert.equal(unicode.data, "h\u00e9\u{1F600}");
    assert.equal((arrays[wanted.length + 1].data as Float64Array).length, 0);
  }
});

const NUMPY_ARRAYS = `
import numpy as np
def expect(a):
    order = "F" if (a.flags.f_contiguous and not a.flags.c_contiguous) else "C"
    if a.dtype.kind == "O":
        data = ["null" if x is None else str(x) for x in a.ravel(order=order)]
    elif a.dtype.kind in "biufcmM" and a.dtype.itemsize > 1:
        data = a.astype(a.dtype.newbyteorder("<")).tobytes(order=order).hex()
    else:
        data = a.tobytes(order=order).hex()
    spec = "O8" if a.dtype.kind == "O" else a.dtype.str[1:3] if a.dtype.kind in "mM" else a.dtype.str[1:]
    return {"str": spec,
            "byteorder": a.dtype.byteorder, "itemsize": a.dtype.itemsize,
            "name": a.dtype.name, "shape": list(a.shape), "order": order, "data": data}
arrays = []
for dt in ["?", "i1", "u1", "<i2", ">i2", "<u2", ">u4", "<i4", ">i8", "<u8", "<f2", ">f4",
           "<f8", ">f8", "<c8", ">c16", "<M8[D]", ">m8[s]", "U3", "S4"]:
    base = np.arange(1, 7).astype(dt) if dt[-1] not in "3" else np.array(list("abcdef"), dt)
    arrays.append(base)
    arrays.append(base.reshape(2, 3))
    arrays.append(np.asfortranarray(base.reshape(2, 3)))
arrays.append(np.array(3.25))
arrays.append(np.zeros((0,), "f8"))
arrays.append(np.zeros((2, 0), ">i4"))
arrays.append(np.array([(1, 2.5), (3, -1.0)], dtype=[("a", "<i4"), ("b", ">f8")]))
arrays.append(np.arange(12.0).reshape(3, 4)[:, ::2])
arrays.append(np.array([1, "x", None], dtype=object))
arrays.append(np.asfortranarray(np.array([[1, "a", 3], ["b", 5, "c"]], dtype=object)))
emit("arrays", arrays, protocols=PROTOCOLS, expect=[expect(a) for a in arrays])
oob = [a for a in arrays if a.dtype.kind != "O" and (a.flags.c_contiguous or a.flags.f_contiguous)]
emit("oob", oob, protocols=[5], oob=True, expect=[expect(a) for a in oob])
`;

function checkArrays(
  value: unknown,
  expect: Record<string, unknown>[],
  label: string,
) {
  const arrays = value as NdArray[];
  assert.equal(arrays.length, expect.length);
  arrays.forEach((array, i) => {
    const wanted = expect[i];
    const where = `${label} #${i} ${wanted.name} ${wanted.shape}`;
    assert.ok(array instanceof NdArray, where);
    assert.ok(array.dtype instanceof DType, where);
    assert.equal(array.dtype.str, wanted.str, where);
    assert.equal(array.dtype.itemsize, wanted.itemsize, where);
    assert.equal(array.dtype.name, wanted.name, where);
    if (wanted.byteorder !== "=") {
      assert.equal(array.dtype.byteorder, wanted.byteorder, where);
    }
    assert.deepEqual(array.shape, wanted.shape, where);
    assert.equal(array.order, wanted.order, where);
    if (Array.isArray(array.data)) {
      assert.deepEqual(array.data.map(String), wanted.data, where);
    } else {
      assert.equal(hex(array.data), wanted.data, where);
    }
  });
}

for (const env of ["default", "numpy1"] as PythonEnv[]) {
  Deno.test(`reducers: numpy arrays of every dtype, order and byte order (${env})`, async () => {
    const cases = await pythonCases(
      NUMPY_ARRAYS.replace("PROTOCOLS", "[0, 1, 2, 3, 4, 5]"),
      env,
    );
    for (const { name, data, expect, protocol, buffers } of cases) {
      const value = decode(data, { buffers });
      checkArrays(
        value,
        expect as Record<string, unknown>[],
        `${env} ${name} protocol ${protocol}`,
      );
    }
    const oob = cases.find((c) => c.name === "oob")!;
    const arrays = decode(oob.data, { buffers: oob.buffers }) as NdArray[];
    const f8 = arrays.find((a) =>
      a.dtype.str === "f8" && a.dtype.byteorder === "<" && a.shape.length === 1
    )!;
    assert.ok(f8.data instanceof Float64Array);
    assert.ok(
      oob.buffers.some((b) => b.buffer === (f8.data as Float64Array).buffer),
      "aligned little-endian out-of-band data is not copied",
    );
  });
}

Deno.test("reducers: numpy scalars and dtypes (numpy 1 and 2)", async () => {
  for (const env of ["default", "numpy1"] as PythonEnv[]) {
    const cases = await pythonCases(
      `
import numpy as np
values = [np.float64(1.5), np.float32(-0.25), np.float16(0.5), np.int8(-3), np.uint16(65535),
          np.int32(-7), np.int64(-2**63), np.uint64(2**64 - 1), np.bool_(True), np.bool_(False),
          np.complex128(1 - 2j), np.datetime64("2020-01-01"), np.dtype(">i4"),
          np.dtype([("x", "<i2"), ("y", "S3")]), np.dtype("M8[ms]")]
emit("scalars", values, protocols=[0, 2, 4, 5])
`,
      env,
    );
    for (const { data, protocol } of cases) {
      const where = `${env} protocol ${protocol}`;
      const values = decode(data) as unknown[];
      const scalars = values.slice(0, 12) as NumpyScalar[];
      for (const scalar of scalars) {
        assert.ok(scalar instanceof NumpyScalar, where);
      }
      assert.deepEqual(scalars.map((s) => s.dtype.name), [
        "float64",
        "float32",
        "float16",
        "int8",
        "uint16",
        "int32",
        "int64",
        "uint64",
        "bool",
        "bool",
        "complex128",
        "datetime64[D]",
      ]);
      assert.deepEqual(scalars.slice(0, 11).map((s) => s.value), [
        1.5,
        -0.25,
        0.5,
        -3,
        65535,
        -7,
        -(2n ** 63n),
        2n ** 64n - 1n,
        true,
        false,
        new Complex(1, -2),
      ]);
      assert.equal(scalars[11].value, 18262n);
      const [i4, structured, ms] = values.slice(12) as DType[];
      assert.equal(i4.byteorder, ">");
      assert.equal(i4.str, "i4");
      assert.deepEqual(structured.names, ["x", "y"]);
      assert.equal(structured.itemsize, 5);
      assert.ok(structured.fields instanceof Map);
      assert.equal(ms.name, "datetime64[ms]");
      const [unit, count] = ms.metadata as Tuple;
      assert.equal(new TextDecoder().decode(unit as Uint8Array), "ms");
      assert.equal(count, 1);
    }
  }
});

Deno.test("reducers: unknown classes and calls stay inert records", async () => {
  const cases = await pythonCases(`
import sys, types, os
mod = types.ModuleType("experiments.models")
sys.modules["experiments"] = types.ModuleType("experiments")
sys.modules["experiments.models"] = mod
class Model:
    def __init__(self):
        self.weights = [1, 2]
class Items(list):
    pass
class Table(dict):
    pass
Model.__module__ = Items.__module__ = Table.__module__ = "experiments.models"
Model.__qualname__, Items.__qualname__, Table.__qualname__ = "Model", "Items", "Table"
mod.Model, mod.Items, mod.Table = Model, Items, Table
m = Model()
items = Items([1, 2])
table = Table(a=1)
emit("objects", [m, m, items, table, ValueError("boom")])
`);
  for (const { data, protocol } of cases) {
    const where = `protocol ${protocol}`;
    const [m, m2, items, table, error] = decode(data) as PyObject[];
    assert.ok(m instanceof PyObject, where);
    assert.equal(m, m2);
    assert.ok(m.cls instanceof PyGlobal);
    assert.equal(String(m.cls), "experiments.models.Model");
    assert.equal(m.kind, "newobj", where);
    assert.deepEqual(m.state, new Map([["weights", [1, 2]]]));
    assert.ok(items instanceof PyObject);
    assert.ok(table instanceof PyObject);
    if (protocol >= 2) {
      assert.equal(String(items.cls), "experiments.models.Items");
      assert.deepEqual(items.listItems, [1, 2]);
      assert.deepEqual([...table.dictItems], [["a", 1]]);
    } else {
      // copyreg._reconstructor(cls, list, [1, 2]) is a call of list's constructor: kept as is.
      assert.equal(String(items.cls), "copyreg._reconstructor");
      assert.equal(String(items.args[0]), "experiments.models.Items");
      assert.deepEqual(items.args[2], [1, 2]);
    }
    assert.ok(error instanceof PyObject);
    assert.equal(error.kind, "reduce");
    assert.equal(String(error.cls), "builtins.ValueError");
    assert.deepEqual([...error.args], ["boom"]);
  }
});

Deno.test("reducers: dangerous globals are never looked up", () => {
  const data = new TextEncoder().encode(
    "cos\nsystem\n(S'echo pwned'\ntR.",
  );
  const record = decode(data) as PyObject;
  assert.ok(record instanceof PyObject);
  assert.equal(String(record.cls), "os.system");
  assert.deepEqual([...record.args], ["echo pwned"]);
  const twice = decode(
    new TextEncoder().encode("(cbuiltins\neval\ncbuiltins\neval\nl."),
  ) as PyGlobal[];
  assert.equal(twice[0], twice[1], "globals are interned per decode");
});

Deno.test("reducers: arguments a reducer does not understand give a record", () => {
  const odd = new TextEncoder().encode(
    "(cdatetime\ndatetime\n(S'not a state'\ntRcdecimal\nDecimal\n(S'1.2.3'\ntRl.",
  );
  const [datetime, decimal] = decode(odd) as PyObject[];
  assert.ok(datetime instanceof PyObject);
  assert.equal(String(datetime.cls), "datetime.datetime");
  assert.ok(decimal instanceof PyObject);
  assert.deepEqual([...decimal.args], ["1.2.3"]);
});

Deno.test("reducers: the Python 2 name tables are CPython's", async () => {
  const python = await pythonJson<Record<string, [unknown, unknown][]>>(`
import _compat_pickle as c, json
print(json.dumps({name: [[list(k) if isinstance(k, tuple) else k,
                          list(v) if isinstance(v, tuple) else v]
                         for k, v in getattr(c, name).items()]
                  for name in ["IMPORT_MAPPING", "NAME_MAPPING", "REVERSE_IMPORT_MAPPING",
                               "REVERSE_NAME_MAPPING"]}))
`);
  const names = (map: ReadonlyMap<string, readonly [string, string]>) =>
    [...map].map(([k, v]) => [k.split("\n"), [...v]]);
  const tables = compatTables();
  assert.deepEqual([...tables.importMapping], python.IMPORT_MAPPING);
  assert.deepEqual(
    [...tables.reverseImportMapping],
    python.REVERSE_IMPORT_MAPPING,
  );
  assert.deepEqual(names(tables.nameMapping), python.NAME_MAPPING);
  assert.deepEqual(
    names(tables.reverseNameMapping),
    python.REVERSE_NAME_MAPPING,
  );
});

Deno.test("reducers: state that a made object cannot take is an UnpicklingError", () => {
  const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
  const uuid = decode(
    bytes("\x80\x02cuuid\nUUID\n)\x81}U\x03intK\x05sb."),
  ) as UUID;
  assert.ok(uuid instanceof UUID);
  assert.equal(uuid.int, 5n);
  for (
    const bad of [
      "\x80\x02cuuid\nUUID\n)\x81.", // never built
      "\x80\x02cuuid\nUUID\n)\x81}U\x03intJ\xff\xff\xff\xffsb.", // negative int
      "\x80\x02ccollections\nOrderedDict\n)R}U\x01aK\x01sb.", // BUILD on a dict type
      "\x80\x02c__builtin__\ntuple\n)R(K\x01e.", // APPENDS on a tuple
      "\x80\x02c__builtin__\nfrozenset\n)R(K\x01\x90.", // ADDITEMS on a frozenset
    ]
  ) {
    assert.throws(
      () => decode(bytes(bad)),
      UnpicklingError,
      JSON.stringify(bad),
    );
  }
  const deque = decode(
    bytes("\x80\x02ccollections\ndeque\n)K\x02\x86R(K\x01K\x02K\x03e."),
  ) as Deque;
  assert.deepEqual([...deque], [2, 3], "a bounded deque keeps its last items");
});

for (const env of ["default", "numpy1"] as PythonEnv[]) {
  Deno.test(`reducers: a pandas DataFrame is records around numpy blocks (${env})`, async () => {
    const cases = await pythonCases(
      `
import pandas as pd
df = pd.DataFrame({"a": [1, 2, 3], "b": [1.5, 2.5, None], "c": ["x", "y", "z"]})
emit("df", df, protocols=[2, 3, 4, 5])
emit("df_oob", df, protocols=[5], oob=True)
`,
      env,
    );
    for (const { data, buffers, protocol, name } of cases) {
      const where = `${env} ${name} protocol ${protocol}`;
      const frame = decode(data, { buffers }) as PyObject;
      assert.ok(frame instanceof PyObject, where);
      assert.equal(String(frame.cls), "pandas.core.frame.DataFrame");
      const manager = (frame.state as Map<string, PyObject>).get("_mgr")!;
      assert.ok(manager instanceof PyObject, where);
      const blocks = (manager.args[0] as PyObject[]).map((block) =>
        block.args[0] as NdArray
      );
      const byKind = new Map(blocks.map((b) => [b.dtype.name, b]));
      assert.deepEqual(
        Array.from(byKind.get("int64")!.data as BigInt64Array),
        [1n, 2n, 3n],
        where,
      );
      assert.deepEqual(
        Array.from(byKind.get("float64")!.data as Float64Array),
        [1.5, 2.5, NaN],
      );
      assert.deepEqual(byKind.get("object")!.data, ["x", "y", "z"]);
    }
  });
}

Deno.test("reducers: builtins.tuple and builtins.list of a 200000-item list", async () => {
  const [list] = await pythonCases(
    `emit("list", list(range(200000)), protocols=[2])`,
  );
  for (const name of ["tuple", "list"]) {
    const head = Uint8Array.from(
      `\x80\x02c__builtin__\n${name}\n`,
      (c) => c.charCodeAt(0),
    );
    const body = list.data.subarray(2, list.data.length - 1);
    const data = new Uint8Array([...head, ...body, 0x85, 0x52, 0x2e]);
    const value = decode(data) as unknown[];
    assert.equal(value instanceof Tuple, name === "tuple");
    assert.equal(value.length, 200000);
    assert.equal(value[199999], 199999);
  }
});

Deno.test("reducers: int(str) follows maxIntDigits; a type code is looked up as a key only", () => {
  const text = (s: string) => [...new TextEncoder().encode(s)];
  const str = (s: string) => [
    0x58,
    ...new Uint8Array(new Uint32Array([s.length]).buffer),
    ...text(s),
  ];
  // int(digits), protocol 2: GLOBAL __builtin__.int, MARK, BINUNICODE, TUPLE, REDUCE, STOP
  const intOf = (digits: string) =>
    new Uint8Array([
      0x80,
      2,
      ...text("c__builtin__\nint\n("),
      ...str(digits),
      ...text("tR."),
    ]);
  assert.equal(decode(intOf("-12_345")), -12345);
  assert.ok(decode(intOf("12345"), { maxIntDigits: 4 }) instanceof PyObject);
  const long = "7".repeat(5000);
  assert.ok(decode(intOf(long)) instanceof PyObject);
  assert.equal(decode(intOf(long), { maxIntDigits: Infinity }), BigInt(long));

  // array._array_reconstructor(array.array, typecode, 0, b""), protocol 3
  const reconstructed = (typecode: string) =>
    decode(
      new Uint8Array([
        0x80,
        3,
        ...text("carray\n_array_reconstructor\n(carray\narray\n"),
        ...str(typecode),
        ...text("K\x00C\x00tR."),
      ]),
    );
  assert.ok(reconstructed("d") instanceof PyArray);
  assert.ok(reconstructed("toString") instanceof PyObject);
});

Deno.test("reducers: a Fortran-ordered object array keeps its memory order and pickles back as numpy does", async () => {
  const cases = await pythonCases(`
import numpy as np
a = np.asfortranarray(np.array([[1, "b", 3], [4, None, 6]], dtype=object))
emit("f_objects", a)
`);
  for (const { data, protocol } of cases) {
    const value = decode(data, { exact: true });
    assert.ok(value instanceof NdArray, `protocol ${protocol}`);
    assert.equal(value.order, "F");
    assert.deepEqual(value.data, [1n, 4n, "b", null, 3n, 6n]);
    assert.deepEqual(
      encode(value, { protocol, exact: true }),
      data,
      `protocol ${protocol}`,
    );
  }
});
