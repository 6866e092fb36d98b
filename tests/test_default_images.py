"""The default: one schedule, which shifts only images; the clustering phase augments only images."""
import numpy as np
import pytest

from dec_np import DEC, StackedAutoencoder
from dec_np.autoencoder import capped_lr, stage_steps
from dec_np.dec import AUTO_AUGMENT, AUTO_MAX_ITER, _ran, clustering_settings
from dec_np.schedules import (DEFAULT, DEFAULT_IMAGES, SCHEDULES, default_name, describe,
                              finetune_lr, for_rows, get_schedule, run_schedule, stage_settings,
                              with_lr)


def test_default_names_one_schedule_for_images_and_plain_arrays():
    assert default_name() == DEFAULT == "dae-adam-short-shift"
    assert default_name(images=True) == DEFAULT_IMAGES == DEFAULT
    assert get_schedule("default") == SCHEDULES[DEFAULT]
    assert get_schedule("default", images=True) == SCHEDULES[DEFAULT_IMAGES]
    # a named schedule is the same whatever the rows are
    assert get_schedule("paper", images=True) == get_schedule("paper")


def test_the_images_schedule_is_the_measured_pipeline():
    """What round 20 of docs/defaults-study.md ran (benchmarks/fast_default_runs.sh)."""
    s, previous = get_schedule("default", images=True), get_schedule("dae-adam-cap-shift")
    assert s == get_schedule("default")  # plain arrays: the same schedule, never shifted
    assert s["layerwise"] == previous["layerwise"] and s["model"] == previous["model"]
    assert s["input_scaling"] == previous["input_scaling"] == "paper"
    assert s["augment"] == {"shift": 0.1} and s["lr_width"] == 500
    assert s["finetune"] == {"iterations": 3000, "batch_size": 256, "lr": 1e-3,
                             "optimizer": "adam", "min_epochs": 44, "lr_epochs": 100}
    assert s["lr_below"] == [20000, 5e-4]
    # Adam's rate: 0.0005 on the 10,000-image sets and USPS, 0.001 on all 70,000 MNIST images
    assert [finetune_lr(s, n) for n in (9298, 10000, 19999, 20000, 70000)] == \
        [5e-4, 5e-4, 5e-4, 1e-3, 1e-3]
    assert finetune_lr(previous, 100) == 1e-3  # no lr_below: the stage's own rate


def test_on_70000_rows_the_default_pretrains_as_the_previous_one():
    """The 44-epoch floor and lr_below's threshold: on all 70,000 MNIST images both schedules
    run 12,056 Adam steps at lr 0.001 after the same layer-wise stage: the two pretrain alike."""
    seen = []
    for name in ("default", "dae-adam-cap-shift"):
        s = get_schedule(name)
        ft = s["finetune"]
        steps = stage_steps(70000, ft["iterations"], ft["batch_size"], ft["min_epochs"])
        rate = capped_lr(finetune_lr(s, 70000), steps / -(-70000 // ft["batch_size"]),
                         ft["lr_epochs"])
        seen.append((steps, rate, s["layerwise"], s["model"]))
    assert seen[0] == seen[1] and seen[0][:2] == (12056, 1e-3)


def test_stage_settings_and_what_runs_on_the_rows():
    s = get_schedule("default")
    ft = [stage_settings(s, "finetune", n) for n in (10000, 20000)]
    assert [f["lr"] for f in ft] == [5e-4, 1e-3] and ft[0]["batch_size"] == 256
    assert stage_settings(s, "finetune", 10000) is not stage_settings(s, "finetune", 10000)
    assert s["finetune"]["lr"] == 1e-3  # the schedule itself is left as it was
    assert stage_settings(s, "layerwise", 10) == s["layerwise"]
    assert stage_settings(get_schedule("adam"), "layerwise", 10) is None
    with pytest.raises(ValueError, match="stage"):
        stage_settings(s, "dec", 10)
    ran = for_rows(s, 10000)
    assert "lr_below" not in ran and ran["finetune"]["lr"] == 5e-4
    assert for_rows(ran, 70000) == ran  # what ran runs alike on any rows
    assert for_rows(s, 70000)["finetune"] == s["finetune"]
    # in words, with the 44-epoch floor: 274 steps an epoch on 70,000 rows
    assert describe(s, 10000) == ("layer-wise sgd: 6,000 steps per depth, batch 64; "
                                  "fine-tuning adam: 3,000 steps, batch 256")
    assert describe(s, 70000).endswith("fine-tuning adam: 12,056 steps, batch 256")
    assert describe(get_schedule("paper-epochs"), 500) == (
        "layer-wise sgd: 40 epochs per depth, batch 64; fine-tuning sgd: 100 epochs, batch 64")
    assert describe(get_schedule("adam"), 500) == "fine-tuning adam: 8,000 steps, batch 256"
    odd = {"model": {}, "layerwise": None, "finetune": {"lr": 0.1}}
    assert describe(odd, 10) == "fine-tuning sgd: no length given, batch 256"


def _spy(monkeypatch):
    seen = {}

    def finetune(self, X, **kw):
        seen.update(kw, n=X.shape[0])
    monkeypatch.setattr(StackedAutoencoder, "finetune", finetune)
    return seen


@pytest.mark.parametrize("n, lr", [(60, 5e-4), (20000, 1e-3)])
def test_run_schedule_hands_finetune_the_rate_for_the_rows(monkeypatch, n, lr):
    seen = _spy(monkeypatch)
    s = dict(get_schedule("default", images=True), layerwise=None)
    sae = StackedAutoencoder((4, 3, 2), random_state=0)
    run_schedule(sae, np.zeros((n, 4), np.float32), s)
    assert seen["lr"] == lr and seen["n"] == n
    assert (seen["iterations"], seen["min_epochs"], seen["lr_epochs"]) == (3000, 44, 100)
    assert "augment" not in seen  # plain rows: never shifted


def test_a_rate_given_holds_at_every_size(monkeypatch):
    seen = _spy(monkeypatch)
    s = with_lr("default", finetune=0.01, images=True)
    assert "lr_below" not in s and s["finetune"]["iterations"] == 3000
    run_schedule(StackedAutoencoder((4, 3, 2), random_state=0), np.zeros((60, 4), np.float32),
                 dict(s, layerwise=None))
    assert seen["lr"] == 0.01


@pytest.mark.parametrize("bad", [[20000], [0, 1e-3], ["a", 1e-3], [100, True], 5])
def test_a_bad_lr_below_is_refused(bad):
    s = dict(get_schedule("fast"), lr_below=bad)
    with pytest.raises(ValueError, match="lr_below"):
        get_schedule(s)


def test_auto_clustering_settings():
    assert AUTO_AUGMENT == {"shift": 0.1, "rotate": 10}
    assert AUTO_MAX_ITER == {"augmented": 2520, "plain": 2520}
    assert clustering_settings(DEC(image_shape=(8, 8))) == (AUTO_AUGMENT, 2520)
    assert clustering_settings(DEC()) == (None, 2520)
    # the paper's ablation trains no encoder, so nothing to augment
    assert clustering_settings(DEC(image_shape=(8, 8), update_encoder=False)) == (None, 2520)
    assert clustering_settings(DEC(image_shape=(8, 8), augment=None)) == (None, 2520)
    assert clustering_settings(DEC(image_shape=(8, 8), max_iter=7)) == (AUTO_AUGMENT, 7)
    given = {"shift": 0.2}
    assert clustering_settings(DEC(image_shape=(8, 8), augment=given)) == (given, 2520)
    assert clustering_settings(DEC(image_shape=(8, 8), augment=given))[0] is not given


def test_what_ran_is_on_the_fitted_model():
    from dec_np.datasets import load_digits
    X, _ = load_digits()
    X = X[:120]
    kw = dict(n_clusters=3, hidden_dims=(16, 3), schedule="fast", n_init=2, update_interval=10,
              random_state=0)
    images = DEC(image_shape=(8, 8), max_iter=30, **kw).fit(X)
    assert images.augment_ == AUTO_AUGMENT and images.max_iter_ == 30
    assert images.n_iter_ <= 30
    plain = DEC(max_iter=30, **kw).fit(X)
    assert plain.augment_ is None and plain.max_iter_ == 30
    # the clustering phase on turned and shifted images moves the encoder differently
    assert not np.array_equal(images.cluster_centers_, plain.cluster_centers_)
    np.testing.assert_array_equal(images.init_centers_, DEC(image_shape=(8, 8), augment=None,
                                                            max_iter=30, **kw).fit(X).init_centers_)
    assert "augment" not in repr(images)  # "auto" is the default, repr shows what was given
    assert _ran(DEC(image_shape=(8, 8))) == get_schedule("default", images=True)
    assert _ran(DEC())["finetune"] == get_schedule("default")["finetune"]
    assert _ran(DEC())["lr_below"] == [20000, 5e-4]  # plain arrays: the same rates
    assert _ran(DEC())["augment"] is None
    # on the rows fitted: the rate that ran on them
    assert _ran(DEC(), 120)["finetune"]["lr"] == 5e-4 and "lr_below" not in _ran(DEC(), 120)
    assert plain.schedule_ == _ran(plain, 120) == get_schedule("fast")


@pytest.mark.parametrize("kw, match", [(dict(max_iter="long"), "max_iter"),
                                       (dict(max_iter=0), "max_iter"),
                                       (dict(augment="on", image_shape=(8, 8)), "augment")])
def test_bad_auto_settings_are_refused(kw, match):
    X = np.random.default_rng(0).random((20, 64))
    with pytest.raises(ValueError, match=match):
        DEC(3, **kw).fit(X)


@pytest.mark.parametrize("flags, said", [
    ([], "then DEC on images shifted by up to 0.1 of their side and turned by up to 10 degrees, "
         "at most 40 iterations"),
    (["--no-cluster-augment"], "then DEC, at most 40 iterations"),
    (["--cluster-shift", "0.2"], "then DEC on images shifted by up to 0.2 of their side, at most "
                                 "40 iterations"),
    (["--cluster-mask", "0.2"], "then DEC on rows with 20% of their values masked at random, "
                                "at most 40 iterations"),
    (["--cluster-neighbours", "4"], "then DEC on rows swapped for one of their 4 nearest "
                                    "neighbours, at most 40 iterations")])
def test_the_command_line_says_what_the_clustering_phase_runs(tmp_path, capsys, flags, said):
    from dec_np.cli import main
    assert main(["fit", "--dataset", "digits", "--fast", "--out", str(tmp_path / "run"),
                 *flags]) == 0
    assert said in capsys.readouterr().err


def test_the_command_line_says_what_the_pretraining_runs_on_the_rows(tmp_path, capsys):
    import re

    from dec_np.cli import main
    assert main(["fit", "--dataset", "digits", "--fast", "--out", str(tmp_path / "run")]) == 0
    said = re.search(r"shifts?; on ([\d,]+) rows (.*) \.\.\.", capsys.readouterr().err)
    assert said, "the pretraining line names the stages"
    n = int(said.group(1).replace(",", ""))
    assert n == 1797 and said.group(2) == describe(get_schedule("fast"), n) == (
        "layer-wise sgd: 5 epochs per depth, batch 64; fine-tuning sgd: 10 epochs, batch 64")


def test_no_cluster_augment_and_cluster_shift_contradict(tmp_path, capsys):
    from dec_np.cli import main
    assert main(["fit", "--dataset", "digits", "--fast", "--out", str(tmp_path / "run"),
                 "--no-cluster-augment", "--cluster-shift", "0.1"]) != 0
    assert "contradict" in capsys.readouterr().err
    assert main(["fit", "--dataset", "digits", "--fast", "--out", str(tmp_path / "run"),
                 "--no-cluster-augment", "--cluster-mask", "0.2"]) != 0
    assert "contradict" in capsys.readouterr().err
    assert main(["fit", "--dataset", "digits", "--fast", "--out", str(tmp_path / "run"),
                 "--cluster-mask", "0.2", "--cluster-shift", "0.1"]) != 0
    assert "one" in capsys.readouterr().err
    assert main(["fit", "--dataset", "digits", "--fast", "--out", str(tmp_path / "run"),
                 "--cluster-neighbours", "3", "--cluster-mask", "0.2"]) != 0
    assert "give one" in capsys.readouterr().err
    assert main(["fit", "--dataset", "digits", "--fast", "--out", str(tmp_path / "run"),
                 "--no-cluster-augment", "--cluster-neighbours", "3"]) != 0
    assert "contradicts --cluster-neighbours" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a usage error: not a probability
        main(["fit", "--dataset", "digits", "--cluster-mask", "1.5"])
    with pytest.raises(SystemExit):  # nor a count of neighbours
        main(["fit", "--dataset", "digits", "--cluster-neighbours", "0"])
