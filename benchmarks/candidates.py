"""The pretraining schedules the defaults study compared, as plain dicts.

Each is a schedule ``DEC(schedule=...)`` takes, under the name the records in
``docs/results/`` give it: ``DEC(schedule=CANDIDATES["b64-epochs"])``, or
``python benchmarks/recipes.py run --recipe b64-epochs ...`` (``recipes.py``, ``ae_study.py``,
``tune_defaults.py`` and ``experiments.py`` look names up with :func:`schedule`).  Every record
also carries the exact dict it ran with (``record["schedule"]``), so a record made before a
name changed meaning reproduces from the record itself.  The study is
``docs/defaults-study.md``; the package's own named schedules are in ``dec_np.schedules``.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dec_np.schedules import SCHEDULES, get_schedule  # noqa: E402

# the paper's denoising autoencoders and the end-to-end recipes' plain ones
_DAE = {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "mean"}
_ADAM = {"iterations": 8000, "batch_size": 256, "lr": 1e-3, "optimizer": "adam"}
_SGD = {"iterations": 8000, "batch_size": 256, "lr": 8.0, "momentum": 0.9, "optimizer": "sgd"}
_SHIFT = {"shift": 0.1}


def _dae(count, layerwise, finetune, batch_size, lr, lr_finetune):
    """The paper's method: ``layerwise`` per depth, then ``finetune``, both counted in
    ``count`` ("iterations" or "epochs"), constant learning rates, the paper's input scaling."""
    return {"model": _DAE, "input_scaling": "paper",
            "layerwise": {count: layerwise, "batch_size": batch_size, "lr": lr},
            "finetune": {count: finetune, "batch_size": batch_size, "lr": lr_finetune}}


_B64_STEPS = _dae("iterations", 6000, 16000, batch_size=64, lr=1.0, lr_finetune=0.5)
# the layer-wise stage of b64-steps, then Adam with the shifts for 8,000 steps, 44 epochs at least
_DAE_ADAM_SHIFT = dict(_B64_STEPS, finetune=dict(_ADAM, min_epochs=44), augment=_SHIFT)

#: name -> schedule dict, as the records in docs/results/ name them
CANDIDATES = {
    # the paper's method on a CPU budget, in epochs (40 + 100) or steps, batch 64 or 256
    "b64-epochs": _dae("epochs", 40, 100, batch_size=64, lr=1.0, lr_finetune=0.5),
    "b64-steps": _B64_STEPS,
    "b256-steps": _dae("iterations", 8000, 16000, batch_size=256, lr=2.0, lr_finetune=1.0),
    "b256": _dae("epochs", 30, 60, batch_size=256, lr=2.0, lr_finetune=1.0),
    # b64-steps with the shifts in its fine-tuning stage: SGD with momentum throughout
    "b64-shift": dict(_B64_STEPS, augment=_SHIFT),
    # the layer-wise stage, then Adam: at lr 0.001, at 0.0005, and with 16,000 steps
    "dae-adam-shift": _DAE_ADAM_SHIFT,
    "dae-adam5e4-shift": dict(_DAE_ADAM_SHIFT, finetune=dict(_DAE_ADAM_SHIFT["finetune"],
                                                             lr=5e-4)),
    "dae-adam-shift-long": dict(_DAE_ADAM_SHIFT, finetune=dict(_DAE_ADAM_SHIFT["finetune"],
                                                               iterations=16000)),
    # the previous default as its records ran it (the package adds lr_width, inert on the paper's net)
    "dae-adam-cap-shift": dict(_DAE_ADAM_SHIFT, finetune=dict(_DAE_ADAM_SHIFT["finetune"],
                                                              lr_epochs=100)),
    # end-to-end SGD with momentum as the records name it, and with Nesterov's update
    "sgd-lr8": {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
                "input_scaling": "max", "layerwise": None, "finetune": _SGD},
    "nesterov": {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
                 "input_scaling": "max", "layerwise": None,
                 "finetune": dict(_SGD, nesterov=True)},
    # the default with inverted dropout of 20% on the fine-tuning's input, the clean rows its
    # target: a denoising fine-tuning for rows that are not shifted (round 26)
    "dae-adam-short-ftmask": dict(SCHEDULES["dae-adam-short-shift"], finetune=dict(
        SCHEDULES["dae-adam-short-shift"]["finetune"], input_dropout=0.2)),
}


def schedule(name: str) -> dict:
    """A copy of the candidate ``name``, else of the package's schedule of that name."""
    return copy.deepcopy(CANDIDATES[name]) if name in CANDIDATES else get_schedule(name)
