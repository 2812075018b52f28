"""The Python side of the differential tests: what a pickle *says*, as tagged JSON.

Two independent oracles, both printed as the same tagged JSON that tests/_tagged.ts makes from
the values our decoder returns:

* ``symbolic(data, ...)`` runs CPython's own pure-Python unpickler (``pickle._Unpickler``) with
  ``find_class`` returning inert ``Global`` records and ``REDUCE``/``NEWOBJ``/``NEWOBJ_EX``/
  ``INST``/``OBJ``/``BUILD`` building inert ``Record``s, so nothing is imported or called. The
  records of the globals that the decoder maps to JS types (datetime, Decimal, numpy, ...) are
  then normalized, with the real stdlib/numpy constructors fed the pickle's arguments, into
  the tagged form of that JS type.
* ``tag_real(value)`` tags what ``pickle.loads`` really returns, for values made only of types
  the decoder maps natively; it raises ``Unsupported`` otherwise.

Tagged JSON: ``null``/``true``/``false``/strings as JSON; ints as JSON numbers when
|x| <= 2**53 - 1 else ``{"$int": "digits"}``; floats as ``{"$float": x}`` (``"nan"``, ``"inf"``,
``"-inf"`` as strings); ``{"$list"|"$tuple"|"$set"|"$frozenset"|"$deque": [...]}``;
``{"$dict"|"$ordereddict"|"$defaultdict": [[k, v], ...]}``; ``{"$bytes"|"$bytearray": base64}``;
``{"$global": [module, name]}``; records ``{"$reduce"|"$newobj"|"$newobj_ex"|"$inst"|"$obj": cls,
"args": ..., "kwargs"?, "state"?, "listitems"?, "dictitems"?, "setitems"?}``; objects reached
twice carry ``"$id": n`` where first met and are ``{"$ref": n}`` afterwards.
"""

import _compat_pickle
import array
import base64
import collections
import datetime
import decimal
import io
import json
import math
import pickle
import sys
import uuid

sys.setrecursionlimit(20000)

SAFE_INT = 2**53 - 1


class Global:
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module = module
        self.name = name

    def key(self):
        module = self.module
        # numpy 2 renamed numpy.core to numpy._core; both spellings name the same functions.
        if module == "numpy.core" or module.startswith("numpy.core."):
            module = "numpy._core" + module[len("numpy.core"):]
        return module + ":" + self.name


class Record:
    __slots__ = ("kind", "cls", "args", "kwargs", "state", "listitems", "dictitems", "setitems")

    def __init__(self, kind, cls, args, kwargs=None):
        self.kind = kind
        self.cls = cls
        self.args = args
        self.kwargs = kwargs
        self.state = MISSING
        self.listitems = []
        self.dictitems = SymDict()
        self.setitems = []


class SymTuple:
    """A tuple with an identity of its own (CPython shares ``()`` and would fake sharing)."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)


class SymBytes:
    """``bytes`` with an identity of its own (CPython interns b'' and 1-byte bytes)."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = bytes(data)


class SymByteArray:
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = bytes(data)


class SymDict:
    """A dict as its pairs in insertion order; keys need not be hashable (records, tuples)."""

    __slots__ = ("pairs", "_index")

    def __init__(self):
        self.pairs = []
        self._index = {}  # (type, key) -> pair, for the keys a JS Map also compares by value

    def set(self, key, value):
        if isinstance(key, (str, int, float)) or key is None:
            pair = self._index.get((type(key), key))
            if pair is not None:
                pair[1] = value
                return
            pair = [key, value]
            self._index[(type(key), key)] = pair
            self.pairs.append(pair)
            return
        self.pairs.append([key, value])


class SymSet:
    __slots__ = ("frozen", "items")

    def __init__(self, frozen, items=()):
        self.frozen = frozen
        self.items = list(items)


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


class SymbolicError(pickle.UnpicklingError):
    """Something CPython would only reject by running code (a type check on a real object)."""


def _wrap_top(original, wrap):
    def load(self):
        original(self)
        self.stack[-1] = wrap(self.stack[-1])

    return load


class SymbolicUnpickler(pickle._Unpickler):
    """``extensions`` maps extension codes to (module, name), as the decoder's option does;
    with ``persistent``, a persistent id ``pid`` loads as the record ``persistent.load(pid)``,
    which is what the tests' ``persistentLoad`` callback returns."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, *args, extensions=None, persistent=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.extensions = extensions or {}
        self.persistent = persistent

    def get_extension(self, code):
        key = self.extensions.get(code)
        if key is None:
            raise ValueError("unregistered extension code %d" % code)
        self.append(self.find_class(*key))

    def persistent_load(self, pid):
        if not self.persistent:
            raise pickle.UnpicklingError("persistent id without a persistent_load")
        return Record("reduce", Global("persistent", "load"), SymTuple([pid]))

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        return Global(module, name)

    def _decode_string(self, value):
        if self.encoding == "bytes":
            return SymBytes(value)
        return value.decode(self.encoding, self.errors)

    def load_empty_tuple(self):
        self.append(SymTuple([]))

    # pop_mark() rebinds self.append, so the items are popped before self.append is looked up.
    def load_tuple(self):
        items = self.pop_mark()
        self.append(SymTuple(items))

    def load_tuple1(self):
        self.stack[-1] = SymTuple([self.stack[-1]])

    def load_tuple2(self):
        self.stack[-2:] = [SymTuple([self.stack[-2], self.stack[-1]])]

    def load_tuple3(self):
        self.stack[-3:] = [SymTuple([self.stack[-3], self.stack[-2], self.stack[-1]])]

    def load_empty_dictionary(self):
        self.append(SymDict())

    def load_dict(self):
        items = self.pop_mark()
        if len(items) % 2:
            raise pickle.UnpicklingError("odd number of items for DICT")
        d = SymDict()
        for i in range(0, len(items), 2):
            d.set(items[i], items[i + 1])
        self.append(d)

    def _dict_target(self):
        target = self.stack[-1]
        if isinstance(target, SymDict):
            return target
        if isinstance(target, Record):
            return target.dictitems
        raise SymbolicError("SETITEM(S) on a %s" % type(target).__name__)

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._dict_target().set(key, value)

    def load_setitems(self):
        items = self.pop_mark()
        if len(items) % 2:
            raise pickle.UnpicklingError("odd number of items for SETITEMS")
        target = self._dict_target()
        for i in range(0, len(items), 2):
            target.set(items[i], items[i + 1])

    def load_empty_set(self):
        self.append(SymSet(False))

    def load_additems(self):
        items = self.pop_mark()
        target = self.stack[-1]
        if isinstance(target, SymSet) and not target.frozen:
            target.items.extend(items)
        elif isinstance(target, Record):
            target.setitems.extend(items)
        else:
            raise SymbolicError("ADDITEMS on a %s" % type(target).__name__)

    def load_frozenset(self):
        items = self.pop_mark()
        self.append(SymSet(True, items))

    def _list_target(self):
        target = self.stack[-1]
        if type(target) is list:
            return target
        if isinstance(target, Record):
            return target.listitems
        raise SymbolicError("APPEND(S) on a %s" % type(target).__name__)

    def load_append(self):
        value = self.stack.pop()
        self._list_target().append(value)

    def load_appends(self):
        items = self.pop_mark()
        self._list_target().extend(items)

    @staticmethod
    def _check_callable(func, opcode):
        if not isinstance(func, (Global, Record)):
            raise SymbolicError("%s callable is a %s" % (opcode, type(func).__name__))

    @staticmethod
    def _check_args(args, opcode):
        if not isinstance(args, SymTuple):
            raise SymbolicError("%s args is a %s, not a tuple" % (opcode, type(args).__name__))

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        self._check_callable(func, "REDUCE")
        self._check_args(args, "REDUCE")
        self.stack[-1] = Record("reduce", func, args)

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self._check_callable(cls, "NEWOBJ")
        self._check_args(args, "NEWOBJ")
        self.append(Record("newobj", cls, args))

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self._check_callable(cls, "NEWOBJ_EX")
        self._check_args(args, "NEWOBJ_EX")
        if not isinstance(kwargs, SymDict):
            raise SymbolicError("NEWOBJ_EX kwargs is a %s" % type(kwargs).__name__)
        self.append(Record("newobj_ex", cls, args, kwargs))

    def load_inst(self):
        module = self.readline()[:-1].decode("ascii")
        name = self.readline()[:-1].decode("ascii")
        cls = self.find_class(module, name)
        args = self.pop_mark()
        self.append(Record("inst", cls, SymTuple(args)))

    def load_obj(self):
        args = self.pop_mark()
        cls = args.pop(0)
        self._check_callable(cls, "OBJ")
        self.append(Record("obj", cls, SymTuple(args)))

    def load_build(self):
        state = self.stack.pop()
        target = self.stack[-1]
        if not isinstance(target, Record):
            raise SymbolicError("BUILD on a %s" % type(target).__name__)
        target.state = state

    def load_readonly_buffer(self):
        top = self.stack[-1]
        if isinstance(top, SymByteArray):
            self.stack[-1] = SymBytes(top.data)

    dispatch[pickle.EMPTY_TUPLE[0]] = load_empty_tuple
    dispatch[pickle.TUPLE[0]] = load_tuple
    dispatch[pickle.TUPLE1[0]] = load_tuple1
    dispatch[pickle.TUPLE2[0]] = load_tuple2
    dispatch[pickle.TUPLE3[0]] = load_tuple3
    dispatch[pickle.EMPTY_DICT[0]] = load_empty_dictionary
    dispatch[pickle.DICT[0]] = load_dict
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.EMPTY_SET[0]] = load_empty_set
    dispatch[pickle.ADDITEMS[0]] = load_additems
    dispatch[pickle.FROZENSET[0]] = load_frozenset
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    dispatch[pickle.INST[0]] = load_inst
    dispatch[pickle.OBJ[0]] = load_obj
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.READONLY_BUFFER[0]] = load_readonly_buffer
    for _op in (pickle.BINBYTES, pickle.SHORT_BINBYTES, pickle.BINBYTES8):
        dispatch[_op[0]] = _wrap_top(pickle._Unpickler.dispatch[_op[0]], SymBytes)
    dispatch[pickle.BYTEARRAY8[0]] = _wrap_top(
        pickle._Unpickler.dispatch[pickle.BYTEARRAY8[0]], lambda b: SymByteArray(b))


def symbolic_load(data, encoding="ASCII", buffers=None, extensions=None, persistent=False):
    """Runs the inert unpickler; returns the symbolic value (or raises like CPython's pickle.py)."""
    wrapped = None if buffers is None else [SymByteArray(b) for b in buffers]
    return SymbolicUnpickler(io.BytesIO(data), encoding=encoding, buffers=wrapped,
                             extensions=extensions, persistent=persistent).load()


# ---------------------------------------------------------------------------------------------
# Normalization: records of the globals the decoder maps natively become Native nodes.


class Unsupported(Exception):
    """The value holds something this oracle does not describe natively."""


class Raw:
    """Already tagged JSON."""

    __slots__ = ("json",)

    def __init__(self, json_value):
        self.json = json_value


class NodeList:
    """A JSON array of tagged child nodes (no wrapper of its own)."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)


class PairList:
    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = [list(p) for p in pairs]


class Native:
    """A JS value type of the decoder as ordered (key, node) fields. ``identity`` says whether JS
    keeps it as one object that shared references must preserve: "mutable" (containers,
    arrays), "frozen" (bytes, frozenset) or None (value types such as Decimal or datetime)."""

    __slots__ = ("fields", "identity")

    def __init__(self, identity, fields):
        self.identity = identity
        self.fields = fields


def tag_int(value):
    if -SAFE_INT <= value <= SAFE_INT:
        return value
    return {"$int": str(value)}


def tag_float(value):
    value = float(value)
    if math.isnan(value):
        return {"$float": "nan"}
    if math.isinf(value):
        return {"$float": "inf" if value > 0 else "-inf"}
    return {"$float": value}


def tag_complex(value):
    return {"$complex": [tag_float(value.real), tag_float(value.imag)]}


def b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def tag_dtype(dt):
    """A numpy dtype as the decoder's DType: the str and byte order it pickles, its size and,
    for numbers, numpy's name."""
    _, args, state = dt.__reduce__()
    tag = {"str": args[0], "byteorder": state[1], "itemsize": dt.itemsize}
    if dt.kind in "biufc":
        tag["name"] = dt.name
    if dt.names:
        tag["names"] = list(dt.names)
    return tag


def tag_numbers(values, kind):
    if kind == "b":
        return [bool(v) for v in values]
    if kind in "iu":
        return [tag_int(int(v)) for v in values]
    if kind == "f":
        return [tag_float(v) for v in values]
    if kind == "c":
        return [tag_complex(complex(v)) for v in values]
    raise Unsupported("numbers of kind %r" % kind)


def memory_order(arr):
    return "F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"


def ndarray_fields(arr, object_items=None):
    """Tagged fields of a real ndarray; ``object_items`` are the already normalized nodes of an
    object array (in the array's memory order)."""
    order = memory_order(arr)
    kind = arr.dtype.kind
    flat = arr.ravel(order=order)
    if kind == "O":
        if object_items is None:
            object_items = [to_real_node(v) for v in flat.tolist()]
        data = NodeList(object_items)
    elif kind in "biufc" and has_typed_array(arr.dtype):
        data = Raw(tag_numbers(flat.tolist(), kind))
    elif kind in "Mm" and arr.dtype.itemsize == 8:
        # datetime64/timedelta64 are their int64 ticks (NaT is -2**63).
        ticks = flat.view(arr.dtype.str[0] + "i8")
        data = Raw([tag_int(int(v)) for v in ticks.tolist()])
    else:
        data = Raw({"$bytes": b64(arr.tobytes(order=order))})
    return [("$ndarray", Raw(tag_dtype(arr.dtype))), ("shape", Raw(list(arr.shape))),
            ("order", Raw(order)), ("data", data)]


def has_typed_array(dtype):
    """Whether the decoder gives this numeric dtype a JS typed array (else raw bytes): not for
    long double (float128, complex256)."""
    sizes = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8), "c": (8, 16)}
    return dtype.itemsize in sizes.get(dtype.kind, ())


def numpy_scalar_fields(value):
    kind = value.dtype.kind
    if kind in "biufc" and has_typed_array(value.dtype):
        tagged = tag_numbers([value.item()], kind)[0]
    elif kind in "Mm" and value.dtype.itemsize == 8:
        tagged = tag_int(int(value.view(value.dtype.str[0] + "i8")))
    else:
        tagged = {"$bytes": b64(value.tobytes())}
    return [("$npscalar", Raw(tag_dtype(value.dtype))), ("value", Raw(tagged))]


def array_fields(arr):
    if arr.typecode in ("u", "w"):
        data = arr.tounicode()
    elif arr.typecode in ("f", "d"):
        data = [tag_float(v) for v in arr.tolist()]
    else:
        data = [tag_int(v) for v in arr.tolist()]
    return [("$array", Raw(arr.typecode)), ("data", Raw(data))]


def timedelta_json(td):
    return {"$timedelta": [td.days, td.seconds, td.microseconds]}


def timezone_json(tz):
    init = tz.__getinitargs__()
    return {"$timezone": timedelta_json(init[0]), "name": init[1] if len(init) > 1 else None}


class Normalizer:
    """Symbolic value → node graph (shared structure and cycles kept, records mapped)."""

    def __init__(self):
        self.done = {}

    def node(self, value):
        if value is None or isinstance(value, (bool, int, float, str, Global)):
            return value
        key = id(value)
        if key in self.done:
            return self.done[key]
        if type(value) is list:
            out = []
            self.done[key] = out
            out.extend(self.node(v) for v in value)
            return out
        if isinstance(value, SymTuple):
            out = SymTuple([])
            self.done[key] = out
            out.items = [self.node(v) for v in value.items]
            return out
        if isinstance(value, (SymBytes, SymByteArray)):
            self.done[key] = value
            return value
        if isinstance(value, SymDict):
            out = SymDict()
            self.done[key] = out
            out.pairs = [[self.node(k), self.node(v)] for k, v in value.pairs]
            return out
        if isinstance(value, SymSet):
            out = SymSet(value.frozen)
            self.done[key] = out
            out.items = [self.node(v) for v in value.items]
            return out
        if isinstance(value, Record):
            kind = value.kind
            if kind == "newobj_ex" and not value.kwargs.pairs:
                # cls.__new__(cls, *args, **{}) is NEWOBJ; CPython never writes NEWOBJ_EX so.
                kind = "newobj"
            handler = None
            if isinstance(value.cls, Global):
                handler = NATIVE_HANDLERS.get((kind, value.cls.key()))
            if handler is not None:
                native = Native("mutable", [])
                self.done[key] = native
                try:
                    handler(self, value, native)
                except Unsupported:
                    del self.done[key]
                else:
                    if native.fields and native.fields[0][0] == "$same":
                        # The reducer's value is a plain node (int(), list(), a NEWOBJ record).
                        self.done[key] = native.fields[0][1]
                    return self.done[key]
            out = Record(kind, None, None)
            self.done[key] = out
            out.cls = self.node(value.cls)
            out.args = self.node(value.args)
            out.kwargs = None if kind != "newobj_ex" else self.node(value.kwargs)
            out.state = MISSING if value.state is MISSING else self.node(value.state)
            out.listitems = [self.node(v) for v in value.listitems]
            out.dictitems = self.node(value.dictitems)
            out.setitems = [self.node(v) for v in value.setitems]
            return out
        raise TypeError("unexpected symbolic value %r" % (value,))


def _plain(record):
    """The record has no state/items beyond its arguments (else the decoder keeps a record)."""
    if record.state is not MISSING or record.listitems or record.dictitems.pairs or record.setitems:
        raise Unsupported("extra state")


def _args(record, low, high=None):
    items = record.args.items
    if not low <= len(items) <= (low if high is None else high):
        raise Unsupported("arity")
    return items


def as_bytes(value):
    """Raw bytes from a symbolic bytes value: bytes, latin-1 str (py2), or _codecs.encode(...)."""
    if isinstance(value, (SymBytes, SymByteArray)):
        return value.data
    if isinstance(value, str):
        return value.encode("latin-1")
    if isinstance(value, Record) and isinstance(value.cls, Global):
        key = value.cls.key()
        if key == "_codecs:encode" and value.kind == "reduce":
            text, encoding = _args(value, 2)
            if isinstance(text, str) and encoding in ("latin1", "latin-1"):
                return text.encode("latin-1")
        if key == "builtins:bytes" and value.kind == "reduce" and not value.args.items:
            return b""
    raise Unsupported("not bytes")


def as_items(value):
    if type(value) is list:
        return value
    if isinstance(value, SymTuple):
        return value.items
    raise Unsupported("not a sequence")


def real_value(value):
    """A symbolic value as the real Python object, for the data the native constructors take."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, SymTuple):
        return tuple(real_value(v) for v in value.items)
    if type(value) is list:
        return [real_value(v) for v in value]
    if isinstance(value, SymDict):
        return {real_value(k): real_value(v) for k, v in value.pairs}
    if isinstance(value, (SymBytes, SymByteArray)):
        return value.data
    if isinstance(value, Record) and isinstance(value.cls, Global):
        key = value.cls.key()
        if key == "numpy._core.multiarray:dtype" or key == "numpy:dtype":
            return real_dtype(value)
        return as_bytes(value)
    raise Unsupported("no real value for %r" % (value,))


def real_dtype(record):
    import numpy

    args = [real_value(a) for a in _args(record, 1, 3)]
    dt = numpy.dtype(*args)
    if record.state is not MISSING:
        dt.__setstate__(real_value(record.state))
    return dt


def _set_handler(frozen):
    def handle(norm, record, native):
        _plain(record)
        items = [] if not record.args.items else as_items(_args(record, 1)[0])
        native.identity = "frozen" if frozen else "mutable"
        native.fields = [("$frozenset" if frozen else "$set", NodeList(norm.node(v) for v in items))]

    return handle


def _bytearray_handler(norm, record, native):
    _plain(record)
    args = _args(record, 0, 2)
    if not args:
        data = b""
    elif len(args) == 2:
        if not isinstance(args[0], str):
            raise Unsupported("bytearray(str, encoding)")
        data = args[0].encode(args[1])
    else:
        data = as_bytes(args[0])
    native.fields = [("$bytearray", Raw(b64(data)))]


def _bytes_handler(norm, record, native):
    _plain(record)
    native.identity = "frozen"
    native.fields = [("$bytes", Raw(b64(as_bytes(record))))]


def _complex_handler(norm, record, native):
    _plain(record)
    args = _args(record, 1, 2)
    if not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        raise Unsupported("complex of non-numbers")
    native.identity = None
    native.fields = [("$complex", Raw(tag_complex(complex(*args))["$complex"]))]


def _tzinfo_node(norm, args, index):
    return norm.node(args[index]) if len(args) > index else None


def _datetime_handler(norm, record, native):
    _plain(record)
    args = _args(record, 1, 2)
    value = datetime.datetime(as_bytes(args[0]))
    native.identity = None
    native.fields = [
        ("$datetime", Raw([value.year, value.month, value.day, value.hour, value.minute,
                           value.second, value.microsecond])),
        ("tzinfo", _tzinfo_node(norm, args, 1)), ("fold", Raw(value.fold))]


def _date_handler(norm, record, native):
    _plain(record)
    value = datetime.date(as_bytes(_args(record, 1)[0]))
    native.identity = None
    native.fields = [("$date", Raw([value.year, value.month, value.day]))]


def _time_handler(norm, record, native):
    _plain(record)
    args = _args(record, 1, 2)
    value = datetime.time(as_bytes(args[0]))
    native.identity = None
    native.fields = [
        ("$time", Raw([value.hour, value.minute, value.second, value.microsecond])),
        ("tzinfo", _tzinfo_node(norm, args, 1)), ("fold", Raw(value.fold))]


def _timedelta_handler(norm, record, native):
    _plain(record)
    args = _args(record, 0, 3)
    if not all(type(a) is int for a in args):
        raise Unsupported("timedelta of non-ints")
    native.identity = None
    native.fields = [("$timedelta", Raw(timedelta_json(datetime.timedelta(*args))["$timedelta"]))]


def _timezone_handler(norm, record, native):
    _plain(record)
    args = _args(record, 1, 2)
    offset = args[0]
    if not (isinstance(offset, Record) and isinstance(offset.cls, Global)
            and offset.cls.key() == "datetime:timedelta"):
        raise Unsupported("timezone offset")
    real = datetime.timezone(datetime.timedelta(*real_value(offset.args)),
                             *([args[1]] if len(args) > 1 else []))
    native.identity = None
    tagged = timezone_json(real)
    native.fields = [("$timezone", Raw(tagged["$timezone"])), ("name", Raw(tagged["name"]))]


def _decimal_handler(norm, record, native):
    _plain(record)
    (text,) = _args(record, 1)
    if not isinstance(text, str):
        raise Unsupported("Decimal of a non-str")
    native.identity = None
    native.fields = [("$decimal", Raw(str(decimal.Decimal(text))))]


def _ordered_dict_handler(norm, record, native):
    if record.state is not MISSING or record.listitems or record.setitems:
        raise Unsupported("OrderedDict with state")
    args = _args(record, 0, 1)
    pairs = [as_items(p) for p in as_items(args[0])] if args else []
    pairs = [[norm.node(k), norm.node(v)] for k, v in pairs]
    pairs += [[norm.node(k), norm.node(v)] for k, v in record.dictitems.pairs]
    native.fields = [("$ordereddict", PairList(pairs))]


def _defaultdict_handler(norm, record, native):
    if record.state is not MISSING or record.listitems or record.setitems:
        raise Unsupported("defaultdict with state")
    args = _args(record, 0, 1)
    factory = norm.node(args[0]) if args else None
    pairs = [[norm.node(k), norm.node(v)] for k, v in record.dictitems.pairs]
    native.fields = [("$defaultdict", PairList(pairs)), ("factory", factory)]


def _deque_handler(norm, record, native):
    if record.state is not MISSING or record.dictitems.pairs or record.setitems:
        raise Unsupported("deque with state")
    args = _args(record, 0, 2)
    items = list(as_items(args[0])) if args else []
    maxlen = args[1] if len(args) > 1 else None
    items += record.listitems
    native.fields = [("$deque", NodeList(norm.node(v) for v in items)), ("maxlen", Raw(maxlen))]


def _uuid_fields(state):
    if not isinstance(state, SymDict):
        raise Unsupported("UUID state")
    for key, value in state.pairs:
        if key == "int" and type(value) is int:
            return [("$uuid", Raw(str(uuid.UUID(int=value))))]
    raise Unsupported("UUID without int")


def _uuid_handler(norm, record, native):
    if record.args.items or record.listitems or record.dictitems.pairs or record.setitems:
        raise Unsupported("UUID with args")
    native.identity = None
    native.fields = _uuid_fields(record.state)


def _reconstructor_handler(norm, record, native):
    # copyreg._reconstructor(cls, object, None) is how protocols 0 and 1 write object.__new__(cls):
    # the decoder reads it as NEWOBJ(cls, ()), which the rest of the record then builds.
    cls, base, base_state = _args(record, 3)
    if not (isinstance(cls, Global) and isinstance(base, Global)
            and base.key() == "builtins:object" and base_state is None):
        raise Unsupported("not object.__new__(cls)")
    if cls.key() == "uuid:UUID":
        native.identity = None
        native.fields = _uuid_fields(record.state)
        return
    node = Record("newobj", cls, SymTuple([]))
    # Registered before its parts are normalized: the state may refer back to the object.
    norm.done[id(record)] = node
    node.state = MISSING if record.state is MISSING else norm.node(record.state)
    node.listitems = [norm.node(v) for v in record.listitems]
    node.dictitems = norm.node(record.dictitems)
    node.setitems = [norm.node(v) for v in record.setitems]
    native.identity = "all"
    native.fields = [("$same", node)]


def _plain_data(args):
    """Arguments made of plain data only (what the builtins reducers accept)."""
    try:
        return real_value(args)
    except (TypeError, ValueError) as exc:  # e.g. an unhashable dict key
        raise Unsupported(str(exc)) from exc


def _builtin_scalar_handler(function):
    def handle(norm, record, native):
        _plain(record)
        args = _plain_data(record.args)
        if any(not isinstance(a, (bool, int, float, str)) for a in args):
            raise Unsupported("non-scalar argument")
        if function is int and any(isinstance(a, float) for a in args):
            raise Unsupported("int() of a float")
        try:
            value = function(*args)
        except (TypeError, ValueError) as exc:
            raise Unsupported(str(exc))
        native.identity = None
        native.fields = [("$same", value)]

    return handle


def _builtin_sequence_handler(kind):
    def handle(norm, record, native):
        _plain(record)
        items = [] if not record.args.items else list(as_items(_args(record, 1)[0]))
        if kind == "list":
            node = [norm.node(v) for v in items]
        else:
            node = SymTuple([norm.node(v) for v in items])
        native.identity = "all"
        native.fields = [("$same", node)]

    return handle


def _builtin_dict_handler(norm, record, native):
    _plain(record)
    args = _args(record, 0, 1)
    out = SymDict()
    if args:
        source = args[0]
        if isinstance(source, SymDict):
            pairs = source.pairs
        else:
            pairs = [as_items(p) for p in as_items(source)]
            if any(len(p) != 2 for p in pairs):
                raise Unsupported("dict() of non-pairs")
        for key, value in pairs:
            out.set(norm.node(key), norm.node(value))
    native.identity = "all"
    native.fields = [("$same", out)]


def _array_reconstructor_handler(norm, record, native):
    _plain(record)
    cls, typecode, mformat, data = _args(record, 4)
    if not (isinstance(cls, Global) and cls.key() == "array:array"):
        raise Unsupported("array subclass")
    real = array._array_reconstructor(array.array, typecode, mformat, as_bytes(data))
    native.fields = array_fields(real)


def _array_handler(norm, record, native):
    _plain(record)
    args = _args(record, 1, 2)
    real = array.array(*real_value(SymTuple(args)))
    native.fields = array_fields(real)


def _ndarray_from_state(norm, record, native):
    import numpy

    cls, shape0, tag = _args(record, 3)
    if not (isinstance(cls, Global) and cls.key() == "numpy:ndarray"):
        raise Unsupported("ndarray subclass")
    if record.listitems or record.dictitems.pairs or record.setitems:
        raise Unsupported("ndarray with items")
    state = record.state
    if not isinstance(state, SymTuple):
        raise Unsupported("ndarray state")
    items = state.items
    if len(items) == 5:
        items = items[1:]
    shape, dtype_record, is_fortran, data = items
    dtype = real_dtype(dtype_record)
    shape = real_value(shape)
    order = "F" if is_fortran else "C"
    if dtype.kind == "O":
        values = as_items(data)
        arr = numpy.empty(shape, dtype=object, order=order)
        # numpy pickles an object array as its items in C order, whatever its memory order.
        arr[...] = numpy.array(list(range(len(values))), dtype=object).reshape(shape)
        nodes = [norm.node(values[i]) for i in arr.ravel(order=memory_order(arr)).tolist()]
        native.fields = ndarray_fields(arr, nodes)
        return
    raw = as_bytes(data)
    arr = numpy.frombuffer(raw, dtype=dtype).reshape(shape, order=order) if raw else \
        numpy.empty(shape, dtype=dtype, order=order)
    native.fields = ndarray_fields(arr)


def _frombuffer_handler(norm, record, native):
    import numpy

    _plain(record)
    buf, dtype_record, shape, order = _args(record, 4)
    dtype = real_dtype(dtype_record)
    arr = numpy.frombuffer(as_bytes(buf), dtype=dtype).reshape(real_value(shape), order=order)
    native.fields = ndarray_fields(arr)


def _scalar_handler(norm, record, native):
    import numpy

    _plain(record)
    args = _args(record, 1, 2)
    dtype = real_dtype(args[0])
    if dtype.kind == "O":
        raise Unsupported("object scalar")
    value = numpy.frombuffer(as_bytes(args[1]), dtype=dtype)[0]
    native.identity = None
    native.fields = numpy_scalar_fields(value)


def _dtype_handler(norm, record, native):
    if record.listitems or record.dictitems.pairs or record.setitems:
        raise Unsupported("dtype with items")
    native.identity = None
    native.fields = [("$dtype", Raw(tag_dtype(real_dtype(record))))]


NATIVE_HANDLERS = {
    ("reduce", "builtins:int"): _builtin_scalar_handler(int),
    ("reduce", "builtins:float"): _builtin_scalar_handler(float),
    ("reduce", "builtins:str"): _builtin_scalar_handler(str),
    ("reduce", "builtins:list"): _builtin_sequence_handler("list"),
    ("reduce", "builtins:tuple"): _builtin_sequence_handler("tuple"),
    ("reduce", "builtins:dict"): _builtin_dict_handler,
    ("reduce", "builtins:set"): _set_handler(False),
    ("reduce", "builtins:frozenset"): _set_handler(True),
    ("reduce", "builtins:bytearray"): _bytearray_handler,
    ("reduce", "builtins:bytes"): _bytes_handler,
    ("reduce", "_codecs:encode"): _bytes_handler,
    ("reduce", "builtins:complex"): _complex_handler,
    ("reduce", "datetime:datetime"): _datetime_handler,
    ("reduce", "datetime:date"): _date_handler,
    ("reduce", "datetime:time"): _time_handler,
    ("reduce", "datetime:timedelta"): _timedelta_handler,
    ("reduce", "datetime:timezone"): _timezone_handler,
    ("reduce", "decimal:Decimal"): _decimal_handler,
    ("reduce", "collections:OrderedDict"): _ordered_dict_handler,
    ("reduce", "collections:defaultdict"): _defaultdict_handler,
    ("reduce", "collections:deque"): _deque_handler,
    ("newobj", "uuid:UUID"): _uuid_handler,
    ("reduce", "copyreg:_reconstructor"): _reconstructor_handler,
    ("reduce", "array:_array_reconstructor"): _array_reconstructor_handler,
    ("reduce", "array:array"): _array_handler,
    ("reduce", "numpy._core.multiarray:_reconstruct"): _ndarray_from_state,
    ("reduce", "numpy._core.numeric:_frombuffer"): _frombuffer_handler,
    ("reduce", "numpy._core.multiarray:scalar"): _scalar_handler,
    ("reduce", "numpy:dtype"): _dtype_handler,
}


# ---------------------------------------------------------------------------------------------
# Tagging a node graph.


def _has_identity(node, mode):
    """Whether a node is one JS object whose sharing the tagged form records. ``mode`` "all"
    tracks every object the decoder makes once per pickle opcode; "mutable" only the objects
    whose identity CPython itself guarantees (it shares (), b'' and small bytes)."""
    if isinstance(node, Native):
        return node.identity == "mutable" or (mode == "all" and node.identity is not None)
    if isinstance(node, SymSet):
        return mode == "all" or not node.frozen
    if mode == "all":
        return isinstance(node, (list, SymTuple, SymDict, SymBytes, SymByteArray, Record))
    return isinstance(node, (list, SymDict, SymByteArray))


def _children(node):
    if type(node) is list:
        return node
    if isinstance(node, SymTuple):
        return node.items
    if isinstance(node, SymSet):
        return node.items
    if isinstance(node, SymDict):
        return [x for pair in node.pairs for x in pair]
    if isinstance(node, Record):
        out = [node.cls, node.args]
        if node.kwargs is not None:
            out.append(node.kwargs)
        if node.state is not MISSING:
            out.append(node.state)
        out += node.listitems
        out += [x for pair in node.dictitems.pairs for x in pair]
        out += node.setitems
        return out
    if isinstance(node, Native):
        out = []
        for _, value in node.fields:
            if isinstance(value, NodeList):
                out += value.items
            elif isinstance(value, PairList):
                out += [x for pair in value.pairs for x in pair]
            elif not isinstance(value, Raw):
                out.append(value)
        return out
    if node is None or isinstance(node, (bool, int, float, str, Global, SymBytes, SymByteArray)):
        return []
    raise TypeError("no children for %r" % (node,))


class Tagger:
    def __init__(self, root, mode="all"):
        self.mode = mode
        self.counts = {}
        self.ids = {}
        seen = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if _has_identity(node, mode):
                key = id(node)
                self.counts[key] = self.counts.get(key, 0) + 1
                if key in seen:
                    continue
                seen.add(key)
            stack.extend(_children(node))

    def tag(self, node):
        if node is None or isinstance(node, (bool, str)):
            return node
        if isinstance(node, int):
            return tag_int(node)
        if isinstance(node, float):
            return tag_float(node)
        if isinstance(node, Global):
            return {"$global": [node.module, node.name]}
        if isinstance(node, Raw):
            return node.json
        if isinstance(node, NodeList):
            return [self.tag(v) for v in node.items]
        if isinstance(node, PairList):
            return [[self.tag(k), self.tag(v)] for k, v in node.pairs]
        ident = None
        if _has_identity(node, self.mode):
            key = id(node)
            if key in self.ids:
                return {"$ref": self.ids[key]}
            if self.counts[key] > 1:
                ident = self.ids[key] = len(self.ids) + 1
        out = self._tag_object(node)
        if ident is not None:
            out["$id"] = ident
        return out

    def _tag_object(self, node):
        if type(node) is list:
            return {"$list": [self.tag(v) for v in node]}
        if isinstance(node, SymTuple):
            return {"$tuple": [self.tag(v) for v in node.items]}
        if isinstance(node, SymBytes):
            return {"$bytes": b64(node.data)}
        if isinstance(node, SymByteArray):
            return {"$bytearray": b64(node.data)}
        if isinstance(node, SymDict):
            return {"$dict": [[self.tag(k), self.tag(v)] for k, v in node.pairs]}
        if isinstance(node, SymSet):
            return {"$frozenset" if node.frozen else "$set": [self.tag(v) for v in node.items]}
        if isinstance(node, Record):
            out = {"$" + node.kind: self.tag(node.cls), "args": self.tag(node.args)}
            if node.kwargs is not None:
                out["kwargs"] = self.tag(node.kwargs)
            if node.state is not MISSING:
                out["state"] = self.tag(node.state)
            if node.listitems:
                out["listitems"] = [self.tag(v) for v in node.listitems]
            if node.dictitems.pairs:
                out["dictitems"] = [[self.tag(k), self.tag(v)] for k, v in node.dictitems.pairs]
            if node.setitems:
                out["setitems"] = [self.tag(v) for v in node.setitems]
            return out
        if isinstance(node, Native):
            return {key: self.tag(value) for key, value in node.fields}
        raise TypeError("cannot tag %r" % (node,))


def symbolic(data, encoding="ASCII", buffers=None, extensions=None, persistent=False):
    """The tagged expectation for a pickle: ``{"ok": tagged}`` or ``{"error": class name}``."""
    try:
        value = symbolic_load(data, encoding=encoding, buffers=buffers, extensions=extensions,
                              persistent=persistent)
    except Exception as exc:  # the exception class is the verdict
        return {"error": type(exc).__name__, "message": str(exc)[:200]}
    root = Normalizer().node(value)
    return {"ok": Tagger(root).tag(root)}


# ---------------------------------------------------------------------------------------------
# Tagging what pickle.loads really returns.

_MUTABLE_REAL = (list, dict, set, bytearray, collections.OrderedDict, collections.defaultdict,
                 collections.deque, array.array)


def to_real_node(value):
    """A real Python value → node graph (identity kept for mutable objects only)."""
    return _RealConverter().node(value)


class _RealConverter:
    def __init__(self):
        self.done = {}

    def node(self, value):
        t = type(value)
        if value is None or t in (bool, int, float, str):
            return value
        key = id(value)
        if key in self.done:
            return self.done[key]
        numpy = sys.modules.get("numpy")
        if t is list:
            out = []
            self.done[key] = out
            out.extend(self.node(v) for v in value)
            return out
        if t is tuple:
            return SymTuple([self.node(v) for v in value])
        if t is bytes:
            return SymBytes(value)
        if t is bytearray:
            out = SymByteArray(value)
            self.done[key] = out
            return out
        if t is dict:
            out = SymDict()
            self.done[key] = out
            out.pairs = [[self.node(k), self.node(v)] for k, v in value.items()]
            return out
        if t in (set, frozenset):
            out = SymSet(t is frozenset)
            if t is set:
                self.done[key] = out
            out.items = [self.node(v) for v in value]
            return out
        native = Native("mutable" if isinstance(value, _MUTABLE_REAL) else None, [])
        if native.identity:
            self.done[key] = native
        if t is complex:
            native.fields = [("$complex", Raw(tag_complex(value)["$complex"]))]
        elif t is decimal.Decimal:
            native.fields = [("$decimal", Raw(str(value)))]
        elif t is uuid.UUID:
            native.fields = [("$uuid", Raw(str(value)))]
        elif t is datetime.datetime:
            native.fields = [("$datetime", Raw([value.year, value.month, value.day, value.hour,
                                                value.minute, value.second, value.microsecond])),
                             ("tzinfo", self.node(value.tzinfo)), ("fold", Raw(value.fold))]
        elif t is datetime.date:
            native.fields = [("$date", Raw([value.year, value.month, value.day]))]
        elif t is datetime.time:
            native.fields = [("$time", Raw([value.hour, value.minute, value.second,
                                            value.microsecond])),
                             ("tzinfo", self.node(value.tzinfo)), ("fold", Raw(value.fold))]
        elif t is datetime.timedelta:
            native.fields = [("$timedelta", Raw(timedelta_json(value)["$timedelta"]))]
        elif t is datetime.timezone:
            tagged = timezone_json(value)
            native.fields = [("$timezone", Raw(tagged["$timezone"])), ("name", Raw(tagged["name"]))]
        elif t is collections.OrderedDict:
            native.fields = [("$ordereddict", PairList([self.node(k), self.node(v)]
                                                       for k, v in value.items()))]
        elif t is collections.defaultdict:
            factory = value.default_factory
            native.fields = [("$defaultdict", PairList([self.node(k), self.node(v)]
                                                       for k, v in value.items())),
                             ("factory", None if factory is None
                              else Global(factory.__module__, factory.__qualname__))]
        elif t is collections.deque:
            native.fields = [("$deque", NodeList(self.node(v) for v in value)),
                             ("maxlen", Raw(value.maxlen))]
        elif t is array.array:
            native.fields = array_fields(value)
        elif numpy is not None and t is numpy.ndarray:
            native.identity = "mutable"
            self.done[key] = native
            items = None
            if value.dtype.kind == "O":
                items = [self.node(v) for v in value.ravel(order=memory_order(value)).tolist()]
            native.fields = ndarray_fields(value, items)
        elif numpy is not None and isinstance(value, numpy.generic):
            native.fields = numpy_scalar_fields(value)
        elif numpy is not None and isinstance(value, numpy.dtype):
            native.fields = [("$dtype", Raw(tag_dtype(value)))]
        else:
            raise Unsupported(t.__qualname__)
        return native


def tag_real(value):
    """What ``pickle.loads`` returned, tagged (identity of mutable objects only); raises
    ``Unsupported`` for types the decoder keeps as records."""
    root = to_real_node(value)
    return Tagger(root, "mutable").tag(root)


def canonical(tagged):
    """The tagged form with what a real unpickle does not keep: set order (hash order in
    CPython, pickle order in the decoder) and the dtype byte order (numpy's _reconstruct
    byte-swaps non-native arrays to native order on load)."""
    if isinstance(tagged, list):
        return [canonical(v) for v in tagged]
    if not isinstance(tagged, dict):
        return tagged
    out = {k: canonical(v) for k, v in tagged.items()}
    for key in ("$set", "$frozenset"):
        if key in out:
            out[key] = sorted(out[key], key=lambda e: json.dumps(e, sort_keys=True))
    for key in ("$ndarray", "$npscalar", "$dtype"):
        if key in out:
            out[key] = {k: v for k, v in out[key].items() if k != "byteorder"}
    return out
