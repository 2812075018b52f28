"""Writes `vectors.txt` for the Rust tests from CPython itself (run with the reference venv:
`.cache/venv/bin/python codec/src/tests/make_vectors.py`).

Each line is `<encoding> <hex pickle> <expected>`, where `<expected>` is either the canonical
rendering of what a non-executing unpickler builds (`render()` below, mirrored by `render` in
`src/tests/mod.rs`) or `!<exception>` for a pickle that CPython's C unpickler rejects.
Globals are kept unresolved and every call (REDUCE, NEWOBJ, …) becomes an inert record, so the
rendering is what the tape says, checked against CPython's own pure-Python machine.
"""

import ast
import collections
import datetime
import decimal
import inspect
import io
import pickle
import pickletools
import struct
import sys
import uuid
import warnings
from pathlib import Path

import test.pickletester as pickletester

ENCODINGS = {"ASCII": 0, "latin1": 1, "bytes": 2, "utf-8": 3}


class Record:
    """A global, a call result or a persistent object, with what was done to it."""

    def __init__(self, head):
        self.head = head
        self.ops = []


def is_record(value):
    return isinstance(value, Record)


class SymbolicUnpickler(pickle._Unpickler):
    dispatch = dict(pickle._Unpickler.dispatch)

    def find_class(self, module, name):
        return Record(("G", module, name))

    def persistent_load(self, pid):
        return Record(("P", pid))

    def get_extension(self, code):
        self.append(Record(("E", code)))

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if not is_record(func) or type(args) is not tuple:
            raise TypeError("bad REDUCE")
        self.stack[-1] = Record(("R", func, args))

    dispatch[pickle.REDUCE[0]] = load_reduce

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        if not is_record(cls) or type(args) is not tuple:
            raise TypeError("bad NEWOBJ")
        self.append(Record(("N", cls, args)))

    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        if not is_record(cls) or type(args) is not tuple or type(kwargs) is not dict:
            raise TypeError("bad NEWOBJ_EX")
        self.append(Record(("X", cls, args, kwargs)))

    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def load_inst(self):
        module = self.readline()[:-1].decode("ascii")
        name = self.readline()[:-1].decode("ascii")
        args = tuple(self.pop_mark())
        self.append(Record(("I", module, name, args)))

    dispatch[pickle.INST[0]] = load_inst

    def load_obj(self):
        args = self.pop_mark()
        cls = args.pop(0)
        if not is_record(cls):
            raise TypeError("bad OBJ")
        self.append(Record(("O", cls, tuple(args))))

    dispatch[pickle.OBJ[0]] = load_obj

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if is_record(inst):
            inst.ops.append(("b", state))
        elif state is not None:
            raise TypeError("bad BUILD")

    dispatch[pickle.BUILD[0]] = load_build

    def _add(self, target, op, items):
        if is_record(target):
            target.ops.extend((op, item) for item in items)
        elif op == "a" and type(target) is list:
            target.extend(items)
        elif op == "s" and type(target) is dict:
            for key, value in items:
                target[key] = value
        elif op == "+" and type(target) is set:
            target.update(items)
        else:
            raise TypeError("bad target")

    def load_append(self):
        value = self.stack.pop()
        self._add(self.stack[-1], "a", [value])

    dispatch[pickle.APPEND[0]] = load_append

    def load_appends(self):
        items = self.pop_mark()
        if items:
            self._add(self.stack[-1], "a", items)

    dispatch[pickle.APPENDS[0]] = load_appends

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._add(self.stack[-1], "s", [(key, value)])

    dispatch[pickle.SETITEM[0]] = load_setitem

    def load_setitems(self):
        items = self.pop_mark()
        if items:
            if len(items) % 2:
                raise pickle.UnpicklingError("odd number of items for SETITEMS")
            self._add(self.stack[-1], "s", list(zip(items[::2], items[1::2])))

    dispatch[pickle.SETITEMS[0]] = load_setitems

    def load_additems(self):
        items = self.pop_mark()
        if items:
            self._add(self.stack[-1], "+", items)

    dispatch[pickle.ADDITEMS[0]] = load_additems


def render_str(text):
    units = text.encode("utf-16-le", "surrogatepass")
    out = []
    for (unit,) in struct.iter_unpack("<H", units):
        char = chr(unit)
        out.append(char if 0x20 <= unit < 0x7F and char not in "'\\" else "\\u%04x" % unit)
    return "'" + "".join(out) + "'"


def render(value, active=()):
    if id(value) in active:
        return "<cycle>"
    inner = active + (id(value),)
    r = lambda v: render(v, inner)  # noqa: E731
    if value is None or value is True or value is False:
        return repr(value)
    if type(value) is int:
        return hex(value)
    if type(value) is float:
        return "f" + struct.pack(">d", value).hex()
    if type(value) is str:
        return render_str(value)
    if type(value) is bytes:
        return "b:" + value.hex()
    if type(value) is bytearray:
        return "ba:" + value.hex()
    if type(value) is memoryview:
        return "mv:" + value.hex()
    if type(value) is list:
        return "[" + ", ".join(r(v) for v in value) + "]"
    if type(value) is tuple:
        return "(" + ", ".join(r(v) for v in value) + ")"
    if type(value) is dict:
        return "{" + ", ".join(r(k) + ": " + r(v) for k, v in value.items()) + "}"
    if type(value) is set:
        return "set{" + ", ".join(sorted(r(v) for v in value)) + "}"
    if type(value) is frozenset:
        return "fs{" + ", ".join(sorted(r(v) for v in value)) + "}"
    if isinstance(value, Record):
        kind, *parts = value.head
        if kind == "G":
            head = "G(" + render_str(parts[0]) + " " + render_str(parts[1]) + ")"
        elif kind == "I":
            head = "I(" + render_str(parts[0]) + " " + render_str(parts[1]) + " " + r(parts[2]) + ")"
        else:
            head = kind + "(" + " ".join(r(p) for p in parts) + ")"
        for op, item in value.ops:
            if op == "s":
                head += " s" + r(item[0]) + ":" + r(item[1])
            else:
                head += " " + op + r(item)
        return head
    raise TypeError(type(value))


CALLS = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "EXT1", "EXT2", "EXT4", "REDUCE", "NEWOBJ",
         "NEWOBJ_EX", "BUILD", "PERSID", "BINPERSID"}


def opcode_names(data):
    """The opcodes of `data`, or every call opcode when `pickletools` cannot read it."""
    try:
        return [opcode.name for opcode, _, _ in pickletools.genops(data)]
    except Exception:  # noqa: BLE001 - pickletools is stricter than the unpickler (py2 str text)
        return list(CALLS)


def buffers():
    """Out-of-band buffers for `NEXT_BUFFER`, rendered as `B()`."""
    return (Record(("B",)) for _ in range(1000))


class Anything:
    """What every global is to `HarmlessUnpickler`: a class that accepts every call."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Anything()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def add(self, item):
        pass

    def __setitem__(self, key, value):
        pass


class HarmlessUnpickler(pickle.Unpickler):
    """CPython's C unpickler with every global replaced by `Anything`: what it rejects is
    malformed, not merely unrunnable."""

    def find_class(self, module, name):
        return Anything

    def persistent_load(self, pid):
        return Anything()


NOT_FORMAT = ("extension code",)


def expected(data, encoding):
    """`!<exception>` when CPython's C unpickler rejects the pickle although no global does
    anything, else the rendering of what the symbolic unpickler builds (or, where only the C
    unpickler accepts a literal such as `I010`, of CPython's own value)."""
    c_value = c_error = None
    try:
        unpickler = HarmlessUnpickler(io.BytesIO(data), encoding=encoding,
                                      buffers=[pickle.PickleBuffer(b"") for _ in range(1000)])
        c_value = unpickler.load()
    except Exception as error:  # noqa: BLE001
        c_error = error
    # A memo of 2**32 slots is what CPython 3.11 cannot allocate; the symbolic unpickler decides.
    if isinstance(c_error, MemoryError):
        c_error = None
    elif c_error is not None and not any(s in str(c_error) for s in NOT_FORMAT):
        return "!" + type(c_error).__name__
    if c_error is None and c_value is not None and not set(opcode_names(data)) & CALLS:
        try:
            return render(c_value)
        except TypeError:
            pass  # A buffer: the symbolic unpickler renders it.
    try:
        unpickler = SymbolicUnpickler(io.BytesIO(data), encoding=encoding, buffers=buffers())
        return render(unpickler.load())
    except Exception as error:  # noqa: BLE001
        return "!" + type(error).__name__


class Plain:
    def __init__(self):
        self.a = 1
        self.b = [1, 2]


class Slotted:
    __slots__ = ("x",)

    def __init__(self):
        self.x = 5


class WithState:
    def __reduce_ex__(self, protocol):
        return (WithState, (), {"k": "v"}, iter([1, 2]), iter([("a", 1)]))


class KwOnly:
    def __new__(cls, *, a):
        return object.__new__(cls)

    def __getnewargs_ex__(self):
        return ((), {"a": 1})


Plain.__module__ = Slotted.__module__ = WithState.__module__ = KwOnly.__module__ = "models"
sys.modules["models"] = sys.modules[__name__]


def corpus():
    shared = [1, 2]
    cyclic = []
    cyclic.append(cyclic)
    cyclic_dict = {}
    cyclic_dict["self"] = cyclic_dict
    big = 1 << 200
    tup_cycle_list = []
    tup = (tup_cycle_list,)
    tup_cycle_list.append(tup)
    values = [
        None, True, False, 0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1,
        2**53 - 1, 2**53, -(2**53), 2**63 - 1, -(2**63), 2**64, -(2**64), big, -big, 10**100,
        0.0, -0.0, 1.5, -2.25, 1e100, 1e-300, float("inf"), float("-inf"), 0.1, 2.0,
        "", "abc", "é", "\u20ac", "😀", "\ud800", "a\udcffb", "\n\\\x00\r\x1a'\"", "x" * 300,
        b"", b"\x00\xff", b"y" * 300, bytearray(b"ab"), bytearray(),
        [], [1, "a", None], (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), {}, {"a": 1, 2: "b", (1, 2): [3]},
        set(), {1, 2, "x"}, frozenset(), frozenset({1, (2, 3)}), [shared, shared], cyclic, cyclic_dict, tup,
        {"k": [shared, (shared,)]}, [[[[[]]]]], list(range(2500)), {i: str(i) for i in range(1200)},
        set(range(1100)), 3 + 4j, Plain(), Slotted(), WithState(), KwOnly(a=1),
        collections.OrderedDict(a=1, b=2), collections.defaultdict(list, {"x": [1]}),
        collections.deque([1, 2], maxlen=5), collections.Counter("aab"),
        datetime.datetime(2020, 5, 17, 12, 30, 1, 123456), datetime.date(1999, 12, 31),
        datetime.timedelta(days=-1, seconds=5), datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc),
        decimal.Decimal("-3.14"), uuid.UUID(int=2**127 + 5), range(1, 7, 2), slice(1, None),
        [None] * 3, ["str", "str"],
    ]
    try:
        import numpy as np
    except ImportError:
        return values
    values += [
        np.arange(6.0).reshape(2, 3), np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3)),
        np.array([[1, None], ["a", 2.5]], dtype=object, order="F"), np.float64(1.5), np.int8(-3),
        np.zeros((0, 2), dtype=">u2"), np.array(5, dtype=np.complex128),
        np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]), np.array(["2020-01-01"], dtype="datetime64[D]"),
    ]
    return values


def bad_pickles():
    """Every bytes literal the bad-input tests of `pickletester` feed to the unpickler."""
    source = inspect.getsource(pickletester.AbstractUnpickleTests)
    tree = ast.parse(__import__("textwrap").dedent(source))
    names = {"test_bad_stack", "test_bad_mark", "test_truncated_data", "test_badly_escaped_string",
             "test_badly_quoted_string", "test_misc_get", "test_bad_reduce", "test_bad_newobj",
             "test_bad_newobj_ex", "test_maxint64", "test_large_32b_binbytes8",
             "test_large_32b_bytearray8", "test_large_32b_binunicode8", "test_negative_32b_binbytes",
             "test_negative_32b_binunicode", "test_negative_32b_binput", "test_negative_32b_binstring",
             "test_large_32b_binbytes8", "test_large_32b_binunicode8"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in names:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, bytes) and inner.value:
                    found.append(inner.value)
    return found


def main():
    warnings.simplefilter("ignore")
    lines = []
    seen = set()

    def add(data, encoding="ASCII"):
        if (data, encoding) in seen:
            return
        seen.add((data, encoding))
        lines.append(f"{ENCODINGS[encoding]} {data.hex() or '-'} {expected(data, encoding)}")

    for name in ["DATA0", "DATA1", "DATA2", "DATA3", "DATA4"]:
        add(getattr(pickletester, name))
    for name in ["DATA_SET", "DATA_SET2", "DATA_XRANGE", "DATA_COOKIE", "DATA_UEERR"]:
        for encoding in ENCODINGS:
            add(getattr(pickletester, name), encoding)
    for value in corpus():
        for protocol in range(6):
            try:
                data = pickle.dumps(value, protocol=protocol)
            except (TypeError, pickle.PicklingError):
                continue  # protocols 0 and 1 cannot pickle some classes.
            add(data)
    py2_str = [b"U\x03ab\xe9.", b"T\x02\x00\x00\x00\xc3\xa9.", b"S'a\\xe9\\n'\n.", b"S'\\xed\\xa0\\x80'\n.",
               b"U\x03\xed\xa0\x80."]
    for data in py2_str:
        for encoding in ENCODINGS:
            add(data, encoding)
    hand = [
        b"I00\n.", b"I01\n.", b"I010\n.", b"I0x1F\n.", b"I+1\n.", b"I 1\n.", b"I1 \n.", b"I1_000\n.",
        b"I99999999999999999999\n.", b"I-99999999999999999999\n.", b"L12L\n.", b"L-0x10L\n.", b"L0o777\n.",
        b"L0b1\n.", b"L" + b"7" * 40 + b"L\n.", b"L0x" + b"f" * 40 + b"\n.", b"L0o" + b"7" * 40 + b"\n.",
        b"L0b" + b"1" * 70 + b"\n.", b"L\n.", b"LL\n.", b"I\n.", b"Iabc\n.",
        b"F1e+100\n.", b"Finf\n.", b"F-inf\n.", b"Fnan\n.", b"F1e500\n.", b"F1.\n.", b"F.5\n.", b"F1_0\n.",
        b"Va\\u00e9\\U0001F600\\\\u0041\\x\n.", b"V\\ud800\n.", b"V\\u12\n.", b"V\\\n.",
        b"S'\\101\\x41\\q'\n.", b'S"a\'b"\n.', b"S'a\n.", b"S'\n.",
        b"(I1\nI2\n0t.", b"(0N.", b"N(1.", b"]N(1.", b"N2t.", b"\x80\x06N.", b"\x80\x05N.",
        b"N\x95\x00\x00\x00\x00\x00\x00\x00\x00.", b"\x95\x02\x00\x00\x00\x00\x00\x00\x00N.",
        b"\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", b"N.junk", b"(N.", b"N(.", b"", b"\xff", b"e", b"u",
        b"N(u.", b"N(e.", b"N(\x90.", b"]Nb.", b"]I1\nb.", b"]\x940\x94h\x00h\x01.",
        b"g1\n.", b"I1\np-1\n.", b"I1\np0\ng0\n.", b"I1\np1_0\ng10\n.", b"I1\nr\x00\x00\x00\x40j\x00\x00\x00\x40.",
        b"}](I1\nI2\nu.", b"}]I1\ns.", b"}(]I1\nu.", b"\x8f(]\x90.", b"(]\x91.", b"(]N)td.",
        b"(I1\nl)\x86d.", b"}(I1\nI2\nI3\nu.", b"(I1\nd.", b"N)R.", b"cbuiltins\nint\nNR.",
        b"cbuiltins\nint\n]R.", b"cbuiltins\nint\n)R.", b"cbuiltins\nint\n)}\x92.", b"cbuiltins\nint\n)]\x92.",
        b"\x8c\x01a\x8c\x01b\x93.", b"K\x01\x8c\x01b\x93.", b"\x8c\x03a.b\x8c\x03c.d\x93.", b"c\nint\n.",
        b"c\xff\nint\n.", b"(cbuiltins\nint\nI1\no.", b"(I1\no.", b"(S'a'\nimod\ncls\n.", b"(I1\nimod\nc\xe9\n.",
        b"Pabc\n.", b"P\xff\n.", b"I1\nQ.", b"\x82\x01.", b"\x83\x01\x02.", b"\x84\x00\x00\x00\x80.",
        b"\x82\x00.", b"\x8a\x00.", b"\x8a\x01\xff.", b"\x8b\xff\xff\xff\xff.", b"\x8b\x02\x00\x00\x00\x00\x80.",
        b"C\x03abc\x98.", b"\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x98.", b"N\x98.", b"]\x98.",
        b"X\x02\x00\x00\x00\xc3\x28.", b"\x8c\x03\xed\xb0\x80.", b"\x8c\x01\x80.", b"\x8d\x01\x00\x00\x00\x00\x00\x00\x00a.",
        b"B\x01\x00\x00\x00a.", b"\x8e\x00\x00\x00\x00\x00\x00\x00\x01.", b"\x8e\x00\x00\x00\x00\x00\x00\x00\x00.",
        b"I1\n2\x86.", b"]2a.", b"]q\x00h\x00a.", b"N]\x86N\x85d.", b"\x84\x01\x00\x00\x00.", b"\x97.",
        b"\x97\x97\x86.", b"]\x97a.",
    ]
    for data in hand:
        add(data)
    for data in bad_pickles():
        add(data)
    path = Path(__file__).with_name("vectors.txt")
    path.write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} vectors written to {path}")


def fuzz(count, out):
    """Writes `count` mutated vectors to `out`, for a differential run against CPython:
    `LSA_VECTORS=out cargo test cpython_vectors`."""
    import random

    warnings.simplefilter("ignore")
    rng = random.Random(count)
    base = [bytes.fromhex(line.split(" ")[1]) for line in Path(__file__).with_name("vectors.txt").read_text().splitlines()
            if line.split(" ")[1] != "-"]
    opcodes = [bytes([o.code.encode("latin1")[0]]) for o in pickletools.opcodes]
    lines = []
    while len(lines) < count:
        data = bytearray(rng.choice(base))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data) + 1)
            choice = rng.randrange(4)
            if choice == 0 and data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
            elif choice == 1:
                data[at:at] = rng.choice(opcodes)
            elif choice == 2 and data:
                del data[min(at, len(data) - 1)]
            else:
                other = rng.choice(base)
                start = rng.randrange(len(other))
                data[at:at] = other[start:start + rng.randint(1, 12)]
        encoding = rng.choice(list(ENCODINGS))
        try:
            want = expected(bytes(data), encoding)
        except RecursionError:
            continue
        lines.append(f"{ENCODINGS[encoding]} {bytes(data).hex() or '-'} {want}")
    Path(out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--fuzz":
        fuzz(int(sys.argv[2]), sys.argv[3])
    else:
        main()
