"""CPython's verdicts on mutated pickles, for tests/differential_fuzz_test.ts.

Usage: ``python fuzz_differential.py SEED COUNT < seeds.json`` where the input is a JSON list of
base64 pickles (or ``--given`` instead of ``SEED COUNT``: the verdicts on those pickles
themselves). Prints a JSON list of COUNT mutants, each
``{"pickle": base64, "verdict": "ok", "value": tagged | null, "known": bool}`` or
``{"pickle": base64, "verdict": "error", "error": class name, "message": text}``.

The verdict is CPython's C unpickler with every global replaced by ``Anything``, a class that
accepts every call, item and state (as in codec/src/tests/make_vectors.py): what it rejects is
malformed, not merely unrunnable, and nothing named in a pickle is imported or run. The value
of an accepted pickle is the symbolic unpickler's (symbolic.py), in the tagged JSON of
tests/_tagged.ts; ``null`` when only the C unpickler accepts it (the pure-Python one differs,
e.g. on ``I010``), so that the verdict is still compared.

When the pickle is well-formed but a type the decoder knows (datetime, Decimal, numpy, …) refuses
its arguments in CPython (``KnownTypesUnpickler``), the verdict is ``"refused"``: then the
decoder may refuse too or keep an inert record, as only running the type could decide.

``known`` says whether the pickle calls one of those types at all. Where CPython itself crashes
(numpy trusts the states it is given), the verdict is ``"crashed"``.

Mutants whose verdict depends on something other than the bytes are left out: an extension
code (no registry is given), and a memo index CPython cannot allocate (``MemoryError``).
"""

import os
import resource

# Before numpy loads: one BLAS thread, and at most 4 GiB of address space for the whole oracle.
# A mutated shape makes numpy allocate what the pickle claims; with the cap that is a
# MemoryError (a verdict) instead of a machine out of memory.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

import _compat_pickle  # noqa: E402
import base64  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import symbolic  # noqa: E402

warnings.simplefilter("ignore")

# Opcodes that change a pickle's structure, to insert.
STRUCTURE = b"(.)]}Nabcdeghjlpqrstu0120\x85\x81\x94\x95"
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0xFE]
BUFFERS = 1000


class Anything:
    """What every global is: a class that accepts every call, item and state."""

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


class WholeInput(io.BytesIO):
    """The pickle as a file whose ``peek`` returns all the rest: the C unpickler then keeps the
    whole input in its buffer, exactly as ``pickle.loads`` does. With a plain ``BytesIO`` it
    reads frame by frame and drops the rest of a ``FRAME`` that an opcode crosses, rejecting
    pickles that ``pickle.loads`` (and we) accept."""

    def peek(self, size=0):
        return self.getvalue()[self.tell():]


class HarmlessUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return Anything

    def persistent_load(self, pid):
        return Anything()


# The globals the decoder gives a meaning to, and whose construction has no side effect: the
# real ones judge their own arguments. Every other global is still `Anything`.
KNOWN = {
    "builtins": {"set", "frozenset", "bytearray", "bytes", "complex", "list", "dict", "tuple",
                 "int", "float", "str", "object"},
    "copyreg": {"_reconstructor", "__newobj__", "__newobj_ex__"},
    "collections": {"OrderedDict", "defaultdict", "deque"},
    "datetime": {"datetime", "date", "time", "timedelta", "timezone"},
    "decimal": {"Decimal"},
    "uuid": {"UUID"},
    "array": {"array", "_array_reconstructor"},
    "_codecs": {"encode"},
    "numpy": {"dtype", "ndarray"},
    "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"},
    "numpy.core.numeric": {"_frombuffer"},
    "numpy._core.numeric": {"_frombuffer"},
}


class KnownTypesUnpickler(HarmlessUnpickler):
    """The known globals for real (Python 2 names mapped below protocol 3, as CPython does),
    `Anything` for the rest: how CPython and numpy judge the arguments of the types the
    decoder maps."""

    def find_class(self, module, name):
        mapped_module, mapped_name = _compat_pickle.NAME_MAPPING.get(
            (module, name), (_compat_pickle.IMPORT_MAPPING.get(module, module), name)
        )
        if name in KNOWN.get(module, ()) or mapped_name in KNOWN.get(mapped_module, ()):
            KnownTypesUnpickler.used_known = True
            return pickle.Unpickler.find_class(self, module, name)
        return Anything


def mutate(rng, seeds):
    data = bytearray(rng.choice(seeds))
    for _ in range(1 + rng.randrange(3)):
        at = rng.randrange(len(data) + 1)
        edit = rng.randrange(9)
        if edit == 0 and at < len(data):
            data[at] = rng.randrange(256)
        elif edit == 1 and at < len(data):
            data[at] ^= 1 << rng.randrange(8)
        elif edit == 2:
            del data[at : at + 1 + rng.randrange(4)]
        elif edit == 3:
            data[at:at] = bytes([rng.choice(STRUCTURE)])
        elif edit == 4:
            other = rng.choice(seeds)
            start = rng.randrange(len(other) + 1)
            data[at:at] = other[start : start + 1 + rng.randrange(32)]
        elif edit == 5 and data:
            start = rng.randrange(len(data))
            data[at:at] = data[start : start + 1 + rng.randrange(16)]
        elif edit == 6:
            for i in range(1 + rng.randrange(4)):
                if at + i < len(data):
                    data[at + i] = rng.choice(INTERESTING)
        elif edit == 7:
            del data[max(1, at) :]
        elif len(data) > 1 and data[0] == 0x80:
            data[1] = rng.randrange(6)
    return bytes(data)


def load(unpickler_class, data):
    """None when the unpickler accepts the pickle, else the exception."""
    try:
        unpickler_class(
            WholeInput(data), buffers=[pickle.PickleBuffer(b"") for _ in range(BUFFERS)]
        ).load()
    except Exception as error:  # noqa: BLE001 - the exception is the verdict
        return error
    return None


def verdict(data):
    error = load(HarmlessUnpickler, data)
    if isinstance(error, MemoryError) or "extension code" in str(error):
        return None
    if error is not None:
        return {"verdict": "error", "error": type(error).__name__, "message": str(error)[:200]}
    # Well-formed. If a known type refuses its arguments, only running it could tell: the
    # decoder may refuse too, or keep an inert record.
    KnownTypesUnpickler.used_known = False
    refusal = load(KnownTypesUnpickler, data)
    if refusal is not None:
        return {"verdict": "refused", "error": type(refusal).__name__,
                "message": str(refusal)[:200]}
    known = KnownTypesUnpickler.used_known
    try:
        expected = symbolic.symbolic(
            data, buffers=[b"" for _ in range(BUFFERS)], persistent=True
        )
    except Exception:  # noqa: BLE001 - the real numpy/datetime refused the mutated arguments
        return {"verdict": "ok", "value": None, "known": known}
    return {"verdict": "ok", "value": expected.get("ok"), "known": known}


def isolated(function, data):
    """``function(data)`` in a forked child when the pickle names numpy: numpy's
    ``__setstate__`` methods trust their arguments, and a mutated state can corrupt memory and
    crash the interpreter later. A child that dies is reported as ``{"verdict": "crashed"}``."""
    if b"numpy" not in data:
        return function(data)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            out = json.dumps(function(data)).encode()
        except BaseException as error:  # noqa: BLE001 - report, never unwind into the parent
            out = json.dumps({"verdict": "crashed", "signal": repr(error)}).encode()
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not text:
        return {"verdict": "crashed", "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0}
    return json.loads(text)


def main():
    if sys.argv[1] == "--given":
        # The verdicts on the given pickles themselves (the regressions), not on mutants.
        out = []
        for text in json.load(sys.stdin):
            result = isolated(verdict, base64.b64decode(text)) or {"verdict": "skipped"}
            result["pickle"] = text
            out.append(result)
        json.dump(out, sys.stdout)
        return
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    seeds = [base64.b64decode(text) for text in json.load(sys.stdin)]
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        data = mutate(rng, seeds)
        result = isolated(verdict, data)
        if result is not None:
            result["pickle"] = base64.b64encode(data).decode()
            out.append(result)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
