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
    final, copies, _ = fl.pretrain_with_copies(X, 3, {0, 2, 5}, shape, long, (16, 4))
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
