"""benchmarks/start_diagnosis.py: the k-means start it takes apart is the one DEC.fit uses.

Beside the script, outside the suite's testpaths: `python -m pytest benchmarks/test_start_diagnosis.py`."""
import importlib.util
import json
from pathlib import Path

import numpy as np

from dec_np import DEC
from dec_np.cli import load_data
from dec_np.metrics import cluster_accuracy

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("start_diagnosis",
                                              ROOT / "benchmarks" / "start_diagnosis.py")
diag = importlib.util.module_from_spec(spec)
spec.loader.exec_module(diag)


def test_inertia_is_the_sum_of_squared_distances_to_the_nearest_centre():
    z = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    assert diag.inertia(z, [[0.5, 0.0], [10.0, 1.0]]) == 0.25 + 0.25 + 1.0


def test_composition_names_the_largest_classes():
    y = np.array([0, 0, 1, 2, 2, 2])
    rows = diag.composition(y, np.array([0, 0, 0, 1, 1, 1]), 2)
    assert rows[0] == {"cluster": 0, "size": 3, "classes": {0: 0.667, 1: 0.333}}
    assert rows[1]["size"] == 3 and rows[1]["classes"][2] == 1.0


def test_the_start_is_that_of_a_full_fit(tmp_path, capsys):
    out = tmp_path / "d.json"
    diag.main(["--dataset", "digits", "--seed", "3", "--schedule", "fast", "--restarts", "3",
               "--out", str(out)])
    got = json.loads(out.read_text())
    assert got == json.loads(capsys.readouterr().out)
    X, y, shape = load_data("digits", None)
    full = DEC(10, schedule="fast", image_shape=shape, random_state=3).fit(X)
    assert got["start"]["acc"] == cluster_accuracy(y, full.init_labels_)
    assert sum(c["size"] for c in got["start"]["clusters"]) == len(y)
    for part in ("lloyd_from_class_means", "kmeans_more_restarts"):
        assert 0 < got[part]["acc"] <= 1 and got[part]["inertia"] > 0
