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


ALPHAS = ("0.25", "0.5", "1", "2", "5", "20")


def test_exercise_checks_and_figure(run):
    assert [name for _, name in run.checks] == (
        [f"dL_dz, alpha = {a}" for a in ALPHAS] + [f"dL_dmu, alpha = {a}" for a in ALPHAS])
    assert (run.figures / "06_gradcheck_alpha.png").stat().st_size > 1000


HARD_CODED_2 = '''"""Eq. (4) and (5) with the prefactor 2 of alpha = 1 hard-coded: right for alpha = 1 only."""
import numpy as np


def _c(z, mu, p, q, alpha):
    d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2)
    return 2.0 * (p - q) / (1.0 + d2 / alpha)


def dL_dz(z, mu, p, q, alpha=1.0):
    return (_c(z, mu, p, q, alpha)[:, :, None] * (z[:, None, :] - mu[None, :, :])).sum(axis=1)


def dL_dmu(z, mu, p, q, alpha=1.0):
    return -(_c(z, mu, p, q, alpha)[:, :, None] * (z[:, None, :] - mu[None, :, :])).sum(axis=0)
'''


def test_a_hard_coded_prefactor_passes_at_alpha_1_only(tmp_path):
    """One check per alpha: the student who writes 2 for (alpha+1)/alpha learns that alpha = 1
    passes and every other alpha fails, and the message names the tensor."""
    from tutorial_runner import run_with_solution
    got = run_with_solution("06_kl_gradients.py", HARD_CODED_2, tmp_path)
    assert got.returncode == 0, got.stderr[-2000:]
    status = {name: st for st, name in got.checks}
    for grad in ("dL_dz", "dL_dmu"):
        assert status[f"{grad}, alpha = 1"] == "PASS"
        assert all(status[f"{grad}, alpha = {a}"] == "FAIL" for a in ALPHAS if a != "1")
    assert "[FAIL] dL_dz, alpha = 2: differs from finite differences of KL(P || Q(z)), P fixed, dz: at index" in got.stdout
    assert "[FAIL] dL_dmu, alpha = 2:" in got.stdout and ", dmu: at index" in got.stdout


def test_checks_meet_the_bound_the_text_states(run):
    for a in ALPHAS:
        assert run.pass_error(f"dL_dz, alpha = {a}") < 1e-6
        assert run.pass_error(f"dL_dmu, alpha = {a}") < 1e-6
