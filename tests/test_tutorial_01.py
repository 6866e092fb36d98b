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


def test_printed_numbers(run):
    # section 6: the cubic loss's best h lies near h^3 ~ eps (the text says "near 1e-5");
    # section 7: the float32 check is hopeless beside float64's
    assert 1e-7 <= run.number("best h") <= 1e-4
    assert run.number("float64 error") < 1e-9
    assert run.number("float32 error") > 1e-4


def test_figure(run):
    assert (run.figures / "01_gradcheck_step.png").stat().st_size > 1000


def test_a_failure_names_the_tensor():
    """A wrong dense_backward is reported by the name of the first wrong tensor, not by its
    position in the result."""
    from tutorial_runner import run_tutorial
    wrong = run_tutorial("01_dense_layer.py", "mutant")
    assert "[FAIL] dense_backward: dx, dW, db: differs from centred finite differences (h = 1e-5), dx: at index" in wrong.stdout
    assert "[FAIL] relu_backward: dx: differs from centred finite differences (h = 1e-5), dx: at index" in wrong.stdout
    assert "result 0" not in wrong.stdout


def test_checks_meet_the_bounds_the_text_states(run):
    assert run.pass_error("dense_backward: dx, dW, db") < 1e-8
    assert run.pass_error("relu_backward: dx") < 1e-8
