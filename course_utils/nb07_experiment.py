"""Notebook 07: the course's Fashion-MNIST experiment, its learning-rate sweep, summaries, a CLI.

Every run goes through the shared resumable runner (`course_utils.runs`): one JSON file per
finished run, completed runs skipped on a rerun. This module builds the runs of the lesson and
summarises them; the figures are in `course_utils.nb07_figures`, the paired statistics in
`course_utils.nb07_stats` and the fair timing in `course_utils.nb07_timing`.

Command line (``python -m course_utils.nb07_experiment --help``)::

    python -m course_utils.nb07_experiment --optimizers sgd adagrad adam adamw \\
        --epochs 20 --seeds 0 1 2 --out results/07_fashion_mnist

Python API (used by notebooks 07 and 08)::

    configs = course_configs(["sgd", "adam"], seeds=[0, 1, 2], epochs=20, n_val=10_000)
    results = run_experiment(configs, "results/07", workers=2)
    print(format_table(summarize(results)))

``n_val = N_VAL`` (the notebook's choice) holds 10,000 training images out for validation, so
that every choice is made without the test set; ``n_val = 0`` validates on the test set, as the
course's notebook does.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from course_utils.cli import checked, nonnegative_float, nonnegative_int, positive_int
from course_utils.models import make_mlp
from course_utils.optimizers import CourseAdagrad
from course_utils.runs import (
    DEVICES,
    SCHEDULES,
    RunConfig,
    default_device,
    load_data,
    run_data,
    run_experiment,
)
from course_utils.training import COURSE_HYPERPARAMETERS, OPTIMIZERS, VARIANTS, fit, make_optimizer

N_VAL = 10_000  # training images held out for validation in notebook 07
# Training images of the notebook's runs: a fixed subset of the 50,000 not held out, so that the
# notebook runs in minutes on a laptop CPU (the command line trains on all of them by default).
N_TRAIN_NOTEBOOK = 10_000

# The course's single run (damek/STAT-4830, the adaptive-methods lecture's notebook): final
# validation accuracy after 20 epochs, validated on the test set, one seed.
COURSE_RESULT = {"sgd": 0.8893, "adagrad": 0.8882, "adam": 0.8921, "adamw": 0.8905}
# The course's seconds per epoch (slide 23's timing figure: DataLoader loop, all 60,000 training
# images plus validation on the 10,000 test images), lowest and highest of the four optimizers.
COURSE_EPOCH_SECONDS = (6.0, 7.6)


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
    skip_course_lr: bool = False,
    **overrides,
) -> list[RunConfig]:
    """A learning-rate sweep: `lr_grid` rates around each optimizer's course default.

    ``skip_course_lr`` leaves the course's rate out: the first ``epochs`` epochs of a longer
    constant-rate run with the same seed are the same run (same initialisation, same batches).
    """
    return [
        RunConfig(optimizer=name, lr=lr, seed=seed, epochs=epochs, **overrides)
        for name in optimizers
        for lr in lr_grid(name, points, decades)
        if not (skip_course_lr and lr == COURSE_HYPERPARAMETERS[name]["lr"])
        for seed in seeds
    ]


def sweep_table(
    sweep: Sequence[dict], main: Sequence[dict], epochs: int, key: str = "val_acc"
) -> dict[str, dict[float, np.ndarray]]:
    """``table[optimizer][lr]``: ``key`` after ``epochs`` epochs, one value per seed (seed order).

    The sweep's runs plus the course's rate read from the first ``epochs`` epochs of the longer
    ``main`` runs (`truncated`: the same run up to there). Constant-rate runs only.
    """
    table: dict[str, dict[float, dict[int, float]]] = {}
    for r in list(sweep) + [truncated(m, epochs) for m in main]:
        cfg = r["config"]
        if cfg["epochs"] != epochs or cfg["schedule"] != "constant":
            continue
        cell = table.setdefault(cfg["optimizer"], {}).setdefault(cfg["lr"], {})
        cell[cfg["seed"]] = float(r["history"][key][epochs - 1])
    return {
        name: {lr: np.array([v[s] for s in sorted(v)]) for lr, v in sorted(by_lr.items())}
        for name, by_lr in table.items()
    }


def truncated(result: dict, epochs: int) -> dict:
    """``result`` as if it had stopped after ``epochs`` epochs (config and history cut)."""
    cfg = dict(result["config"], epochs=epochs)
    history = {k: v[:epochs] if isinstance(v, list) else v for k, v in result["history"].items()}
    return {**result, "config": cfg, "history": history}


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
    """The last epoch's ``key`` (NaN for a diverged run); ``test_acc``/``test_loss`` from the
    final test evaluation; ``epoch_time`` as the mean over epochs."""
    if key.startswith("test_"):
        return float(result["test"][key[5:]])
    values = result["history"][key]
    if key == "epoch_time":
        return float(np.mean(values))
    return float(values[-1]) if len(values) == result["config"]["epochs"] else math.nan


def final_metric(result: dict, key: str) -> float:
    """Public access to one run's final ``key`` (see `summarize`)."""
    return _final(result, key)


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
    digits = {
        "train_loss": 3,
        "val_loss": 3,
        "val_acc": 4,
        "test_acc": 4,
        "epoch_time": 2,
        **(digits or {}),
    }
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


def compare_implementations(
    optimizers: Sequence[str] = ("adagrad", "adam", "adamw"),
    epochs: int = 1,
    seed: int = 0,
    train_subset: int | None = None,
    data=None,
    progress: bool = True,
    dtype: torch.dtype = torch.float64,
    n_val: int = N_VAL,
) -> dict[str, dict[str, dict]]:
    """Train each optimizer from the same start with torch.optim and with the from-scratch class.

    Returns ``{name: {"torch": history, "course": history}}``; each history also holds
    ``step_loss``, the loss of every mini-batch, so the curves can be overlaid step by step.
    torch.optim runs its default (non-fused) implementation, the reference the course cites.
    Adagrad gets a third run, ``"course formula"``: the course's sqrt(G + eps) with eps = 1e-8,
    which is a different algorithm from torch's sqrt(G) + eps.
    The default ``dtype`` float64 keeps rounding differences far below any difference between
    algorithms; in float32 training amplifies them step after step (`step_loss_gap`).
    """
    if data is None:
        data = load_data()
    parts = run_data(RunConfig("adam", train_subset=train_subset, n_val=n_val), data)
    (X_train, y_train), (X_val, y_val) = parts["train"], parts["val"]
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


def step_loss_gap(comparison: dict[str, dict[str, dict]], other: str = "course") -> dict:
    """Per optimizer: ``|torch.optim - other|`` mini-batch loss at every step (an array)."""
    return {
        name: np.abs(np.subtract(pair["torch"]["step_loss"], pair[other]["step_loss"]))
        for name, pair in comparison.items()
        if other in pair
    }


# ---------------------------------------------------------------------------------------------
# Command line


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


_n_val = checked(int, lambda n: 0 <= n <= 30_000, "an integer in [0, 30000]")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m course_utils.nb07_experiment`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.nb07_experiment",
        description=(
            "Train the course's Fashion-MNIST MLP with several optimizers and seeds.\n"
            "Each run (optimizer, learning rate, seed, ...) is saved as OUT/<run>.json when it\n"
            "completes; rerunning skips completed runs, and a corrupt file is reported by name\n"
            f"and recomputed. By default {N_VAL} training images are held out for validation\n"
            "and the test set is evaluated once, after the last epoch (--n-val 0: validate on\n"
            "the test set, as the course does)."
        ),
        epilog=(
            "examples:\n"
            "  python -m course_utils.nb07_experiment --optimizers sgd adagrad adam adamw "
            "--epochs 20 --seeds 0 1 2 --out results/07_fashion_mnist --workers 2\n"
            "  python -m course_utils.nb07_experiment --optimizers adam --lr 3e-4 1e-3 --epochs 5\n"
            "  python -m course_utils.nb07_experiment --sweep --epochs 3 --seeds 0 1 2 "
            "--out results/07_fashion_mnist\n"
            "course settings: sgd lr=0.01 momentum=0.9 wd=1e-4; adagrad lr=0.01; "
            "adam lr=0.001; adamw lr=0.001 wd=1e-4"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--optimizers",
        nargs="+",
        choices=OPTIMIZERS,
        default=list(OPTIMIZERS),
        metavar="NAME",
        help=f"optimizers to run, from: {', '.join(OPTIMIZERS)} (default: all)",
    )
    add("--epochs", type=positive_int, default=20, help="epochs per run (default 20)")
    add(
        "--seeds",
        nargs="+",
        type=nonnegative_int,
        default=[0],
        metavar="SEED",
        help="seeds (model initialisation and batch order); one run per seed (default 0)",
    )
    add("--out", default="results", help="folder for the JSON files (default results/)")
    add(
        "--lr",
        nargs="+",
        type=_lr_override,
        metavar="[NAME=]VALUE",
        help="learning-rate overrides: VALUE applies to every optimizer, NAME=VALUE to one; "
        "several values give several runs (default: the course's rates)",
    )
    add(
        "--sweep",
        action="store_true",
        help="learning-rate sweep: --sweep-points log-spaced rates per optimizer from "
        "1/10 to 10 times its course rate",
    )
    add("--sweep-points", type=positive_int, default=5, help="rates per optimizer (default 5)")
    add(
        "--weight-decay",
        type=nonnegative_float,
        default=None,
        help="weight decay for every run (default: the course's; for adam it is an L2 penalty)",
    )
    add("--schedule", choices=SCHEDULES, default="constant", help="lr schedule (default constant)")
    add(
        "--train-subset",
        type=positive_int,
        default=None,
        metavar="N",
        help="train on a fixed random subset of N of the training images (default: all)",
    )
    add("--batch-size", type=positive_int, default=128, help="mini-batch size (default 128)")
    add(
        "--variant",
        choices=VARIANTS,
        default="fused",
        help="fused: torch.optim fused kernels where available (default); torch: torch.optim "
        "default; course: course_utils.optimizers from scratch (no sgd)",
    )
    add("--n-val", type=_n_val, default=N_VAL, help=f"validation images held out (default {N_VAL})")
    add("--device", choices=DEVICES, default=default_device(), help="default: cuda if available")
    add("--threads", type=positive_int, default=1, help="torch threads per run (default 1)")
    add("--workers", type=positive_int, default=1, help="processes for CPU runs (default 1)")
    add("--force", action="store_true", help="recompute runs even if their file exists")
    add("--no-progress", action="store_true", help="hide the progress bar")
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
        n_val=args.n_val,
        device=args.device,
        threads=args.threads,
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
    results = run_experiment(
        configs, out, force=args.force, progress=not args.no_progress, workers=args.workers
    )
    loaded = sum(r["loaded"] for r in results)
    print(f"{len(results) - loaded} computed, {loaded} already complete in {out}/")
    metrics = ("train_loss", "val_loss", "val_acc", "test_acc", "epoch_time")
    print(format_table(summarize(results, metrics if args.n_val else metrics[:3] + metrics[4:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
