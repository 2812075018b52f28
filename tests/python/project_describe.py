"""What Python lazyscribe sees in a project or repository, as JSON, for the interop tests.

Usage (the working directory is the project folder, so relative dependencies resolve):

* ``python project_describe.py project <project.json>``: every experiment's ``to_dict()`` and
  the value of every artifact (of experiments and tests), loaded with ``load_artifact`` and
  described in the tagged form of ``src/tagged_json.ts``; a value of a type this describer does
  not cover (a pandas DataFrame) is ``{"$unsupported": "<type>"}``.
* ``python project_describe.py repository <repository.json> <queries.json>``: each query
  ``[name, version, match]`` answered with the ``version`` of the artifact
  ``Repository.load_artifact`` would load (``version`` may be an int, a
  ``YYYY-MM-DDTHH:MM:SS`` string or null), or the exception's class name; plus every version's
  loaded value.

lazyscribe 2.2.2 keeps a stored ``expiry`` as text and then fails to compare it with a datetime;
``--parse-expiry`` parses it first, as lazyscribe meant to (and as the TypeScript port does).
"""

import base64
import datetime
import json
import math
import sys

import numpy as np
from lazyscribe import Project, Repository


class Unsupported(Exception):
    pass


def tag_float(value):
    if math.isnan(value):
        return {"$float": "nan"}
    if math.isinf(value):
        return {"$float": "inf" if value > 0 else "-inf"}
    return float(value)


def tag_int(value):
    return int(value) if abs(value) <= 2**53 - 1 else {"$int": str(int(value))}


def dtype_text(dtype):
    return dtype.str


def numeric(dtype, values):
    kind = dtype.kind
    if kind == "b":
        return [bool(v) for v in values]
    if kind == "f":
        return [tag_float(float(v)) for v in values]
    if kind in "iu":
        return [tag_int(int(v)) for v in values]
    if kind == "c":
        return [{"$complex": [tag_float(v.real), tag_float(v.imag)]} for v in values]
    raise Unsupported(str(dtype))


def describe(value):
    """The tagged form of src/tagged_json.ts, for the types the demo holds."""
    counts = {}

    def count(item):
        stack = [item]
        while stack:
            node = stack.pop()
            if isinstance(node, (list, dict, set, bytes, tuple)):
                if isinstance(node, (list, dict, set)):
                    key = id(node)
                    counts[key] = counts.get(key, 0) + 1
                    if counts[key] > 1:
                        continue
                if isinstance(node, dict):
                    for k, v in node.items():
                        stack.append(k)
                        stack.append(v)
                elif isinstance(node, (list, tuple, set)):
                    stack.extend(node)

    count(value)
    ids = {}

    def tag(item):
        shared = isinstance(item, (list, dict, set)) and counts.get(id(item), 0) > 1
        if shared:
            if id(item) in ids:
                return {"$ref": ids[id(item)]}
            ids[id(item)] = len(ids) + 1
            head = {"$id": ids[id(item)]}
        else:
            head = None
        if isinstance(item, np.generic):
            return {
                "$npscalar": dtype_text(item.dtype),
                "value": numeric(item.dtype, [item])[0],
            }
        if item is None or isinstance(item, (bool, str)):
            return item
        if isinstance(item, int):
            return tag_int(item)
        if isinstance(item, float):
            return tag_float(item)
        if isinstance(item, bytes):
            return {"$bytes": base64.b64encode(item).decode()}
        if isinstance(item, tuple):
            return {"$tuple": [tag(v) for v in item]}
        if isinstance(item, list):
            items = [tag(v) for v in item]
            return {**head, "$list": items} if head else items
        if isinstance(item, set):
            return {**(head or {}), "$set": [tag(v) for v in item]}
        if isinstance(item, dict):
            plain = all(isinstance(k, str) and not k.startswith("$") for k in item)
            if head is None and plain:
                return {k: tag(v) for k, v in item.items()}
            pairs = [[tag(k), tag(v)] for k, v in item.items()]
            return {**(head or {}), "$dict": pairs}
        if isinstance(item, datetime.datetime) and item.tzinfo is None:
            return {"$datetime": item.isoformat()}
        if isinstance(item, np.ndarray):
            order = "F" if item.flags.f_contiguous and not item.flags.c_contiguous else "C"
            return {
                "$ndarray": dtype_text(item.dtype),
                "shape": list(item.shape),
                "order": order,
                "data": numeric(item.dtype, item.ravel(order=order)),
            }
        raise Unsupported(type(item).__module__ + "." + type(item).__qualname__)

    try:
        return tag(value)
    except Unsupported as exc:
        return {"$unsupported": str(exc)}


def load_all(holder):
    return {art.name: describe(holder.load_artifact(art.name)) for art in holder.artifacts}


def project_main(path):
    project = Project(path, mode="r")
    out = []
    for exp in project.experiments:
        out.append({
            "entry": exp.to_dict(),
            "artifacts": load_all(exp),
            "tests": {test.name: load_all(test) for test in exp.tests},
            "dependencies": {key: dep.slug for key, dep in exp.dependencies.items()},
        })
    print(json.dumps(out))


def repository_main(path, queries_path, parse_expiry):
    repository = Repository(path, mode="r")
    if parse_expiry:
        for art in repository.artifacts:
            if isinstance(art.expiry, str):
                art.expiry = datetime.datetime.fromisoformat(art.expiry)
    with open(queries_path) as f:
        queries = json.load(f)
    answers = []
    for name, version, match in queries:
        try:
            art = repository._search_artifact_versions(name=name, version=version, match=match)
            repository.load_artifact(name, version=version, match=match)
            answers.append(art.version)
        except Exception as exc:
            answers.append(type(exc).__name__)
    values = {
        f"{art.name}@{art.version}": describe(
            repository.load_artifact(art.name, version=art.version)
        )
        for art in repository.artifacts
    }
    print(json.dumps({"answers": answers, "values": values}))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "project":
        project_main(sys.argv[2])
    else:
        repository_main(sys.argv[2], sys.argv[3], "--parse-expiry" in sys.argv)
