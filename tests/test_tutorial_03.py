"""Tutorial 03 (SGD with momentum, Nesterov, the step schedule, optimisers on an autoencoder):
the claims its text makes and the fast-mode numbers it quotes."""
import re

import pytest

from tutorial_runner import assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("03_sgd_momentum.py")


def labelled_line(run, *label):
    """The first line of the tutorial's output whose words before the first colon are label."""
    return next(l for l in run.stdout.splitlines() if l.split(":")[0].split() == list(label))


def test_exercises_are_momentum_and_nesterov_steps_and_the_adam_stage(run):
    assert [name for _, name in run.checks] == ["sgd_momentum_step", "sgd_nesterov_step",
                                                "adam_stage"]
    assert all(status == "PASS" for status, _ in run.checks)


@pytest.mark.parametrize("fragment", [
    "With momentum 0.0, 400 steps at 0.99 x the limit",
    "With momentum 0.9, 400 steps at 0.99 x the limit",
    "After 60 steps momentum 0.5 with lr 0.1 is at least 1000 times closer",
    "Fine-tuning restarts at lr 0.1 and ends at 1e-5",
    "SGD at lr 0.3 with momentum 0.9 diverges",
    "At lr 0.01, momentum 0.9 ends lower than momentum 0",
    "Momentum 0.9 at lr 0.01 ends lower than plain SGD at lr 0.1",
    "Adam at lr 0.001 ends lowest of all five runs",
    'the "adam" schedule gives a higher DEC accuracy than "b64-steps"',
    "Over all nine runs SGD with momentum has the higher median DEC accuracy",
    "On MNIST-10k and USPS the two medians are within 1 point of each other",
    "On Fashion-MNIST SGD's median is more than 2 points below Adam's, so the rule keeps Adam",
    "On Fashion-MNIST DEC gains less than 2 points over its start after SGD pretraining",
    "A run with SGD takes less CPU time than a run with Adam",
    "With the shifts the median DEC accuracy is higher on each of the three data sets",
    "The rule keeps only adam-shift and chooses it",
    "A run with the shifts costs less than 15% more CPU time than one without",
    "SGD with the same shifts, on the seed of Fashion-MNIST it ran, ends below SGD without",
    "On Fashion-MNIST b64-shift's median is more than 2 points above adam-shift's",
    "On MNIST-10k b64-shift's median is more than 2 points below adam-shift's",
    "adam-shift's median over all its runs on the EPYC is higher than b64-shift's",
    "On Fashion-MNIST dae-adam-shift's median is the best of the three",
    "On MNIST-10k and USPS it is below adam-shift, but by less than 2 points",
    "The rule keeps dae-adam-shift alone, which made it the default in round 11",
    "A dae-adam-shift run takes more CPU time than an adam-shift run",
    "On USPS b64-shift's median is between 1 and 2 points below adam-shift's",
    "Without the shifts the layer-wise recipe ends higher on that Fashion-MNIST seed",
    "The b64 recipes start Fashion-MNIST from AE + k-means 0.54 to 0.58",
    "On Fashion-MNIST both lower rates start DEC more than 5 points higher",
    "It is 1.7 points below dae-adam-shift on MNIST-10k and 0.2 below adam-shift on USPS",
    "dae-adam5e4-shift has the best Fashion-MNIST median, above 0.59",
    "On MNIST-10k it is 1 to 2 points below dae-adam-shift and adam-shift",
    "lr 0.0001 ends below lr 0.0003 on both Fashion-MNIST seeds it ran",
    "The rule keeps dae-adam5e4-shift alone, and it meets the three targets",
    "On MNIST-70k dae-adam5e4-shift ends below 0.88 on three of its four seeds",
    "On seeds 0 to 2 its AE + k-means is 0.820 to 0.825",
    "The package's default is dae-adam-cap-shift",
    "On 10,000 rows the rule gives lr 0.0005 for 8,000 steps, on 70,000 lr 0.001",
    "20,224 rows still get a rate below 0.001, 20,225 rows get 0.001",
    "The 1,797 digits get lr 0.0001 (1,000 epochs), USPS's 9,298 images 0.0004625",
    "On MNIST-10k and Fashion-MNIST-10k each of the three runs is dae-adam5e4-shift's run",
    "On USPS, at lr 0.0004625, the median is 0.792",
    "The rule keeps dae-adam5e4-shift and dae-adam-cap-shift; the first fails the MNIST-70k",
    "On MNIST-70k seeds 0 to 3 are dae-adam-shift's runs of the same seeds",
    "Seed 4 at one BLAS thread ends at 0.872, 1.25 points below",
    "Over the five seeds the median is 0.922 and the lowest 0.872",
    "On the 1,797 digits the cap's median is 0.813, dae-adam-shift's 0.805",
    "On the digits each recipe's three seeds lie 4 to 9 points apart",
    "The default meets the three 10,000-image targets on the Xeon",
    "Alone at two threads every fit takes under 15 minutes and the median is 0.903, but seed",
    "At one thread beside another run a fit takes 16 to 17.5 minutes; over the ten runs seven",
    "With n_jobs=2 each of the five seeds is the one-thread run of the same seed to the last",
    "The median fit with n_jobs=2 is less than 6% longer than with BLAS's two threads",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_quoted_numbers(run):
    """Section 5 quotes, for fast mode: divergence found at iteration 24; at lr 0.01 0.689 with
    momentum 0.9 against 1.518 without; Adam 0.549; plain lr 0.1 0.934 on the Xeon's BLAS
    kernel and 0.878 on the EPYC's (the text quotes both)."""
    assert "at iteration 24" in run.stdout.split("SGD lr 0.3, momentum 0.9:")[1].splitlines()[0]
    for label, value in (("SGD lr 0.01, momentum 0.9", 0.689), ("SGD lr 0.01, momentum 0.0", 1.518),
                         ("Adam lr 0.001", 0.549)):
        assert abs(run.number(f"{label}: loss on all images after 500 steps") - value) < 0.002, label
    plain = run.number("SGD lr 0.1, momentum 0.0: loss on all images after 500 steps")
    assert min(abs(plain - 0.934), abs(plain - 0.878)) < 0.002, plain
    assert re.search(r"fine-tuning: iterations 200000 to 299999, lr 0.1 down to 1e-05", run.stdout)
    assert run.number("limit lr =") == pytest.approx(0.152)  # the last one printed: momentum 0.9


def test_figures(run):
    for name in ("03_momentum_paths.png", "03_lr_schedule.png", "03_ae_optimizers.png"):
        assert (run.figures / name).stat().st_size > 1000


def test_quoted_study_numbers(run):
    """Section 6 quotes the round-8 medians (docs/results/recipes_cpu.jsonl), nine runs each."""
    quoted = {("adam", "mnist-test"): 0.775, ("adam", "usps"): 0.764,
              ("adam", "fashion-mnist"): 0.531, ("sgd-lr8", "mnist-test"): 0.769,
              ("sgd-lr8", "usps"): 0.761, ("sgd-lr8", "fashion-mnist"): 0.490}
    for (recipe, data), value in quoted.items():
        line = labelled_line(run, recipe, data)
        assert f"median {value:.3f}" in line, line
    for recipe, median, cpu in (("adam", 0.738, 970), ("sgd-lr8", 0.761, 632)):
        line = next(l for l in run.stdout.splitlines() if l.split()[:3] == [recipe, "all", "9"])
        assert f"median DEC ACC {median:.3f}" in line and f"median CPU time {cpu} s" in line, line


def test_quoted_round9_numbers(run):
    """Section 6 quotes the adam-shift medians beside adam's (round 9)."""
    for data, value in (("mnist-test", 0.871), ("usps", 0.802), ("fashion-mnist", 0.544)):
        line = labelled_line(run, "adam-shift", data)
        assert f"median {value:.3f}" in line, line
    assert "chosen: adam-shift" in run.stdout
    line = next(l for l in run.stdout.splitlines() if l.split()[:3] == ["adam-shift", "all", "9"])
    assert "median DEC ACC 0.802" in line and "median CPU time 1053 s" in line, line
    assert "sgd-shift fashion-mnist seed 0: AE + k-means 0.363, DEC 0.268 after 20020" in run.stdout


def test_quoted_round10_numbers(run):
    """Section 6 quotes b64-shift's medians and seeds on the EPYC (round 10)."""
    for data, value in (("mnist-test", 0.843), ("usps", 0.788), ("fashion-mnist", 0.571)):
        line = labelled_line(run, "EPYC", "b64-shift", data)
        assert f"median {value:.3f}" in line, line
    line = labelled_line(run, "EPYC", "b64-shift", "fashion-mnist")
    assert "[0.564, 0.571, 0.604]" in line, line
    assert "EPYC  b64-shift  all 9 runs: median DEC ACC 0.788" in run.stdout
    for data, value in (("mnist-test", 0.876), ("usps", 0.800), ("fashion-mnist", 0.543)):
        line = labelled_line(run, "EPYC", "adam-shift", data)
        assert f"median {value:.3f}" in line, line
    assert "EPYC adam-shift  all 9 runs: median DEC ACC 0.800" in run.stdout
    assert "b64-steps (no shifts) fashion-mnist seed 0: DEC ACC 0.584 (b64-shift 0.564)" in run.stdout


def test_quoted_round11_numbers(run):
    """Section 6 quotes dae-adam-shift's seeds, medians and CPU time on the EPYC (round 11)."""
    for data, seeds, value in (("mnist-test", "[0.862, 0.85, 0.87]", "0.8620"),
                               ("usps", "[0.801, 0.785, 0.795]", "0.7955"),
                               ("fashion-mnist", "[0.588, 0.59, 0.54]", "0.5875")):
        line = labelled_line(run, "EPYC", "dae-adam-shift", data)
        assert f"{seeds}, median {value}" in line, line
    assert "EPYC dae-adam-shift  all 9 runs: median DEC ACC 0.7955" in run.stdout
    assert "{'adam-shift': 689, 'dae-adam-shift': 1023}" in run.stdout
    assert "kept by the rule: ['dae-adam-shift']" in run.stdout


def test_quoted_round14_fashion_numbers(run):
    """Section 6 quotes the default's Fashion-MNIST seeds on the Xeon and over both machines."""
    assert ("Xeon dae-adam-shift fashion-mnist: DEC ACC seeds [0, 1, 2] [0.5394, 0.5876, 0.526], "
            "median 0.5394") in run.stdout
    assert "both machines, 6 runs: median 0.5638, min 0.5260, max 0.5900" in run.stdout


def test_quoted_round15_numbers(run):
    """Section 6 quotes the lower Adam rates' medians on the Xeon (round 15) and the MNIST-70k
    seeds of the one the rule keeps."""
    for recipe, data, value in (("dae-adam5e4-shift", "mnist-test", "0.8522"),
                                ("dae-adam5e4-shift", "usps", "0.7998"),
                                ("dae-adam5e4-shift", "fashion-mnist", "0.6030"),
                                ("dae-adam3e4-shift", "mnist-test", "0.8468"),
                                ("dae-adam-shift", "mnist-test", "0.8692"),
                                ("dae-adam-shift", "fashion-mnist", "0.5394")):
        line = labelled_line(run, "Xeon", recipe, data)
        assert f"median {value}" in line, line
    assert "kept by the rule: ['dae-adam5e4-shift']" in run.stdout
    assert "0: 0.8765, 1: 0.8681, 2: 0.8744, 3: 0.9661" in run.stdout


def test_quoted_round16_numbers(run):
    """Section 6 quotes the capped rule's steps and rates and the default's records (round 16)."""
    for size, rate in (("digits", "lr 0.0001,"), ("USPS", "lr 0.0004625,"),
                       ("MNIST-10k", "lr 0.0005,"), ("MNIST-70k", "lr 0.001,")):
        line = labelled_line(run, size)
        assert rate in line, line
    assert "70,000 rows, 12,056 steps =   44.00 epochs" in run.stdout
    for data, value in (("mnist-test", "0.8522"), ("usps", "0.7917"), ("fashion-mnist", "0.6030")):
        line = labelled_line(run, "Xeon", "dae-adam-cap-shift", data)
        assert f"median {value}" in line, line
    assert "chosen: dae-adam-cap-shift" in run.stdout
    assert "five seeds: median 0.9222, min 0.8724, max 0.9573" in run.stdout
    assert "2 BLAS threads: AE + k-means 0.8112 -> DEC 0.8849, fit 789 s" in run.stdout
    assert "five seeds alone at two threads: median 0.9032, min 0.8242, max 0.9621" in run.stdout
    assert "five seeds with n_jobs=2: median 0.9222, min 0.8724, max 0.9573" in run.stdout
