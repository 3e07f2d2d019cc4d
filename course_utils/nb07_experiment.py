"""Resumable Fashion-MNIST optimizer experiments: one JSON file per run, a CLI, summaries, figures.

Command line (``python -m course_utils.nb07_experiment --help``)::

    python -m course_utils.nb07_experiment --optimizers sgd adagrad adam adamw \\
        --epochs 20 --seeds 0 1 2 --out results/

Each run is described by a `RunConfig` (optimizer, learning rate, seed, epochs, weight decay,
training-subset size, learning-rate schedule, implementation variant, batch size). When a run
completes, its configuration and per-epoch ``history`` are written to
``OUT/<run name>.json`` atomically (a temporary file, then ``os.replace``), so an interrupted
sweep keeps every finished run and a rerun skips them. A results file that cannot be read, or
whose content does not match its configuration, is reported by name on stderr and recomputed,
never silently used. ``--force`` recomputes everything.

Python API (used by notebooks 07 and 08)::

    configs = course_configs(["sgd", "adam"], seeds=[0, 1, 2], epochs=20)
    results = run_experiment(configs, "results/07")
    print(format_table(summarize(results)))

Validation data is the 10,000-image test set, as in the course's notebook.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch

from course_utils.models import count_parameters, make_mlp
from course_utils.optimizers import CourseAdagrad
from course_utils.training import (
    COURSE_HYPERPARAMETERS,
    OPTIMIZERS,
    VARIANTS,
    default_device,
    fit,
    make_optimizer,
)

SCHEDULES = ("constant", "cosine")
N_TRAIN = 60_000
SUBSET_SEED = 1234  # the same training subset for every run, whatever the run's seed
SCHEMA_VERSION = 1
HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_time")


@dataclass(frozen=True)
class RunConfig:
    """One training run. ``lr``/``weight_decay`` of None mean the course's value for the optimizer.

    * ``optimizer``: sgd, adagrad, adam (weight_decay > 0 is Adam+L2) or adamw (decoupled decay).
    * ``train_subset``: train on this many images (a fixed random subset, the same for every
      run; None = all 60,000).
    * ``schedule``: "constant", or "cosine" (lr decays to 0 along a half cosine, every batch).
    * ``variant``: "fused" (torch.optim, fused=True), "torch" (torch.optim default loop) or
      "course" (``course_utils.optimizers`` from scratch).
    """

    optimizer: str
    lr: float | None = None
    seed: int = 0
    epochs: int = 20
    weight_decay: float | None = None
    train_subset: int | None = None
    schedule: str = "constant"
    variant: str = "fused"
    batch_size: int = 128

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"Unknown optimizer {self.optimizer!r}: choose one of {', '.join(OPTIMIZERS)}."
            )
        if self.lr is not None and not (_is_number(self.lr) and 0 < self.lr < math.inf):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}.")
        if self.weight_decay is not None and not (
            _is_number(self.weight_decay) and 0 <= self.weight_decay < math.inf
        ):
            raise ValueError(
                f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}."
            )
        for name in ("seed", "epochs", "batch_size"):
            value = getattr(self, name)
            low = 0 if name == "seed" else 1
            if not _is_int(value) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
        if self.train_subset is not None and not (
            _is_int(self.train_subset) and 1 <= self.train_subset <= N_TRAIN
        ):
            raise ValueError(
                f"train_subset must be an int in [1, {N_TRAIN}] or None (all images), "
                f"got {self.train_subset!r}."
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"Unknown schedule {self.schedule!r}: choose one of {', '.join(SCHEDULES)}."
            )
        if self.variant not in VARIANTS:
            raise ValueError(
                f"Unknown variant {self.variant!r}: choose one of {', '.join(VARIANTS)}."
            )
        if self.variant == "course" and self.optimizer == "sgd":
            raise ValueError("variant='course' has no SGD (no from-scratch SGD): use 'fused'.")

    def resolved(self) -> RunConfig:
        """The same run with the course's lr and weight_decay filled in where None."""
        course = COURSE_HYPERPARAMETERS[self.optimizer]
        return replace(
            self,
            lr=float(course["lr"] if self.lr is None else self.lr),
            weight_decay=float(
                course["weight_decay"] if self.weight_decay is None else self.weight_decay
            ),
        )

    @property
    def name(self) -> str:
        """File stem naming every setting, e.g. ``adam_lr0.001_wd0_constant_n60000_e20_b128_fused_seed0``."""
        c = self.resolved()
        return (
            f"{c.optimizer}_lr{c.lr:.6g}_wd{c.weight_decay:.6g}_{c.schedule}"
            f"_n{c.train_subset or N_TRAIN}_e{c.epochs}_b{c.batch_size}_{c.variant}_seed{c.seed}"
        )

    def to_dict(self) -> dict:
        """The resolved configuration as a plain dict (what the JSON file stores)."""
        return asdict(self.resolved())

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Rebuild a config from ``to_dict()`` output (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown RunConfig fields {sorted(unknown)}.")
        return cls(**data)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not math.isnan(x)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def lr_grid(optimizer: str, points: int = 5, decades: float = 1.0) -> list[float]:
    """``points`` log-spaced learning rates from default / 10**decades to default * 10**decades."""
    if points < 1:
        raise ValueError(f"points must be >= 1, got {points}.")
    center = COURSE_HYPERPARAMETERS[optimizer]["lr"]
    exponents = np.linspace(-decades, decades, points) if points > 1 else np.zeros(1)
    return [float(f"{center * 10.0**e:.4g}") for e in exponents]


def course_configs(
    optimizers: Iterable[str] = OPTIMIZERS,
    seeds: Iterable[int] = (0, 1, 2),
    epochs: int = 20,
    **overrides,
) -> list[RunConfig]:
    """The course's experiment: one run per (optimizer, seed) with the course's settings."""
    return [
        RunConfig(optimizer=name, seed=seed, epochs=epochs, **overrides)
        for name in optimizers
        for seed in seeds
    ]


def sweep_configs(
    optimizers: Iterable[str] = OPTIMIZERS,
    seeds: Iterable[int] = (0,),
    epochs: int = 3,
    points: int = 5,
    decades: float = 1.0,
    **overrides,
) -> list[RunConfig]:
    """A learning-rate sweep: `lr_grid` rates around each optimizer's course default."""
    return [
        RunConfig(optimizer=name, lr=lr, seed=seed, epochs=epochs, **overrides)
        for name in optimizers
        for lr in lr_grid(name, points, decades)
        for seed in seeds
    ]


# ---------------------------------------------------------------------------------------------
# Running


def load_data(device: torch.device | str | None = None):
    """Fashion-MNIST as (X_train, y_train, X_val, y_val) on ``device`` (val = the test set)."""
    from course_utils.data import load_fashion_mnist

    device = torch.device(device) if device is not None else default_device()
    X_train, y_train, X_test, y_test, _ = load_fashion_mnist()
    return tuple(t.to(device) for t in (X_train, y_train, X_test, y_test))


def _subset(X: torch.Tensor, y: torch.Tensor, n: int | None):
    if n is None or n >= len(X):
        return X, y
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(SUBSET_SEED))
    idx = order[:n].sort().values.to(X.device)
    return X[idx], y[idx]


def run_one(config: RunConfig, data=None, progress: bool = True, desc: str | None = None) -> dict:
    """Train one run and return ``{"config", "history", "meta"}`` (nothing is written)."""
    cfg = config.resolved()
    if data is None:
        data = load_data()
    X_train, y_train, X_val, y_val = data
    X_train, y_train = _subset(X_train, y_train, cfg.train_subset)
    device = X_train.device
    model = make_mlp(cfg.seed).to(device)
    optimizer = make_optimizer(
        cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay, cfg.variant
    )
    scheduler = None
    if cfg.schedule == "cosine":
        steps = cfg.epochs * math.ceil(len(X_train) / cfg.batch_size)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    start = time.perf_counter()
    history = fit(
        model,
        optimizer,
        X_train,
        y_train,
        X_val,
        y_val,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        scheduler=scheduler,
        progress=progress,
        desc=desc or f"{cfg.optimizer} lr={cfg.lr:g} seed={cfg.seed}",
    )
    meta = {
        "schema": SCHEMA_VERSION,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "n_params": count_parameters(model),
        "n_train": len(X_train),
        "n_val": len(X_val),
        "total_time": time.perf_counter() - start,
    }
    return {"config": cfg.to_dict(), "history": history, "meta": meta}


def _json_safe(value):
    """NaN/inf (a diverged run) become null: strict JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _write_atomic(path: Path, result: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_json_safe(result), f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _check_result(result, cfg: RunConfig) -> str | None:
    """Why a loaded result cannot be used for ``cfg`` (None when it is fine)."""
    if not isinstance(result, dict):
        return "not a JSON object"
    for key in ("config", "history", "meta"):
        if key not in result:
            return f"missing key {key!r}"
    if result["config"] != cfg.to_dict():
        return "its stored configuration does not match this run"
    history = result["history"]
    if not isinstance(history, dict):
        return "history is not a JSON object"
    lengths = set()
    for key in HISTORY_KEYS:
        values = history.get(key)
        if not isinstance(values, list) or not all(v is None or _is_number(v) for v in values):
            return f"history[{key!r}] is missing or not a list of numbers"
        lengths.add(len(values))
    if len(lengths) != 1:
        return "history lists have different lengths"
    (n,) = lengths
    if n < 1 or n > cfg.epochs or (n < cfg.epochs and not history.get("diverged")):
        return f"history holds {n} epochs, expected {cfg.epochs}"
    return None


def _read_result(path: Path, cfg: RunConfig) -> dict | None:
    """The stored result for ``cfg``, or None (after a note on stderr) if it is unusable."""
    try:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        problem = _check_result(result, cfg)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = f"unreadable JSON: {exc}"
    if problem is not None:
        print(
            f"Corrupt results file {path}: {problem}. Recomputing this run.",
            file=sys.stderr,
            flush=True,
        )
        return None
    history = result["history"]
    for key in HISTORY_KEYS:
        history[key] = [math.nan if v is None else float(v) for v in history[key]]
    return result


def run_experiment(
    configs: Sequence[RunConfig],
    out_dir: str | os.PathLike = "results",
    data=None,
    force: bool = False,
    progress: bool = True,
) -> list[dict]:
    """Run every config not already completed in ``out_dir``; return all results in order.

    Each result is ``{"config", "history", "meta"}`` plus ``"path"`` (its JSON file) and
    ``"loaded"`` (True when read back instead of computed). Completed runs are skipped unless
    ``force``; a corrupt file is named on stderr and recomputed. ``data`` is
    ``(X_train, y_train, X_val, y_val)``; by default Fashion-MNIST is loaded once, when needed.
    """
    configs = list(configs)
    for cfg in configs:
        if not isinstance(cfg, RunConfig):
            raise TypeError(f"configs must be RunConfig objects, got {type(cfg).__name__}.")
    names = [cfg.name for cfg in configs]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"Duplicate runs in configs: {', '.join(duplicates)}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    outer = None
    if progress:
        from tqdm.auto import tqdm

        outer = tqdm(total=len(configs), desc="runs", unit="run")
    results = []
    computed = 0
    try:
        for cfg in configs:
            path = out / f"{cfg.name}.json"
            result = None
            if path.exists() and not force:
                result = _read_result(path, cfg)
            loaded = result is not None
            if result is None:
                if data is None:
                    data = load_data()
                result = run_one(cfg, data, progress=progress)
                _write_atomic(path, result)
                computed += 1
            result["path"] = str(path)
            result["loaded"] = loaded
            results.append(result)
            if outer is not None:
                final = result["history"]["val_acc"][-1]
                outer.set_postfix(
                    last=f"{cfg.optimizer} lr={cfg.resolved().lr:g} seed={cfg.seed}",
                    val_acc=f"{final:.3f}",
                    loaded=len(results) - computed,
                    refresh=False,
                )
                outer.update()
    finally:
        if outer is not None:
            outer.close()
    return results


# ---------------------------------------------------------------------------------------------
# Summaries


def _label(cfg: dict, keys: Sequence[str]) -> str:
    parts = []
    for key in keys:
        value = cfg[key]
        if key == "optimizer":
            parts.append(str(value))
        elif isinstance(value, float):
            parts.append(f"{key}={value:g}")
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)


def _varying_keys(results: Sequence[dict]) -> list[str]:
    """ "optimizer" plus the config fields (not the seed) that differ between one optimizer's runs."""
    keys = ["optimizer"]
    by_opt: dict[str, list] = {}
    for r in results:
        by_opt.setdefault(r["config"]["optimizer"], []).append(r["config"])
    for f in fields(RunConfig):
        if f.name in ("optimizer", "seed"):
            continue
        if any(len({repr(c[f.name]) for c in cfgs}) > 1 for cfgs in by_opt.values()):
            keys.append(f.name)
    return keys


def group_results(results: Sequence[dict], by: Sequence[str] | None = None) -> dict[str, list]:
    """Group results that differ only by seed; keys are labels such as ``"adam lr=0.003"``."""
    by = list(by) if by is not None else _varying_keys(results)
    groups: dict[str, list] = {}
    for result in results:
        groups.setdefault(_label(result["config"], by), []).append(result)
    return groups


def _final(result: dict, key: str) -> float:
    values = result["history"][key]
    if key == "epoch_time":
        return float(np.mean(values))
    return float(values[-1]) if len(values) == result["config"]["epochs"] else math.nan


def summarize(
    results: Sequence[dict],
    metrics: Sequence[str] = ("train_loss", "val_loss", "val_acc", "epoch_time"),
    by: Sequence[str] | None = None,
) -> list[dict]:
    """One row per group: final-epoch metric mean and std over seeds (epoch_time: per-epoch mean).

    ``std`` is the sample standard deviation (ddof=1; 0 for a single seed). A diverged run's
    final metrics are NaN, so its group's mean is NaN too.
    """
    rows = []
    for label, group in group_results(results, by).items():
        row = {"label": label, "n_seeds": len(group)}
        for key in metrics:
            values = np.array([_final(r, key) for r in group])
            row[key] = float(values.mean())
            row[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        rows.append(row)
    return rows


def format_table(rows: Sequence[dict], digits: dict[str, int] | None = None) -> str:
    """Plain-text table of `summarize` rows: ``mean ± std`` per metric."""
    if not rows:
        return "(no results)"
    digits = {"train_loss": 3, "val_loss": 3, "val_acc": 4, "epoch_time": 2, **(digits or {})}
    metrics = [k for k in rows[0] if k not in ("label", "n_seeds") and not k.endswith("_std")]
    header = ["run", "seeds"] + [m + (" (s)" if m == "epoch_time" else "") for m in metrics]
    lines = []
    for row in rows:
        cells = [row["label"], str(row["n_seeds"])]
        for m in metrics:
            d = digits.get(m, 3)
            cells.append(f"{row[m]:.{d}f} ± {row[m + '_std']:.{d}f}")
        lines.append(cells)
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]

    def fmt(cells):
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(c) for c in lines])


# ---------------------------------------------------------------------------------------------
# Figures (matplotlib Figure objects; the notebook shows and saves them)


def _color(label: str):
    from course_utils.plotting import OPTIMIZER_COLORS

    return OPTIMIZER_COLORS.get(label.split()[0])


def _stack(group: list[dict], key: str) -> np.ndarray:
    n = max(len(r["history"][key]) for r in group)
    out = np.full((len(group), n), np.nan)
    for i, r in enumerate(group):
        out[i, : len(r["history"][key])] = r["history"][key]
    return out


def _legend(label: str, group: list[dict]) -> str:
    """Group label plus the hyperparameters it does not already name, and the seed count."""
    cfg = group[0]["config"]
    extra = []
    if "lr=" not in label:
        extra.append(f"lr={cfg['lr']:g}")
    if "weight_decay=" not in label and cfg["weight_decay"]:
        extra.append(f"wd={cfg['weight_decay']:g}")
    seeds = f"{len(group)} seeds" if len(group) > 1 else "1 seed"
    return f"{label} ({', '.join(extra + [seeds])})"


def plot_comparison(results: Sequence[dict], by: Sequence[str] | None = None, fig=None):
    """2x2 panels (train/val loss, train/val accuracy vs epoch): seed mean and min-max band."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if fig is None:
        fig = plt.figure(figsize=(12, 8.5))
    axes = fig.subplots(2, 2, sharex=True)
    panels = [
        ("train_loss", "training loss", axes[0, 0]),
        ("val_loss", "validation loss", axes[0, 1]),
        ("train_acc", "training accuracy", axes[1, 0]),
        ("val_acc", "validation accuracy", axes[1, 1]),
    ]
    groups = group_results(results, by)
    for key, title, ax in panels:
        for label, group in groups.items():
            values = _stack(group, key)
            epochs = np.arange(1, values.shape[1] + 1)
            color = _color(label)
            mean = np.nanmean(values, axis=0)
            ax.plot(epochs, mean, color=color, label=_legend(label, group))
            if len(group) > 1:
                ax.fill_between(
                    epochs,
                    np.nanmin(values, axis=0),
                    np.nanmax(values, axis=0),
                    color=color,
                    alpha=0.2,
                    lw=0,
                )
        ax.set_title(title)
        ax.set_ylabel("accuracy" if "acc" in key else "cross-entropy loss")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 1].legend(loc="upper right")
    fig.suptitle("Fashion-MNIST MLP: mean over seeds, band = min to max")
    fig.tight_layout()
    return fig


def plot_timing(results: Sequence[dict], by: Sequence[str] | None = None, fig=None):
    """Time per epoch (training + validation): bar = median, error bar = 25th to 75th percentile,
    diamond = mean. Other programs on the machine only ever add time, so the mean is pulled up by
    interruptions while the median shows the typical epoch."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(8, 4.5))
    ax = fig.subplots()
    groups = group_results(results, by)
    labels = list(groups)
    times = [np.concatenate([r["history"]["epoch_time"] for r in g]) for g in groups.values()]
    medians = np.array([np.median(t) for t in times])
    q25 = np.array([np.percentile(t, 25) for t in times])
    q75 = np.array([np.percentile(t, 75) for t in times])
    means = np.array([t.mean() for t in times])
    x = np.arange(len(labels))
    ax.bar(x, medians, color=[_color(lb) for lb in labels], alpha=0.85, label="median")
    ax.errorbar(
        x,
        medians,
        yerr=[medians - q25, q75 - medians],
        fmt="none",
        ecolor="black",
        capsize=6,
        lw=1.5,
        label="25th to 75th percentile",
    )
    ax.plot(x, means, "D", color="black", ms=6, label="mean")
    for xi, m in zip(x, medians):
        ax.text(xi, m / 2, f"{m:.2f} s", ha="center", va="center", color="white", weight="bold")
    ax.grid(axis="x", visible=False)
    ax.set_xticks(x, labels)
    ax.set_ylabel("seconds per epoch")
    n = min(len(t) for t in times)
    ax.set_title(f"Time per epoch, training + validation ({n} epochs per optimizer)")
    ax.set_ylim(0, 1.3 * max(q75.max(), means.max()))
    ax.legend(loc="upper center", ncol=3, framealpha=0.9)
    fig.tight_layout()
    return fig


def plot_lr_sweep(results: Sequence[dict], key: str = "val_acc", fig=None, ylim=None):
    """Final ``key`` vs learning rate (log axis), one line per optimizer; course lr marked."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    if fig is None:
        fig = plt.figure(figsize=(8, 5))
    ax = fig.subplots()
    by_opt: dict[str, list] = {}
    for r in results:
        by_opt.setdefault(r["config"]["optimizer"], []).append(r)
    for name, runs in by_opt.items():
        lrs = sorted({r["config"]["lr"] for r in runs})
        finals = [[_final(r, key) for r in runs if r["config"]["lr"] == lr] for lr in lrs]
        mean = np.array([np.mean(v) for v in finals])
        color = _color(name)
        ax.plot(lrs, mean, "o-", color=color, label=name)
        if any(len(v) > 1 for v in finals):
            ax.fill_between(
                lrs,
                [min(v) for v in finals],
                [max(v) for v in finals],
                color=color,
                alpha=0.2,
                lw=0,
            )
        course_lr = COURSE_HYPERPARAMETERS[name]["lr"]
        if course_lr in lrs:
            ax.plot([course_lr], [mean[lrs.index(course_lr)]], "*", color=color, ms=16, mec="black")
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    if ylim is not None:
        ax.set_ylim(*ylim)
    epochs = sorted({r["config"]["epochs"] for r in results})
    ax.set_xlabel("learning rate α (log scale)")
    ax.set_ylabel(key.replace("_", " ").replace("val", "validation").replace("acc", "accuracy"))
    seeds = max(len(v) for v in group_results(results, ["optimizer", "lr"]).values())
    ax.set_title(
        f"Learning-rate sweep: {'/'.join(map(str, epochs))} epochs, "
        f"{'band = min to max over ' + str(seeds) + ' seeds, ' if seeds > 1 else ''}★ = course's lr"
    )
    ax.legend()
    fig.tight_layout()
    return fig


def compare_implementations(
    optimizers: Sequence[str] = ("adagrad", "adam", "adamw"),
    epochs: int = 1,
    seed: int = 0,
    train_subset: int | None = None,
    data=None,
    progress: bool = True,
    dtype: torch.dtype = torch.float64,
) -> dict[str, dict[str, dict]]:
    """Train each optimizer from the same start with torch.optim and with the from-scratch class.

    Returns ``{name: {"torch": history, "course": history}}``; each history also holds
    ``step_loss``, the loss of every mini-batch, so the curves can be overlaid step by step.
    torch.optim runs its default (non-fused) implementation, the reference the course cites.
    Adagrad gets a third run, ``"course formula"``: the course's sqrt(G + eps) with eps = 1e-8,
    which is a different algorithm from torch's sqrt(G) + eps.
    The default ``dtype`` float64 keeps rounding differences (which training amplifies: about
    1e-3 in the loss after one float32 epoch) far below any difference between algorithms.
    """
    if data is None:
        data = load_data()
    X_train, y_train, X_val, y_val = data
    X_train, y_train = _subset(X_train, y_train, train_subset)
    X_train, X_val = X_train.to(dtype), X_val.to(dtype)
    out: dict[str, dict[str, dict]] = {}
    for name in optimizers:
        out[name] = {}
        variants = ["torch", "course"] + (["course formula"] if name == "adagrad" else [])
        for variant in variants:
            model = make_mlp(seed).to(X_train.device, dtype)
            if variant == "course formula":
                lr = COURSE_HYPERPARAMETERS["adagrad"]["lr"]
                optimizer = CourseAdagrad(model.parameters(), lr=lr, eps=1e-8, eps_inside_sqrt=True)
            else:
                optimizer = make_optimizer(name, model.parameters(), variant=variant)
            out[name][variant] = fit(
                model,
                optimizer,
                X_train,
                y_train,
                X_val,
                y_val,
                epochs=epochs,
                seed=seed,
                progress=progress,
                desc=f"{name} ({variant})",
                record_steps=True,
            )
    return out


def implementation_gaps(
    comparison: dict[str, dict[str, dict]], other: str = "course"
) -> dict[str, dict[str, float]]:
    """Per optimizer: max |difference| of step losses and of val acc, torch.optim vs ``other``."""
    gaps = {}
    for name, pair in comparison.items():
        if other not in pair:
            continue
        a, b = pair["torch"], pair[other]
        gaps[name] = {
            "step_loss": float(np.max(np.abs(np.subtract(a["step_loss"], b["step_loss"])))),
            "val_acc": float(np.max(np.abs(np.subtract(a["val_acc"], b["val_acc"])))),
        }
    return gaps


def plot_implementations(comparison: dict[str, dict[str, dict]], fig=None):
    """One panel per optimizer: mini-batch loss of torch.optim (wide) and from scratch (dashed)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    if fig is None:
        fig = plt.figure(figsize=(13, 4.5))
    axes = np.atleast_1d(fig.subplots(1, len(comparison), sharey=True))
    gaps = implementation_gaps(comparison)
    for ax, (name, pair) in zip(axes, comparison.items()):
        color = _color(name)
        steps = np.arange(1, len(pair["torch"]["step_loss"]) + 1)
        ax.plot(
            steps, pair["torch"]["step_loss"], color=color, lw=5, alpha=0.4, label="torch.optim"
        )
        ax.plot(steps, pair["course"]["step_loss"], "--", color="black", lw=1, label="from scratch")
        if "course formula" in pair:
            ax.plot(
                steps,
                pair["course formula"]["step_loss"],
                ":",
                color="#ff7f0e",
                lw=1.5,
                label="course formula √(G+ε)",
            )
        ax.set_title(f"{name}: max |Δ loss| = {gaps[name]['step_loss']:.0e}")
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("mini-batch step (log scale)")
        ax.legend(loc="lower left")
    axes[0].set_ylabel("mini-batch training loss")
    axes[0].set_ylim(bottom=0)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Command line


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds are integers >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seeds are integers >= 0, got {text!r}")
    return value


def _nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _lr_override(text: str) -> tuple[str | None, float]:
    name, _, value = text.rpartition("=")
    if name and name not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {name!r} in --lr {text!r}: choose one of {', '.join(OPTIMIZERS)}"
        )
    try:
        lr = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--lr takes VALUE or NAME=VALUE (e.g. 3e-4 or adam=3e-4), got {text!r}"
        ) from None
    if not 0 < lr < math.inf:
        raise argparse.ArgumentTypeError(f"learning rates must be finite and > 0, got {text!r}")
    return (name or None, lr)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m course_utils.nb07_experiment`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.nb07_experiment",
        description=(
            "Train the course's Fashion-MNIST MLP with several optimizers and seeds.\n"
            "Each run (optimizer, learning rate, seed, ...) is saved as OUT/<run>.json when it\n"
            "completes; rerunning skips completed runs, and a corrupt file is reported by name\n"
            "and recomputed. Validation uses the 10,000 test images, as in the course."
        ),
        epilog=(
            "examples:\n"
            "  python -m course_utils.nb07_experiment --optimizers sgd adagrad adam adamw "
            "--epochs 20 --seeds 0 1 2 --out results/\n"
            "  python -m course_utils.nb07_experiment --optimizers adam --lr 3e-4 1e-3 --epochs 5\n"
            "  python -m course_utils.nb07_experiment --sweep --epochs 3 --out results/sweep\n"
            "course settings: sgd lr=0.01 momentum=0.9 wd=1e-4; adagrad lr=0.01; "
            "adam lr=0.001; adamw lr=0.001 wd=1e-4"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--optimizers",
        nargs="+",
        choices=OPTIMIZERS,
        default=list(OPTIMIZERS),
        metavar="NAME",
        help=f"optimizers to run, from: {', '.join(OPTIMIZERS)} (default: all)",
    )
    parser.add_argument(
        "--epochs", type=_positive_int, default=20, help="epochs per run (default 20)"
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=_seed,
        default=[0],
        metavar="SEED",
        help="seeds (model initialisation and batch order); one run per seed (default 0)",
    )
    parser.add_argument(
        "--out", default="results", help="folder for the JSON files (default results/)"
    )
    parser.add_argument(
        "--lr",
        nargs="+",
        type=_lr_override,
        metavar="[NAME=]VALUE",
        help="learning-rate overrides: VALUE applies to every optimizer, NAME=VALUE to one; "
        "several values give several runs (default: the course's rates)",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="learning-rate sweep: --sweep-points log-spaced rates per optimizer from "
        "1/10 to 10 times its course rate",
    )
    parser.add_argument(
        "--sweep-points",
        type=_positive_int,
        default=5,
        help="rates per optimizer in --sweep (default 5)",
    )
    parser.add_argument(
        "--weight-decay",
        type=_nonneg_float,
        default=None,
        help="weight decay for every run (default: the course's per optimizer; for adam it is an L2 penalty)",
    )
    parser.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="constant",
        help="learning-rate schedule (default constant)",
    )
    parser.add_argument(
        "--train-subset",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"train on a fixed random subset of N of the {N_TRAIN} images (default: all)",
    )
    parser.add_argument(
        "--batch-size", type=_positive_int, default=128, help="mini-batch size (default 128)"
    )
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        default="fused",
        help="fused: torch.optim fused=True (default); torch: torch.optim default; "
        "course: course_utils.optimizers from scratch (no sgd)",
    )
    parser.add_argument(
        "--force", action="store_true", help="recompute runs even if their file exists"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def configs_from_args(args: argparse.Namespace) -> list[RunConfig]:
    """Translate parsed arguments into run configurations (raises ValueError if invalid)."""
    if args.sweep and args.lr:
        raise ValueError("--sweep and --lr cannot be combined: --sweep chooses the rates itself")
    common = dict(
        epochs=args.epochs,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        train_subset=args.train_subset,
        batch_size=args.batch_size,
        variant=args.variant,
    )
    configs = []
    for name in dict.fromkeys(args.optimizers):
        if args.sweep:
            rates = lr_grid(name, args.sweep_points)
        elif args.lr:
            rates = [lr for target, lr in args.lr if target in (None, name)] or [None]
        else:
            rates = [None]
        for lr in dict.fromkeys(rates):
            for seed in dict.fromkeys(args.seeds):
                configs.append(RunConfig(optimizer=name, lr=lr, seed=seed, **common))
    return configs


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        configs = configs_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))  # exits with status 2 before anything is written
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {args.out!r} exists and is not a folder")
    print(f"{len(configs)} runs -> {out}/", flush=True)
    results = run_experiment(configs, out, force=args.force, progress=not args.no_progress)
    loaded = sum(r["loaded"] for r in results)
    print(f"{len(results) - loaded} computed, {loaded} already complete in {out}/")
    print(format_table(summarize(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
