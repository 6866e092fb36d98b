"""benchmarks/caps_from_history.py: a cap's ACC is the last update's at or before it."""
import importlib.util
import sys
from pathlib import Path

import pytest

here = Path(__file__).resolve().parent
if not (here / "caps_from_history.py").exists():  # an unpacked sdist ships no benchmarks
    pytest.skip("benchmarks/ is not here", allow_module_level=True)
sys.path.insert(0, str(here))
spec = importlib.util.spec_from_file_location("caps_from_history", here / "caps_from_history.py")
caps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(caps)

HISTORY = {"iteration": [0, 140, 280, 420], "acc": [0.5, 0.6, 0.7, 0.65]}


def test_acc_at_a_cap():
    assert caps.acc_at(HISTORY, 280) == 0.7
    assert caps.acc_at(HISTORY, 300) == 0.7    # the loop stops at an update
    assert caps.acc_at(HISTORY, 5000) == 0.65  # a run stopped earlier keeps its end
    with pytest.raises(ValueError, match="before"):
        caps.acc_at({"iteration": [140], "acc": [0.5]}, 100)


def test_the_table_pairs_each_seed_with_itself():
    rows = [{"recipe": "none", "dataset": "d", "seed": s, "history": h} for s, h in
            [(0, HISTORY), (1, {"iteration": [0, 140, 280], "acc": [0.4, 0.45, 0.44]})]]
    rows.append({"recipe": "other", "dataset": "d", "seed": 0, "history": HISTORY})
    lines = caps.table(rows, "none", [140], reference=420)
    assert lines[2] == "| d | 0,1 | 140 | -0.0200 [-0.0500, +0.0100] | 1 of 2 |"
    assert len(lines) == 3


def test_images_are_their_own_set_and_a_seed_counts_once():
    rows = [{"recipe": "none", "dataset": "d", "seed": 0, "history": HISTORY},
            {"recipe": "none", "dataset": "d", "seed": 0, "image_shape": [2, 2],
             "history": {"iteration": [0, 140, 280, 420], "acc": [0.5, 0.6, 0.6, 0.9]}}]
    lines = caps.table(rows, "none", [280], reference=420)
    assert lines[2:] == ["| d | 0 | 280 | +0.0500 [+0.0500, +0.0500] | 0 of 1 |",
                         "| d (images) | 0 | 280 | -0.3000 [-0.3000, -0.3000] | 1 of 1 |"]
    with pytest.raises(ValueError, match="twice"):
        caps.table(rows + rows[:1], "none", [280], reference=420)
