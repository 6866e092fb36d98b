"""Tutorial 04's own claims and numbers, from the cached fast-mode run with the solutions."""
import pytest

from tutorial_runner import assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("04_stacked_autoencoder.py")


@pytest.mark.parametrize("fragment", [
    "Fine-tuning the stacked network end to end lowers its reconstruction loss",
    "kmeans(n_init=20) returns the lowest-inertia run of the 20",
    "The 20 seedings end in different local minima",
    "Fine-tuning improves the k-means ACC of z over the layer-wise stage alone",
    "In the fast run the Adam autoencoder's z is behind the paper's method's",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_numbers_quoted_in_the_text(run):
    # the worked contingency table of section 4
    assert run.number("ACC") and "ACC 0.7500, NMI 0.4849" in run.stdout
    # the fast-mode k-means scores the text quotes beside the full-mode ones
    assert run.number("k-means on pixels              : ACC") == pytest.approx(0.539, abs=0.005)
    assert run.number("k-means on z, layer-wise only  : ACC") == pytest.approx(0.317, abs=0.03)
    # the text quotes the Xeon's 0.560 / 0.405 and the EPYC's 0.527 / 0.400
    paper = run.number("k-means on z, paper's method   : ACC")
    assert min(abs(paper - 0.560), abs(paper - 0.527)) < 0.006, paper
    assert abs(paper - run.number("k-means on pixels              : ACC")) < 0.03
    adam = run.number("k-means on z, end-to-end Adam  : ACC")
    assert min(abs(adam - 0.405), abs(adam - 0.400)) < 0.006, adam


def test_exercise_checks_and_figures(run):
    assert [name for _, name in run.checks] == [
        "clean_input, h_1 and h_2 of the trained twin",
        "pretrain_depth, losses and weights of depths 0 and 1",
        "acc_from_table", "nmi_from_table"]
    for png in ("04_loss_history.png", "04_reconstructions.png"):
        assert (run.figures / png).stat().st_size > 1000
