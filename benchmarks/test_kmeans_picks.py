"""benchmarks/kmeans_picks.py: the three ways of picking a k-means run."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

here = Path(__file__).resolve().parents[1] / "benchmarks"
if not (here / "kmeans_picks.py").exists():  # an unpacked sdist ships no benchmarks
    pytest.skip("benchmarks/ is not here", allow_module_level=True)
sys.path.insert(0, str(here))
spec = importlib.util.spec_from_file_location("kmeans_picks", here / "kmeans_picks.py")
kp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kp)


def test_the_picks_by_hand():
    a = np.array([0, 0, 1, 1, 2, 2])
    labels = [a, a.copy(), np.array([0, 0, 0, 0, 1, 2]), np.array([0, 1, 1, 1, 2, 2])]
    inertias = np.array([10.0, 10.02, 9.99, 12.0])
    got = kp.picks(labels, inertias, 3, tol=0.005)
    assert got["inertia"] == 2  # the lowest inertia, though it merges two groups
    assert got["balance"] in (0, 1)  # within 0.5% of it, the largest cluster is smallest
    assert got["consensus"] in (0, 1)  # two runs agree with each other
    assert kp.picks(labels, inertias, 3, tol=0.0)["balance"] == 2  # alone in the band


def test_runs_on_separated_blobs_all_agree():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]], float)
    z = np.concatenate([c + rng.standard_normal((50, 2)) for c in centres]).astype(np.float32)
    labels, inertias = kp.runs_on(z, 3, 5, np.random.default_rng(1))
    assert len(labels) == 5 and np.allclose(inertias, inertias.min(), rtol=1e-5)
