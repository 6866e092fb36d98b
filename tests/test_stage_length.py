"""Stage lengths the data's size decides: min_epochs and max_epochs around a count of steps."""
import numpy as np
import pytest

from dec_np import StackedAutoencoder
from dec_np.autoencoder import stage_steps, steps_with_min_epochs


def test_stage_steps_bounds():
    assert stage_steps(10000, 6000, 64) == 6000
    assert stage_steps(10000, 6000, 64, max_epochs=10) == 1570      # 157 steps an epoch
    assert stage_steps(70000, 6000, 64, max_epochs=10) == 6000      # 1,094 an epoch
    assert stage_steps(70000, 8000, 256, min_epochs=44) == steps_with_min_epochs(70000, 8000, 256, 44)
    assert stage_steps(1000, 100, 256, min_epochs=50, max_epochs=50) == 200
    for bad in (0, -1.0, True, "3"):
        with pytest.raises(ValueError, match="max_epochs"):
            stage_steps(100, 10, 10, max_epochs=bad)
    with pytest.raises(ValueError, match="exceeds"):
        stage_steps(100, 10, 10, min_epochs=5, max_epochs=2)


@pytest.mark.parametrize("method", ["pretrain_layerwise", "finetune"])
def test_max_epochs_caps_each_stage(method):
    X = np.random.default_rng(0).random((100, 12)).astype(np.float32)
    sae = StackedAutoencoder((12, 8, 3), random_state=0)
    # batch 25: 4 steps an epoch; 400 steps capped at 3 epochs = 12 steps, 3 epoch losses
    hist = getattr(sae, method)(X, iterations=400, batch_size=25, lr=0.01, max_epochs=3)
    for losses in (hist.values() if isinstance(hist, dict) else [hist]):
        assert len(losses) == 3
    with pytest.raises(ValueError, match="max_epochs"):
        getattr(sae, method)(X, epochs=2, batch_size=25, lr=0.01, max_epochs=3)
