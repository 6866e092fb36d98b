"""benchmarks/fit_record.py: a timed fit of a checkout's command line, as a paired record."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

here = Path(__file__).resolve().parents[1] / "benchmarks"
if not (here / "fit_record.py").exists():  # an unpacked sdist ships no benchmarks
    pytest.skip("benchmarks/ is not here", allow_module_level=True)
sys.path.insert(0, str(here))


def _load(name):
    spec = importlib.util.spec_from_file_location(name, here / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fit_record, paired = _load("fit_record"), _load("paired")


def _metrics(seed, acc):
    return {"n_samples": 1797, "seed": seed, "n_iter": 140,
            "ae_kmeans": {"acc": acc - 0.1, "nmi": 0.5, "ari": 0.4},
            "dec": {"acc": acc, "nmi": 0.6, "ari": 0.5},
            "times_s": {"pretrain": 10.0, "dec": 2.0, "total": 12.0}}


def test_records_of_two_commits_pair_by_seed():
    rows = [fit_record.record(_metrics(s, 0.8 + 0.01 * s), 13.0, 300.0, "default", "digits",
                              None, "abc1234") for s in range(2)]
    rows += [fit_record.record(_metrics(s, 0.7), 26.0, 290.0, "default@old", "digits", None,
                               "def5678") for s in range(2)]
    assert rows[0]["dec_acc"] == 0.8 and rows[0]["wall_s"] == 13.0 and rows[0]["commit"] == "abc1234"
    assert rows[0]["n_jobs"] == "default"  # no --jobs given
    (t,) = paired.compare(rows, "default", "default@old", a_plain=True, b_plain=True)
    assert t["seeds"] == [0, 1] and t["diffs"] == pytest.approx([0.1, 0.11])
    assert t["time_ratio"] == pytest.approx(1.0)  # the fits' own total_s, equal here


def test_a_fit_of_this_checkout_is_recorded_once(tmp_path):
    out = tmp_path / "fits.jsonl"
    argv = ["--tree", str(here.parent), "--tag", "t", "--dataset", "digits", "--out", str(out),
            "--", "--dataset", "digits", "--seed", "1", "--schedule", "fast", "--max-iter", "140",
            "--jobs", "2"]
    fit_record.main(argv)
    fit_record.main(argv)  # recorded already: skipped, no second fit
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["recipe"] == "t" and row["seed"] == 1 and row["image_shape"] is None
    assert 0 < row["dec_acc"] <= 1 and row["wall_s"] >= row["total_s"] > 0
    assert row["max_rss_mb"] > 0 and row["n"] == 1797 and row["n_jobs"] == "2"
