"""Tutorial 01 (dense layer and ReLU backward): the claims its text makes, on the fast run."""
import pytest

from tutorial_runner import assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("01_dense_layer.py")


def test_exercises_are_dense_and_relu_backward(run):
    assert [name for _, name in run.checks] == ["dense_backward", "relu_backward"]
    assert all(status == "PASS" for status, _ in run.checks)


@pytest.mark.parametrize("fragment", [
    "The package's Dense.backward agrees with finite differences to below 1e-8",
    "Every tensor of the small network agrees",
    "The planted bug gives a relative error of dx above 0.1",
    "For the cubic loss the error is smallest at an h between 1e-7 and 1e-3",
    "For the linear loss the error at h = 1e-12 is over 100 times",
    "In float32 the same check",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_quoted_numbers(run):
    # the text: the cubic loss's minimum near 3e-6; float32 1e-3 against float64 5e-11
    assert 1e-6 <= run.number("best h") <= 1e-5
    assert 1e-11 < run.number("float64 error") < 1e-10
    assert 5e-4 < run.number("float32 error") < 2e-3


def test_figure(run):
    assert (run.figures / "01_gradcheck_step.png").stat().st_size > 1000
