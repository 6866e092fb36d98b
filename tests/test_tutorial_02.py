"""Tutorial 02 (dropout forward/backward, the reconstruction loss, a denoising pair): the claims
its text makes and the fast-mode numbers it quotes."""
import pytest

from tutorial_runner import assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("02_dropout_denoising.py")


def test_exercises(run):
    assert [name for _, name in run.checks] == [
        "dropout_forward", "dropout_backward", "mse_loss (batch)", "mse_loss (mean)"]
    assert all(status == "PASS" for status, _ in run.checks)


@pytest.mark.parametrize("fragment", [
    "About a fifth of the units are zeroed",
    "At inference (train=False) dropout is the identity",
    "The package's Dropout.backward agrees with finite differences",
    'the gradient with reduction "batch" is d times that with "mean"',
    "The training loss ends higher with dropout than without",
    "On clean held-out images the pair trained without dropout reconstructs better",
    "With a fifth of the code dropped at test time the denoising pair reconstructs better",
    "Dropping the code raises the held-out loss by under 50%",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def _line(run, start):
    return next(line for line in run.stdout.splitlines() if line.startswith(start))


def test_printed_sentence_is_the_measured_numbers(run):
    """Section 4's sentence (clean and dropped held-out losses, the rises) repeats the numbers
    of the per-run lines it summarises."""
    import re
    got = {}
    for p in ("0.0", "0.2"):
        line = _line(run, f"p_drop {p}:")
        got[p] = (float(re.search(r"held-out loss clean ([\d.]+)", line).group(1)),
                  float(re.search(r"dropped at 0.2 ([\d.]+)", line).group(1)))
    sentence = _line(run, "clean held-out loss:")
    nums = [float(v) for v in re.findall(r"(\d+\.\d+)", sentence)]
    assert nums == pytest.approx([got["0.2"][0], got["0.0"][0], got["0.2"][1], got["0.0"][1]],
                                 abs=6e-4)
    assert run.number("gradient ratio batch / mean =") == 64


def test_a_failure_names_the_tensor():
    from tutorial_runner import run_tutorial
    wrong = run_tutorial("02_dropout_denoising.py", "mutant")
    assert "[FAIL] dropout_forward: out, mask: differs from dec_np.layers.Dropout, out: at index" in wrong.stdout
    assert "[FAIL] dropout_backward: dx: differs from centred finite differences with the mask frozen, dx: at index" in wrong.stdout
    assert "[FAIL] mse_loss (batch): loss, dx_hat: differs from dec_np.losses.mse and finite differences of it, loss: got" in wrong.stdout


def test_figures(run):
    for name in ("02_dae_loss.png", "02_reconstructions.png", "02_dropout_noise.png"):
        assert (run.figures / name).stat().st_size > 1000


def test_checks_meet_the_bounds_the_text_states(run):
    assert run.pass_error("dropout_forward: out, mask") == 0  # the same mask, bit for bit
    assert run.pass_error("dropout_backward: dx") < 1e-8
    for reduction in ("batch", "mean"):
        assert run.pass_error(f"mse_loss ({reduction}): loss, dx_hat") < 1e-8
