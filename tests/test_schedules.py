import warnings

import numpy as np
import pytest

from dec_np import DEC, StackedAutoencoder
from dec_np.autoencoder import capped_lr, steps_with_min_epochs
from dec_np.cli import dec_input
from dec_np.datasets import input_scale_factor, max_scale_factor, paper_scale_factor
from dec_np.schedules import (ALIASES, DEFAULT, SCHEDULES, get_schedule, layerwise_rates,
                              run_schedule)

TINY = {"model": {"p_drop": 0.1, "init_std": 0.01, "loss_reduction": "mean"},
        "layerwise": {"epochs": 1, "batch_size": 16, "lr": 0.5},
        "finetune": {"epochs": 1, "batch_size": 16, "lr": 0.5}}


def test_the_named_schedules():
    assert set(SCHEDULES) == {"dae-adam-cap-shift", "dae-adam-short-shift", "paper",
                              "paper-short", "paper-epochs", "adam", "adam-shift", "sgd", "long",
                              "fast"}
    assert DEFAULT in SCHEDULES and get_schedule("default") == SCHEDULES[DEFAULT]
    # every alias names a schedule, and gives that schedule
    for alias, name in ALIASES.items():
        assert alias not in SCHEDULES and get_schedule(alias) == SCHEDULES[name]
    assert get_schedule("b64-steps") == SCHEDULES["paper-short"]
    assert get_schedule("b64-epochs") == SCHEDULES["paper-epochs"]


def test_what_each_schedule_runs():
    # the paper's own method, with its input convention and step schedule
    paper = get_schedule("paper")
    assert paper["input_scaling"] == "paper" and paper["model"]["p_drop"] == 0.2
    assert paper["layerwise"]["iterations"] == 50000 and paper["finetune"]["iterations"] == 100000
    assert paper["layerwise"]["lr_step"] == paper["finetune"]["lr_step"] == 20000
    # its CPU-budget form: 6,000 steps per depth + 16,000, batch 64, lr 1.0 / 0.5
    short = get_schedule("paper-short")
    assert (short["layerwise"]["iterations"], short["layerwise"]["batch_size"],
            short["layerwise"]["lr"]) == (6000, 64, 1.0)
    assert (short["finetune"]["iterations"], short["finetune"]["lr"]) == (16000, 0.5)
    # and counted in passes: 40 epochs per depth + 100, the rest as "paper-short"
    passes = get_schedule("paper-epochs")
    assert passes["layerwise"] == {"epochs": 40, "batch_size": 64, "lr": 1.0}
    assert passes["finetune"] == {"epochs": 100, "batch_size": 64, "lr": 0.5}
    assert {k: v for k, v in passes.items() if k not in ("layerwise", "finetune")} == \
        {k: v for k, v in short.items() if k not in ("layerwise", "finetune")}
    # the previous default: that layer-wise stage, then Adam with the shifts, rate x epochs
    # capped (the default, its 3,000-step form: tests/test_default_images.py)
    d = get_schedule("dae-adam-cap-shift")
    assert d["layerwise"] == short["layerwise"] and d["model"] == short["model"]
    assert d["finetune"] == {"iterations": 8000, "batch_size": 256, "lr": 1e-3,
                             "optimizer": "adam", "min_epochs": 44, "lr_epochs": 100}
    assert d["augment"] == {"shift": 0.1} and d["input_scaling"] == "paper"
    # the long one: the same layer-wise stage, 16,000 Adam steps, no cap
    long = get_schedule("long")
    assert long["layerwise"] == d["layerwise"] and long["augment"] == d["augment"]
    assert long["finetune"] == {"iterations": 16000, "batch_size": 256, "lr": 1e-3,
                                "optimizer": "adam", "min_epochs": 44}
    # end to end: Adam, Adam with shifts, SGD with momentum
    adam, shifted, sgd = (get_schedule(n) for n in ("adam", "adam-shift", "sgd"))
    assert adam["layerwise"] is None and adam["input_scaling"] == "max"
    assert adam["finetune"]["optimizer"] == "adam" and adam["model"]["init_std"] == "glorot"
    assert shifted == dict(adam, augment={"shift": 0.1}) and "augment" not in adam
    assert sgd["finetune"]["optimizer"] == "sgd" and sgd["finetune"]["momentum"] == 0.9
    assert {k: v for k, v in sgd.items() if k != "finetune"} == \
        {k: v for k, v in adam.items() if k != "finetune"}


def test_lr_width_leaves_the_papers_network_alone_and_slows_narrow_hidden_depths():
    for dims in ((784, 500, 500, 2000, 10), (256, 500, 500, 2000, 10), (64, 500, 500, 2000, 10)):
        assert layerwise_rates(1.0, dims, 500) == [1.0] * 4  # the data's depth: never scaled
    assert layerwise_rates(2.0, (784, 32, 10), 500) == [2.0, 2.0 * 32 / 500]
    assert layerwise_rates(1.0, (20, 1000, 250, 3), 500) == [1.0, 1.0, 0.5]
    for bad in (0, -1.0, True, "500"):
        with pytest.raises(ValueError, match="lr_width"):
            layerwise_rates(1.0, (4, 3, 2), bad)
    with pytest.raises(ValueError, match="single"):
        layerwise_rates([1.0, 1.0], (4, 3, 2), 500)


def test_run_schedule_trains_each_depth_at_its_lr_width_rate():
    X = np.random.default_rng(0).random((64, 8)).astype(np.float32)
    stage = {"iterations": 6, "batch_size": 16, "lr": 0.5}
    s = {"model": {}, "layerwise": stage, "finetune": None, "lr_width": 12}
    a = StackedAutoencoder((8, 6, 3, 2), random_state=0)
    run_schedule(a, X, s)
    b = StackedAutoencoder((8, 6, 3, 2), random_state=0)
    b.pretrain_layerwise(X, **dict(stage, lr=[0.5, 0.25, 0.125]))
    for p, q in zip(a.params.values(), b.params.values()):
        np.testing.assert_array_equal(p, q)
    assert s == {"model": {}, "layerwise": stage, "finetune": None, "lr_width": 12}  # as it was
    with pytest.raises(ValueError, match="lr_width"):
        get_schedule(dict(s, lr_width=0))
    # the layer-wise keywords stay those of pretrain_layerwise: a stage runs as given
    for name in SCHEDULES:
        kw = get_schedule(name)["layerwise"] or {}
        assert set(kw) <= {"iterations", "epochs", "batch_size", "lr", "lr_step"}, name


def test_get_schedule_returns_copies_and_checks():
    s = get_schedule("b64-steps")
    s["finetune"]["lr"] = -1.0
    assert SCHEDULES["paper-short"]["finetune"]["lr"] == 0.5
    assert get_schedule(TINY)["input_scaling"] == "paper"  # a dict without one: the paper's
    with pytest.raises(ValueError, match="unknown schedule"):
        get_schedule("nope")
    with pytest.raises(ValueError, match="missing"):
        get_schedule({"model": {}})
    with pytest.raises(ValueError, match="input_scaling"):
        get_schedule(dict(TINY, input_scaling="minmax"))


def test_run_schedule_skips_layerwise_when_none():
    X = np.random.default_rng(0).random((64, 8)).astype(np.float32)
    sae = StackedAutoencoder((8, 6, 2), p_drop=0.0, init_std="glorot", random_state=0)
    run_schedule(sae, X, {"model": {}, "layerwise": None,
                          "finetune": {"iterations": 5, "batch_size": 16, "lr": 1e-3,
                                       "optimizer": "adam"}})
    assert set(sae.history_) == {"finetune"} and len(sae.history_["finetune"]) == 2


def test_scale_factors():
    X = np.array([[0.0, 0.5], [1.0, -2.0]], np.float32)
    assert max_scale_factor(X) == pytest.approx(0.5)
    assert input_scale_factor(X, None) == 1.0
    assert input_scale_factor(X, "paper") == pytest.approx(paper_scale_factor(X))
    np.testing.assert_allclose(dec_input(X, "adam"), X * 0.5)
    with pytest.raises(ValueError):
        input_scale_factor(np.zeros((2, 2)), "max")
    with pytest.raises(ValueError):
        input_scale_factor(X, "unit")


@pytest.mark.parametrize("schedule, scaling, expect", [
    ("adam-shift", "auto", "max"), ("default", "auto", "paper"), ("b64-steps", "auto", "paper"),
    ("default", "max", "max"), ("paper", None, None)])
def test_estimator_scales_x_as_asked(schedule, scaling, expect):
    rng = np.random.default_rng(0)
    X = (rng.random((40, 6)) + np.repeat([[0.0], [3.0]], 20, axis=0)).astype(np.float32)
    sae = StackedAutoencoder((6, 4, 2), init_std="glorot", random_state=0)
    m = DEC(2, autoencoder=sae, schedule=schedule, input_scaling=scaling, max_iter=5,
            update_interval=5, n_init=1, random_state=0).fit(X)
    assert m.scale_ == pytest.approx(input_scale_factor(X, expect))
    with pytest.raises(ValueError, match="input_scaling"):
        DEC(2, input_scaling="unit").fit(X)


def test_with_lr_sets_one_stage_or_both_and_keeps_the_rest():
    from dec_np.schedules import with_lr
    s = with_lr("b64-steps", 0.05)
    assert s["layerwise"]["lr"] == s["finetune"]["lr"] == 0.05
    assert s["layerwise"]["iterations"] == 6000 and SCHEDULES["paper-short"]["finetune"]["lr"] == 0.5
    s = with_lr("paper", finetune=0.01)
    assert (s["layerwise"]["lr"], s["finetune"]["lr"], s["finetune"]["lr_step"]) == (0.1, 0.01, 20000)
    assert with_lr("adam", layerwise=0.1)["layerwise"] is None  # no layer-wise stage
    assert with_lr(TINY, 0.2)["finetune"]["lr"] == 0.2 and TINY["finetune"]["lr"] == 0.5
    for bad in (0, -1.0, "0.1", True):
        with pytest.raises(ValueError, match="learning rate"):
            with_lr("fast", bad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_run_schedule_divergence_names_the_schedule_setting():
    X = np.random.default_rng(0).random((64, 8)).astype(np.float32) * 100
    sae = StackedAutoencoder((8, 6, 2), random_state=0)
    wild = dict(TINY, layerwise={"epochs": 3, "batch_size": 16, "lr": 1e6})
    with pytest.raises(FloatingPointError, match=r"schedule\['layerwise'\]\[\"lr\"\] = 1000000.0.*"
                                                 r"with_lr\(schedule, layerwise=\.\.\.\)"):
        run_schedule(sae, X, wild)


def _short(schedule, n, steps=200):
    """The named schedule with each stage cut to ``steps`` steps (on 500 images, the stages
    counted in epochs run as named: a few hundred steps there)."""
    s = get_schedule(schedule)
    for stage in ("layerwise", "finetune"):
        if s[stage] is not None:
            if "iterations" in s[stage]:
                s[stage]["iterations"] = min(s[stage]["iterations"], steps)
            elif n > 500:
                per_epoch = -(-n // s[stage]["batch_size"])
                s[stage]["epochs"] = min(s[stage]["epochs"], max(1, steps // per_epoch))
    return s


def _train_small(s, n, seed, data_dir):
    """Pretrain d-32-10 on the first ``n`` MNIST test images with schedule ``s``, a restart
    (the "retrying" RuntimeWarning of a diverged stage) raised as an error; the losses."""
    from dec_np.datasets import load_mnist
    X = load_mnist(data_dir, subset="test", download=False)[0][:n]
    Xs = (X * input_scale_factor(X, s["input_scaling"])).astype(np.float32)
    sae = StackedAutoencoder((784, 32, 10), random_state=seed, **s["model"])
    before = sae.reconstruction_loss(Xs)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", ".*retrying", RuntimeWarning)
        run_schedule(sae, Xs, s)
    return before, sae.reconstruction_loss(Xs)


@pytest.mark.parametrize("n, seeds", [(500, (0, 1, 2)), (2000, (0,))])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_named_schedule_trains_a_small_network_on_mnist(name, n, seeds, data_dir):
    """d-32-10 on 500 MNIST test images (three seeds) and on 2,000, each stage cut to 200
    steps: no stage diverges (a diverged stage would be restarted at a tenth of its rate
    with a warning, an error here) and the loss falls."""
    for seed in seeds:
        before, after = _train_small(_short(name, n), n, seed, data_dir)
        assert np.isfinite(after) and after < before, (name, n, seed, before, after)


def test_the_small_setting_catches_a_restart(data_dir):
    """Without lr_width, SGD at lr 1.0 diverges at the 32-unit depth and the test above fails."""
    s = _short("paper-short", 500)
    del s["lr_width"]
    with pytest.raises(RuntimeWarning, match="layer 1: the loss became .*retrying"):
        _train_small(s, 500, 0, data_dir)


def test_a_diverging_stage_is_restarted_at_a_lower_rate_with_a_warning():
    X = np.random.default_rng(0).random((200, 12)).astype(np.float32)
    sae = StackedAutoencoder((12, 6), random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses = sae.finetune(X, iterations=40, batch_size=32, lr=10.0, optimizer="sgd")
    retries = [str(w.message) for w in caught if "retrying" in str(w.message)]
    assert retries and "retrying finetune from its initial weights at lr 1" in retries[0]
    assert np.isfinite(losses).all() and np.isfinite(sae.reconstruction_loss(X))
    with pytest.raises(FloatingPointError, match="diverged at lr 10000 and again when restarted "
                       "at 1000, 100 .*lower finetune's lr \\(now 10000\\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sae.finetune(X, iterations=40, batch_size=32, lr=1e4, optimizer="sgd")


def test_a_diverging_stage_warns_once_per_retry_not_with_numpy_noise():
    """The package says what diverged; NumPy's overflow warnings from inside the stage stay off."""
    X = np.random.default_rng(0).random((200, 12)).astype(np.float32)
    sae = StackedAutoencoder((12, 6), random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FloatingPointError):
            sae.finetune(X, iterations=40, batch_size=32, lr=1e6, optimizer="sgd")
    messages = [str(w.message) for w in caught]
    assert messages and all("retrying" in m for m in messages), messages
    assert np.geterr()["over"] == "warn"  # the setting is restored after the stage


def test_min_epochs_lengthens_a_short_count_of_steps_on_large_data_only():
    # the previous default's fine-tuning: 8,000 steps where that is 44 epochs or more, else 44
    ft = SCHEDULES["dae-adam-cap-shift"]["finetune"]
    assert (ft["iterations"], ft["batch_size"], ft["min_epochs"]) == (8000, 256, 44)

    def steps(n, **kw):
        X = np.random.default_rng(0).random((n, 4)).astype(np.float32)
        sae = StackedAutoencoder((4, 3, 2), p_drop=0.0, init_std="glorot", random_state=0)
        seen = []
        sae.finetune(X, optimizer="adam", callback=lambda epoch, loss: seen.append(epoch), **kw)
        return len(seen)  # one callback per epoch; the last one may be partial

    # 100 rows, batch 16: 7 steps an epoch; 10 steps < 3 epochs = 21 steps -> 3 epochs
    assert steps(100, iterations=10, batch_size=16, min_epochs=3) == 3
    # 30 steps >= 21: the steps stand (30 / 7 -> 5 epochs, the last partial)
    assert steps(100, iterations=30, batch_size=16, min_epochs=3) == 5
    assert steps(100, iterations=30, batch_size=16) == 5
    # the default on MNIST's sizes: 274 steps an epoch on 70,000 images, 40 on 10,000
    assert steps_with_min_epochs(70000, 8000, 256, 44) == 12056
    assert steps_with_min_epochs(10000, 8000, 256, 44) == 8000
    assert steps_with_min_epochs(9298, 8000, 256, 44) == 8000  # USPS
    X = np.zeros((8, 4), np.float32)
    sae = StackedAutoencoder((4, 3, 2), random_state=0)
    with pytest.raises(ValueError, match="min_epochs"):
        sae.finetune(X, epochs=2, min_epochs=3)
    with pytest.raises(ValueError, match="min_epochs"):
        sae.finetune(X, iterations=2, min_epochs=0)


def test_capped_lr_formula_and_checks():
    assert capped_lr(1e-3, 200, 100) == 5e-4          # bit for bit the literal 0.0005
    assert capped_lr(1e-3, 8000 / 40, 100) == 5e-4    # 8,000 steps on 10,000 rows
    assert capped_lr(1e-3, 12056 / 274, 100) == 1e-3  # 44 epochs: below the cap
    assert capped_lr(1e-3, 100, 100) == 1e-3
    assert capped_lr(2.0, 400, 100) * 400 == pytest.approx(2.0 * 100)  # rate x epochs kept
    for bad in (0, -1.0, True, "1", None):
        with pytest.raises(ValueError):
            capped_lr(1e-3, 10, bad)
        with pytest.raises(ValueError):
            capped_lr(bad, 10, 100)


@pytest.mark.parametrize("n, iterations, expected_lr", [(64, 40, 2.5e-3), (64, 4, 1e-2)])
def test_lr_epochs_trains_exactly_as_the_capped_rate(n, iterations, expected_lr):
    # 64 rows at batch 16 are 4 steps an epoch: 40 steps are 10 epochs, capped at 2.5 -> lr/4;
    # 4 steps are 1 epoch, under the cap -> lr itself.  Same weights as that rate given directly.
    X = np.random.default_rng(1).random((n, 8)).astype(np.float32)

    def fit(**kw):
        sae = StackedAutoencoder((8, 6, 2), p_drop=0.0, init_std="glorot", random_state=3)
        sae.finetune(X, iterations=iterations, batch_size=16, optimizer="adam", **kw)
        return [v.copy() for e in sae.encoders for v in e.params.values()]

    for a, b in zip(fit(lr=1e-2, lr_epochs=2.5), fit(lr=expected_lr)):
        np.testing.assert_array_equal(a, b)
    # lr None is Adam's default rate, then capped
    for a, b in zip(fit(lr_epochs=2.5), fit(lr=1e-3 * min(1.0, 2.5 / (iterations / 4)))):
        np.testing.assert_array_equal(a, b)
    # and the cap counts the steps min_epochs adds: 1 step at min_epochs 10 is 40 steps
    for a, b in zip(fit(lr=1e-2, lr_epochs=2.5, min_epochs=iterations / 4),
                    fit(lr=expected_lr, min_epochs=iterations / 4)):
        np.testing.assert_array_equal(a, b)


def test_the_module_describes_every_named_schedule():
    import dec_np.schedules as module
    for name in SCHEDULES:
        assert f'* "{name}"' in module.__doc__, name
    for alias, name in ALIASES.items():
        assert f'"{alias}"' in module.__doc__, alias
