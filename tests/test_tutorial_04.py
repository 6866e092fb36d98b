"""Tutorial 04 (greedy layer-wise pretraining, ACC and NMI, k-means restarts): every claim its
text makes holds on the fast run, no answer is printed before the exercise that asks for it,
and its checks name what differs."""
import re

import pytest

from tutorial_runner import TUTORIALS, assert_claim, run_fixture, run_tutorial

pytestmark = pytest.mark.slow

SCRIPT = "04_stacked_autoencoder.py"
run = run_fixture(SCRIPT)

CLAIMS = [
    "Fine-tuning the stacked network end to end lowers its reconstruction loss",
    "The default runs a layer-wise denoising stage, then fine-tunes the whole stack with Adam",
    "kmeans(n_init=20) returns the lowest-inertia run of the 20",
    "The 20 seedings end in different local minima",
    "Fine-tuning improves the k-means ACC of z over the layer-wise stage alone",
    "In the fast run k-means does worse on z after the layer-wise stage alone than on the pixels",
    "In the fast run the Adam autoencoder's z is behind the paper's method's",
]


@pytest.mark.parametrize("fragment", CLAIMS)
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_every_claim_is_listed_here(run):
    """A claim added to the lesson without a test here fails this test."""
    unlisted = [t for _, t in run.claims if not any(f in t for f in CLAIMS)]
    assert not unlisted and len(run.claims) == len(CLAIMS), unlisted


def test_the_worked_table_is_scored_only_after_the_exercises_check_it(run):
    out = run.stdout
    assert "ACC 0.7500, NMI 0.4849" in out
    assert out.index("ACC 0.7500, NMI 0.4849") > out.index("[PASS] nmi_from_table")
    assert "0.4849" not in out[:out.index("[PASS] nmi_from_table")]
    text = (TUTORIALS / SCRIPT).read_text()
    assert "0.4849" not in text and "0.5225" not in text  # the text leaves NMI to the student


def test_the_lesson_prints_the_numbers_its_text_talks_about(run):
    scores = {label: run.number(f"k-means on {label:<20s}: ACC")
              for label in ("pixels", "z, layer-wise only", "z, paper's method",
                            "z, end-to-end Adam")}
    assert all(0 < v <= 1 for v in scores.values()), scores
    assert "the package's default (what DEC() runs; not run here): {" in run.stdout


def test_exercise_checks_and_figures(run):
    assert [name for _, name in run.checks] == [
        "clean_input, h_1 and h_2 of the trained twin",
        "pretrain_depth, losses and weights of depths 0 and 1",
        "acc_from_table", "nmi_from_table"]
    for png in ("04_loss_history.png", "04_reconstructions.png"):
        assert (run.figures / png).stat().st_size > 1000


def test_wrong_code_is_reported_by_the_name_of_what_differs():
    fails = [l for l in run_tutorial(SCRIPT, "mutant").stdout.splitlines()
             if l.startswith("[FAIL]")]
    assert len(fails) == 4, fails
    assert "['h_1']" in fails[0] and "['loss0']" in fails[1], fails
    assert all("['the worked 3x3 table']" in f for f in fails[2:]), fails


def test_the_lesson_keeps_records_and_machines_in_docs():
    text = (TUTORIALS / SCRIPT).read_text()
    assert not re.search(r"\bround [0-9]|\brounds [0-9]|xeon|epyc|blas|cpu time|docs/results",
                         text, re.I)
    assert "tutorial 03's `mse`" not in text and "`mse` loss (02)" in text
    assert len(text.splitlines()) < 420
