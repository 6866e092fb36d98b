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


def test_quoted_numbers(run):
    """Section 4 quotes, for fast mode: clean 0.762 (dropout) against 0.618 (none); with the
    code dropped 0.906 against 1.21."""
    import re
    for p, clean, dropped in (("0.0", 0.618, 1.21), ("0.2", 0.762, 0.906)):
        line = _line(run, f"p_drop {p}:")
        got_clean = float(re.search(r"held-out loss clean ([\d.]+)", line).group(1))
        got_dropped = float(re.search(r"dropped at 0.2 ([\d.]+)", line).group(1))
        assert abs(got_clean - clean) < 0.0015, line
        assert abs(got_dropped - dropped) < 0.006, line
    assert run.number("gradient ratio batch / mean =") == 64


def test_figures(run):
    for name in ("02_dae_loss.png", "02_reconstructions.png", "02_dropout_noise.png"):
        assert (run.figures / name).stat().st_size > 1000
