"""What Python lazyscribe makes of folders left by killed saves (tests/save_faults_test.ts).

Usage: ``python fuzz_save_check.py < folders.json``, where the input is a JSON list of
``{"kind": "project" | "repository", "path": "<project.json or repository.json>"}``. One process
checks them all, so that lazyscribe is imported once.

For each folder it prints ``{"count": n}`` (experiments of a project, versions of a
repository's ``model``), with every artifact loaded and checked against what the writer logged
for its index (``tests/save_faults_test.ts`` makes experiment ``run <i>`` with a JSON ``table``
and a pickled ``model``, and version ``i`` of a repository's ``model``), or ``{"error": text}``.
"""

import json
import os
import sys

from lazyscribe import Project, Repository


def expected_table(index):
    return {"n": index, "rows": [index] * 50}


def expected_model(index):
    return [index, "w" * 2000, [index, -index]]


def check_project(path):
    if not os.path.exists(path):  # the first save was killed before it moved project.json
        return 0
    project = Project(path, mode="r")
    for index, experiment in enumerate(project.experiments):
        if experiment.name != f"run {index}":
            raise ValueError(f"experiment {index} is named {experiment.name!r}")
        if experiment.load_artifact("table") != expected_table(index):
            raise ValueError(f"experiment {index}: wrong table")
        if experiment.load_artifact("model") != expected_model(index):
            raise ValueError(f"experiment {index}: wrong model")
    return len(project.experiments)


def check_repository(path):
    if not os.path.exists(path):
        return 0
    repository = Repository(path, mode="r")
    versions = [artifact for artifact in repository.artifacts if artifact.name == "model"]
    for index in range(len(versions)):
        if repository.load_artifact("model", version=index) != expected_model(index):
            raise ValueError(f"version {index}: wrong model")
    return len(versions)


def main():
    results = []
    for folder in json.load(sys.stdin):
        check = check_project if folder["kind"] == "project" else check_repository
        try:
            results.append({"count": check(folder["path"])})
        except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
            results.append({"error": f"{type(error).__name__}: {error}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
