"""Writes the committed pickle fixtures of tests/fixtures/ with the reference CPython.

Run from the repository root: ``.cache/venv/bin/python tests/python/make_fixtures.py [DIR]``
(DIR defaults to tests/fixtures). The output is deterministic (fixed values, no addresses, no hash-ordered sets of mixed types), so a
rerun with the pinned interpreter and numpy reproduces the committed files byte for byte.

* ``demo.pkl``: what ``deno task demo`` prints: an experiment's results the way a lazyscribe
  ``PickleArtifact`` stores them (``pickle.dump(obj, f)``, protocol 4 in Python 3.8-3.13), with
  the stdlib and numpy types the decoder maps and a class instance that stays an inert record.
* ``demo.json``: what Python says the demo holds, for ``tests/decode_test.ts``.
"""

import collections
import datetime
import decimal
import json
import pathlib
import pickle
import sys
import types
import uuid

import numpy as np

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"


class RandomForestSummary:
    """Stands for a model object: its class is not something the decoder knows."""

    def __init__(self, n_trees, depths):
        self.n_trees = n_trees
        self.depths = depths


# Pickled under the name a user's own package would give it.
RandomForestSummary.__module__ = "experiments.models"
sys.modules["experiments"] = types.ModuleType("experiments")
sys.modules["experiments.models"] = types.ModuleType("experiments.models")
sys.modules["experiments.models"].RandomForestSummary = RandomForestSummary


def demo():
    utc = datetime.timezone.utc
    params = {"n_estimators": 200, "max_depth": None, "criterion": "gini"}
    return {
        "name": "churn-model",
        "created_at": datetime.datetime(2025, 1, 20, 13, 23, 30, 123456),
        "finished_at": datetime.datetime(2025, 1, 20, 13, 26, 42, 623456, tzinfo=utc),
        "duration": datetime.timedelta(minutes=3, seconds=12, microseconds=500000),
        "run_id": uuid.UUID("6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5"),
        "metrics": collections.OrderedDict(
            [("accuracy", 0.9312), ("f1", 0.8875), ("support", 1834)]
        ),
        "params": params,
        "params_again": params,
        "threshold": decimal.Decimal("0.4500"),
        "class_weight": (0.3, 0.7),
        "tags": frozenset(["baseline"]),
        "seed": 2**70 + 1,
        "checksum": bytes.fromhex("9f86d081884c7d659a2feaa0c55ad015"),
        "feature_importances": np.array([0.41, 0.27, 0.19, 0.13], dtype=np.float32),
        "confusion_matrix": np.array([[812, 41], [88, 893]], dtype=np.int64),
        "best_score": np.float64(0.9312),
        "history": collections.deque([0.88, 0.91, 0.9312], maxlen=10),
        "model": RandomForestSummary(200, [12, 15, 9]),
    }


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURES
    out.mkdir(exist_ok=True)
    value = demo()
    (out / "demo.pkl").write_bytes(pickle.dumps(value, protocol=4))
    facts = {
        "keys": list(value),
        "created_at": value["created_at"].isoformat(),
        "finished_at": value["finished_at"].isoformat(),
        "run_id": str(value["run_id"]),
        "seed": str(value["seed"]),
        "feature_importances": value["feature_importances"].tolist(),
        "confusion_matrix": value["confusion_matrix"].ravel().tolist(),
        "model_state": vars(value["model"]),
    }
    (out / "demo.json").write_text(json.dumps(facts, indent=2) + "\n")


if __name__ == "__main__":
    main()
