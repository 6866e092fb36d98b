"""benchmarks/clustering_arms.py: arms from one pretrained autoencoder, results at caps."""
import importlib.util
import sys
from pathlib import Path

import pytest

here = Path(__file__).resolve().parents[1] / "benchmarks"
if not (here / "clustering_arms.py").exists():  # an unpacked sdist ships no benchmarks
    pytest.skip("benchmarks/ is not here", allow_module_level=True)
sys.path.insert(0, str(here))
spec = importlib.util.spec_from_file_location("clustering_arms", here / "clustering_arms.py")
arms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(arms)


def test_arm_settings():
    assert arms.arm_settings("none", 4200) == {"augment": None}
    assert arms.arm_settings("mask0.2", 4200) == {"augment": {"mask": 0.2}, "max_iter": 4200}
    assert arms.arm_settings("nbr5", 2520) == {"augment": {"neighbours": 5}, "max_iter": 2520}
    with pytest.raises(ValueError, match="unknown arm"):
        arms.arm_settings("shift0.1", 4200)


def test_a_cap_reads_the_last_update_at_or_before_it():
    h = {"iteration": [0, 140, 280, 420], "acc": [0.5, 0.6, 0.7, 0.8]}
    assert arms.at_cap(h, 280) == (0.7, 280)
    assert arms.at_cap(h, 300) == (0.7, 280)
    assert arms.at_cap(h, 5000) == (0.8, 420)


def test_the_arms_differ_only_in_the_clustering_phase(tmp_path, monkeypatch):
    """A tiny run end to end: the arm "none" equals DEC(random_state=seed).fit(X) to the bit."""
    import json

    import numpy as np

    from dec_np import DEC
    from dec_np.datasets import load_digits

    X, y = load_digits()
    X, y = X[:300], y[:300]
    monkeypatch.setattr(arms, "load_data", lambda *a, **k: (X, y, None))
    monkeypatch.setitem(arms.DATASETS, "digits", None)

    def small_pretrain(X, dims, schedule, backend, seed, verbose, shape):
        from dec_np.cli import pretrain
        return pretrain(X, (32, 8), "fast", backend, seed, verbose, shape)

    monkeypatch.setattr(arms, "pretrain", small_pretrain)
    real_dec = arms.DEC
    monkeypatch.setattr(arms, "DEC", lambda k, **kw: real_dec(
        k, hidden_dims=(32, 8), schedule="fast", update_interval=20, **kw))
    out = tmp_path / "r.jsonl"
    arms.main(["--dataset", "digits", "--seeds", "0", "--arms", "none", "mask0.2",
               "--max-iter", "100", "--caps", "60", "--out", str(out)])
    rows = {r["recipe"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"none", "none@60", "mask0.2", "mask0.2@60"}
    alone = DEC(10, hidden_dims=(32, 8), schedule="fast", update_interval=20, augment=None,
                random_state=0, n_jobs=1).fit(X, y)
    assert rows["none"]["dec_acc"] == round(alone.history_["acc"][-1], 4)
    assert rows["none"]["ae_kmeans_acc"] == rows["mask0.2"]["ae_kmeans_acc"]
    assert rows["mask0.2"]["max_iter"] == 100 and rows["mask0.2@60"]["n_iter"] <= 60
    assert rows["mask0.2"]["augment"] == {"mask": 0.2} and rows["none"]["augment"] is None
    assert np.isclose(rows["mask0.2"]["history"]["acc"][-1], rows["mask0.2"]["dec_acc"],
                      atol=1e-4)
