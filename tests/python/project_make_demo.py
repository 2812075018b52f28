"""Builds a lazyscribe project and repository with the real Python lazyscribe.

Usage: ``python tests/python/project_make_demo.py <output folder>``. The folder gets:

* ``upstream/project.json``: one experiment that the main project depends on;
* ``project.json``: three experiments (two runs of one name, so that slugs differ and
  ``project[short_slug]`` picks the newest), with metrics and parameters of every JSON type
  (integral floats, big ints, nested dicts, non-ASCII text), tags, a dependency, tests with and
  without artifacts, and JSON and pickle artifacts (numpy, datetime, sets, tuples, bytes, shared
  references, a pandas DataFrame, a ``fname`` with a sub-folder, JSON writer kwargs, ``NaN``);
* ``repo/repository.json``: versioned artifacts logged a second apart, the first version of
  ``model`` promoted from the project, with expiry dates in the past and in the future.

All paths inside the files are relative, so the script runs with the output folder as its
working directory and the result can be moved (``tests/fixtures/demo_project/`` is one).
Timestamps are real: rerunning gives new dates. It prints a JSON summary of what the
repository's version searches return, for the interoperability tests.
"""

import datetime
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from lazyscribe import Project, Repository


def wait_for_next_second():
    """lazyscribe keys slugs and versions by the second: give each its own."""
    time.sleep(1.05 - (time.time() % 1.0))


def main(out):
    os.makedirs(out, exist_ok=True)
    os.chdir(out)

    upstream = Project("upstream/project.json", mode="w", author="ana")
    with upstream.log("Feature build") as exp:
        exp.log_metric("rows", 120000)
        exp.log_artifact(name="columns", value=["age", "income", "tenure"], handler="json")
    upstream.save()
    wait_for_next_second()

    project = Project("project.json", mode="w", author="ana")
    with project.log("Baseline model") as exp:
        exp.log_metric("auroc", 0.5)
        exp.log_metric("accuracy", 1.0)
        exp.log_metric("n_rows", 1000)
        exp.log_metric("big", 2**60)
        exp.log_metric("tiny", 1e-05)
        exp.log_metric("curve", [0.0, 0.25, 1.0])
        exp.log_parameter("algorithm", "svm")
        exp.log_parameter("C", 1.0)
        exp.log_parameter("layers", [64, 32])
        exp.log_parameter("options", {"b": 1, "a": [1.5, None, True], "10": "ten", "2": "two"})
        exp.log_parameter("note", "caf\u00e9 \u2713 \U0001f600")
        exp.tag("baseline", "svm")
        exp.dependencies = {"feature-build": upstream["feature-build"]}
        exp.log_artifact(name="features", value=[0, 1, 2], handler="json")
        exp.log_artifact(
            name="config",
            value={"z": 1, "a": {"nested": [1.0, 2.5]}, "loss": float("nan")},
            handler="json",
            indent=2,
            sort_keys=True,
        )
        exp.log_artifact(
            name="plot data",
            value={"x": [1, 2, 3], "y": [1.5, 2.5, 3.5]},
            handler="json",
            fname="plots/plot-data.json",
        )
        shared = [1, 2, 3]
        exp.log_artifact(
            name="model",
            value={
                "weights": np.arange(12, dtype=np.float64).reshape(3, 4) / 4,
                "bias": np.float64(0.125),
                "classes": ("no", "yes"),
                "trained": datetime.datetime(2025, 1, 20, 13, 23, 30, 123456),
                "vocabulary": {"a", "b"},
                "blob": b"\x00\x01\xff",
                "left": shared,
                "right": shared,
                "epochs": 2**70,
            },
            handler="pickle",
        )
        with exp.log_test("Young users", description="Customers under 25") as test:
            test.log_metric("auroc", 0.61)
            test.log_metric("support", 1.0)
            test.log_parameter("max_age", 25)
            test.log_artifact(name="confusion", value=[[5, 1], [2, 7]], handler="json")
            test.log_artifact(
                name="scores", value=np.linspace(0, 1, 5, dtype=np.float32), handler="pickle"
            )
        with exp.log_test("Old users") as test:
            test.log_metric("auroc", 0.55)
    wait_for_next_second()

    with project.log("Gradient boosting") as exp:
        exp.log_metric("auroc", 0.71)
        exp.log_parameter("trees", 100)
        exp.tag("gbm")
        exp.log_artifact(
            name="frame",
            value=pd.DataFrame({"age": [23, 41], "income": [31000.0, 52000.5]}),
            handler="pickle",
        )
    wait_for_next_second()

    with project.log("Gradient boosting") as exp:
        exp.log_metric("auroc", 0.74)
        exp.log_parameter("trees", 300)
        exp.tag("gbm", "final")
        exp.log_artifact(name="model", value={"trees": 300, "depth": (3, 4)}, handler="pickle")
    project.save()
    wait_for_next_second()

    repository = Repository("repo/repository.json", mode="w")
    # Saved already, so promoting copies the file and saves the repository.
    project["gradient-boosting"].promote_artifact(repository, "model")
    wait_for_next_second()
    repository.log_artifact(name="thresholds", value={"cut": 0.5}, handler="json")
    repository.log_artifact(name="model", value=[1.0, 2.0], handler="pickle")
    repository.save()
    first = repository.artifacts[1].created_at
    wait_for_next_second()
    repository.log_artifact(name="thresholds", value={"cut": 0.55}, handler="json", indent=4)
    repository.save()
    second = repository.artifacts[-1].created_at
    wait_for_next_second()
    repository.log_artifact(name="thresholds", value={"cut": 0.6}, handler="json")
    repository.save()
    # Version 1 expired a second after it was made; version 2 expires in the far future.
    repository.set_artifact_expiry(
        "thresholds", version=1, expiry=second.replace(microsecond=0) + datetime.timedelta(seconds=1)
    )
    repository.set_artifact_expiry("thresholds", version=2, expiry="2099-12-31T23:59:59")
    repository.save()

    print(json.dumps({"first": first.isoformat(timespec="seconds"),
                      "second": second.isoformat(timespec="seconds")}))


if __name__ == "__main__":
    main(sys.argv[1])
