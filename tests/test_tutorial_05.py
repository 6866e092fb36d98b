"""Tutorial 05's own claims and numbers, from the cached fast-mode run with the solutions."""
import pytest

from tutorial_runner import assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("05_soft_assignment_target.py")


@pytest.mark.parametrize("fragment", [
    "over 1e5 times the Gaussian",
    "alpha = 1e6 the kernel",
    "Every point that leans to a cluster gets a sharper target",
    "The point halfway (z = 2) keeps p = (0.5, 0.5)",
    "Squaring alone is blind to cluster size",
    "tilts the ambiguous point towards the SMALL cluster",
    "Squaring alone shifts soft mass to the big cluster",
    "boundary of P moves towards the big centroid",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_numbers_quoted_in_the_text(run):
    assert "q by hand: [[0.914 0.086]]" in run.stdout
    assert "p without 1/f = [0.5 0.5],  p with 1/f = [0.261 0.739]" in run.stdout
    assert run.number("multiplied by f_0/f_1 =") == pytest.approx(2.84, abs=0.01)
    assert run.number("imbalanced") == pytest.approx(1.68, abs=0.01)


def test_exercise_checks_and_figure(run):
    assert [name for _, name in run.checks] == ["student_t_q for alpha = 0.5, 1, 2, 10",
                                                 "target_p on a random 20 x 4 q"]
    assert (run.figures / "05_q_and_p.png").stat().st_size > 1000


def test_a_failure_names_the_tensor_and_alpha():
    from tutorial_runner import run_tutorial
    wrong = run_tutorial("05_soft_assignment_target.py", "mutant")
    assert "differs from dec_np.soft_assignment, q (alpha = 0.5): at index" in wrong.stdout
    assert "differs from dec_np.target_distribution, p: at index" in wrong.stdout


def test_checks_are_exact_to_rounding(run):
    assert run.pass_error("student_t_q for alpha = 0.5, 1, 2, 10") < 1e-10
    assert run.pass_error("target_p on a random 20 x 4 q") < 1e-10
