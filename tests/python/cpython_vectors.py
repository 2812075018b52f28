"""Extracts CPython's own unpickling test vectors and CPython's verdict on each.

Usage:
  python cpython_vectors.py extract OUT.json   (needs the stdlib's test.pickletester)
  python cpython_vectors.py verify IN.json     (re-runs every vector through this CPython)
  python cpython_vectors.py judge BASE64 KWARGS_JSON   (one verdict, memory-capped)

``extract`` runs every test method of ``test.pickletester.AbstractUnpickleTests`` with a
recorder in place of ``loads`` and ``check_unpickling_error``, so it captures the exact bytes
each test feeds the unpickler (DATA0-DATA4, the Python 2 pickles, test_bad_stack,
test_bad_mark, test_truncated_data, the quoting/escaping/memo tests, bad REDUCE/NEWOBJ/
NEWOBJ_EX, ...), including those the tests compute. Only the data is written out: for each
vector its bytes, the test it came from, the ``loads`` keyword arguments, whether the test
expects it to fail, CPython's C ``pickle.loads`` verdict (``"ok"`` or the exception class),
and the symbolic unpickler's expectation (see symbolic.py).

``verify`` checks that this interpreter still gives every recorded verdict, for CI machines
whose Python has no ``test`` package.
"""

import base64
import json
import pickle
import resource
import subprocess
import sys
import unittest

import symbolic

# A few vectors make CPython try to allocate a huge memo; cap the address space of the
# subprocess that judges them so that they fail fast with MemoryError.
MEMORY_LIMIT = 2 << 30


class C:
    """pickletester's classes, as ``__main__.C``/``D``/``E`` that DATA0-4 and the classic
    instance vectors name (this script is ``__main__`` when it judges a vector)."""

    def __eq__(self, other):
        return self.__dict__ == other.__dict__


class D(C):
    def __init__(self, arg):
        pass


class E(C):
    def __getinitargs__(self):
        return ()


def verdict(data, kwargs):
    """CPython's C ``pickle.loads`` verdict: "ok" or the exception class name."""
    try:
        pickle.loads(data, **kwargs)
        return "ok"
    except BaseException as exc:
        return type(exc).__name__


def judged_apart(data, kwargs):
    """The verdict from a fresh, memory-capped process (a vector may try a huge allocation)."""
    result = subprocess.run(
        [sys.executable, __file__, "judge", base64.b64encode(data).decode("ascii"),
         json.dumps(kwargs)], capture_output=True, text=True, timeout=60)
    return result.stdout.strip() or "crashed"


def extract(out_path):
    from test import pickletester

    vectors = []
    seen = set()
    current = {"test": None}

    def record(data, kwargs, expect_error):
        key = (bytes(data), json.dumps(kwargs, sort_keys=True))
        if key in seen:
            return
        seen.add(key)
        vectors.append({"test": current["test"], "data": bytes(data), "kwargs": kwargs,
                        "expectError": expect_error})

    class Recorder(pickletester.AbstractUnpickleTests, unittest.TestCase):
        bad_stack_errors = (pickle.UnpicklingError, IndexError)
        truncated_errors = (pickle.UnpicklingError, EOFError, AttributeError, ValueError,
                            pickle.PickleError, IndexError, ImportError, KeyError)

        def loads(self, data, **kwargs):
            kwargs = {k: v for k, v in kwargs.items() if k in ("encoding", "errors")}
            record(data, kwargs, False)
            return pickle.loads(data, **kwargs)

        def check_unpickling_error(self, errors, data):
            record(data, {}, True)

    for name in sorted(dir(Recorder)):
        if not name.startswith("test_") or name == "test_unpickle_module_race":
            continue
        current["test"] = name
        # The 32-bit-only tests are skipped on 64-bit machines, but their vectors are still bad:
        # call the undecorated function.
        function = getattr(Recorder, name)
        function = getattr(function, "__wrapped__", function)
        try:
            function(Recorder(name))
        except unittest.SkipTest:
            pass
        except Exception:
            pass  # the recorder only wants the inputs; assertions may fail

    for vector in vectors:
        data, kwargs = vector["data"], vector["kwargs"]
        vector["cpython"] = judged_apart(data, kwargs)
        expectation = symbolic.symbolic(data, encoding=kwargs.get("encoding", "ASCII"))
        expectation.pop("message", None)
        vector["symbolic"] = expectation
        vector["data"] = base64.b64encode(data).decode("ascii")

    doc = {
        "source": "CPython %s Lib/test/pickletester.py (AbstractUnpickleTests)" % (
            sys.version.split()[0]),
        "generator": "tests/python/cpython_vectors.py extract",
        "vectors": vectors,
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=2, allow_nan=False)
        f.write("\n")
    bad = sum(v["cpython"] != "ok" for v in vectors)
    print("%d vectors: %d accepted, %d rejected by CPython" % (len(vectors), len(vectors) - bad,
                                                               bad), file=sys.stderr)


def verify(in_path):
    """Prints a JSON list of the vectors whose verdict (accepted or not) differs here."""
    with open(in_path) as f:
        doc = json.load(f)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    differences = []
    for index, vector in enumerate(doc["vectors"]):
        data = base64.b64decode(vector["data"])
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, hard))
        try:
            now = verdict(data, vector["kwargs"])
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if (now == "ok") != (vector["cpython"] == "ok"):
            differences.append({"index": index, "recorded": vector["cpython"], "now": now})
        expectation = symbolic.symbolic(data, encoding=vector["kwargs"].get("encoding", "ASCII"))
        recorded = vector["symbolic"]
        if ("ok" in expectation) != ("ok" in recorded) or expectation.get("ok") != recorded.get(
                "ok"):
            differences.append({"index": index, "recorded": recorded, "now": expectation})
    json.dump(differences, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "judge":
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        print(verdict(base64.b64decode(sys.argv[2]), json.loads(sys.argv[3])))
    elif len(sys.argv) == 3 and sys.argv[1] in ("extract", "verify"):
        (extract if sys.argv[1] == "extract" else verify)(sys.argv[2])
    else:
        sys.exit(__doc__)
