"""Tutorial 07 (DEC end to end, the clustering loop by hand): the claims its text makes, on the
fast run, and the statement its section 1 rests on (handing the generator on to
``DEC(autoencoder=sae)`` gives the run of ``DEC(random_state=0)``)."""
import copy

import numpy as np
import pytest

from tutorial_runner import assert_claim, run_fixture


run = run_fixture("07_dec_end_to_end.py")


@pytest.mark.slow
def test_exercise_is_the_dec_step(run):
    assert [name for _, name in run.checks] == ["dec_step"]
    assert all(status == "PASS" for status, _ in run.checks)


@pytest.mark.slow
@pytest.mark.parametrize("fragment", [
    "The loop by hand ends with the same labels, after the same number of iterations",
    "DEC ends above its own starting point, AE + k-means",
    "With P held fixed, the loss fell over every interval",
    "The recorded loss rose from one update to the next at least once",
    "At the start the most confident tenth of the cluster has a larger mean gradient",
    "At the end the order is reversed",
    "On the Xeon the adam-shift recipe's median DEC ACC over three seeds on MNIST-10k is at least 0.80",
    "With the shifts each seed ends higher than without them",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


@pytest.mark.slow
def test_quoted_numbers(run):
    # fast mode: AE + k-means 0.605, DEC 0.655 on 1,500 MNIST images (seed 0)
    ae, dec = run.number("AE + k-means:      ACC"), run.number("DEC:               ACC")
    assert dec > ae + 0.02
    assert 0.55 < ae < 0.66 and 0.60 < dec < 0.71
    assert "labels identical: True" in run.stdout
    assert run.number("centroid difference") < 1e-5


@pytest.mark.slow
def test_quoted_records(run):
    """Section 8 quotes the Xeon's three seeds of the recipe "adam-shift" and of
    "adam" on MNIST-10k."""
    quoted = {"adam-shift": ((0, 0.789, 0.867), (1, 0.798, 0.871), (2, 0.802, 0.873), 0.871),
              "adam": ((0, 0.650, 0.728), (1, 0.698, 0.775), (2, 0.764, 0.841), 0.775)}
    for recipe, (*seeds, median) in quoted.items():
        for seed, ae, dec in seeds:
            head = f"Xeon, {recipe}, seed {seed}: "
            assert head in run.stdout, head
            line = run.stdout.split(head)[1].splitlines()[0]
            assert f"AE + k-means {ae:.3f}, DEC {dec:.3f}" in line, line
        assert run.number(f"Xeon, {recipe}, median DEC ACC over seeds [0, 1, 2]:") == \
            pytest.approx(median, abs=5e-4)


@pytest.mark.slow
def test_figures(run):
    for name in ("07_training_curves.png", "07_confusion.png", "07_fig3_cluster_examples.png",
                 "07_fig4_gradient_start.png", "07_fig4_gradient_end.png", "07_fig5_embedding.png"):
        assert (run.figures / name).stat().st_size > 1000


@pytest.mark.parametrize("augment", [None, {"shift": 0.1}])
def test_generator_handed_on_gives_the_run_of_dec_random_state_0(augment):
    """Section 1: pretraining by hand from default_rng(0), then DEC(autoencoder=sae,
    random_state=<that generator>), is the very run DEC(random_state=0) makes; also when
    pretraining shifts the images (as adam-shift and the default do on images)."""
    from dec_np import DEC, StackedAutoencoder
    from dec_np.datasets import load_digits
    from dec_np.scaling import input_scale_factor
    from dec_np.schedules import get_schedule, run_schedule

    X, _ = load_digits()
    X = X[:300]
    tiny = {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
            "input_scaling": "max", "layerwise": None,
            "finetune": {"iterations": 60, "batch_size": 32, "lr": 1e-2, "optimizer": "adam"},
            "augment": augment}
    kw = dict(n_init=3, update_interval=10, max_iter=40)
    ref = DEC(4, hidden_dims=(16, 4), schedule=tiny, image_shape=(8, 8), random_state=0,
              **kw).fit(X)

    s = get_schedule(tiny)
    Xs = X.astype(np.float32) * np.float32(input_scale_factor(X, s["input_scaling"]))
    rng = np.random.default_rng(0)
    sae = StackedAutoencoder((X.shape[1], 16, 4), random_state=rng, **s["model"])
    run_schedule(sae, Xs, s, image_shape=(8, 8))
    got = DEC(4, autoencoder=copy.deepcopy(sae), input_scaling="max", random_state=rng,
              **kw).fit(X)
    assert np.array_equal(got.labels_, ref.labels_)
    assert np.array_equal(got.cluster_centers_, ref.cluster_centers_)
    assert got.n_iter_ == ref.n_iter_
