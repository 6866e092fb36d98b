"""benchmarks/finetune_length.py: a copy after Adam epoch e is an e-epoch Adam stage's network."""
import copy
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

here = Path(__file__).resolve().parents[1] / "benchmarks"
if not (here / "finetune_length.py").exists():  # an unpacked sdist ships no benchmarks
    pytest.skip("benchmarks/ is not here", allow_module_level=True)
sys.path.insert(0, str(here))
spec = importlib.util.spec_from_file_location("finetune_length", here / "finetune_length.py")
fl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fl)

from dec_np import StackedAutoencoder  # noqa: E402
from dec_np.cli import dec_input  # noqa: E402
from dec_np.datasets import load_digits  # noqa: E402
from dec_np.schedules import get_schedule, run_schedule  # noqa: E402


def small(finetune_iterations, shift=None):
    """The default's stages, short: 2 layer-wise epochs, Adam at a fixed rate, batch 64."""
    s = copy.deepcopy(get_schedule("default", shift is not None))
    s["layerwise"].update(iterations=12, batch_size=64)
    s["finetune"].update(iterations=finetune_iterations, batch_size=256, min_epochs=None,
                         lr_epochs=None)
    return s


@pytest.mark.parametrize("shape", [None, (8, 8)])
def test_a_copy_after_epoch_e_is_the_network_of_an_e_epoch_stage(shape):
    X, _ = load_digits()
    X = X[:600]  # 3 batches of 256 per epoch
    long = small(15, shape)  # 5 epochs
    final, copies, _, own = fl.pretrain_with_copies(X, 3, {0, 2, 5}, shape, long, (16, 4))
    assert own == 5
    assert set(copies) == {0, 2, 5}
    assert fl.same_weights(copies[5][0], final)
    for e in (0, 2):
        s = small(3 * e, shape)
        if e == 0:
            s["finetune"] = None
        alone = StackedAutoencoder((64, 16, 4), random_state=3, **s["model"])
        run_schedule(alone, dec_input(X, s, shape is not None), s, False, shape)
        assert fl.same_weights(copies[e][0], alone)
        # and the generator stands where that stage leaves it
        assert copies[e][0].rng.bit_generator.state == alone.rng.bit_generator.state
    assert not fl.same_weights(copies[0][0], copies[2][0])


def test_a_longer_stage_at_the_same_rate_passes_through_the_schedules_own_end():
    X, _ = load_digits()
    X = X[:600]
    s = small(15)  # 5 epochs of 3 batches
    s["finetune"]["min_epochs"] = 4  # a floor below the length: 15 steps stay 15
    _, short, _, own = fl.pretrain_with_copies(X, 1, {5}, None, s, (16, 4))
    final, longer, _, own_long = fl.pretrain_with_copies(X, 1, {5, 8}, None, s, (16, 4),
                                                         finetune_epochs=8)
    assert own == own_long == 5
    assert fl.same_weights(short[5][0], longer[5][0])
    assert fl.same_weights(longer[8][0], final) and not fl.same_weights(longer[5][0], final)


def test_probes_see_every_nth_epoch_and_leave_the_training_alone(tmp_path, monkeypatch):
    import json

    X, y = load_digits()
    X, y = X[:600], y[:600]
    monkeypatch.setattr(fl, "load_data", lambda *a, **k: (X, y, None))
    monkeypatch.setitem(fl.DATASETS, "digits", None)
    monkeypatch.setattr(fl, "HIDDEN", (16, 4))
    real = fl.get_schedule
    monkeypatch.setattr(fl, "get_schedule", lambda name, images=False: small(15) if name ==
                        "default" else real(name, images))
    out = tmp_path / "r.jsonl"
    fl.main(["--dataset", "digits", "--seeds", "0", "--epochs", "--probe-every", "2",
             "--z-dir", str(tmp_path / "z"), "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["finetune_epochs"] for r in rows] == [0, 2, 4]
    assert all(r["recipe"] == "probe" and 0 < r["within"] < 1 and 0 < r["ae_kmeans_acc"] <= 1
               for r in rows)
    assert sorted(p.name for p in (tmp_path / "z").iterdir()) == [
        "z_digits_0_0.npy", "z_digits_0_2.npy", "z_digits_0_4.npy"]
    # probing draws nothing from the network's generator: the same weights without it
    plain, _, _, _ = fl.pretrain_with_copies(X, 0, set(), None, small(15), (16, 4))
    probed, _, _, _ = fl.pretrain_with_copies(
        X, 0, set(), None, small(15), (16, 4),
        on_epoch=lambda e, sae: fl.probe(sae, dec_input(X, small(15)), y, k=3, n_init=2))
    assert fl.same_weights(plain, probed)


def test_the_probe_table(tmp_path, capsys):
    import json

    path = tmp_path / "r.jsonl"
    accs = {0: 0.5, 25: 0.7, 30: 0.6, 35: 0.72}
    path.write_text("".join(json.dumps({"recipe": "probe", "dataset": "d", "seed": 1,
                                        "finetune_epochs": e, "ae_kmeans_acc": a}) + "\n"
                            for e, a in accs.items()) + json.dumps({"recipe": "ft0ep"}) + "\n")
    fl.main(["--probe-table", str(path), "--at", "0", "35"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "| d, 1 | 0.500 | 0.720 | 0.120 |"


def test_a_decayed_stage_is_the_constant_one_up_to_its_first_decay_and_then_slower():
    X, _ = load_digits()
    X = X[:600]  # 3 batches of 256 per epoch
    s = small(15)
    _, const, _, _ = fl.pretrain_with_copies(X, 2, {2, 6}, None, s, (16, 4), finetune_epochs=6)
    _, decayed, _, _ = fl.pretrain_with_copies(X, 2, {2, 6}, None, s, (16, 4), finetune_epochs=6,
                                               decay_at=2, gamma=0.1)
    assert fl.same_weights(const[2][0], decayed[2][0])  # the first 2 epochs at the same rate
    assert not fl.same_weights(const[6][0], decayed[6][0])

    def moved(a, b):
        return sum(float(np.abs(a.params[k] - b.params[k]).sum()) for k in a.params)

    # at a tenth of the rate after epoch 2 and a hundredth after 4, the last epochs move the
    # weights less than four more epochs at the constant rate do
    assert moved(decayed[6][0], decayed[2][0]) < moved(const[6][0], const[2][0])
    # and a rate given replaces the schedule's own from the first step
    _, other, _, _ = fl.pretrain_with_copies(X, 2, {2}, None, s, (16, 4), finetune_epochs=6,
                                             lr=1e-3)
    assert not fl.same_weights(other[2][0], const[2][0])
