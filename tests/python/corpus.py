"""Generates the differential corpus: pickles of a broad catalogue of values at protocols 0-5,
each with what CPython says it is.

Usage: python corpus.py [--scientific-only] [--option-cases]    (prints JSON on standard output)

Every case is ``{"group", "name", "protocol", "pickle" (base64), "options", "buffers"?,
"expected", "checkedAgainstReal"}``:
* ``expected`` is the symbolic unpickler's verdict (see symbolic.py): ``{"ok": tagged}`` or
  ``{"error": exception class}``;
* when the value is made only of types the decoder maps natively,
  ``pickle.loads`` (CPython's C unpickler, real objects) is tagged too and must agree with the
  symbolic oracle (up to what a real unpickle forgets: set order, numpy byte order), else the
  generator fails; ``checkedAgainstReal`` says whether that check ran.

``--scientific-only`` writes only the numpy and pandas cases (for the numpy 1.x venv).
``--option-cases`` adds pickles that decode only with options (an extension registry,
``"extensions"``: [[code, module, name]], and a persistent_load, ``"persistent": true``).
"""

import array
import base64
import collections
import copyreg
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import io
import json
import pickle
import sys
import uuid
from collections import namedtuple

import symbolic

# -- classes of __main__, pickled by reference ------------------------------------------------


class Plain:
    def __init__(self, a=1, b="two"):
        self.a = a
        self.b = b


class Slots:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x = 1
        self.y = [2]


class DictAndSlots:
    __slots__ = ("s", "__dict__")

    def __init__(self):
        self.s = "slot"
        self.d = "dict"


class WithReduce:
    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return (WithReduce, (self.value,))


class WithFullReduce:
    def __reduce__(self):
        return (WithFullReduce, (), {"state": 1}, iter([1, 2]), iter([("k", "v")]))

    def extend(self, items):
        pass

    def __setitem__(self, key, value):
        pass


class WithGetState:
    def __init__(self):
        self.hidden = 1

    def __getstate__(self):
        return ("custom", 42)

    def __setstate__(self, state):
        self.hidden = state


class WithNewArgs:
    def __new__(cls, *args):
        return super().__new__(cls)

    def __init__(self, *args):
        self.args = args

    def __getnewargs__(self):
        return self.args


class WithNewArgsEx:
    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __getnewargs_ex__(self):
        return self.args, self.kwargs


class ListSub(list):
    pass


class DictSub(dict):
    pass


class Color(enum.Enum):
    RED = 1
    GREEN = "g"


Point = namedtuple("Point", "x y")


@dataclasses.dataclass
class Measured:
    name: str
    value: float


@dataclasses.dataclass(slots=True, frozen=True)
class SlottedMeasured:
    name: str
    values: list


def module_function():
    return None


# -- the catalogue ----------------------------------------------------------------------------


def core_values():
    v = []

    def add(group, name, value, protocols=range(6)):
        v.append((group, name, value, list(protocols)))

    add("none_bool", "None", None)
    add("none_bool", "True", True)
    add("none_bool", "False", False)

    for name, n in [
        ("0", 0), ("1", 1), ("-1", -1), ("255", 255), ("256", 256), ("-255", -255),
        ("-256", -256), ("65535", 65535), ("65536", 65536), ("-65536", -65536),
        ("2**31-1", 2**31 - 1), ("2**31", 2**31), ("-2**31", -2**31), ("-2**31-1", -2**31 - 1),
        ("2**32", 2**32), ("2**53-1", 2**53 - 1), ("2**53", 2**53), ("2**53+1", 2**53 + 1),
        ("-2**53+1", -2**53 + 1), ("-2**53", -2**53), ("-2**53-1", -2**53 - 1),
        ("2**63-1", 2**63 - 1), ("2**63", 2**63), ("-2**63", -2**63), ("-2**63-1", -2**63 - 1),
        ("2**64-1", 2**64 - 1), ("2**64", 2**64), ("-2**64", -2**64), ("2**1000", 2**1000),
        ("-2**1000", -2**1000), ("10**300+7", 10**300 + 7), ("-(2**2040)", -(2**2040)),
    ]:
        add("ints", name, n)

    for name, x in [
        ("0.0", 0.0), ("-0.0", -0.0), ("1.0", 1.0), ("2.0", 2.0), ("0.1", 0.1), ("-1.5", -1.5),
        ("1/3", 1 / 3), ("1e100", 1e100), ("1e-310", 1e-310), ("5e-324", 5e-324),
        ("max", sys.float_info.max), ("2**53", float(2**53)), ("inf", float("inf")),
        ("-inf", float("-inf")), ("nan", float("nan")), ("1e22", 1e22), ("123456.789", 123456.789),
    ]:
        add("floats", name, x)

    for name, s in [
        ("empty", ""), ("ascii", "hello world"), ("pi", "\u03c0"), ("euro", "\u20acuro"),
        ("latin1 range", "\x80\xa0\xe9\xff"), ("non-BMP", "\U0001F600 \U00010000 \U0010FFFF"),
        ("lone high surrogate", "\ud800"), ("lone low surrogate", "\udfff"),
        ("surrogate inside", "a\ud800b\udc00c"), ("surrogate pair as two code points", "\ud83d\ude00"),
        ("newline", "\n"), ("newlines", "a\nb\r\nc\r"), ("ctrl-z", "\x1a"), ("nul", "a\x00b"),
        ("backslash", "\\"), ("backslashes", "C:\\path\\to\\u005c\\x41"),
        ("literal unicode escape", "\\u005c\\U0001F600"), ("quotes", "it's \"quoted\""),
        ("all ascii controls", "".join(chr(i) for i in range(32)) + "\x7f"),
        ("255 bytes", "x" * 255), ("256 bytes", "x" * 256), ("multibyte at 255", "\u00e9" * 128),
        ("64KiB+", "abc\u20ac" * 20000),
    ]:
        add("strings", name, s)

    for name, b in [
        ("empty", b""), ("nul", b"\x00"), ("ascii", b"abc"), ("all bytes", bytes(range(256))),
        ("255", b"\xff" * 255), ("256", b"\x01" * 256), ("64KiB+", bytes(range(256)) * 300),
    ]:
        add("bytes", name, b)
    add("bytes", "bytearray empty", bytearray())
    add("bytes", "bytearray", bytearray(b"ab\x00\xff"))
    add("bytes", "bytearray 300", bytearray(range(256)) + bytearray(44))
    same = b"shared bytes"
    add("bytes", "shared bytes", [same, same])

    add("lists", "empty", [])
    add("lists", "mixed", [1, "a", None, 2.5, True, b"x"])
    add("lists", "2500 ints (batches)", list(range(2500)))
    add("lists", "nested", [[[]], [[1, [2, [3]]]]])
    x = [1, 2]
    add("lists", "shared", [x, x, [x]])
    cyclic = [1]
    cyclic.append(cyclic)
    add("lists", "cyclic", cyclic)
    a, b = [], []
    a.append(b)
    b.append(a)
    add("lists", "mutual cycle", [a, b])

    add("tuples", "empty", ())
    add("tuples", "1", (1,))
    add("tuples", "2", (1, "b"))
    add("tuples", "3", (1, 2, 3))
    add("tuples", "4", (1, 2, 3, 4))
    add("tuples", "nested empties", ((), ((),), [()]))
    shared_list = []
    add("tuples", "shared list inside", (shared_list, shared_list))
    inner = []
    recursive = (inner,)
    inner.append(recursive)
    add("tuples", "recursive through list", recursive)
    holder = {}
    rec2 = (holder, 1)
    holder["t"] = rec2
    add("tuples", "recursive through dict", rec2)
    t = (1, 2)
    add("tuples", "shared tuple", [t, t, (t,)])

    add("dicts", "empty", {})
    add("dicts", "str keys", {"a": 1, "b": [2], "c": {"d": None}})
    add("dicts", "2500 items (batches)", {i: str(i) for i in range(2500)})
    add("dicts", "non-str keys", {(1, 2): "tuple", 1: "int", 2.5: "float", None: "none",
                                  False: "bool", b"k": "bytes", frozenset({1}): "frozenset",
                                  "k": "str", -2**70: "big int", (): "empty tuple"})
    add("dicts", "__proto__ key", {"__proto__": {"polluted": 1}, "constructor": 2, "toString": 3})
    self_dict = {}
    self_dict["self"] = self_dict
    add("dicts", "cyclic", self_dict)
    shared_value = {"v": 1}
    add("dicts", "shared values", {"a": shared_value, "b": shared_value})
    add("dicts", "order kept", {"z": 1, "a": 2, "m": 3})

    add("sets", "empty set", set())
    add("sets", "ints", {1, 2, 3})
    add("sets", "mixed", {"a", (1, 2), None, 2.5, b"b"})
    add("sets", "empty frozenset", frozenset())
    add("sets", "frozenset", frozenset({1, "a"}))
    add("sets", "nested frozensets", {frozenset({1}), frozenset({frozenset()})})
    add("sets", "2500 (batches)", set(range(2500)))

    utc = datetime.timezone.utc
    ist = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    est = datetime.timezone(datetime.timedelta(hours=-5), "EST")
    add("datetime", "date", datetime.date(2024, 2, 29))
    add("datetime", "date min", datetime.date.min)
    add("datetime", "date max", datetime.date.max)
    add("datetime", "naive datetime", datetime.datetime(2024, 5, 6, 7, 8, 9, 123456))
    add("datetime", "datetime min", datetime.datetime.min)
    add("datetime", "datetime max", datetime.datetime.max)
    add("datetime", "utc datetime", datetime.datetime(2000, 1, 1, tzinfo=utc))
    add("datetime", "+05:30 datetime", datetime.datetime(2021, 12, 31, 23, 59, 59, 999999, ist))
    add("datetime", "named -05:00 datetime", datetime.datetime(1999, 12, 31, 19, tzinfo=est))
    add("datetime", "fold=1", datetime.datetime(2021, 11, 7, 1, 30, fold=1))
    add("datetime", "time", datetime.time(1, 2, 3, 4))
    add("datetime", "time with tz", datetime.time(23, 59, tzinfo=est))
    add("datetime", "time fold=1", datetime.time(1, 30, fold=1))
    add("datetime", "timedelta 0", datetime.timedelta(0))
    add("datetime", "negative timedelta", datetime.timedelta(days=-1, seconds=5))
    add("datetime", "timedelta -1us", datetime.timedelta(microseconds=-1))
    add("datetime", "timedelta max", datetime.timedelta.max)
    add("datetime", "timezone utc", utc)
    add("datetime", "timezone named", est)
    add("datetime", "shared tz", [datetime.datetime(2020, 1, 1, tzinfo=ist),
                                  datetime.time(5, tzinfo=ist)])
    try:
        import zoneinfo

        paris = zoneinfo.ZoneInfo("Europe/Paris")
        add("datetime", "zoneinfo tz (record)", datetime.datetime(2022, 7, 1, 12, tzinfo=paris))
    except Exception:
        pass

    for text in ["3.14", "-0", "NaN", "sNaN", "-Infinity", "1E+1000", "0.000001",
                 "123456789012345678901234567890.123456789"]:
        add("decimal", text, decimal.Decimal(text))

    add("collections", "OrderedDict empty", collections.OrderedDict())
    add("collections", "OrderedDict", collections.OrderedDict([("b", 1), ("a", [2])]))
    od = collections.OrderedDict()
    od["self"] = od
    add("collections", "OrderedDict cyclic", od)
    add("collections", "defaultdict list", collections.defaultdict(list, {"a": [1], "b": []}))
    add("collections", "defaultdict int", collections.defaultdict(int, {1: 2}))
    add("collections", "defaultdict None", collections.defaultdict(None, {"k": "v"}))
    add("collections", "Counter (record)", collections.Counter("abracadabra"))
    add("collections", "deque", collections.deque([1, "two", [3]]))
    add("collections", "deque empty maxlen", collections.deque(maxlen=3))
    add("collections", "deque maxlen", collections.deque([1, 2], maxlen=5))
    add("collections", "namedtuple (record)", Point(1, [2]))

    for text in ["12345678-1234-5678-1234-567812345678", "00000000-0000-0000-0000-000000000000",
                 "ffffffff-ffff-ffff-ffff-ffffffffffff"]:
        add("uuid", text, uuid.UUID(text))

    limits = {"b": (-128, 127), "B": (0, 255), "h": (-2**15, 2**15 - 1), "H": (0, 2**16 - 1),
              "i": (-2**31, 2**31 - 1), "I": (0, 2**32 - 1), "l": (-2**63, 2**63 - 1),
              "L": (0, 2**64 - 1), "q": (-2**63, 2**63 - 1), "Q": (0, 2**64 - 1)}
    for code in array.typecodes:
        if code in ("u", "w"):
            value = array.array(code, "a\u20ac\U0001F600" if code == "w" else "a\u20ac")
        elif code in ("f", "d"):
            value = array.array(code, [0.0, -1.5, 3.25, float("inf")])
        else:
            lo, hi = limits[code]
            value = array.array(code, [lo, 0, hi])
        add("array", "typecode " + code, value)
    add("array", "empty d", array.array("d"))

    add("complex", "1+2j", 1 + 2j)
    add("complex", "-0 imaginary", complex(0.0, -0.0))
    add("complex", "inf nan", complex(float("inf"), float("nan")))

    add("records", "range", range(1, 7, 2))
    add("records", "slice", slice(1, None, -1))
    add("records", "Ellipsis", Ellipsis)
    add("records", "builtin function", len)
    add("records", "module function", module_function)
    add("records", "class reference", Plain)
    add("records", "plain instance", Plain())
    add("records", "slots", Slots())
    add("records", "dict and slots", DictAndSlots())
    add("records", "__reduce__", WithReduce([1, 2]))
    add("records", "__reduce__ with state and items", WithFullReduce(), range(2, 6))
    add("records", "__getstate__", WithGetState())
    add("records", "__getnewargs__", WithNewArgs(1, "a"), range(2, 6))
    add("records", "__getnewargs_ex__", WithNewArgsEx(1, key="v"), range(4, 6))
    list_sub = ListSub([1, 2])
    list_sub.attr = "x"
    add("records", "list subclass", list_sub, range(2, 6))
    dict_sub = DictSub(a=1)
    add("records", "dict subclass", dict_sub, range(2, 6))
    add("records", "enum", [Color.RED, Color.GREEN])
    add("records", "exception", ValueError("bad", 7))
    me = Plain()
    me.a = me
    add("records", "cyclic instance", me)
    shared = Plain(b=None)
    add("records", "shared instance", [shared, shared])
    add("records", "dataclass", Measured("auroc", 0.5))
    add("records", "slotted dataclass", SlottedMeasured("f1", [1, 2]))
    add("records", "functools.partial", functools.partial(max, 1, key=abs))
    add("records", "Fraction", fractions.Fraction(1, 3))
    deep = []
    # Deep, yet shallow enough for the recursive JSON codecs of the test harnesses (Python's
    # json stops at 1000 levels; the tagged form nests twice per list).
    for _ in range(400):
        deep = [deep]
    add("lists", "400 levels deep", deep)
    return v


def numpy_values():
    import numpy as np

    v = []

    def add(group, name, value, protocols=range(6)):
        v.append((group, name, value, list(protocols)))

    dtypes = ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"]
    for code in dtypes:
        orders = ("|",) if np.dtype(code).itemsize == 1 else ("<", ">")
        for byteorder in orders:
            dt = np.dtype(code if byteorder == "|" else byteorder + code)
            if dt.kind == "b":
                base = np.array([True, False, True, True, False, False])
            elif dt.kind in "iu":
                info = np.iinfo(dt)
                base = np.array([info.min, 0, 1, info.max, 7, info.max // 3], dtype=dt)
            elif dt.kind == "f":
                base = np.array([0.0, -0.0, 1.5, np.inf, -np.inf, np.nan], dtype=dt)
            else:
                base = np.array([1 + 2j, -0.0j, np.inf, complex(0, np.nan), 1.5, -3j], dtype=dt)
            base = base.astype(dt)
            add("numpy", "%s 1-d" % dt.str, base)
            add("numpy", "%s 2x3 C" % dt.str, base.reshape(2, 3))
            add("numpy", "%s 2x3 F" % dt.str, np.asfortranarray(base.reshape(2, 3)))
            add("numpy", "%s 0-d" % dt.str, base[3:4].reshape(()))
            add("numpy", "%s empty" % dt.str, base[:0])
            add("numpy", "%s scalar" % dt.str, base[3])
    add("numpy", "3-d F", np.asfortranarray(np.arange(24, dtype="<i4").reshape(2, 3, 4)))
    add("numpy", "0x3 empty", np.zeros((0, 3)))
    add("numpy", "non-contiguous slice", np.arange(10.0)[::3])
    add("numpy", "object 1-d", np.array([1, "a", None, [1]], dtype=object))
    add("numpy", "object 2x2 F", np.asfortranarray(np.array([[1, "a"], [None, 2.5]], dtype=object)))
    add("numpy", "structured", np.array([(1, 2.5), (-3, 4.0)], dtype=[("a", "<i4"), ("b", ">f8")]))
    add("numpy", "unicode U3", np.array(["ab", "\u20ac", ""], dtype="<U3"))
    add("numpy", "bytes S3", np.array([b"ab", b"\xff", b""], dtype="S3"))
    add("numpy", "datetime64[ns]", np.array(["2020-01-01T00:00:00.5", "NaT"], dtype="M8[ns]"))
    add("numpy", "datetime64[D]", np.array(["1970-01-02", "2038-01-19"], dtype="M8[D]"))
    add("numpy", "timedelta64[s]", np.array([1, -2], dtype="m8[s]"))
    arr = np.arange(4.0)
    add("numpy", "shared array", [arr, arr])
    add("numpy", "dtype object", np.dtype(">i4"))
    add("numpy", "matrix subclass (record)", np.matrix([[1, 2], [3, 4]]))
    add("numpy", "masked array (record)", np.ma.masked_array([1.0, 2.0], mask=[False, True]))
    add("numpy", "dtype scalar bool", np.bool_(True))
    add("numpy", "long double (raw bytes)", np.array([1.5, -2.0], dtype=np.longdouble))
    add("numpy", "complex long double (raw bytes)", np.array([1 + 2j], dtype=np.clongdouble))
    add("numpy", "long double scalar", np.longdouble(0.25))
    add("numpy", "arrays in an object array", np.array([np.arange(2), None, np.zeros((1, 0))],
                                                       dtype=object))
    add("numpy", "1x0x3 empty", np.zeros((1, 0, 3), dtype="<i2"))
    add("numpy", "str_ scalar", np.str_("ab\u20ac"))
    add("numpy", "bytes_ scalar", np.bytes_(b"ab"))
    add("numpy", "datetime64 scalar", np.datetime64("2020-01-02T03:04:05", "s"))
    add("numpy", "timedelta64 scalar", np.timedelta64(-5, "ms"))
    add("numpy", "structured scalar", np.array([(1, 2.5)], dtype=[("a", "<i4"), ("b", "<f8")])[0])
    add("numpy", "arrays in a dict", {"weights": np.arange(3.0), "bias": np.float32(0.5),
                                      "classes": np.array(["a", "b"], dtype=object)})
    return v


def pandas_values():
    import numpy as np
    import pandas as pd

    v = []

    def add(group, name, value, protocols=range(2, 6)):
        v.append((group, name, value, list(protocols)))

    add("pandas", "DataFrame", pd.DataFrame({"i": [1, 2], "f": [0.5, np.nan], "s": ["a", None]}))
    add("pandas", "Series", pd.Series([1.5, 2.5], index=["x", "y"], name="s"))
    add("pandas", "RangeIndex", pd.RangeIndex(0, 10, 2))
    add("pandas", "datetime column", pd.DataFrame({"t": pd.to_datetime(["2020-01-01", "2021-06-30"])}))
    add("pandas", "Categorical", pd.Categorical(["a", "b", "a"]))
    add("pandas", "Timestamp with tz", pd.Timestamp("2020-01-01 12:00", tz="UTC"))
    add("pandas", "MultiIndex Series", pd.Series([1, 2], index=pd.MultiIndex.from_tuples(
        [("a", 1), ("b", 2)])))
    return v


# -- Python 2 style and hand-written pickles (protocol 0-2 opcodes CPython 3 never writes) ----

PY2_NUMPY_F8 = (
    b"cnumpy.core.multiarray\n_reconstruct\np0\n(cnumpy\nndarray\np1\n(I0\ntp2\nS'b'\np3\ntp4\n"
    b"Rp5\n(I1\n(I3\ntp6\ncnumpy\ndtype\np7\n(S'f8'\np8\nI0\nI1\ntp9\nRp10\n(I3\nS'<'\np11\n"
    b"NNNI-1\nI-1\nI0\ntp12\nbI00\nS'\\x00\\x00\\x00\\x00\\x00\\x00\\xf0?\\x00\\x00\\x00\\x00"
    b"\\x00\\x00\\x00@\\x00\\x00\\x00\\x00\\x00\\x00\\x08@'\np13\ntp14\nb."
)

HANDWRITTEN = [
    # (group, name, pickle bytes, options)
    ("py2", "STRING ascii", b"S'abc'\n.", {}),
    ("py2", "STRING escapes", b"S'a\\nb\\\\c\\'d\\x41\\101'\n.", {}),
    ("py2", "STRING non-ascii under ASCII", b"S'caf\\xe9'\n.", {}),
    ("py2", "STRING latin1", b"S'caf\\xe9'\n.", {"encoding": "latin1"}),
    ("py2", "STRING bytes", b"S'caf\\xe9'\n.", {"encoding": "bytes"}),
    ("py2", "SHORT_BINSTRING latin1", b"U\x03a\x00\xa0.", {"encoding": "latin1"}),
    ("py2", "SHORT_BINSTRING bytes", b"\x80\x02U\x03a\x00\xa0.", {"encoding": "bytes"}),
    ("py2", "BINSTRING bytes", b"T\x04\x00\x00\x00\xff\xfe\x00a.", {"encoding": "bytes"}),
    ("py2", "BINSTRING ascii", b"T\x02\x00\x00\x00hi.", {}),
    ("py2", "UNICODE escapes", b"V\\u03c0\\U0001f600\\u005c\\n\xe9\n.", {}),
    ("py2", "LONG with L", b"L123456789012345678901234567890L\n.", {}),
    ("py2", "LONG negative", b"L-9223372036854775809L\n.", {}),
    ("py2", "INT beyond 64 bits", b"I99999999999999999999\n.", {}),
    ("py2", "INT bools", b"(I01\nI00\nI1\nI0\nt.", {}),
    ("py2", "FLOAT text", b"(F1.5\nFnan\nF-inf\nF1e+100\nF-0.0\nt.", {}),
    ("py2", "set via __builtin__", b"c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n.", {}),
    ("py2", "datetime latin1 state",
     b"cdatetime\ndatetime\np0\n(S'\\x07\\xd0\\x01\\x02\\x03\\x04\\x05\\x00\\x00\\x06'\np1\ntp2\nRp3\n.",
     {"encoding": "latin1"}),
    ("py2", "datetime bytes state",
     b"\x80\x02cdatetime\ndatetime\nq\x00U\n\x07\xd0\x01\x02\x03\x04\x05\x00\x00\x06\x85Rq\x01.",
     {"encoding": "bytes"}),
    ("py2", "date ascii state", b"cdatetime\ndate\n(S'\\x07\\xd0\\x01\\x02'\ntR.", {}),
    ("py2", "INST classic instance", b"(i__main__\nPlain\np0\n(dp1\nS'a'\nI1\nsb.", {}),
    ("py2", "OBJ classic instance", b"(c__main__\nPlain\nq\x00oq\x01}q\x02U\x01aK\x01sb.", {}),
    ("py2", "xrange", b"\x80\x02c__builtin__\nxrange\nK\x01K\x07K\x01\x87R.", {}),
    ("py2", "exceptions.ValueError", b"\x80\x02cexceptions\nValueError\nU\x03ugh\x85R.", {}),
    ("py2", "DUP POP POP_MARK", b"(K\x01K\x022(K\tK\t1(0K\x030t.", {}),
    ("py2", "GET PUT text", b"((lp7\nI1\nag7\nt.", {}),
    ("py2", "FRAME around text opcodes", b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00I42\n.", {}),
    ("py2", "trailing bytes after STOP", b"N.garbage", {}),
    ("py2", "numpy 1 py2 array latin1", PY2_NUMPY_F8, {"encoding": "latin1"}),
]


def cross_check(label, value, native):
    """The symbolic oracle must agree with what pickle.loads really built."""
    root = symbolic.Normalizer().node(value)
    mine = symbolic.canonical(symbolic.Tagger(root, "mutable").tag(root))
    if mine != symbolic.canonical(native):
        raise AssertionError("oracles disagree on %s:\nsymbolic %s\nreal     %s" % (
            label, json.dumps(mine), json.dumps(native)))


def case(group, name, protocol, data, options, native, buffers=None, extensions=None,
         persistent=False):
    encoding = options.get("encoding", "ASCII")
    registry = {code: (module, name) for code, module, name in extensions or []}
    expected = symbolic.symbolic(data, encoding=encoding, buffers=buffers, extensions=registry,
                                 persistent=persistent)
    checked = native is not NOT_NATIVE and "ok" in expected
    if checked:
        cross_check("%s/%s p%s" % (group, name, protocol),
                    symbolic.symbolic_load(data, encoding=encoding, buffers=buffers), native)
    out = {"group": group, "name": name, "protocol": protocol,
           "pickle": base64.b64encode(data).decode("ascii"), "options": options,
           "expected": expected, "checkedAgainstReal": checked}
    if buffers is not None:
        out["buffers"] = [base64.b64encode(b).decode("ascii") for b in buffers]
    if extensions:
        out["extensions"] = extensions
    if persistent:
        out["persistent"] = True
    return out


def real_expectation(data, options):
    """``pickle.loads`` tagged, or NOT_NATIVE when it fails or holds record-only types."""
    try:
        value = pickle.loads(data, **options)
    except Exception:
        return NOT_NATIVE
    try:
        return symbolic.tag_real(value)
    except symbolic.Unsupported:
        return NOT_NATIVE


NOT_NATIVE = object()


def cases_for(values):
    out = []
    for group, name, value, protocols in values:
        for protocol in protocols:
            try:
                data = pickle.dumps(value, protocol=protocol)
            except Exception:
                continue  # e.g. __getnewargs_ex__ below protocol 2
            out.append(case(group, name, protocol, data, {}, real_expectation(data, {})))
    return out


def out_of_band_cases():
    import numpy as np

    out = []
    for name, arr in [("C", np.arange(6.0).reshape(2, 3)),
                      ("F", np.asfortranarray(np.arange(6, dtype=">i2").reshape(2, 3)))]:
        buffers = []
        data = pickle.dumps(arr, protocol=5, buffer_callback=buffers.append)
        raw = [bytes(b.raw()) for b in buffers]
        native = symbolic.tag_real(pickle.loads(data, buffers=raw))
        out.append(case("numpy", "out-of-band " + name, 5, data, {}, native, raw))
    return out


class PersistentPickler(pickle.Pickler):
    """Writes every ``Plain`` instance as a persistent id (text at protocol 0, a tuple after)."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.text_ids = protocol == 0

    def persistent_id(self, obj):
        if type(obj) is not Plain:
            return None
        return "plain-%s" % obj.a if self.text_ids else ("plain", obj.a)


def option_cases():
    """Pickles that need decode options: an extension registry and a persistent_load."""
    out = []
    registry = [(240, "__main__", "Plain"), (300, "collections", "OrderedDict"),
                (70000, "__main__", "WithReduce")]
    value = [Plain(), collections.OrderedDict(a=1), WithReduce(1), Plain]
    for code, module, name in registry:
        copyreg.add_extension(module, name, code)
    try:
        for protocol in range(2, 6):
            out.append(case("options", "extension codes (EXT1, EXT2, EXT4)", protocol,
                            pickle.dumps(value, protocol), {}, NOT_NATIVE,
                            extensions=[list(entry) for entry in registry]))
    finally:
        for code, module, name in registry:
            copyreg.remove_extension(module, name, code)
    for protocol in range(6):
        stream = io.BytesIO()
        PersistentPickler(stream, protocol).dump([Plain(1), "x", Plain(2), {"p": Plain(3)}])
        out.append(case("options", "persistent ids", protocol, stream.getvalue(), {}, NOT_NATIVE,
                        persistent=True))
    for name, data, encoding in [("utf-8 str", b"U\x02\xc3\xa9.", "utf-8"),
                                 ("bad utf-8 str", b"U\x01\xff.", "utf-8")]:
        out.append(case("options", name, None, data, {"encoding": encoding},
                        real_expectation(data, {"encoding": encoding})))
    return out


def main():
    import importlib.util

    scientific_only = "--scientific-only" in sys.argv
    cases = []
    if not scientific_only:
        cases += cases_for(core_values())
        for group, name, data, options in HANDWRITTEN:
            cases.append(case(group, name, None, data, options, real_expectation(data, options)))
        if "--option-cases" in sys.argv:
            cases += option_cases()
    numpy_version = None
    if importlib.util.find_spec("numpy"):
        import numpy

        numpy_version = numpy.__version__
        cases += cases_for(numpy_values())
        cases += out_of_band_cases()
    if importlib.util.find_spec("pandas"):
        cases += cases_for(pandas_values())
    # json.dumps, not json.dump: only the former uses the C encoder, which deep nesting needs.
    sys.stdout.write(json.dumps({"python": sys.version.split()[0], "numpy": numpy_version,
                                 "cases": cases}, allow_nan=False))


if __name__ == "__main__":
    main()
