"""Notebook 09's trials: workloads, search spaces, quasi-random search, one resumable runner.

A *trial* trains one workload (a model on Fashion-MNIST) with one optimizer and one point of its
search space, and records the validation accuracy every ``1 / evals_per_epoch`` of an epoch
(so that time-to-result is measured in steps, not whole epochs). Trials follow the conventions
of `course_utils.runs`: a frozen config whose file name names every setting, the device, the
thread count and the torch version; one JSON file per finished trial, written atomically
(`course_utils.runs.write_result`); a file that cannot be used is named on stderr and recomputed;
``workers=2`` trains the missing trials in two processes (`course_utils.runs.train_in_pool`, the
pool `course_utils.runs.run_experiment` uses).

Validation images (held out of the training images, `course_utils.data.holdout_split`) decide
every choice. The test set is read only by trials marked ``test=True``: the re-runs of the
winners on fresh seeds, once, at the end.

``python -m course_utils.nb09_study --size full [--device cuda] [--workers 2]`` runs the
full-size study (see `course_utils.nb09_study`).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course_utils.cli import limit_threads
from course_utils.data import holdout_split, iterate_minibatches, load_fashion_mnist
from course_utils.models import make_mlp
from course_utils.paths import results_dir
from course_utils.runs import DEVICES, SUBSET_SEED, torch_version, train_in_pool, write_result
from course_utils.training import evaluate

RESULTS_DIR = results_dir("09_benchmarking")
SCHEMA = 1
N_TRAIN = 60_000

WORKLOADS = ("logreg", "small_mlp", "mlp")
WORKLOAD_LABELS = {
    "logreg": "logistic regression",
    "small_mlp": "MLP 784-64-10",
    "mlp": "course MLP 784-256-128-10",
}
METHODS = ("sgd", "adam", "adagrad")
METHOD_LABELS = {"sgd": "SGD + momentum", "adam": "Adam", "adagrad": "Adagrad"}
SPACES = ("lr", "full")

# The defaults every "lr only" search keeps fixed (torch's and the course's values).
DEFAULTS = {
    "sgd": {"momentum": 0.9, "eps": 0.0, "weight_decay": 0.0},
    "adam": {"momentum": 0.9, "eps": 1e-8, "weight_decay": 0.0},
    "adagrad": {"momentum": 0.0, "eps": 1e-10, "weight_decay": 0.0},
}

# One rule for every optimizer: each tuned hyperparameter log-uniform over the same range.
LR_RANGE = (1e-4, 1.0)
ONE_MINUS_MOMENTUM_RANGE = (1e-2, 0.5)  # momentum (SGD) or beta1 (Adam) in [0.5, 0.99]
EPS_RANGE = {"adam": (1e-10, 1.0), "adagrad": (1e-10, 1.0)}
WEIGHT_DECAY_RANGE = (1e-6, 1e-2)


def make_model(workload: str, seed: int) -> nn.Sequential:
    """The network of ``workload``, its weights drawn from ``seed`` (the global RNG untouched)."""
    if workload == "mlp":
        return make_mlp(seed)
    if workload not in WORKLOADS:
        raise ValueError(f"Unknown workload {workload!r}: choose one of {', '.join(WORKLOADS)}.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if workload == "logreg":
            return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))


@dataclass(frozen=True)
class TrialConfig:
    """One trial: workload, optimizer and its hyperparameters, seed and budget.

    ``momentum`` is SGD's momentum or Adam's beta1 (Adagrad: 0); ``eps`` is Adam's or Adagrad's
    epsilon (SGD: 0). ``test=True`` also evaluates the test set once, after the last step.
    """

    workload: str
    optimizer: str
    lr: float
    momentum: float
    eps: float
    weight_decay: float
    seed: int = 0
    epochs: int = 5
    train_subset: int = 10_000
    n_val: int = 5_000
    batch_size: int = 128
    evals_per_epoch: int = 2
    test: bool = False
    device: str = "cpu"
    threads: int = 1

    def __post_init__(self) -> None:
        if self.workload not in WORKLOADS:
            raise ValueError(f"Unknown workload {self.workload!r}: choose one of {WORKLOADS}.")
        if self.optimizer not in METHODS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}: choose one of {METHODS}.")
        if self.device not in DEVICES:
            raise ValueError(f"Unknown device {self.device!r}: choose one of {DEVICES}.")
        for name in ("lr", "momentum", "eps", "weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
        if self.lr <= 0 or self.momentum >= 1:
            raise ValueError(f"need lr > 0 and momentum < 1, got {self.lr!r}, {self.momentum!r}.")
        for name in ("seed", "epochs", "train_subset", "n_val", "batch_size", "evals_per_epoch"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (name != "seed"):
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        if self.n_val > N_TRAIN // 2 or self.train_subset > N_TRAIN - self.n_val:
            raise ValueError("n_val or train_subset too large for the 60,000 training images.")

    @property
    def name(self) -> str:
        """File stem naming every setting, the device, threads and torch version."""
        return (
            f"{self.workload}_{self.optimizer}_lr{self.lr:.6g}_m{self.momentum:.6g}"
            f"_eps{self.eps:.6g}_wd{self.weight_decay:.6g}_n{self.train_subset}_e{self.epochs}"
            f"_b{self.batch_size}_ev{self.evals_per_epoch}_val{self.n_val}"
            f"{'_test' if self.test else ''}_{self.device}_t{self.threads}"
            f"_torch{torch_version()}_seed{self.seed}"
        )

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.train_subset / self.batch_size)

    def to_dict(self) -> dict:
        return asdict(self)


def make_trial_optimizer(cfg: TrialConfig, params) -> torch.optim.Optimizer:
    """torch.optim's optimizer for ``cfg`` (weight decay as torch's L2 term, for all three)."""
    params = list(params)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    if cfg.optimizer == "adam":
        return torch.optim.Adam(
            params,
            lr=cfg.lr,
            betas=(cfg.momentum, 0.999),
            eps=cfg.eps,
            weight_decay=cfg.weight_decay,
        )
    return torch.optim.Adagrad(params, lr=cfg.lr, eps=cfg.eps, weight_decay=cfg.weight_decay)


# ---------------------------------------------------------------------------------------------
# Data


def load_data(device: str = "cpu"):
    """Fashion-MNIST ``(X_train, y_train, X_test, y_test)`` on ``device``."""
    X, y, X_test, y_test, _ = load_fashion_mnist()
    return tuple(t.to(device) for t in (X, y, X_test, y_test))


def trial_data(cfg: TrialConfig, data) -> dict:
    """``train`` (a fixed subset), ``val`` (held out of the training images) and ``test``."""
    X, y, X_test, y_test = data
    pool_idx, val_idx = holdout_split(len(X), cfg.n_val)
    order = torch.randperm(len(pool_idx), generator=torch.Generator().manual_seed(SUBSET_SEED))
    train_idx = pool_idx[order[: cfg.train_subset].sort().values]
    dev = X.device
    return {
        "train": (X[train_idx.to(dev)], y[train_idx.to(dev)]),
        "val": (X[val_idx.to(dev)], y[val_idx.to(dev)]),
        "test": (X_test, y_test),
    }


# ---------------------------------------------------------------------------------------------
# One trial


def eval_steps(cfg: TrialConfig) -> list[int]:
    """The steps after which validation is measured (evenly spread, the last one included)."""
    total = cfg.epochs * cfg.steps_per_epoch
    n = cfg.epochs * cfg.evals_per_epoch
    return sorted({round(total * (k + 1) / n) for k in range(n)})


def run_trial(cfg: TrialConfig, data=None) -> dict:
    """Train one trial; return ``{"config", "history", "test", "meta"}`` (nothing written).

    ``history``: ``step``, ``val_acc``, ``val_loss`` at every evaluation and ``train_loss`` (mean
    over the steps since the previous one). A diverged trial (non-finite loss) stops there,
    with ``history["diverged"] = True``; its later evaluations count as chance (0.1) in the
    analysis.
    """
    if data is None:
        data = load_data(cfg.device)
    parts = trial_data(cfg, data)
    X, y = parts["train"]
    X_val, y_val = parts["val"]
    checkpoints = set(eval_steps(cfg))
    history: dict = {"step": [], "val_acc": [], "val_loss": [], "train_loss": [], "diverged": False}
    with limit_threads(cfg.threads):
        model = make_model(cfg.workload, cfg.seed).to(cfg.device)
        opt = make_trial_optimizer(cfg, model.parameters())
        gen = torch.Generator().manual_seed(cfg.seed)
        loss_fn = nn.CrossEntropyLoss()
        step, loss_sum, n_sum = 0, torch.zeros((), dtype=torch.float64, device=X.device), 0
        start = time.perf_counter()
        for _ in range(cfg.epochs):
            for xb, yb in iterate_minibatches(X, y, cfg.batch_size, generator=gen):
                model.train()
                loss = loss_fn(model(xb), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                loss_sum += loss.detach()
                n_sum += 1
                if step in checkpoints:
                    train_loss = loss_sum.item() / n_sum
                    loss_sum.zero_()
                    n_sum = 0
                    val_loss, val_acc = evaluate(model, X_val, y_val)
                    for key, value in zip(
                        ("step", "val_acc", "val_loss", "train_loss"),
                        (step, val_acc, val_loss, train_loss),
                    ):
                        history[key].append(value)
                    if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                        history["diverged"] = True
                        break
            if history["diverged"]:
                break
        seconds = time.perf_counter() - start
        test = None
        if cfg.test and not history["diverged"]:
            loss, acc = evaluate(model, *parts["test"])
            test = {"loss": loss, "acc": acc}
    meta = {"schema": SCHEMA, "torch": torch.__version__, "seconds": seconds, "steps": step}
    return {"config": cfg.to_dict(), "history": history, "test": test, "meta": meta}


def _problem(result, cfg: TrialConfig) -> str | None:
    if not isinstance(result, dict) or set(result) < {"config", "history", "test", "meta"}:
        return "not a trial result"
    if result["config"] != cfg.to_dict():
        return "its stored configuration does not match this trial"
    if result["meta"].get("schema") != SCHEMA:
        return "written by another version of this module"
    h = result["history"]
    lengths = {len(h.get(k) or []) for k in ("step", "val_acc", "val_loss", "train_loss")}
    if len(lengths) != 1:
        return "history lists have different lengths"
    n = lengths.pop()
    if n == 0 or (n < len(eval_steps(cfg)) and not h.get("diverged")):
        return "history is incomplete"
    if cfg.test and not h.get("diverged") and not isinstance(result["test"], dict):
        return "the test evaluation is missing"
    return None


def read_trial(path: Path, cfg: TrialConfig) -> dict | None:
    """The stored result of ``cfg``, or None (named on stderr) when it cannot be used."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
        problem = _problem(result, cfg)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        problem = f"unreadable: {exc}"
    if problem:
        print(f"Corrupt trial file {path.name}: {problem}. Recomputing it.", file=sys.stderr)
        return None
    h = result["history"]
    for key in ("val_acc", "val_loss", "train_loss"):
        h[key] = [math.nan if v is None else float(v) for v in h[key]]
    return result


def run_trials(
    configs: Sequence[TrialConfig],
    out_dir: str | os.PathLike = RESULTS_DIR,
    workers: int = 1,
    force: bool = False,
    data=None,
) -> list[dict]:
    """Every trial of ``configs`` (trained if not stored in ``out_dir``), in order.

    Each result gets ``"loaded"`` (read back, not trained now). ``workers > 1`` trains the
    missing CPU trials in that many processes of one thread each.
    """
    configs = list(configs)
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate trials in configs")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{n}.json" for n in names]
    stored = [None if force or not p.exists() else read_trial(p, c) for c, p in zip(configs, paths)]
    missing = [c for c, s in zip(configs, stored) if s is None]
    pooled = [c for c in missing if c.device == "cpu"] if workers > 1 else []
    if len(pooled) > 1:
        train_in_pool(run_trial, pooled, out, workers)
    results = []
    for cfg, path, result in zip(configs, paths, stored):
        loaded = result is not None
        if result is None and cfg in pooled:
            result = read_trial(path, cfg)
        if result is None:
            if data is None or data[0].device.type != cfg.device:
                data = load_data(cfg.device)
            result = run_trial(cfg, data)
            write_result(path, result)
            result = read_trial(path, cfg)
        result["loaded"] = loaded
        result["path"] = str(path)
        results.append(result)
    return results


# ---------------------------------------------------------------------------------------------
# Quasi-random search


def halton(n: int, dims: int, skip: int = 1) -> np.ndarray:
    """The first ``n`` points (after ``skip``) of the Halton sequence in ``[0, 1)^dims``.

    Coordinate ``d`` is the radical inverse of the point's index in the ``d``-th prime base:
    the index's digits, mirrored behind the decimal point. The points fill the cube more
    evenly than independent uniform draws.
    """
    primes = [2, 3, 5, 7, 11, 13][:dims]
    if len(primes) < dims:
        raise ValueError("at most 6 dimensions")
    points = np.zeros((n, dims))
    for d, base in enumerate(primes):
        for i in range(n):
            k, f, x = i + skip, 1.0, 0.0
            while k > 0:
                f /= base
                x += f * (k % base)
                k //= base
            points[i, d] = x
    return points


def _log_uniform(u: float, low: float, high: float) -> float:
    return float(10 ** (math.log10(low) + u * (math.log10(high) - math.log10(low))))


def tuned_names(method: str, space: str) -> tuple[str, ...]:
    """The hyperparameters searched by ``space`` for ``method``."""
    if space not in SPACES:
        raise ValueError(f"Unknown search space {space!r}: choose one of {SPACES}.")
    if space == "lr":
        return ("lr",)
    return {
        "sgd": ("lr", "momentum", "weight_decay"),
        "adam": ("lr", "momentum", "eps", "weight_decay"),
        "adagrad": ("lr", "eps", "weight_decay"),
    }[method]


def search_points(method: str, space: str, n: int) -> list[dict]:
    """``n`` quasi-random points of ``method``'s search space (same rules for every method).

    Each tuned hyperparameter is log-uniform over its range (``1 - momentum`` for the momentum),
    the others keep ``DEFAULTS``. The Halton points are shifted by a fixed offset per method so
    that the methods' learning rates are not the very same numbers.
    """
    names = tuned_names(method, space)
    shift = (METHODS.index(method) + 1) * 0.1234
    u = (halton(n, len(names)) + shift) % 1.0
    points = []
    for row in u:
        hp = dict(DEFAULTS[method])
        for name, x in zip(names, row):
            if name == "lr":
                hp["lr"] = _log_uniform(x, *LR_RANGE)
            elif name == "momentum":
                hp["momentum"] = 1 - _log_uniform(x, *ONE_MINUS_MOMENTUM_RANGE)
            elif name == "eps":
                hp["eps"] = _log_uniform(x, *EPS_RANGE[method])
            else:
                hp["weight_decay"] = _log_uniform(x, *WEIGHT_DECAY_RANGE)
        points.append({k: float(f"{v:.4g}") for k, v in hp.items()})
    return points
