"""Tutorial 07 (DEC end to end, the clustering loop by hand): the claims its text makes, on the
fast run; what its check says about a right and a wrong step; and the statement its section 1
rests on (handing the generator on to ``DEC(autoencoder=sae)`` gives the run of
``DEC(random_state=0)``, also with the default schedule's layer-wise stage)."""
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
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


@pytest.mark.slow
def test_printed_numbers(run):
    ae, dec = run.number("AE + k-means:      ACC"), run.number("DEC:               ACC")
    assert dec > ae + 0.02
    assert "labels identical: True" in run.stdout
    assert run.number("centroid difference") < 1e-5
    # section 8's sentence repeats the run's own numbers
    line = next(l for l in run.stdout.splitlines() if l.startswith("this run:"))
    assert f"AE + k-means ACC {ae:.3f}, DEC ACC {dec:.3f}" in line
    assert "3,330,794" in line  # the paper's 784-500-500-2000-10 autoencoder, both halves


@pytest.mark.slow
def test_no_stored_record_is_read(run):
    import tutorial_runner
    text = (tutorial_runner.TUTORIALS / "07_dec_end_to_end.py").read_text()
    assert "docs/results" not in text and "jsonl" not in text


FLOAT64_SCALE = """from dec_np.dec_math import kl_gradients, soft_assignment
import numpy as np


def dec_step(encoder, xb, pb, params, grads, opt, alpha=1.0):
    zb = encoder.forward(xb, train=True)
    qb = soft_assignment(zb, params["mu"], alpha)
    dz, dmu = kl_gradients(zb, params["mu"], pb, qb, alpha)
    inv = np.float64(1 / xb.shape[0])          # a float64 scalar: float64 gradients
    encoder.backward(dz * inv, need_dx=False)
    grads["mu"] = dmu * inv
    opt.step(params, grads)
"""
NO_MEAN = FLOAT64_SCALE.replace("np.float64(1 / xb.shape[0])", "1.0  # forgot 1/B")


@pytest.mark.slow
def test_the_check_accepts_any_correct_scaling_and_catches_a_missing_1_over_B(tmp_path):
    from tutorial_runner import run_with_solution
    right = run_with_solution("07_dec_end_to_end.py", FLOAT64_SCALE, tmp_path / "a")
    assert right.returncode == 0, right.stderr[-2000:]
    assert right.checks == [("PASS", "dec_step")], right.stdout[:3000]
    wrong = run_with_solution("07_dec_end_to_end.py", NO_MEAN, tmp_path / "b")
    assert wrong.checks == [("FAIL", "dec_step")]
    assert "differs from one iteration of DEC.fit (max_iter=1), enc0.W: at index" in wrong.stdout


@pytest.mark.slow
def test_figures(run):
    for name in ("07_training_curves.png", "07_confusion.png", "07_fig3_cluster_examples.png",
                 "07_fig4_gradient_start.png", "07_fig4_gradient_end.png", "07_fig5_embedding.png"):
        assert (run.figures / name).stat().st_size > 1000


LAYERWISE = {"model": {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "mean"},
             "input_scaling": "paper",
             "layerwise": {"iterations": 30, "batch_size": 32, "lr": 1.0}}


@pytest.mark.parametrize("augment, layerwise", [(None, False), ({"shift": 0.1}, False),
                                                ({"shift": 0.1}, True)])
def test_generator_handed_on_gives_the_run_of_dec_random_state_0(augment, layerwise):
    """Section 1: pretraining by hand from default_rng(0), then DEC(autoencoder=sae,
    random_state=<that generator>), is the very run DEC(random_state=0) makes; also when
    pretraining shifts the images, and with a layer-wise denoising stage and the paper's
    input scaling first (the shape of the default schedule, which full mode runs)."""
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
    if layerwise:
        tiny.update(LAYERWISE)
    kw = dict(n_init=3, update_interval=10, max_iter=40)
    ref = DEC(4, hidden_dims=(16, 4), schedule=tiny, image_shape=(8, 8), augment=None,
              random_state=0, **kw).fit(X)

    s = get_schedule(tiny)
    Xs = X.astype(np.float32) * np.float32(input_scale_factor(X, s["input_scaling"]))
    rng = np.random.default_rng(0)
    sae = StackedAutoencoder((X.shape[1], 16, 4), random_state=rng, **s["model"])
    run_schedule(sae, Xs, s, image_shape=(8, 8))
    got = DEC(4, autoencoder=copy.deepcopy(sae), input_scaling=s["input_scaling"],
              random_state=rng, **kw).fit(X)
    assert np.array_equal(got.labels_, ref.labels_)
    assert np.array_equal(got.cluster_centers_, ref.cluster_centers_)
    assert got.n_iter_ == ref.n_iter_


def test_full_mode_runs_the_default_schedule():
    """Full mode's schedule is the one DEC(...).fit uses by default, read from the package."""
    from dec_np import DEC
    from dec_np.schedules import get_schedule
    import tutorial_runner
    assert DEC().get_params()["schedule"] == "default"
    text = (tutorial_runner.TUTORIALS / "07_dec_end_to_end.py").read_text()
    assert 'schedule=get_schedule("default", True)' in text  # the rows are images
    assert get_schedule("default", True)  # resolves
