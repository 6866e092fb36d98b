"""benchmarks/paired.py: the paired comparison the defaults are judged by."""
import importlib.util
from pathlib import Path

import pytest

path = Path(__file__).resolve().parents[1] / "benchmarks" / "paired.py"
if not path.exists():  # an unpacked sdist ships no benchmarks
    pytest.skip("benchmarks/ is not here", allow_module_level=True)
spec = importlib.util.spec_from_file_location("paired", path)
paired = importlib.util.module_from_spec(spec)
spec.loader.exec_module(paired)


def _row(tag, seed, acc, plain=False, ds="usps", t=100.0):
    return {"recipe": tag, "dataset": ds, "seed": seed, "dec_acc": acc, "total_s": t,
            "image_shape": None if plain else [16, 16], "machine": "m"}


def test_sign_test():
    assert paired.sign_test([1, 2, 3, 4, 5]) == pytest.approx(2 / 32)
    assert paired.sign_test([1, -1]) == 1.0
    assert paired.sign_test([0, 0]) == 1.0


def test_compare_pairs_by_seed_and_judges_against_the_spread():
    rows = [_row("a", s, 0.80 + 0.001 * s, t=50) for s in range(5)]
    rows += [_row("b", s, 0.70 + 0.002 * s, plain=True) for s in range(5)]
    rows += [_row("b", 9, 0.99, plain=True)]           # no partner: not paired
    rows += [_row("b", 0, 0.10)]                       # image_shape run of b: another setting
    (t,) = paired.compare(rows, "a", "b", b_plain=True)
    assert t["seeds"] == [0, 1, 2, 3, 4]
    assert t["diffs"] == pytest.approx([0.10, 0.099, 0.098, 0.097, 0.096])
    assert t["verdict"] == "A better" and t["time_ratio"] == 0.5
    # the same differences within a wide spread are no finding
    rows[0]["dec_acc"] = 0.95
    (t,) = paired.compare(rows, "a", "b", b_plain=True)
    assert t["verdict"] == "within the spread"


def test_fewer_than_five_seeds_get_no_verdict():
    rows = [_row("a", s, 0.9) for s in range(2)] + [_row("b", s, 0.5) for s in range(2)]
    (t,) = paired.compare(rows, "a", "b")
    assert t["verdict"] == "2 seed(s): no verdict"


def test_records_without_an_image_shape_field_were_image_runs():
    old = [{k: v for k, v in _row("b", s, 0.5).items() if k != "image_shape"} for s in range(2)]
    rows = [_row("a", s, 0.9) for s in range(2)] + old
    (t,) = paired.compare(rows, "a", "b")
    assert t["seeds"] == [0, 1]
    assert paired.compare(rows, "a", "b", b_plain=True) == []
