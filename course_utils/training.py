"""Train and evaluate a classifier on in-memory tensors, the fast way, with a per-epoch history.

Batches are gathered from the whole dataset held as one tensor, in the seeded shuffled order of
``course_utils.data.iterate_minibatches``: no ``DataLoader``, no per-sample transform. The
faster CPU paths used here do not change the math (``train_epoch``'s weights are checked bit for
bit against the plain per-batch loop in ``tests/test_training.py``):

* ``fused=True`` optimizers (one kernel per step for all parameters instead of a Python loop
  over tensors; checked against the default implementation in ``tests/test_training.py``),
  where this torch and device have them: otherwise the default implementation
  (`fused_available`; e.g. fused Adagrad on CUDA needs a newer torch than fused Adam);
* batches gathered with ``index_select`` (half the time of ``X[idx]``), gradients released by
  setting them to None directly, and each batch's loss and predictions kept as tensors and
  added up once per epoch, in batch order;
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


def _grads_to_none(optimizer: torch.optim.Optimizer):
    """``optimizer.zero_grad(set_to_none=True)``, as a function to call once per batch.

    For optimizers that keep torch's own ``zero_grad`` this sets each parameter's ``.grad`` to
    None directly (what that method does, without its per-call bookkeeping); an optimizer with
    its own ``zero_grad`` is called as usual.
    """
    if type(optimizer).zero_grad is not torch.optim.Optimizer.zero_grad:
        return lambda: optimizer.zero_grad(set_to_none=True)
    params = [p for group in optimizer.param_groups for p in group["params"]]

    def to_none() -> None:
        for p in params:
            p.grad = None

    return to_none


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

    The batches are those of ``course_utils.data.iterate_minibatches`` (one ``randperm`` from
    ``generator``, then consecutive slices of that order), gathered with ``index_select``.
    ``scheduler`` (if any) is stepped after every batch; ``step_losses`` (if a list) receives
    each batch's loss; ``step_seconds`` (if a list) receives the seconds spent in
    ``optimizer.step()`` over the epoch (on CUDA synchronised before and after each step).
    Each batch's loss and predicted classes are kept as tensors and added up once, after the
    epoch: the mean loss is the same float64 running sum, in batch order, as adding them one
    batch at a time.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}: they must match.")
    if len(X) == 0:
        raise ValueError("X is empty: there is nothing to train on.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    sync = torch.cuda.synchronize if X.device.type == "cuda" else (lambda: None)
    in_step = 0.0
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    zero_grad = _grads_to_none(optimizer)
    n = len(X)
    order = torch.randperm(n, generator=generator).to(X.device)
    losses: list[torch.Tensor] = []
    predicted: list[torch.Tensor] = []
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        xb, yb = X.index_select(0, idx), y.index_select(0, idx)
        logits = model(xb)
        loss = loss_fn(logits, yb)
        zero_grad()
        loss.backward()
        if step_seconds is not None:
            sync()
            begin = time.perf_counter()
            optimizer.step()
            sync()
            in_step += time.perf_counter() - begin
        else:
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.detach())
        predicted.append(logits.detach().argmax(dim=1))
    if step_seconds is not None:
        step_seconds.append(in_step)
    batch_losses = torch.stack(losses).cpu()
    if step_losses is not None:
        step_losses.extend(batch_losses.tolist())
    sizes = torch.full((len(losses),), float(batch_size))
    sizes[-1] = n - batch_size * (len(losses) - 1)
    loss_sum = 0.0
    for weighted in (batch_losses * sizes).double().tolist():
        loss_sum += weighted
    correct = (torch.cat(predicted) == y.index_select(0, order)).sum().item()
    return loss_sum / n, correct / n


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
