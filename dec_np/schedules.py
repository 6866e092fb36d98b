"""Named pretraining schedules for the stacked autoencoder, as plain dicts.

"paper" is the paper's schedule in iterations (Sec. 4.3); "default" was tuned on the
10,000-image MNIST test set to run in a few CPU minutes (see README, "How the defaults were chosen"): a fixed
number of SGD steps at batch 64, so that its cost does not grow with the number of samples
(like the paper's, it is counted in iterations, not epochs: 6,000 per depth and 16,000 for
fine-tuning, which is 38 + 102 epochs of 10,000 images or 5.5 + 14.6 epochs of 70,000);
"b64-epochs" is the same in epochs (40 + 100), the default before round 6; "b256" (batch
256, 30 + 60 epochs) is the one that beat the paper on all 70,000 MNIST images; "fast" is
for demos and tests.  Each has "model" (StackedAutoencoder settings), "layerwise" and
"finetune" (keywords of the two training methods).
"""
from __future__ import annotations

import copy

# the denoising autoencoders of every named schedule: 20% dropout, N(0, 0.01^2) weights, and
# the loss averaged over features as in the authors' Caffe (so the paper's lr 0.1 applies)
DAE = {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "mean"}

SCHEDULES = {
    "paper": {
        "model": DAE,
        "layerwise": {"iterations": 50000, "batch_size": 256, "lr": 0.1, "lr_step": 20000},
        "finetune": {"iterations": 100000, "batch_size": 256, "lr": 0.1, "lr_step": 20000},
    },
    "default": {
        "model": DAE,
        "layerwise": {"iterations": 6000, "batch_size": 64, "lr": 1.0},
        "finetune": {"iterations": 16000, "batch_size": 64, "lr": 0.5},
    },
    "b64-epochs": {
        "model": DAE,
        "layerwise": {"epochs": 40, "batch_size": 64, "lr": 1.0},
        "finetune": {"epochs": 100, "batch_size": 64, "lr": 0.5},
    },
    "b256": {
        "model": DAE,
        "layerwise": {"epochs": 30, "batch_size": 256, "lr": 2.0},
        "finetune": {"epochs": 60, "batch_size": 256, "lr": 1.0},
    },
    "fast": {
        "model": DAE,
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
