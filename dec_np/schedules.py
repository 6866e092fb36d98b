"""Named pretraining schedules for the stacked autoencoder, as plain dicts.

"paper" is the paper's schedule in iterations (Sec. 4.3); "default" is what we found
works best on MNIST in a few CPU minutes (see README, "How the defaults were chosen");
"fast" is for demos and tests.  Each has "model" (StackedAutoencoder settings),
"layerwise" and "finetune" (keywords of the two training methods).
"""
from __future__ import annotations

import copy

SCHEDULES = {
    "paper": {
        "model": {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "mean"},
        "layerwise": {"iterations": 50000, "batch_size": 256, "lr": 0.1, "lr_step": 20000},
        "finetune": {"iterations": 100000, "batch_size": 256, "lr": 0.1, "lr_step": 20000},
    },
    "default": {
        "model": {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "mean"},
        "layerwise": {"epochs": 40, "batch_size": 64, "lr": 1.0},
        "finetune": {"epochs": 100, "batch_size": 64, "lr": 0.5},
    },
    "fast": {
        "model": {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "mean"},
        "layerwise": {"epochs": 5, "batch_size": 64, "lr": 1.0},
        "finetune": {"epochs": 10, "batch_size": 64, "lr": 0.5},
    },
}


def get_schedule(schedule):
    """Return a copy of the schedule named ``schedule``, or check and copy a dict given directly."""
    if isinstance(schedule, dict):
        missing = {"model", "layerwise", "finetune"} - set(schedule)
        if missing:
            raise ValueError(f"a schedule dict needs the keys model, layerwise, finetune; missing {missing}")
        return copy.deepcopy(schedule)
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {sorted(SCHEDULES)} or pass a dict")
    return copy.deepcopy(SCHEDULES[schedule])
