"""Train and evaluate a classifier on in-memory tensors, the fast way, with a per-epoch history.

Batches are slices of the whole dataset held as one tensor, taken in a seeded shuffled order by
``course_utils.data.iterate_minibatches``: no ``DataLoader``, no per-sample transform. The
faster CPU paths used here do not change the math:

* ``fused=True`` optimizers (one kernel per step for all parameters instead of a Python loop
  over tensors; checked against the default implementation in ``tests/test_training.py``),
  where this torch and device have them: otherwise the default implementation
  (`fused_available`; e.g. fused Adagrad on CUDA needs a newer torch than fused Adam);
* running loss and accuracy summed as tensors and read once per epoch;
* validation in large batches under ``torch.inference_mode()``.

``history`` matches the course's metrics: ``train_loss``/``train_acc`` are running averages over
the epoch's mini-batches (as the course computes them), ``val_loss``/``val_acc`` are measured
after the epoch, and ``epoch_time`` (seconds) covers that epoch's training *and* validation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import torch
from torch import nn
from tqdm.std import tqdm

from course_utils.data import iterate_minibatches
from course_utils.models import N_CLASSES
from course_utils.optimizers import CourseAdagrad, CourseAdam, CourseAdamW

OPTIMIZERS = ("sgd", "adagrad", "adam", "adamw")

# "fused": torch.optim with fused=True (fastest on CPU, same math);
# "torch": torch.optim's default implementation; "course": course_utils.optimizers from scratch.
VARIANTS = ("fused", "torch", "course")

# The course's settings, quoted from its notebook.
COURSE_HYPERPARAMETERS = {
    "sgd": {"lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4},
    "adagrad": {"lr": 0.01, "weight_decay": 0.0},
    "adam": {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-4},
}

_EVAL_BATCH = 4096


def fused_available(name: str, params: list[torch.nn.Parameter]) -> bool:
    """Whether torch.optim's ``name`` accepts ``fused=True`` for ``params`` in this torch.

    Asked by building a throw-away optimizer on one zero-size tensor of each parameter's
    device and dtype: torch raises when a fused kernel is missing for that combination.
    """
    cls = {
        "sgd": torch.optim.SGD,
        "adagrad": torch.optim.Adagrad,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }[name]
    kinds = {(p.device, p.dtype) for p in params}
    probes = [torch.zeros(0, device=d, dtype=t, requires_grad=True) for d, t in kinds]
    try:
        cls(probes, lr=0.01, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def make_optimizer(
    name: str,
    params: Iterable[torch.nn.Parameter],
    lr: float | None = None,
    weight_decay: float | None = None,
    variant: str = "fused",
) -> torch.optim.Optimizer:
    """Build the course's optimizer ``name`` (sgd, adagrad, adam, adamw) with its settings.

    ``lr`` and ``weight_decay`` default to the course's values (``COURSE_HYPERPARAMETERS``).
    For ``adam`` a positive ``weight_decay`` is the L2 penalty added to the gradient (Adam+L2);
    for ``adamw`` it is decoupled decay ``w *= 1 - lr * weight_decay``.
    ``variant="fused"`` falls back to the default implementation where `fused_available` says
    no (``optimizer.defaults["fused"]`` tells which ran). ``variant="course"`` uses the
    from-scratch classes of ``course_utils.optimizers`` (Adagrad
    with torch's eps placement and eps = 1e-10, so its curves are comparable); SGD has no
    from-scratch version.
    """
    if name not in COURSE_HYPERPARAMETERS:
        raise ValueError(f"Unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}.")
    if variant not in VARIANTS:
        raise ValueError(f"Unknown variant {variant!r}: choose one of {', '.join(VARIANTS)}.")
    settings = dict(COURSE_HYPERPARAMETERS[name])
    if lr is not None:
        settings["lr"] = lr
    if weight_decay is not None:
        settings["weight_decay"] = weight_decay
    if not settings["lr"] > 0 or not math.isfinite(settings["lr"]):
        raise ValueError(f"lr must be a finite number > 0, got {settings['lr']!r}.")
    if not settings["weight_decay"] >= 0 or not math.isfinite(settings["weight_decay"]):
        raise ValueError(f"weight_decay must be >= 0, got {settings['weight_decay']!r}.")
    params = list(params)

    if variant == "course":
        if name == "sgd":
            raise ValueError(
                "There is no from-scratch SGD in course_utils.optimizers: use variant='fused' "
                "or 'torch' for sgd."
            )
        if name == "adagrad":
            if settings["weight_decay"]:
                raise ValueError("CourseAdagrad has no weight decay: pass weight_decay=0.")
            return CourseAdagrad(params, lr=settings["lr"], eps=1e-10, eps_inside_sqrt=False)
        cls = CourseAdam if name == "adam" else CourseAdamW
        return cls(params, **settings)

    speed = {"fused": True} if variant == "fused" and fused_available(name, params) else {}
    if name == "sgd":
        return torch.optim.SGD(params, **settings, **speed)
    if name == "adagrad":
        return torch.optim.Adagrad(params, **settings, **speed)
    cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    return cls(params, **settings, **speed)


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 128,
    generator: torch.Generator | None = None,
    scheduler=None,
    step_losses: list[float] | None = None,
    step_seconds: list[float] | None = None,
) -> tuple[float, float]:
    """One pass over (X, y) in shuffled mini-batches; returns running (mean loss, accuracy).

    ``scheduler`` (if any) is stepped after every batch; ``step_losses`` (if a list) receives
    each batch's loss; ``step_seconds`` (if a list) receives the seconds spent in
    ``optimizer.step()`` over the epoch (on CUDA synchronised before and after each step).
    """
    sync = torch.cuda.synchronize if X.device.type == "cuda" else (lambda: None)
    in_step = 0.0
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    loss_sum = torch.zeros((), dtype=torch.float64, device=X.device)
    correct = torch.zeros((), dtype=torch.int64, device=X.device)
    for xb, yb in iterate_minibatches(X, y, batch_size, shuffle=True, generator=generator):
        logits = model(xb)
        loss = loss_fn(logits, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if step_seconds is not None:
            sync()
            start = time.perf_counter()
            optimizer.step()
            sync()
            in_step += time.perf_counter() - start
        else:
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        batch_loss = loss.detach()
        loss_sum += batch_loss * len(yb)
        correct += (logits.detach().argmax(dim=1) == yb).sum()
        if step_losses is not None:
            step_losses.append(batch_loss.item())
    if step_seconds is not None:
        step_seconds.append(in_step)
    return loss_sum.item() / len(y), correct.item() / len(y)


@torch.inference_mode()
def evaluate(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = _EVAL_BATCH
) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on (X, y), in eval mode."""
    model.eval()
    loss_sum = 0.0
    correct = 0
    for xb, yb in iterate_minibatches(X, y, batch_size, shuffle=False):
        logits = model(xb)
        loss_sum += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
        correct += (logits.argmax(dim=1) == yb).sum().item()
    return loss_sum / len(y), correct / len(y)


@torch.inference_mode()
def confusion_matrix(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = _EVAL_BATCH
) -> dict:
    """Loss, accuracy and the confusion matrix (``confusion[true][predicted]`` counts) on (X, y)."""
    model.eval()
    loss_sum = 0.0
    counts = torch.zeros(N_CLASSES * N_CLASSES, dtype=torch.int64, device=X.device)
    for xb, yb in iterate_minibatches(X, y, batch_size, shuffle=False):
        logits = model(xb)
        loss_sum += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
        counts += torch.bincount(yb * N_CLASSES + logits.argmax(dim=1), minlength=N_CLASSES**2)
    confusion = counts.view(N_CLASSES, N_CLASSES).cpu()
    return {
        "loss": loss_sum / len(y),
        "acc": confusion.diagonal().sum().item() / len(y),
        "confusion": confusion.tolist(),
    }


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    epochs: int = 20,
    batch_size: int = 128,
    seed: int = 0,
    scheduler=None,
    progress: bool = True,
    desc: str | None = None,
    record_steps: bool = False,
) -> dict[str, list[float]]:
    """Train for ``epochs`` and return the per-epoch history (see the module docstring).

    The shuffling order comes from a generator seeded with ``seed``. Tensors must already be on
    the model's device. Training stops early if the loss becomes NaN or infinite; the history
    then ends at that epoch and ``history["diverged"]`` is True. ``record_steps=True`` also
    stores every batch's loss in ``history["step_loss"]``. ``progress`` shows a text tqdm bar
    with the epoch and current metrics.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}.")
    generator = torch.Generator().manual_seed(seed)
    history: dict = {k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
    history["epoch_time"] = []
    history["diverged"] = False
    step_losses: list[float] | None = [] if record_steps else None
    bar = tqdm(
        total=epochs, desc=desc or "training", unit="epoch", leave=False, disable=not progress
    )
    try:
        for _ in range(epochs):
            start = time.perf_counter()
            train_loss, train_acc = train_epoch(
                model, optimizer, X_train, y_train, batch_size, generator, scheduler, step_losses
            )
            val_loss, val_acc = evaluate(model, X_val, y_val)
            elapsed = time.perf_counter() - start
            for key, value in zip(
                history,
                (train_loss, train_acc, val_loss, val_acc, elapsed),
            ):
                history[key].append(value)
            bar.set_postfix(train_loss=f"{train_loss:.3f}", val_acc=f"{val_acc:.3f}", refresh=False)
            bar.update()
            if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                history["diverged"] = True
                break
    finally:
        bar.close()
    if record_steps:
        history["step_loss"] = step_losses
    return history
