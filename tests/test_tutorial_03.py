"""Tutorial 03 (momentum, Nesterov, the paper's schedule, optimisers on an autoencoder, and why
the default pretraining departs from the paper): every claim its text makes holds on the fast
run, and its checks name the tensor that differs."""
import re

import pytest

from tutorial_runner import TUTORIALS, assert_claim, run_fixture, run_tutorial

from dec_np.autoencoder import capped_lr, steps_with_min_epochs
from dec_np.schedules import finetune_lr, get_schedule

pytestmark = pytest.mark.slow

SCRIPT = "03_sgd_momentum.py"
run = run_fixture(SCRIPT)

CLAIMS = [
    "With momentum 0.0, 400 steps at 0.99 x the limit",
    "With momentum 0.9, 400 steps at 0.99 x the limit",
    "After 60 steps momentum 0.5 with lr 0.1 is at least 1000 times closer",
    "Fine-tuning restarts at lr 0.1 and ends at 1e-5",
    "SGD at lr 0.3 with momentum 0.9 diverges",
    "At lr 0.01, momentum 0.9 ends lower than momentum 0",
    "Momentum 0.9 at lr 0.01 ends lower than plain SGD at lr 0.1",
    "Adam at lr 0.001 ends lowest of all five runs",
    "On the loss / d Adam ends within 5% of where it ends on the loss; SGD at the same rate",
    "Shifted, an image's nearest neighbour in pixels has its class at least 20 points less",
    "The default's fine-tuning runs below its rate up to",
]


@pytest.mark.parametrize("fragment", CLAIMS)
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_every_claim_is_listed_here(run):
    """A claim added to the lesson without a test here fails this test."""
    unlisted = [t for _, t in run.claims if not any(f in t for f in CLAIMS)]
    assert not unlisted and len(run.claims) == len(CLAIMS), unlisted


def test_exercises_are_momentum_and_nesterov_steps_and_the_adam_stage(run):
    assert [name for _, name in run.checks] == ["sgd_momentum_step", "sgd_nesterov_step",
                                                "adam_stage"]
    assert all(status == "PASS" for status, _ in run.checks)


def test_wrong_code_is_reported_by_the_name_of_what_differs():
    wrong = run_tutorial(SCRIPT, "mutant")
    fails = [l for l in wrong.stdout.splitlines() if l.startswith("[FAIL]")]
    assert len(fails) == 3, fails
    assert ", w: at index" in fails[0] and ", w: at index" in fails[1], fails
    assert re.search(r", (steps|lr) at [\d,]+ rows: got", fails[2]), fails


def test_the_lesson_prints_the_numbers_its_text_talks_about(run):
    # section 5: the diverged run names its iteration; the four others print their loss
    assert re.search(r"SGD lr 0.3, momentum 0.9: diverged \(.*at iteration \d+", run.stdout)
    for label in ("SGD lr 0.1, momentum 0.0", "SGD lr 0.01, momentum 0.9",
                  "SGD lr 0.01, momentum 0.0", "Adam lr 0.001"):
        assert run.number(f"{label}: loss on all images after 500 steps") > 0
    # section 6: the default is read from the package, not written in the text
    assert "the default schedule: {" in run.stdout
    # (a): the end of each run on the loss / d over its end on the loss, both measured here
    _, text = run.claim("On the loss / d Adam")
    assert re.search(r"\(sgd = \d+\.?\d*, adam = \d+\.?\d*\)$", text), text
    # (c): the cap's and the floor's edges are the package default's, whatever its numbers
    ft = get_schedule("default")["finetune"]
    S, B, m, L = (ft[k] for k in ("iterations", "batch_size", "min_epochs", "lr_epochs"))
    cap_to, floor_from = B * (-(-S // L) - 1), B * int(S // m) + 1
    _, text = run.claim("The default's fine-tuning runs below its rate up to")
    assert f"up to {cap_to:,} rows" in text and f"more from {floor_from:,}" in text, text
    rate = finetune_lr(get_schedule("default"), cap_to)
    assert capped_lr(rate, S / -(-cap_to // B), L) < rate
    assert steps_with_min_epochs(floor_from - 1, S, B, m) == S
    assert steps_with_min_epochs(floor_from, S, B, m) > S
    assert re.search(r"fine-tuning: iterations 200000 to 299999, lr 0.1 down to 1e-05", run.stdout)
    assert run.number("limit lr =") == pytest.approx(0.152)  # the last one printed: momentum 0.9


def test_figures(run):
    for name in ("03_momentum_paths.png", "03_lr_schedule.png", "03_ae_optimizers.png",
                 "03_shifts.png"):
        assert (run.figures / name).stat().st_size > 1000


def test_the_lesson_keeps_records_and_machines_in_docs():
    """The lesson is about what the student's run computes: no stored records, no machines, no
    study rounds, and the default's step counts are read from the package, not written down."""
    text = (TUTORIALS / SCRIPT).read_text()
    assert not re.search(r"\bround [0-9]|\brounds [0-9]|xeon|epyc|blas|cpu time|docs/results",
                         text, re.I)
    assert not any(n in text for n in ("8,000", "8000", "12,056", "20,225", "46,337"))
    assert text.count("](../docs/defaults-study.md)") == 1  # one link to the evidence
    lines = text.splitlines()
    assert len(lines) < 400
    # section 6 is one short lesson, not a report: from its heading to the summary
    first = lines.index("# ## 6. Why the package's default pretraining departs from the paper")
    assert lines.index("summary()") - first < 72
