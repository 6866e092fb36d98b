"""benchmarks/figures.py: the cluster-examples rows follow the digits (outside the suite's
testpaths: `python -m pytest benchmarks/test_figures.py`)."""
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("figures", ROOT / "benchmarks" / "figures.py")
figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figures)


def test_columns_follow_the_digit_each_cluster_matches():
    y = np.array([0, 0, 1, 1, 2, 2])
    labels = np.array([2, 2, 0, 0, 1, 1])        # cluster 2 holds the 0s, cluster 0 the 1s
    q = np.eye(3)[labels] * 0.9 + 0.05
    out = figures.ordered_by_digit(q, y, labels)
    np.testing.assert_array_equal(out.argmax(axis=1), y)
    np.testing.assert_array_equal(out[:, 0], q[:, 2])


def test_a_cluster_matched_to_no_digit_comes_last():
    y = np.array([0, 0, 1, 1])
    labels = np.array([1, 1, 2, 2])              # cluster 0 is empty: no digit is matched to it
    q = np.eye(3)[labels]
    out = figures.ordered_by_digit(q, y, labels)
    np.testing.assert_array_equal(out[:, 2], q[:, 0])
    np.testing.assert_array_equal(out.argmax(axis=1), y)
