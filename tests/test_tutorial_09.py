"""Tutorial 09 (choosing k, imbalanced data): the claims its text makes, on the fast run (five
bent Gaussian clusters, so the true k is known)."""
import re

import pytest

from tutorial_runner import TUTORIALS, assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("09_choosing_k_imbalance.py")


def test_exercise_is_the_generalizability(run):
    assert [name for _, name in run.checks] == ["generalizability at k = 2"]
    assert all(status == "PASS" for status, _ in run.checks)


@pytest.mark.parametrize("fragment", [
    "The rule picks k = 5, the true number of clusters (5)",
    "G stays near 1 up to the true k: at least 0.95 at every k <= 5",
    "G at every k past the true k (5) is below G at every k up to it",
    "The validation NMI is highest at the true k (5)",
    "At r_min = 0.1 the largest class is at least 3 times the smallest",
    "On these well-separated clusters DEC keeps the rare classes",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def _table(run):
    head = run.stdout.index("  k   L_train   L_valid   G       NMI of the validation points")
    rows = []
    for line in run.stdout[head:].splitlines()[1:]:
        m = re.match(r"\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line)
        if not m:
            break
        rows.append((int(m[1]),) + tuple(float(v) for v in m.groups()[1:]))
    return rows


def test_the_table_is_the_sweep_and_one_nmi_is_printed(run):
    """One row per k (2 ... 8); G is L_train / L_valid; the only NMI printed is the
    validation points' (no second, training NMI in a progress line)."""
    rows = _table(run)
    assert [r[0] for r in rows] == list(range(2, 9))
    for _, l_tr, l_va, g, _nmi in rows:
        assert g == pytest.approx(l_tr / l_va, rel=0.02)  # L printed to 4 decimals
    printed = [l for l in run.stdout.splitlines() if "NMI" in l and not l.startswith("[claim")]
    assert "select-k:" not in run.stdout and len(printed) == 1 and "validation" in printed[0]
    assert "1000 training and 1000 validation points" in run.stdout


def test_the_rule_is_computed_from_the_printed_table(run):
    """The k the rule picks is the one before G's largest one-step fall in the table, and the
    lesson says so with the run's numbers, not numbers of its own."""
    rows = _table(run)
    g = [r[3] for r in rows]
    falls = [a - b for a, b in zip(g, g[1:])]
    k_rule = rows[falls.index(max(falls))][0]
    assert k_rule == 5
    assert f"the rule picks k = {k_rule}" in run.stdout
    text = (TUTORIALS / "09_choosing_k_imbalance.py").read_text()
    assert "the rule picks k = {k_rule}" in text and "picks k = 5" not in text


def test_the_figure_has_a_fixed_axis(run):
    text = (TUTORIALS / "09_choosing_k_imbalance.py").read_text()
    assert "set_ylim(0, 1.2)" in text
    for name in ("09_select_k.png", "09_imbalanced_confusion.png"):
        assert (run.figures / name).stat().st_size > 1000


def test_exercises_ask_only_true_things():
    """Exercise 1 no longer calls L_S positive between uniform and one-hot q (it is 0 for any
    q when all rows are equal), and exercise 2 no longer asks to show a dependence on q."""
    text = (TUTORIALS / "09_choosing_k_imbalance.py").read_text()
    assert "positive in between" not in text
    assert "depends on q but not on n" not in text
    assert "for *any* q whenever all rows" in text


def test_check_meets_the_bound_the_text_states(run):
    assert run.pass_error("generalizability at k = 2") < 1e-10
