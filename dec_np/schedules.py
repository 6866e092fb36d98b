"""Named pretraining schedules for the stacked autoencoder, as plain dicts.

A schedule is a dict: "model" (:class:`~dec_np.StackedAutoencoder` settings), "input_scaling"
(how :class:`~dec_np.DEC` scales X before pretraining: "paper", "max" or None, see
:mod:`dec_np.scaling`), "layerwise" (keywords of
:meth:`~dec_np.StackedAutoencoder.pretrain_layerwise`, or None to skip that stage) and
"finetune" (keywords of :meth:`~dec_np.StackedAutoencoder.finetune`).  Two optional keys are
read here:

* ``"augment": {"shift": fraction}`` (optionally with ``"rotate": degrees`` and
  ``"image_shape": (H, W)``): fine-tuning reconstructs images shifted at random by up to that
  fraction of their side, and turned by up to that angle (:func:`dec_np.augment.shifter`),
  when the rows are known to be images (the entry's image_shape or
  ``DEC(image_shape=...)``); other data train as they are.
* ``"lr_below"``: ``[rows, lr]``: on fewer than ``rows`` rows the fine-tuning stage runs at
  ``lr`` instead of its own rate (before its ``lr_epochs`` cap): the images' default
  (``"dae-adam-short-shift"``) runs its Adam stage at 0.0005 below 20,000 rows and at 0.001
  from there (:func:`finetune_lr`; :func:`stage_settings` and :func:`for_rows` give a
  schedule's settings on a number of rows, :func:`describe` says them in words).
* ``"lr_width"``: in the layer-wise stage, a depth that reconstructs a hidden layer narrower
  than ``lr_width`` units trains at ``lr * width / lr_width`` (:func:`layerwise_rates`).  The
  schedules whose layer-wise SGD runs at lr 1.0 (the default, "paper-short", "paper-epochs",
  "long", "fast") set 500: the paper's network (d-500-500-2000-10) is never affected, and on a narrow one
  (d-32-10) SGD does not diverge at the second depth.

Steps are counted in iterations, as the paper counts them, unless a stage gives "epochs".

The schedules (``DEC(schedule=NAME)``; "default" is :data:`DEFAULT` on any data, and
:data:`DEFAULT_IMAGES`, the same schedule, when the rows are declared images;
:func:`default_name`):

* "dae-adam-short-shift" (the default): the paper's greedy layer-wise denoising stage (SGD
  with momentum 0.9, 20% dropout, N(0, 0.01^2) weights, the paper's input scaling, 6,000
  steps per depth at batch 64, lr 1.0), then the whole autoencoder fine-tuned end to end by
  Adam (batch 256, no dropout) for 3,000 steps and at least 44 epochs (12,056 steps on
  70,000 rows), at lr 0.0005 below 20,000 rows and 0.001 from there, on images shifted at
  random by up to 10% of their side (plain arrays train as they are).  With ``DEC``'s
  clustering phase on shifted and rotated images (``augment="auto"``): median DEC ACC 0.968
  over five seeds on all 70,000 MNIST images (docs/defaults-study.md).
* "dae-adam-cap-shift" (the previous default): the same layer-wise stage, then 8,000 Adam
  steps (at least 44 epochs) at lr 0.001 x min(1, 100 / epochs) (0.0005 on 10,000 rows,
  0.001 from 20,225 rows on), on images shifted at random; about twice the time of the
  default's pretraining on 10,000 rows (docs/defaults-study.md).
* "paper": the paper's schedule (Sec. 4.3): the layer-wise denoising stage with 50,000 steps
  per depth, then 100,000 steps of fine-tuning, batch 256, SGD at lr 0.1 divided by 10 every
  20,000 steps.  About 300,000 steps: hours on a CPU.
* "paper-short" (also "b64-steps"): the paper's method on a CPU budget: 6,000 layer-wise steps
  per depth and 16,000 of fine-tuning, batch 64, SGD at lr 1.0 and 0.5.  Median DEC ACC
  0.802 over four seeds on the MNIST test set (docs/defaults-study.md).
* "paper-epochs" (also "b64-epochs"): the same counted in passes over the data, so that its
  length follows the data's size: 40 epochs per depth and 100 of fine-tuning.  Median DEC
  ACC 0.800 over three seeds on the MNIST test set (docs/defaults-study.md).
* "adam": no layer-wise stage; the whole network trained end to end from Glorot-uniform
  weights without dropout by Adam (lr 0.001, batch 256, 8,000 steps), X / max|X|.  Median
  DEC ACC 0.775 over three seeds on the MNIST test set (docs/defaults-study.md).
* "adam-shift": "adam" with the default's random shifts on images.  Median DEC ACC 0.871
  over three seeds on the MNIST test set (docs/defaults-study.md).
* "sgd": "adam" with SGD and momentum 0.9 (lr 8 in "mean" loss units) in Adam's place.
  Median DEC ACC 0.769 over three seeds on the MNIST test set (docs/defaults-study.md).
* "long": the default's layer-wise stage, then 16,000 Adam steps at lr 0.001 (no cap) with
  the shifts.  Median DEC ACC 0.947 over three seeds on all 70,000 MNIST images
  (docs/experiments.md); about 20 minutes a fit there on two CPU cores.
* "fast": "paper-short" counted in epochs, 5 per depth and 10 of fine-tuning: for tests and
  demos on small data.

More schedules (the candidates the defaults were chosen from, each a dict that
``DEC(schedule=...)`` takes) are in ``benchmarks/candidates.py``; how the default was chosen
is in docs/defaults-study.md.
"""
from __future__ import annotations

import copy
from typing import Any

from .augment import shifter
from .autoencoder import stage_steps
from .scaling import INPUT_SCALINGS

# The denoising autoencoders of the paper's method: 20% dropout, N(0, 0.01^2) weights, and
# the loss averaged over features as in the authors' Caffe (so the paper's lr 0.1 applies).
DAE = {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "mean"}
# The end-to-end recipes: no layer-wise stage, so no dropout; Glorot-uniform weights.
END_TO_END = {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"}
# The layer-wise stage of the paper's method on a CPU budget: 6,000 SGD steps per depth.
LAYERWISE = {"iterations": 6000, "batch_size": 64, "lr": 1.0}
# End-to-end Adam fine-tuning: 8,000 steps at batch 256.
ADAM = {"iterations": 8000, "batch_size": 256, "lr": 1e-3, "optimizer": "adam"}
# Images shifted at random by up to 10% of their side (3 pixels on 28 x 28) while fine-tuning.
SHIFT = {"shift": 0.1}

#: name -> schedule dict; one entry per schedule
SCHEDULES: dict[str, dict[str, Any]] = {
    "dae-adam-cap-shift": {"model": DAE, "input_scaling": "paper", "layerwise": LAYERWISE,
                           "finetune": dict(ADAM, min_epochs=44, lr_epochs=100),
                           "augment": SHIFT, "lr_width": 500},
    "dae-adam-short-shift": {"model": DAE, "input_scaling": "paper", "layerwise": LAYERWISE,
                             "finetune": dict(ADAM, iterations=3000, min_epochs=44,
                                              lr_epochs=100),
                             "lr_below": [20000, 5e-4], "augment": SHIFT, "lr_width": 500},
    "paper": {"model": DAE, "input_scaling": "paper",
              "layerwise": {"iterations": 50000, "batch_size": 256, "lr": 0.1, "lr_step": 20000},
              "finetune": {"iterations": 100000, "batch_size": 256, "lr": 0.1,
                           "lr_step": 20000}},
    "paper-short": {"model": DAE, "input_scaling": "paper", "layerwise": LAYERWISE,
                    "finetune": {"iterations": 16000, "batch_size": 64, "lr": 0.5},
                    "lr_width": 500},
    "paper-epochs": {"model": DAE, "input_scaling": "paper",
                     "layerwise": {"epochs": 40, "batch_size": 64, "lr": 1.0},
                     "finetune": {"epochs": 100, "batch_size": 64, "lr": 0.5}, "lr_width": 500},
    "adam": {"model": END_TO_END, "input_scaling": "max", "layerwise": None, "finetune": ADAM},
    "adam-shift": {"model": END_TO_END, "input_scaling": "max", "layerwise": None,
                   "finetune": ADAM, "augment": SHIFT},
    "sgd": {"model": END_TO_END, "input_scaling": "max", "layerwise": None,
            "finetune": {"iterations": 8000, "batch_size": 256, "lr": 8.0, "momentum": 0.9,
                         "optimizer": "sgd"}},
    "long": {"model": DAE, "input_scaling": "paper", "layerwise": LAYERWISE,
             "finetune": dict(ADAM, iterations=16000, min_epochs=44), "augment": SHIFT,
             "lr_width": 500},
    "fast": {"model": DAE, "input_scaling": "paper",
             "layerwise": {"epochs": 5, "batch_size": 64, "lr": 1.0},
             "finetune": {"epochs": 10, "batch_size": 64, "lr": 0.5}, "lr_width": 500},
}

#: the schedule that "default" stands for
DEFAULT = "dae-adam-short-shift"
#: the schedule that "default" stands for when the rows are declared images: the same one,
#: which then fine-tunes on shifted images
DEFAULT_IMAGES = DEFAULT

#: other names a schedule answers to
ALIASES = {"b64-steps": "paper-short", "b64-epochs": "paper-epochs"}


def default_name(images: bool = False) -> str:
    """The schedule "default" stands for: :data:`DEFAULT_IMAGES` for images, else :data:`DEFAULT`.

    Both name one schedule, "dae-adam-short-shift": its fine-tuning shifts the rows only when
    they are images, and :class:`~dec_np.DEC`'s clustering phase augments only images
    (``augment="auto"``).

    Parameters
    ----------
    images : bool, default False
        Whether the rows are declared images (``DEC(image_shape=...)``).

    Returns
    -------
    str
        A name of :data:`SCHEDULES`.

    Examples
    --------
    >>> default_name(), default_name(images=True)
    ('dae-adam-short-shift', 'dae-adam-short-shift')
    """
    return DEFAULT_IMAGES if images else DEFAULT


def get_schedule(schedule: str | dict, images: bool = False) -> dict:
    """A copy of a named schedule, or of a schedule dict after checking it.

    Parameters
    ----------
    schedule : str or dict
        A name of :data:`SCHEDULES` or :data:`ALIASES`, "default" (:func:`default_name`), or
        a dict with the keys "model", "layerwise" and "finetune" (its "input_scaling"
        defaults to "paper").
    images : bool, default False
        Whether the rows are declared images: "default" then stands for
        :data:`DEFAULT_IMAGES`.

    Returns
    -------
    dict
        A deep copy: changing it changes no named schedule.

    Examples
    --------
    >>> from dec_np.schedules import get_schedule
    >>> s = get_schedule("paper-short")
    >>> s["layerwise"]["iterations"], s["finetune"]["lr"], s["input_scaling"]
    (6000, 0.5, 'paper')
    """
    if isinstance(schedule, dict):
        missing = {"model", "layerwise", "finetune"} - set(schedule)  # layerwise may be None
        if missing:
            raise ValueError(f"a schedule dict needs the keys model, layerwise, finetune; missing {missing}")
        augment = schedule.get("augment")
        if augment is not None and not (isinstance(augment, dict) and "shift" in augment
                                        and set(augment) <= {"shift", "rotate", "image_shape"}):
            raise ValueError('a schedule\'s "augment" is None or {"shift": fraction} with an '
                             f'optional "rotate" (degrees) and "image_shape"; got {augment!r}')
        below = schedule.get("lr_below")
        if below is not None and not (
                isinstance(below, (list, tuple)) and len(below) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                        for v in below)):
            raise ValueError(f"a schedule's lr_below is None or [rows, lr], both > 0; got "
                             f"{below!r}")
        width = schedule.get("lr_width")
        if width is not None and (isinstance(width, bool) or not isinstance(width, (int, float))
                                  or not width > 0):
            raise ValueError(f"a schedule's lr_width is None or a number > 0; got {width!r}")
        if schedule.get("input_scaling", "paper") not in INPUT_SCALINGS:
            raise ValueError(f"a schedule's input_scaling must be one of {INPUT_SCALINGS}")
        return dict(copy.deepcopy(schedule), input_scaling=schedule.get("input_scaling", "paper"))
    name = default_name(images) if schedule == "default" else ALIASES.get(schedule, schedule)
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose 'default', one of "
                         f"{sorted(SCHEDULES)} or pass a dict")
    return copy.deepcopy(SCHEDULES[name])


def with_lr(schedule: str | dict, lr: float | None = None, *, layerwise: float | None = None,
            finetune: float | None = None, images: bool = False) -> dict:
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
    images : bool, default False
        Whether the rows are images, for "default" (:func:`get_schedule`).

    Returns
    -------
    dict
        A schedule for ``DEC(schedule=...)`` or :func:`run_schedule`; the step schedule
        (``lr_step``), the caps ``lr_epochs`` (the default's fine-tuning then runs at
        ``lr * min(1, 100 / epochs)``) and ``lr_width``, and everything else are kept,
        except ``lr_below`` when the fine-tuning rate is given.

    Examples
    --------
    >>> from dec_np.schedules import with_lr
    >>> s = with_lr("fast", finetune=0.1)
    >>> s["layerwise"]["lr"], s["finetune"]["lr"]
    (1.0, 0.1)
    """
    s = get_schedule(schedule, images)
    for stage, value in (("layerwise", layerwise if layerwise is not None else lr),
                         ("finetune", finetune if finetune is not None else lr)):
        if value is None or s[stage] is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"the {stage} learning rate must be a number > 0, got {value!r}")
        s[stage]["lr"] = float(value)
        if stage == "finetune":
            s.pop("lr_below", None)  # the rate given is the rate at every size
    return s


def layerwise_rates(lr: float | None, dims: tuple[int, ...], lr_width: float) -> list[float]:
    """The learning rate of each depth of a layer-wise stage under ``lr_width``.

    Depth i reconstructs ``dims[i]`` units.  Depth 0 (the data, scaled by the input
    scaling) trains at ``lr``; a deeper one at ``lr * min(1, dims[i] / lr_width)``: the
    narrower a hidden layer, the larger the steps of the per-feature ("mean") loss.

    Parameters
    ----------
    lr : float
        The stage's learning rate.
    dims : tuple of int
        The autoencoder's widths, input first (``StackedAutoencoder.dims``).
    lr_width : float
        The width from which a hidden depth trains at ``lr`` itself.

    Returns
    -------
    list of float
        One rate per depth (``len(dims) - 1``).

    Examples
    --------
    >>> layerwise_rates(1.0, (784, 500, 500, 2000, 10), 500)   # the paper's network
    [1.0, 1.0, 1.0, 1.0]
    >>> layerwise_rates(1.0, (784, 32, 10), 500)
    [1.0, 0.064]
    """
    if isinstance(lr_width, bool) or not isinstance(lr_width, (int, float)) or not lr_width > 0:
        raise ValueError(f"lr_width must be a number > 0, got {lr_width!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise ValueError(f"lr_width needs a single layer-wise learning rate, got lr={lr!r}")
    return [float(lr)] + [float(lr) * min(1.0, w / lr_width) for w in dims[1:-1]]


def stage_settings(schedule: dict, stage: str, n_samples: int) -> dict | None:
    """The keywords a schedule's stage runs with on ``n_samples`` rows.

    The stage's own dict, with the fine-tuning rate of ``"lr_below": [rows, lr]`` on fewer
    than ``rows`` rows (:func:`finetune_lr`).

    Parameters
    ----------
    schedule : dict
        A schedule as :func:`get_schedule` returns it.
    stage : {"layerwise", "finetune"}
        The stage.
    n_samples : int
        The rows the stage trains on.

    Returns
    -------
    dict or None
        Keywords of :meth:`~dec_np.StackedAutoencoder.pretrain_layerwise` or
        :meth:`~dec_np.StackedAutoencoder.finetune` (a new dict); None for a stage the
        schedule skips.

    Examples
    --------
    >>> s = get_schedule("default")
    >>> [stage_settings(s, "finetune", n)["lr"] for n in (10000, 70000)]
    [0.0005, 0.001]
    """
    if stage not in ("layerwise", "finetune"):
        raise ValueError(f"stage must be 'layerwise' or 'finetune', got {stage!r}")
    if schedule[stage] is None:
        return None
    kw = dict(schedule[stage])
    below = schedule.get("lr_below")
    if stage == "finetune" and below is not None and n_samples < below[0]:
        kw["lr"] = float(below[1])
    return kw


def for_rows(schedule: dict, n_samples: int) -> dict:
    """A copy of ``schedule`` as it runs on ``n_samples`` rows, "lr_below" applied.

    Parameters
    ----------
    schedule : dict
        A schedule as :func:`get_schedule` returns it.
    n_samples : int
        The rows it pretrains on.

    Returns
    -------
    dict
        The schedule with each stage's settings for that many rows (:func:`stage_settings`)
        and without "lr_below": it runs alike on any number of rows.

    Examples
    --------
    >>> s = for_rows(get_schedule("default"), 10000)
    >>> s["finetune"]["lr"], "lr_below" in s
    (0.0005, False)
    """
    s = copy.deepcopy(schedule)
    for stage in ("layerwise", "finetune"):
        s[stage] = stage_settings(schedule, stage, n_samples)
    s.pop("lr_below", None)
    return s


def describe(schedule: dict, n_samples: int) -> str:
    """In words, the stages a schedule runs on ``n_samples`` rows (what ``dec-np`` prints).

    Parameters
    ----------
    schedule : dict
        A schedule as :func:`get_schedule` returns it.
    n_samples : int
        The rows it pretrains on.

    Returns
    -------
    str
        One phrase per stage: its optimiser, its length (steps, after the floor of
        ``min_epochs`` and the ceiling of ``max_epochs``, or epochs where the stage counts
        them) and its batch size.

    Examples
    --------
    >>> describe(get_schedule("default"), 10000)
    'layer-wise sgd: 6,000 steps per depth, batch 64; fine-tuning adam: 3,000 steps, batch 256'
    >>> describe(get_schedule("default"), 70000)
    'layer-wise sgd: 6,000 steps per depth, batch 64; fine-tuning adam: 12,056 steps, batch 256'
    """
    parts = []
    for stage, name in (("layerwise", "layer-wise"), ("finetune", "fine-tuning")):
        kw = stage_settings(schedule, stage, n_samples)
        if kw is None:
            continue
        batch = kw.get("batch_size", 256)
        if kw.get("epochs") is not None:
            length = f"{kw['epochs']:,} epochs"
        elif kw.get("iterations") is not None:
            steps = stage_steps(n_samples, kw["iterations"], batch, kw.get("min_epochs"),
                                kw.get("max_epochs"))
            length = f"{steps:,} steps"
        else:  # the stage itself refuses it with a ValueError
            length = "no length given"
        # None stands for SGD when a rate is given, else Adam (StackedAutoencoder's rule)
        optimizer = kw.get("optimizer") or ("sgd" if kw.get("lr") is not None else "adam")
        depth = " per depth" if stage == "layerwise" else ""
        parts.append(f"{name} {optimizer}: {length}{depth}, batch {batch}")
    return "; ".join(parts)


def finetune_lr(schedule: dict, n_samples: int) -> float | None:
    """The fine-tuning rate a schedule gives on ``n_samples`` rows, before ``lr_epochs``' cap.

    ``schedule["lr_below"] = [rows, lr]`` gives ``lr`` on fewer than ``rows`` rows; otherwise,
    and on ``rows`` rows or more, the stage's own "lr" (None: the optimiser's default).

    Parameters
    ----------
    schedule : dict
        A schedule as :func:`get_schedule` returns it.
    n_samples : int
        The rows the stage trains on.

    Returns
    -------
    float or None
        The rate handed to :meth:`~dec_np.StackedAutoencoder.finetune`.

    Examples
    --------
    >>> s = get_schedule("default", images=True)
    >>> finetune_lr(s, 10000), finetune_lr(s, 70000)
    (0.0005, 0.001)
    """
    kw = stage_settings(schedule, "finetune", n_samples)
    return None if kw is None else kw.get("lr")


def run_schedule(sae, X, schedule: dict, verbose: bool = False, image_shape=None):
    """Pretrain ``sae`` on X (already scaled) with a schedule dict from :func:`get_schedule`.

    Layer-wise denoising pretraining first (skipped when ``schedule["layerwise"]`` is None),
    then end-to-end fine-tuning.  Returns ``sae``.  A schedule's "augment" applies only to
    images: when ``image_shape`` (H, W) is given or the entry names its own; otherwise the
    rows are trained on as they are.  A schedule's "lr_width" sets the rate of each depth of
    the layer-wise stage (:func:`layerwise_rates`), its "lr_below" the fine-tuning rate on
    few rows (:func:`finetune_lr`).

    Parameters
    ----------
    sae : StackedAutoencoder
        The network to train, in place.
    X : array of shape (n_samples, dims[0])
        The training data, already scaled (:mod:`dec_np.scaling`).
    schedule : dict
        A schedule as :func:`get_schedule` returns it.
    verbose : bool, default False
        Print progress lines to stderr.
    image_shape : tuple of int or None, default None
        (H, W) when the rows are images: a schedule's "augment" then shifts them.

    Returns
    -------
    StackedAutoencoder
        ``sae``, trained.

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
        kw = stage_settings(schedule, stage, X.shape[0])  # the settings for this many rows
        if kw is None:
            continue
        lr = kw.get("lr", "the method's default")  # the divergence message below names it
        if stage == "layerwise" and schedule.get("lr_width") is not None:
            kw["lr"] = layerwise_rates(kw.get("lr"), sae.dims, schedule["lr_width"])
        if stage == "finetune" and augment:
            kw["augment"] = augment
        train = sae.pretrain_layerwise if stage == "layerwise" else sae.finetune
        try:
            train(X, verbose=verbose, **kw)
        except FloatingPointError as exc:
            raise FloatingPointError(
                f"pretraining diverged ({exc}); lower the schedule's {stage} learning rate "
                f"(schedule[{stage!r}][\"lr\"] = {lr}), e.g. schedule=dec_np.schedules."
                f"with_lr(schedule, {stage}=...)"
            ) from None
    return sae
