"""Tutorial 06's own claims and numbers, from the cached fast-mode run with the solutions."""
import pytest

from tutorial_runner import assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("06_kl_gradients.py")


@pytest.mark.parametrize("fragment", [
    "kl_gradients agrees with finite differences to 1e-6 for every alpha",
    "The loop over Eq. (4) equals kl_gradients",
    "The forces sum to zero",
    "With p = q every gradient is zero",
    "The gradient through P points against DEC's P-fixed gradient",
    "With P fixed the assignments sharpen",
    "Through P the assignments blur",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_numbers_quoted_in_the_text(run):
    assert run.number("cosine") == pytest.approx(-0.955, abs=0.005)


def test_exercise_checks_and_figure(run):
    assert [name for _, name in run.checks] == ["dL_dz for alpha = 0.25 ... 20",
                                                 "dL_dmu for alpha = 0.25 ... 20"]
    assert (run.figures / "06_gradcheck_alpha.png").stat().st_size > 1000
