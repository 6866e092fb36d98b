"""Named pretraining schedules for the stacked autoencoder, as plain dicts.

Each has "model" (StackedAutoencoder settings), "input_scaling" (how DEC scales X before
pretraining: "paper", "max" or None, see :class:`dec_np.DEC`), "layerwise" (keywords of
:meth:`~dec_np.StackedAutoencoder.pretrain_layerwise`, or None to skip it) and "finetune"
(keywords of :meth:`~dec_np.StackedAutoencoder.finetune`).  An optional "augment",
``{"shift": fraction}`` with an optional ``"image_shape": (H, W)``, has fine-tuning
reconstruct randomly shifted images (:func:`dec_np.augment.shifter`) when the rows are known
to be images: the entry's image_shape or ``DEC(image_shape=...)``; other data train as they are.
Steps are counted in iterations, as the paper counts them, unless a name says "epochs".

* "dae-adam-cap-shift" (the default, :data:`DEFAULT`): "dae-adam-shift" below with the
  product of Adam's rate and its epochs capped at 0.001 x 100 (``lr_epochs=100`` of
  :meth:`~dec_np.StackedAutoencoder.finetune`, :func:`dec_np.autoencoder.capped_lr`): the
  8,000 steps run at lr 0.001 x min(1, 100 / epochs), an epoch being ceil(n / 256) steps,
  so at 0.0005 on 10,000 rows (200 epochs), 0.00046 on USPS's 9,298 and 0.001 from 20,225
  rows on (44 epochs and 12,056 steps on MNIST's 70,000, as "dae-adam-shift").  A long
  stage on a small data set moves the layer-wise weights no further than 100 epochs at lr
  0.001 would.  Chosen in round 16 (docs/defaults-study.md): on 10,000 images it is
  "dae-adam5e4-shift", the study's pick of round 15, on 70,000 it is "dae-adam-shift",
  which meets the MNIST-70k check there at one BLAS thread.  Measured on a 2-core Xeon:
  medians 0.852 on MNIST-10k, 0.792 on USPS, 0.603 on Fashion-MNIST-10k (three seeds
  each), 0.922 on all 70,000 MNIST images (five seeds, none below 0.872, each fit under 15
  minutes with ``DEC(n_jobs=2)``, BLAS on one thread; with BLAS's own two threads 0.903,
  seed 1 at 0.824); sizes between 10,000 and 70,000 rows have not been measured.
* "dae-adam-shift" (the default of rounds 11 to 15): the paper's greedy layer-wise denoising
  stage as "b64-steps" runs it (SGD with momentum 0.9, 20% dropout, N(0, 0.01^2) weights,
  the paper's input scaling, 6,000 steps per depth at batch 64, lr 1.0), then the whole
  autoencoder fine-tuned end to end from those weights as "adam-shift" fine-tunes it (Adam,
  lr 0.001, batch 256, 8,000 steps, no dropout), but for at least 44 epochs (``min_epochs``
  of :meth:`~dec_np.StackedAutoencoder.finetune`: 8,000 steps up to 46,336 images, 12,056
  on MNIST's 70,000); on images (a known ``image_shape``) each image of each fine-tuning
  batch is shifted at random by up to 10% of its side along each axis.  Chosen in round 11
  (docs/defaults-study.md): the layer-wise stage lifts Fashion-MNIST, the shifts lift
  digits; the floor of 44 epochs (round 13) is for all 70,000 MNIST images, where 8,000
  steps are 29 epochs: with it five seeds gave a median of 0.922, none below 0.85, on a
  2-core Xeon (docs/experiments.md; one BLAS thread, seed 4 at two; alone at two threads
  seed 1 gives 0.824); on that machine the five seeds without it gave 0.878,
  0.890, 0.879, 0.948 and 0.877 (median 0.879), so the floor's share seed for seed is not
  settled.
* "dae-adam-shift-long": "dae-adam-shift" with 16,000 Adam steps (twice its 8,000 on 10,000
  images, 58 epochs against 44 on MNIST's 70,000), its layer-wise stage unchanged.  On all
  70,000 MNIST images three seeds gave 0.9545, 0.9098 and 0.9465 (median 0.9465) on the 2-core
  Xeon of the default's five (round 14, docs/experiments.md), where "dae-adam-shift" (and
  the default, the same run there) gave 0.957, 0.924 and 0.880 on the same seeds.  Before round 14 the name also lengthened the
  layer-wise stage to 20,000 steps per depth; that gave 0.880 and 0.888 there (0.886 to
  0.888 on an AMD EPYC), from a weaker AE + k-means.
* "dae-adam5e4-shift": "dae-adam-shift" with Adam at lr 0.0005 instead of 0.001.  On a 2-core
  Xeon (round 15, docs/defaults-study.md) the study's rule keeps it alone on the three
  10,000-image sets, and it meets their targets there (medians 0.852 on MNIST-10k, 0.800 on
  USPS, 0.603 on Fashion-MNIST; "dae-adam-shift" there: 0.869 on MNIST-10k and 0.539 on
  Fashion-MNIST): the slower fine-tuning keeps more of what the layer-wise stage gives
  clothes.  On all 70,000 MNIST images it falls short: seeds 0 to 3 give 0.877, 0.868, 0.874
  and 0.966 ("dae-adam-shift" 0.957, 0.924, 0.880 and 0.922), three below the 0.88 asked
  of the default, so it is not the default.
* "adam-shift" (the default of rounds 9 and 10): no layer-wise stage; the whole
  d-500-500-2000-10 autoencoder trained end to end without dropout by Adam (lr 0.001, batch
  256, 8,000 steps, about 200 epochs of 10,000 images), Glorot-uniform weights, X divided by
  its largest absolute value (pixels in [0, 1] stay as they are); on images (a known
  ``image_shape``) each image of each batch is shifted at random by up to 10% of the side
  along each axis (3 pixels on 28 x 28, 2 on 16 x 16).  Data not known to be images are
  trained on as they are, which is "adam".  The best recipe on MNIST-10k and USPS in
  rounds 9 to 11, 4.5 points behind "dae-adam-shift" on Fashion-MNIST.
* "adam": the same without shifts (the default of rounds 7 and 8): the recipe of the
  best-known reimplementation, with a fixed number of steps.
* "sgd": the "adam" recipe with the design's optimizer in Adam's place: SGD with momentum
  0.9 at lr 8 (in "mean" loss units: the loss averaged over the d features too, so its
  gradients are d times smaller than the "batch" loss's), batch 256, 8,000 steps, end to
  end, no dropout, Glorot weights, X / max|X|.  Its comparison with "adam" on MNIST-10k,
  USPS and Fashion-MNIST is in docs/defaults-study.md (round 8).
* "paper": the paper's schedule (Sec. 4.3): greedy layer-wise denoising autoencoders (20%
  dropout), 50,000 iterations per depth and 100,000 of fine-tuning at batch 256, lr 0.1
  divided by 10 every 20,000, N(0, 0.01^2) weights, X scaled as the paper scales it.
* "b64-steps": the paper's method with a CPU budget, 6,000 steps per depth and 16,000 of
  fine-tuning at batch 64, lr 1.0 / 0.5 (the default of round 6); "b64-epochs" the same
  in epochs (40 + 100, the default before round 6).  "b64-shift" is "b64-steps" with
  the shifts of "adam-shift" in its fine-tuning stage (the layer-wise stage sees the
  images as they are): SGD with momentum throughout, the best recipe on Fashion-MNIST in
  round 10 and about 3 points behind "adam-shift" on MNIST-10k (docs/defaults-study.md).
* "b256-steps" and "b256": the same at batch 256, lr 2.0 / 1.0, 8,000 + 16,000 steps or
  30 + 60 epochs (the latter beat the paper on all 70,000 MNIST images in round 4).
* "fast": for demos and tests.
"""
from __future__ import annotations

import copy

from .augment import shifter
from .scaling import INPUT_SCALINGS

# the denoising autoencoders of the paper's method: 20% dropout, N(0, 0.01^2) weights, and
# the loss averaged over features as in the authors' Caffe (so the paper's lr 0.1 applies)
DAE = {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "mean"}


def _dae(count, layerwise, finetune, batch_size, lr, lr_finetune):
    """A schedule of the paper's method: ``layerwise`` per depth, then ``finetune``, both
    counted in ``count`` ("iterations" or "epochs"), constant learning rates."""
    return {"model": DAE, "input_scaling": "paper",
            "layerwise": {count: layerwise, "batch_size": batch_size, "lr": lr},
            "finetune": {count: finetune, "batch_size": batch_size, "lr": lr_finetune}}


# the end-to-end recipes: no layer-wise stage, so no dropout; Glorot-uniform weights
END_TO_END = {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"}

SCHEDULES = {
    "adam": {
        "model": END_TO_END,
        "input_scaling": "max",
        "layerwise": None,
        "finetune": {"iterations": 8000, "batch_size": 256, "lr": 1e-3, "optimizer": "adam"},
    },
    "sgd": {
        "model": END_TO_END,
        "input_scaling": "max",
        "layerwise": None,
        "finetune": {"iterations": 8000, "batch_size": 256, "lr": 8.0, "momentum": 0.9,
                     "optimizer": "sgd"},
    },
    "paper": {
        "model": DAE, "input_scaling": "paper",
        "layerwise": {"iterations": 50000, "batch_size": 256, "lr": 0.1, "lr_step": 20000},
        "finetune": {"iterations": 100000, "batch_size": 256, "lr": 0.1, "lr_step": 20000},
    },
    "b64-steps": _dae("iterations", 6000, 16000, batch_size=64, lr=1.0, lr_finetune=0.5),
    "b64-epochs": _dae("epochs", 40, 100, batch_size=64, lr=1.0, lr_finetune=0.5),
    "b256-steps": _dae("iterations", 8000, 16000, batch_size=256, lr=2.0, lr_finetune=1.0),
    "b256": _dae("epochs", 30, 60, batch_size=256, lr=2.0, lr_finetune=1.0),
    "fast": _dae("epochs", 5, 10, batch_size=64, lr=1.0, lr_finetune=0.5),
}

# "adam" and "b64-steps" on images shifted by up to 10% of their side while fine-tuning
SCHEDULES["adam-shift"] = dict(SCHEDULES["adam"], augment={"shift": 0.1})
SCHEDULES["b64-shift"] = dict(SCHEDULES["b64-steps"], augment={"shift": 0.1})
# the layer-wise denoising stage of "b64-steps", then the fine-tuning of "adam-shift"
# (at least 44 epochs of it: 8,000 steps on 10,000 images, 12,056 on MNIST's 70,000)
SCHEDULES["dae-adam-shift"] = dict(SCHEDULES["b64-steps"],
                                   finetune=dict(SCHEDULES["adam-shift"]["finetune"],
                                                 min_epochs=44),
                                   augment=dict(SCHEDULES["adam-shift"]["augment"]))

# "dae-adam-shift" with 16,000 Adam steps (its layer-wise stage as it is: a longer one, 20,000
# steps per depth, lowered AE + k-means and DEC on MNIST-70k, docs/defaults-study.md)
SCHEDULES["dae-adam-shift-long"] = dict(
    SCHEDULES["dae-adam-shift"],
    finetune=dict(SCHEDULES["dae-adam-shift"]["finetune"], iterations=16000))

# "dae-adam-shift" with Adam at half its learning rate: the fine-tuning moves the weights of the
# layer-wise stage less far (round 15: the best on Fashion-MNIST-10k, short on MNIST-70k)
SCHEDULES["dae-adam5e4-shift"] = dict(
    SCHEDULES["dae-adam-shift"],
    finetune=dict(SCHEDULES["dae-adam-shift"]["finetune"], lr=5e-4))

# "dae-adam-shift" with Adam's lr x epochs capped at 0.001 x 100: lr 0.0005 on 10,000 rows
# (200 epochs), 0.001 on MNIST's 70,000 (44 epochs); below 20,225 rows 0.001 x 100 / epochs
SCHEDULES["dae-adam-cap-shift"] = dict(
    SCHEDULES["dae-adam-shift"],
    finetune=dict(SCHEDULES["dae-adam-shift"]["finetune"], lr_epochs=100))

#: the schedule that "default" stands for
DEFAULT = "dae-adam-cap-shift"



def get_schedule(schedule):
    """Return a copy of the schedule named ``schedule`` ("default" is :data:`DEFAULT`), or
    check and copy a dict given directly (its "input_scaling" defaults to "paper")."""
    if isinstance(schedule, dict):
        missing = {"model", "layerwise", "finetune"} - set(schedule)  # layerwise may be None
        if missing:
            raise ValueError(f"a schedule dict needs the keys model, layerwise, finetune; missing {missing}")
        augment = schedule.get("augment")
        if augment is not None and not (isinstance(augment, dict) and "shift" in augment
                                        and set(augment) <= {"shift", "image_shape"}):
            raise ValueError('a schedule\'s "augment" is None or {"shift": fraction} with an '
                             f'optional "image_shape"; got {augment!r}')
        if schedule.get("input_scaling", "paper") not in INPUT_SCALINGS:
            raise ValueError(f"a schedule's input_scaling must be one of {INPUT_SCALINGS}")
        return dict(copy.deepcopy(schedule), input_scaling=schedule.get("input_scaling", "paper"))
    if schedule == "default":
        schedule = DEFAULT
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose 'default', one of "
                         f"{sorted(SCHEDULES)} or pass a dict")
    return copy.deepcopy(SCHEDULES[schedule])


def with_lr(schedule: str | dict, lr: float | None = None, *, layerwise: float | None = None,
            finetune: float | None = None) -> dict:
    """A copy of ``schedule`` with other pretraining learning rates.

    Parameters
    ----------
    schedule : str or dict
        A name or a dict, as :func:`get_schedule` takes.
    lr : float, optional
        The learning rate of both stages (what ``dec-np --pretrain-lr`` sets).
    layerwise, finetune : float, optional
        The learning rate of one stage; they override ``lr``.  A schedule without a
        layer-wise stage ignores ``layerwise``.

    Returns
    -------
    dict
        A schedule for ``DEC(schedule=...)`` or :func:`run_schedule`; the step schedule
        (``lr_step``), the cap ``lr_epochs`` (the default's fine-tuning then runs at
        ``lr * min(1, 100 / epochs)``) and everything else are kept.

    Examples
    --------
    >>> from dec_np.schedules import with_lr
    >>> s = with_lr("fast", finetune=0.1)
    >>> s["layerwise"]["lr"], s["finetune"]["lr"]
    (1.0, 0.1)
    """
    s = get_schedule(schedule)
    for stage, value in (("layerwise", layerwise if layerwise is not None else lr),
                         ("finetune", finetune if finetune is not None else lr)):
        if value is None or s[stage] is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"the {stage} learning rate must be a number > 0, got {value!r}")
        s[stage]["lr"] = float(value)
    return s


def run_schedule(sae, X, schedule: dict, verbose: bool = False, image_shape=None):
    """Pretrain ``sae`` on X (already scaled) with a schedule dict from :func:`get_schedule`.

    Layer-wise denoising pretraining first (skipped when ``schedule["layerwise"]`` is None),
    then end-to-end fine-tuning.  Returns ``sae``.  A schedule's "augment" applies only to
    images: when ``image_shape`` (H, W) is given or the entry names its own; otherwise the
    rows are trained on as they are.

    Raises
    ------
    FloatingPointError
        If a stage diverges; the message names that stage's learning rate in the schedule
        and how to lower it (:func:`with_lr`).
    """
    augment = None
    if schedule.get("augment"):  # {"shift": fraction} and maybe "image_shape": images only
        spec = dict(schedule["augment"])
        shape = spec.pop("image_shape", None) or image_shape
        augment = shifter(tuple(shape), **spec) if shape is not None else None
    for stage in ("layerwise", "finetune"):
        kw = schedule[stage]
        if kw is None:
            continue
        if stage == "finetune" and augment:
            kw = dict(kw, augment=augment)
        train = sae.pretrain_layerwise if stage == "layerwise" else sae.finetune
        try:
            train(X, verbose=verbose, **kw)
        except FloatingPointError as exc:
            lr = kw.get("lr", "the method's default")
            raise FloatingPointError(
                f"pretraining diverged ({exc}); lower the schedule's {stage} learning rate "
                f"(schedule[{stage!r}][\"lr\"] = {lr}), e.g. schedule=dec_np.schedules."
                f"with_lr(schedule, {stage}=...)"
            ) from None
    return sae
