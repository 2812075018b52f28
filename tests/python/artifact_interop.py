"""The Python half of tests/artifact_interop_test.ts, run with the reference lazyscribe.

    artifact_interop.py write DIR   Python lazyscribe writes a repository and a project in DIR
                                    and prints what each artifact holds.
    artifact_interop.py read DIR    Python lazyscribe opens the repository and project that the
                                    TypeScript side wrote in DIR, loads every artifact (with
                                    validation) and prints what each holds.

"What an artifact holds" is `describe(value)`: a JSON tree that spells out Python types
(int vs float, tuple vs list, bytes, sets, numpy arrays), so both sides compare exactly.
"""

import json
import math
import os
import sys

import numpy as np
from lazyscribe import Project, Repository
from lazyscribe.exception import ArtifactLoadError


def describe(value):
    """Spell out a Python value with its types; the TypeScript test mirrors this."""
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        return {"npscalar": {"dtype": value.dtype.str, "value": describe(value.item())}}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, bytearray):
        return {"bytearray": value.hex()}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, tuple):
        return {"tuple": [describe(item) for item in value]}
    if isinstance(value, list):
        return {"list": [describe(item) for item in value]}
    if isinstance(value, dict):
        return {"dict": [[describe(k), describe(v)] for k, v in value.items()]}
    if isinstance(value, (set, frozenset)):
        items = sorted((describe(item) for item in value), key=json.dumps)
        return {"frozenset" if isinstance(value, frozenset) else "set": items}
    if isinstance(value, np.ndarray):
        return {
            "ndarray": {
                "dtype": value.dtype.str,
                "shape": list(value.shape),
                "fortran": bool(value.flags.f_contiguous and not value.flags.c_contiguous),
                "values": describe(value.tolist()),
            }
        }
    raise TypeError(f"no description for {type(value).__name__}")


def write(root):
    repository = Repository(os.path.join(root, "repository.json"), mode="w+")
    logged = []

    def log(name, value, handler, **kwargs):
        repository.log_artifact(name, value, handler=handler, **kwargs)
        version = max(a.version for a in repository.artifacts if a.name == name)
        logged.append({"name": name, "version": version, "value": describe(value)})

    log(
        "features",
        {"b": [1, 2.0, float("nan"), -math.inf, 1e-05, 1e16], "a": {"x": None, "é😀": True}},
        "json",
    )
    log("features", [3, 4, {"z": 1, "10": 2, "9": 3}], "json", fname="features-v1.json", indent=2)
    log(
        "model",
        {
            "coef": (0.5, -1.25, 3),
            "classes": {"cat", "dog"},
            "frozen": frozenset({1, 2}),
            "blob": b"\x00\xffbytes",
            "mutable": bytearray(b"ab"),
            "big": 2**80,
            "nested": [[1, [2, [3, None]]], {"k": False}],
            "text": "naïve \u2603",
        },
        "pickle",
    )
    log("array", np.arange(6, dtype=np.float64).reshape(2, 3) / 4, "pickle")
    log("int-array", np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)), "pickle")
    log("scalars", [np.float64(0.25), np.int64(-7), np.bool_(True)], "pickle", protocol=2)
    repository.save()
    repository.set_artifact_expiry("features", version=0, expiry="2030-01-01T00:00:00")
    repository.save()

    project = Project(os.path.join(root, "project.json"), mode="w", author="root")
    experiments = []
    with project.log("My experiment") as experiment:
        experiment.log_metric("auroc", 0.5)
        experiment.log_parameter("algorithm", "svm")
        experiment.log_artifact(name="features", value=[0, 1, 2], handler="json")
        experiment.log_artifact(
            name="estimator", value={"weights": np.array([0.5, 1.5])}, handler="pickle"
        )
        with experiment.log_test("Bias test: région") as test:
            test.log_artifact(name="report", value={"passed": True, "score": 1.0}, handler="json")
        experiments.append(
            {
                "slug": experiment.slug,
                "artifacts": [
                    {"name": "features", "value": describe([0, 1, 2])},
                    {"name": "estimator", "value": describe({"weights": np.array([0.5, 1.5])})},
                ],
                "tests": [
                    {
                        "name": "Bias test: région",
                        "artifacts": [
                            {"name": "report", "value": describe({"passed": True, "score": 1.0})}
                        ],
                    }
                ],
            }
        )
    project.save()
    return {"repository": logged, "project": experiments}


def read(root):
    repository = Repository(os.path.join(root, "repository.json"), mode="r")
    loaded = []
    for artifact in repository.artifacts:
        try:
            value = repository.load_artifact(artifact.name, version=artifact.version)
            validated = True
        except ArtifactLoadError:
            # lazyscribe refuses a pickle made for another Python unless told not to check.
            value = repository.load_artifact(
                artifact.name, version=artifact.version, validate=False
            )
            validated = False
        loaded.append(
            {
                "name": artifact.name,
                "version": artifact.version,
                "validated": validated,
                "value": describe(value),
            }
        )
    project = Project(os.path.join(root, "project.json"), mode="r")
    experiments = []
    for experiment in project.experiments:
        experiments.append(
            {
                "slug": experiment.slug,
                "artifacts": [
                    {"name": a.name, "value": describe(experiment.load_artifact(a.name))}
                    for a in experiment.artifacts
                ],
                "tests": [
                    {
                        "name": test.name,
                        "artifacts": [
                            {"name": a.name, "value": describe(test.load_artifact(a.name))}
                            for a in test.artifacts
                        ],
                    }
                    for test in experiment.tests
                ],
            }
        )
    return {"repository": loaded, "project": experiments}


if __name__ == "__main__":
    command, root = sys.argv[1], sys.argv[2]
    print(json.dumps(write(root) if command == "write" else read(root)))
