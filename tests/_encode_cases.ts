/**
 * The table of the encoder's CPython tests: JavaScript values, the Python expression that
 * builds the same value, and (for many) the `repr` CPython must print after `pickle.loads`.
 */

import {
  ByteArray,
  Complex,
  Decimal,
  DefaultDict,
  Deque,
  DType,
  FrozenSet,
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
  UUID,
} from "../codec/types.ts";

/** One value of the table. */
export interface EncodeCase {
  name: string;
  /** Makes the JavaScript value (afresh for each protocol). */
  js: () => unknown;
  /** A Python expression for the same value (modules: see the checker's imports). */
  py: string;
  /** The `repr()` of what `pickle.loads` returns, when the table pins it. */
  repr?: string;
  /** A Python expression over `x` (what loaded) and `v` (the `py` value) that must be true. */
  check?: string;
  /** Protocols at which the bytes must equal `pickle.dumps`; default all. */
  identical?: number[];
  /** Protocols to encode at; default 0–5. */
  protocols?: number[];
  /** Encode with `exact: true`. */
  exact?: boolean;
  /** Encode (and have CPython dump) with `fixImports: false`. */
  noFixImports?: boolean;
}

const ALL = [0, 1, 2, 3, 4, 5];
const NONE: number[] = [];

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function bytesOf(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

const f8 = () => new DType("f8", "<", 8);
const utc = () => new PyTimeZone(new PyTimeDelta(0, 0, 0));

/** The table. */
export const ENCODE_CASES: EncodeCase[] = [
  { name: "null", js: () => null, py: "None", repr: "None" },
  { name: "undefined", js: () => undefined, py: "None", repr: "None" },
  { name: "true", js: () => true, py: "True", repr: "True" },
  { name: "false", js: () => false, py: "False", repr: "False" },
  {
    name: "int cutoffs",
    js: () => [
      0,
      1,
      255,
      256,
      65535,
      65536,
      -1,
      -255,
      -256,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 32,
      -(2 ** 32),
      2 ** 39,
      -(2 ** 39),
      2 ** 53 - 1,
      -(2 ** 53 - 1),
    ],
    py:
      "[0, 1, 255, 256, 65535, 65536, -1, -255, -256, 2**31-1, -2**31, 2**31, -2**31-1, " +
      "2**32, -2**32, 2**39, -2**39, 2**53-1, -(2**53-1)]",
  },
  {
    name: "integral number beyond 2**53",
    js: () => 1e20,
    py: "10**20",
    repr: "100000000000000000000",
  },
  {
    name: "bigint",
    js: () => [
      5n,
      -(2n ** 63n),
      2n ** 63n - 1n,
      2n ** 63n,
      2n ** 64n,
      -(2n ** 64n),
      10n ** 100n,
      -(2n ** 2039n),
      2n ** 2040n,
      -(10n ** 700n) + 7n,
    ],
    py:
      "[5, -2**63, 2**63-1, 2**63, 2**64, -2**64, 10**100, -2**2039, 2**2040, -10**700+7]",
  },
  {
    name: "floats",
    js: () => [
      1.5,
      -0,
      0.1,
      1e-5,
      0.0001,
      123456.789,
      5e-324,
      -2.5e-7,
      Infinity,
      -Infinity,
    ],
    py:
      "[1.5, -0.0, 0.1, 1e-5, 0.0001, 123456.789, 5e-324, -2.5e-7, float('inf'), " +
      "float('-inf')]",
    repr:
      "[1.5, -0.0, 0.1, 1e-05, 0.0001, 123456.789, 5e-324, -2.5e-07, inf, -inf]",
  },
  { name: "nan", js: () => NaN, py: "float('nan')", repr: "nan" },
  {
    name: "exact: numbers are floats",
    js: () => [
      2,
      -0,
      0.5,
      7n,
      1e16,
      1.5e16,
      1.7976931348623157e308,
      123456789012345680,
    ],
    py:
      "[2.0, -0.0, 0.5, 7, 1e16, 1.5e16, 1.7976931348623157e308, 123456789012345680.0]",
    repr:
      "[2.0, -0.0, 0.5, 7, 1e+16, 1.5e+16, 1.7976931348623157e+308, 1.2345678901234568e+17]",
    exact: true,
  },
  {
    name: "strings",
    js: () => ["", "abc", "a\nb\\c\r\x1a\0d", "é", "€", "😀", "ÿĀ", " "],
    py: "['', 'abc', 'a\\nb\\\\c\\r\\x1a\\x00d', 'é', '€', '😀', 'ÿĀ', ' ']",
    repr: "['', 'abc', 'a\\nb\\\\c\\r\\x1a\\x00d', 'é', '€', '😀', 'ÿĀ', ' ']",
  },
  {
    name: "lone surrogates",
    js: () => ["\ud800", "a\udfffb", "\udbff"],
    py: "['\\ud800', 'a\\udfffb', '\\udbff']",
    repr: "['\\ud800', 'a\\udfffb', '\\udbff']",
  },
  {
    name: "string lengths around the opcode cutoffs",
    js: () => [
      "a".repeat(85),
      "a".repeat(255),
      "a".repeat(256),
      "é".repeat(127),
      "é".repeat(128),
      "€".repeat(86),
      "é".repeat(30000),
    ],
    py: "['a'*85, 'a'*255, 'a'*256, 'é'*127, 'é'*128, '€'*86, 'é'*30000]",
  },
  {
    name: "strings outside frames",
    js: () => ["a".repeat(70000), "é".repeat(40000), "x", "€".repeat(25000)],
    py: "['a'*70000, 'é'*40000, 'x', '€'*25000]",
  },
  {
    name: "runs of short strings with repeats",
    js: () => [
      ...range(2500).map((i) => "s" + (i % 300)),
      "é",
      ...range(10).map((i) => "t" + i),
    ],
    py:
      "(lambda ks: [ks[i % 300] for i in range(2500)] + ['é'] + ['t%d' % i for i in range(10)])" +
      "(['s%d' % j for j in range(300)])",
  },
  {
    name: "the same string twice",
    js: () => ["abc", "abc", "d"],
    py: "['abc', 'abc', 'd']",
  },
  {
    name: "bytes",
    js: () => [
      new Uint8Array(0),
      bytesOf(0x61),
      bytesOf(0, 0x80, 0xff, 0x5c, 0x0a),
      new Uint8Array(255).fill(7),
      new Uint8Array(256).fill(0x90),
    ],
    py: "[b'', b'a', b'\\x00\\x80\\xff\\\\\\n', b'\\x07'*255, b'\\x90'*256]",
  },
  {
    name: "large bytes outside frames",
    js: () => {
      const big = new Uint8Array(70000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      return [1, big, 2];
    },
    py: "[1, bytes((i * 7) & 0xff for i in range(70000)), 2]",
  },
  {
    name: "lists and batches",
    js: () => [[], [1], [1, 2], range(1000), range(1001), range(2001)],
    py:
      "[[], [1], [1, 2], list(range(1000)), list(range(1001)), list(range(2001))]",
  },
  {
    name: "many small items span frames",
    js: () => range(100000).map((i) => [i, "k" + (i % 7)]),
    py:
      "(lambda ks: [[i, ks[i % 7]] for i in range(100000)])(['k%d' % j for j in range(7)])",
  },
  {
    name: "runs of ints span frames and stop at other values",
    js: () =>
      range(60000).map((i) =>
        i % 9973 === 0
          ? 2 ** 40 + i
          : i % 7919 === 0
          ? BigInt(-i) * 3n
          : i % 5003 === 0
          ? null
          : i % 3 === 0
          ? BigInt(i * 37 - 100000)
          : i * 37 - 100000
      ),
    py:
      "[2**40 + i if i % 9973 == 0 else -i * 3 if i % 7919 == 0 else None if i % 5003 == 0 " +
      "else i * 37 - 100000 for i in range(60000)]",
  },
  {
    name: "runs of floats span frames and stop at ints",
    js: () =>
      range(30000).map((i) =>
        i % 4999 === 0
          ? i
          : i % 7001 === 0
          ? -0
          : i % 9001 === 0
          ? "x"
          : i / 8 + 0.0625
      ),
    py:
      "[i if i % 4999 == 0 else -0.0 if i % 7001 == 0 else 'x' if i % 9001 == 0 " +
      "else i / 8 + 0.0625 for i in range(30000)]",
  },
  {
    name: "tuples",
    js: () =>
      Tuple.of<unknown>(
        new Tuple(),
        Tuple.of(1),
        Tuple.of(1, 2),
        Tuple.of(1, 2, 3),
        Tuple.of(1, 2, 3, 4),
        Tuple.of(Tuple.of("a")),
      ),
    py: "((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), (('a',),))",
    repr: "((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), (('a',),))",
  },
  {
    name: "shared references",
    js: () => {
      const x = [1, 2];
      const t = Tuple.of("t");
      const d = new Map([["k", x]]);
      return [x, x, t, t, d, d];
    },
    py: "(lambda x, t: [x, x, t, t, {'k': x}, None])([1, 2], ('t',))",
    check:
      "x[0] is x[1] and x[2] is x[3] and x[4] is x[5] and x[4]['k'] is x[0]",
    identical: NONE,
  },
  {
    name: "shared references (byte-identical)",
    js: () => {
      const x = [1, 2];
      const t = Tuple.of("t");
      const d = new Map<string, unknown>([["k", x]]);
      return [x, x, t, t, d, d];
    },
    py:
      "(lambda x, t: (lambda d: [x, x, t, t, d, d])({'k': x}))([1, 2], ('t',))",
    check:
      "x[0] is x[1] and x[2] is x[3] and x[4] is x[5] and x[4]['k'] is x[0]",
  },
  {
    name: "a list that contains itself",
    js: () => {
      const l: unknown[] = [1];
      l.push(l);
      return l;
    },
    py: "(lambda l: (l.append(l), l)[1])([1])",
    check: "x[1] is x and x[0] == 1",
  },
  {
    name: "a dict that contains itself",
    js: () => {
      const d = new Map<string, unknown>();
      d.set("self", d);
      return d;
    },
    py: "(lambda d: (d.__setitem__('self', d), d)[1])({})",
    check: "x['self'] is x",
  },
  {
    name: "a tuple reached again through a list",
    js: () => {
      const l: unknown[] = [];
      const t = Tuple.of<unknown>(l, 1);
      l.push(t);
      return t;
    },
    py: "(lambda l: (l.append((l, 1)), l[0])[1])([])",
    check: "x[0][0] is x and x[1] == 1",
  },
  {
    name: "a 4-tuple reached again through a list",
    js: () => {
      const l: unknown[] = [];
      const t = Tuple.of<unknown>(l, 1, 2, 3);
      l.push(t);
      return [t, l];
    },
    py: "(lambda l: (l.append((l, 1, 2, 3)), [l[0], l])[1])([])",
    check: "x[0][0] is x[1] and x[1][0] is x[0]",
  },
  {
    name: "a tuple reached again through two lists",
    js: () => {
      const a: unknown[] = [];
      const b: unknown[] = [];
      const t = Tuple.of<unknown>(a, b);
      a.push(t);
      b.push(t);
      return t;
    },
    py:
      "(lambda a, b: (lambda t: (a.append(t), b.append(t), t)[2])((a, b)))([], [])",
    check: "x[0][0] is x and x[1][0] is x",
  },
  {
    name: "dicts and batches",
    js: () => [
      new Map(),
      new Map([[1, "a"]]),
      new Map<unknown, unknown>([["a", 1], ["b", 2]]),
      new Map(range(1000).map((i) => [i, i])),
      new Map(range(1001).map((i) => [i, i])),
      new Map(range(2000).map((i) => [i, i === 0 ? 0 : -i])),
    ],
    py: "[{}, {1: 'a'}, {'a': 1, 'b': 2}, {i: i for i in range(1000)}, " +
      "{i: i for i in range(1001)}, {i: -i for i in range(2000)}]",
  },
  {
    name: "plain objects are dicts",
    js: () => ({ a: 1, b: [true, null], "c d": { e: "f" } }),
    py: "{'a': 1, 'b': [True, None], 'c d': {'e': 'f'}}",
    repr: "{'a': 1, 'b': [True, None], 'c d': {'e': 'f'}}",
  },
  {
    name: "dict keys of every kind",
    js: () =>
      new Map<unknown, unknown>([
        [1, "int"],
        ["1", "str"],
        [Tuple.of(1, 2), "tuple"],
        [null, "none"],
        [1.5, "float"],
      ]),
    py: "{1: 'int', '1': 'str', (1, 2): 'tuple', None: 'none', 1.5: 'float'}",
    repr: "{1: 'int', '1': 'str', (1, 2): 'tuple', None: 'none', 1.5: 'float'}",
  },
  {
    name: "sets",
    js: () => [
      new Set([1, 2, 3]),
      new Set(),
      new FrozenSet([3]),
      new FrozenSet(),
      new Set(range(1000)),
      new Set(range(1001)),
    ],
    py:
      "[{1, 2, 3}, set(), frozenset([3]), frozenset(), set(range(1000)), set(range(1001))]",
  },
  {
    name: "bytearray",
    js: () => [
      new ByteArray(0),
      ByteArray.of(0x78),
      new ByteArray(300).fill(0xe9),
    ],
    py: "[bytearray(), bytearray(b'x'), bytearray(b'\\xe9' * 300)]",
  },
  {
    name: "complex",
    js: () => [new Complex(1, 2), new Complex(0, -0)],
    py: "[1+2j, complex(0, -0.0)]",
    repr: "[(1+2j), -0j]",
  },
  {
    name: "Date",
    js: () => new Date(Date.UTC(2020, 4, 1, 1, 2, 3, 4)),
    py: "datetime.datetime(2020, 5, 1, 1, 2, 3, 4000)",
    repr: "datetime.datetime(2020, 5, 1, 1, 2, 3, 4000)",
  },
  {
    name: "datetime family",
    js: () => [
      new PyDateTime(2021, 12, 31, 23, 59, 58, 999999),
      new PyDate(1, 1, 1),
      new PyTime(13, 14, 15, 16),
      new PyTimeDelta(-1, 5, 7),
      new PyDateTime(2020, 1, 1, 0, 0, 0, 0, utc()),
      new PyTime(1, 2, 3, 0, new PyTimeZone(new PyTimeDelta(0, 3600, 0), "X")),
    ],
    py:
      "[datetime.datetime(2021, 12, 31, 23, 59, 58, 999999), datetime.date(1, 1, 1), " +
      "datetime.time(13, 14, 15, 16), datetime.timedelta(-1, 5, 7), " +
      "datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc), " +
      "datetime.time(1, 2, 3, tzinfo=datetime.timezone(datetime.timedelta(hours=1), 'X'))]",
    repr:
      "[datetime.datetime(2021, 12, 31, 23, 59, 58, 999999), datetime.date(1, 1, 1), " +
      "datetime.time(13, 14, 15, 16), datetime.timedelta(days=-1, seconds=5, microseconds=7), " +
      "datetime.datetime(2020, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), " +
      "datetime.time(1, 2, 3, tzinfo=datetime.timezone(datetime.timedelta(seconds=3600), 'X'))]",
  },
  {
    name: "fold",
    js: () => [
      new PyDateTime(2020, 5, 1, 1, 0, 0, 0, null, 1),
      new PyTime(1, 0, 0, 0, null, 1),
    ],
    py: "[datetime.datetime(2020, 5, 1, 1, fold=1), datetime.time(1, fold=1)]",
    check: "x[0].fold == 1 and x[1].fold == 1 and x == v",
    protocols: [4, 5],
  },
  {
    name: "Decimal",
    js: () => [new Decimal("-3.14"), new Decimal("NaN"), new Decimal("1E+5")],
    py:
      "[decimal.Decimal('-3.14'), decimal.Decimal('NaN'), decimal.Decimal('1E+5')]",
    repr: "[Decimal('-3.14'), Decimal('NaN'), Decimal('1E+5')]",
  },
  {
    name: "UUID",
    js: () => new UUID(0x12345678123456781234567812345678n),
    py: "uuid.UUID('12345678-1234-5678-1234-567812345678')",
    repr: "UUID('12345678-1234-5678-1234-567812345678')",
  },
  {
    name: "OrderedDict, defaultdict, deque",
    js: () => {
      const dd = new DefaultDict<string, unknown>([["a", 1]]);
      dd.defaultFactory = new PyGlobal("builtins", "list");
      const bounded = new Deque<number>();
      bounded.push(3);
      bounded.maxlen = 5;
      const plain = new Deque<number>();
      plain.push(1, 2);
      return [
        new OrderedDict([["b", 1], ["a", 2]]),
        dd,
        new DefaultDict(),
        plain,
        bounded,
        new OrderedDict(),
      ];
    },
    py:
      "[collections.OrderedDict([('b', 1), ('a', 2)]), collections.defaultdict(list, a=1), " +
      "collections.defaultdict(), collections.deque([1, 2]), collections.deque([3], maxlen=5), " +
      "collections.OrderedDict()]",
    repr:
      "[OrderedDict([('b', 1), ('a', 2)]), defaultdict(<class 'list'>, {'a': 1}), " +
      "defaultdict(None, {}), deque([1, 2]), deque([3], maxlen=5), OrderedDict()]",
  },
  {
    name: "a deque of 1001 items",
    js: () => {
      const d = new Deque<number>();
      d.push(...range(1001));
      return d;
    },
    py: "collections.deque(range(1001))",
  },
  {
    name: "array.array",
    js: () => [
      new PyArray("d", new Float64Array([1, 2.5])),
      new PyArray("i", new Int32Array([-1, 7])),
      new PyArray("b", new Int8Array([-3])),
      new PyArray("u", "héllo😀"),
      new PyArray("q", new BigInt64Array([-(2n ** 62n)])),
    ],
    py:
      "[array.array('d', [1.0, 2.5]), array.array('i', [-1, 7]), array.array('b', [-3]), " +
      "array.array('u', 'héllo😀'), array.array('q', [-2**62])]",
    repr: "[array('d', [1.0, 2.5]), array('i', [-1, 7]), array('b', [-3]), " +
      "array('u', 'héllo😀'), array('q', [-4611686018427387904])]",
  },
  {
    name: "globals",
    js: () => [
      new PyGlobal("collections", "OrderedDict"),
      new PyGlobal("builtins", "set"),
      new PyGlobal("builtins", "set"),
    ],
    py: "[collections.OrderedDict, set, set]",
    repr: "[<class 'collections.OrderedDict'>, <class 'set'>, <class 'set'>]",
  },
  {
    name: "Python 3 names below protocol 3 without fixImports",
    js: () => [
      new Set([1]),
      new PyGlobal("builtins", "range"),
      new Uint8Array(0),
    ],
    py: "[{1}, range, b'']",
    repr: "[{1}, <class 'range'>, b'']",
    noFixImports: true,
  },
  {
    name: "a nested name",
    js: () => new PyGlobal("datetime", "datetime.fromisoformat"),
    py: "datetime.datetime.fromisoformat",
    check: "x == datetime.datetime.fromisoformat",
    identical: [0, 1, 2, 3],
  },
  {
    name: "object records",
    js: () => {
      const namespace = new PyObject(
        "newobj",
        new PyGlobal("argparse", "Namespace"),
        new Tuple(),
      );
      namespace.state = new Map([["a", 1]]);
      return [
        new PyObject(
          "reduce",
          new PyGlobal("fractions", "Fraction"),
          Tuple.of(1, 3),
        ),
        namespace,
      ];
    },
    py: "[fractions.Fraction(1, 3), argparse.Namespace(a=1)]",
    repr: "[Fraction(1, 3), Namespace(a=1)]",
  },
  {
    name: "numpy float64 arrays",
    js: () => [
      new NdArray(f8(), [3], "C", new Float64Array([0, 1, 2])),
      new NdArray(f8(), [2, 3], "C", new Float64Array([0, 1, 2, 3, 4, 5])),
      new NdArray(f8(), [2, 3], "F", new Float64Array([0, 3, 1, 4, 2, 5])),
      new NdArray(f8(), [], "C", new Float64Array([1.5])),
    ],
    py: "[np.arange(3.0), np.arange(6.0).reshape(2, 3), " +
      "np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.array(1.5)]",
  },
  {
    name: "numpy dtypes",
    js: () => [
      new NdArray(new DType("i4", ">", 4), [2], "C", new Int32Array([1, 2])),
      new NdArray(new DType("b1", "|", 1), [2], "C", bytesOf(1, 0)),
      new NdArray(
        new DType("c16", "<", 16),
        [2],
        "C",
        new Float64Array([1, 2, 3, 4]),
      ),
      new NdArray(
        new DType("U3", "<", 12),
        [1],
        "C",
        bytesOf(97, 0, 0, 0, 98, 0, 0, 0, 0, 0, 0, 0),
      ),
      new NdArray(new DType("O8", "|", 8), [2], "C", [1, null]),
      new NdArray(new DType("u2", "<", 2), [0], "C", new Uint16Array(0)),
    ],
    py:
      "[np.array([1, 2], dtype='>i4'), np.array([True, False]), np.array([1+2j, 3+4j]), " +
      "np.array(['ab'], dtype='U3'), np.array([1, None], dtype=object), np.zeros(0, dtype='u2')]",
  },
  {
    name: "a read-only numpy array",
    js: () => {
      const array = new NdArray(f8(), [3], "C", new Float64Array([0, 1, 2]));
      array.writeable = false;
      return array;
    },
    py: "(lambda a: (a.setflags(write=False), a)[1])(np.arange(3.0))",
    check: "same(x, v) and (x.flags.writeable is False or protocol < 5)",
  },
  {
    name: "numpy object array in Fortran order",
    js: () =>
      new NdArray(new DType("O8", "|", 8), [2, 2], "F", [1, null, "a", 2.5]),
    py: "np.asfortranarray(np.array([[1, 'a'], [None, 2.5]], dtype=object))",
  },
  {
    name: "numpy datetime64",
    js: () =>
      new NdArray(
        new DType(
          "M8",
          "<",
          8,
          null,
          null,
          null,
          Tuple.of<unknown>(bytesOf(0x44), 1, 1, 1),
        ),
        [1],
        "C",
        new BigInt64Array([18262n]),
      ),
    py: "np.array(['2020-01-01'], dtype='M8[D]')",
    repr: "array(['2020-01-01'], dtype='datetime64[D]')",
  },
  {
    name: "numpy scalars",
    js: () => [
      new NumpyScalar(
        f8(),
        1.5,
        new Uint8Array(new Float64Array([1.5]).buffer),
      ),
      new NumpyScalar(new DType("i1", "|", 1), 3, bytesOf(3)),
    ],
    py: "[np.float64(1.5), np.int8(3)]",
    repr: "[np.float64(1.5), np.int8(3)]",
  },
  {
    name: "deep nesting",
    js: () => {
      let value: unknown = [];
      for (let i = 0; i < 100000; i++) value = [value];
      return value;
    },
    py: "None",
    check: "depth(x) == 100000",
    identical: NONE,
    protocols: [0, 2, 4, 5],
  },
];

export { ALL };
