"""Tutorial 09 (choosing k, imbalanced data): the claims its text makes, on the fast run."""
import pytest

from tutorial_runner import assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("09_choosing_k_imbalance.py")


def test_exercise_is_the_generalizability(run):
    assert [name for _, name in run.checks] == ["generalizability"]
    assert all(status == "PASS" for status, _ in run.checks)


@pytest.mark.parametrize("fragment", [
    "DEC changes the cluster of at most a sixth of the training points",
    "G stays within 0.1 of 1 for every k",
    "the rarest digit of the r_min = 0.1 subset has fewer than 20 images",
    "DEC's ACC is within 5 points of its start at every r_min",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_quoted_numbers(run):
    # the text sets the fast run's G (near 1) beside the full-size record (0.520 to 0.772)
    assert 0.9 < run.number("fast mode: G from") < 1.1
    assert run.number("G from") == pytest.approx(0.520)
    assert "1200 training and 300 validation images" in run.stdout


def test_figures(run):
    for name in ("09_select_k.png", "09_imbalanced_confusion.png"):
        assert (run.figures / name).stat().st_size > 1000
