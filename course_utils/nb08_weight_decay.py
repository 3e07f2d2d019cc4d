"""Notebook 08: learning rate x weight decay grids for Adam+L2 and AdamW, and what they show.

Every run goes through the shared resumable runner (`course_utils.runs`): one ``RunConfig`` per
(method, learning rate, decay, seed), one JSON file per finished run. This module adds:

* the **paper's parameterisation** (Loshchilov & Hutter, 2019): AdamW shrinks the weights by
  ``eta_t * lam`` per step (``eta_t`` the schedule multiplier, no learning rate in it); torch's
  ``AdamW`` by ``alpha * eta_t * weight_decay``, so a paper cell ``(alpha, lam)`` is the torch
  run ``weight_decay = lam / alpha`` (`torch_weight_decay`); Adam+L2's ``weight_decay`` is ``lam``;
* the grid (`GridSpec`, `grid_configs`, `run_grid`): validated on ``n_val`` held-out training
  images, the test set evaluated once per run, for the fresh-seed confirmation (`run_confirmation`);
* analysis: per-cell errors over seeds (`grid_errors`), best cells, the best decay per learning
  rate with a slope and a seed bootstrap (`best_decay_trend`); placement-free statistics and
  cell comparisons are in `course_utils.nb08_stats`, figures in `nb08_figures`, the command
  line (``python -m course_utils.nb08_cli --size full --workers 2``) in `nb08_cli`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from course_utils.paths import results_dir
from course_utils.runs import N_TRAIN, RunConfig, default_device, run_experiment

METHODS = ("adam", "adamw")
METHOD_LABELS = {"adam": "Adam + L2", "adamw": "AdamW"}
RESULTS_DIR = results_dir("08_weight_decay")


# ---------------------------------------------------------------------------------------------
# Parameterisation


def torch_weight_decay(method: str, lr: float, lam: float) -> float:
    """torch's ``weight_decay`` for the paper's decay ``lam`` at learning rate ``lr``.

    AdamW: torch shrinks by ``lr * weight_decay`` per step, the paper by ``lam``, so
    ``weight_decay = lam / lr``. Adam+L2: the L2 coefficient is ``lam`` in both.
    """
    _check_method(method)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}.")
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"the decay lam must be a finite number >= 0, got {lam!r}.")
    return lam / lr if method == "adamw" else float(lam)


def paper_decay(method: str, lr: float, weight_decay: float) -> float:
    """The paper's ``lam`` for torch's ``weight_decay`` at ``lr`` (inverse of `torch_weight_decay`)."""
    _check_method(method)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}.")
    return weight_decay * lr if method == "adamw" else float(weight_decay)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(
            f"Unknown method {method!r}: use 'adam' (Adam with an L2 penalty) or 'adamw'."
        )


# ---------------------------------------------------------------------------------------------
# The grid


@dataclass(frozen=True)
class GridSpec:
    """A learning rate x decay grid: sizes, data and training length.

    ``decays[method]`` lists the paper's ``lam`` values (0 first, then increasing). The ``lam = 0``
    column is run once, as Adam (AdamW with zero decay *is* Adam), and shared by both methods.
    ``extension`` adds cells beyond the rectangle, ``(method, lr, lam)`` with ``lr`` one of ``lrs``
    and ``lam`` above the method's largest decay or between 0 and its smallest positive decay:
    larger or smaller decays for the rows whose pick sits at an edge of the rectangle. In a `Grid` the cells not run are NaN (`Grid.ran` is False).
    """

    lrs: tuple[float, ...]
    decays: dict[str, tuple[float, ...]] = field(hash=False)
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    train_subset: int = 4000
    epochs: int = 20
    n_val: int = 5000
    batch_size: int = 128
    schedule: str = "cosine"
    device: str = "cpu"
    extension: tuple[tuple[str, float, float], ...] = ()

    def __post_init__(self) -> None:
        lrs = np.asarray(self.lrs, dtype=float)
        if lrs.ndim != 1 or len(lrs) < 2 or not np.all(np.isfinite(lrs) & (lrs > 0)):
            raise ValueError(f"lrs must be at least two finite rates > 0, got {self.lrs!r}.")
        if np.any(np.diff(lrs) <= 0):
            raise ValueError(f"lrs must be increasing, got {self.lrs!r}.")
        if set(self.decays) != set(METHODS):
            raise ValueError(f"decays needs exactly the keys {METHODS}, got {sorted(self.decays)}.")
        for method, values in self.decays.items():
            v = np.asarray(values, dtype=float)
            if len(v) < 3 or v[0] != 0 or np.any(np.diff(v) <= 0) or not np.all(np.isfinite(v)):
                raise ValueError(
                    f"decays[{method!r}] must start with 0 and increase, with at least two "
                    f"positive values; got {values!r}."
                )
        for cell in self.extension:
            if len(cell) != 3 or cell[0] not in METHODS or cell[1] not in self.lrs:
                raise ValueError(
                    f"an extension cell is (method, lr, lam) with a method of {METHODS} and an lr "
                    f"of the grid's rates; got {cell!r}."
                )
            values = self.decays[cell[0]]
            if not (math.isfinite(cell[2]) and (cell[2] > max(values) or 0 < cell[2] < values[1])):
                raise ValueError(
                    f"an extension cell's lam must lie above the largest decay of {cell[0]!r} "
                    f"({max(values)}) or between 0 and its smallest positive decay ({values[1]}); "
                    f"got {cell!r}."
                )
        if len(set(self.extension)) != len(self.extension):
            raise ValueError(f"the extension lists a cell twice: {self.extension!r}.")
        if len(self.seeds) < 2 or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be at least two distinct ints, got {self.seeds!r}.")
        if not 1 <= self.n_val <= N_TRAIN // 2:
            raise ValueError(f"n_val must be in [1, {N_TRAIN // 2}], got {self.n_val!r}.")
        if not 1 <= self.train_subset <= N_TRAIN - self.n_val:
            raise ValueError(
                f"train_subset must be in [1, {N_TRAIN - self.n_val}] (the images not held out "
                f"for validation), got {self.train_subset!r}."
            )

    @property
    def n_runs(self) -> int:
        """Number of training runs in the grid (the shared zero-decay column counted once)."""
        per_seed = len(self.lrs) * (1 + sum(len(v) - 1 for v in self.decays.values()))
        return (per_seed + len(self.extension)) * len(self.seeds)

    def all_decays(self, method: str) -> tuple[float, ...]:
        """The method's decay columns in increasing order: the rectangle's and the extension's."""
        extra = {lam for m, _, lam in self.extension if m == method}
        return tuple(sorted(set(self.decays[method]) | extra))

    def ran(self, method: str) -> np.ndarray:
        """Which cells of the method's (lr, `all_decays`) table the spec trains (bool array)."""
        decays = self.all_decays(method)
        ran = np.zeros((len(self.lrs), len(decays)), dtype=bool)
        ran[:, [decays.index(lam) for lam in self.decays[method]]] = True
        for m, lr, lam in self.extension:
            if m == method:
                ran[self.lrs.index(lr), decays.index(lam)] = True
        return ran

    @property
    def steps_per_run(self) -> int:
        """Optimizer steps in one run."""
        return self.epochs * math.ceil(self.train_subset / self.batch_size)

    def normalized(self, lam: float) -> float:
        """The paper's normalized decay ``lam / sqrt(b / (B T))`` (b batch, B images, T epochs)."""
        return lam / math.sqrt(self.batch_size / (self.train_subset * self.epochs))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["decays"] = {k: list(v) for k, v in self.decays.items()}
        d["lrs"], d["seeds"] = list(self.lrs), list(self.seeds)
        d["extension"] = [list(c) for c in self.extension]
        return d


# The notebook's grid: rates a factor 2 apart (16x range), decays half a decade apart; with 4000
# images and 20 epochs the net fits 92 to 97 % of its training images without decay (notebook 08
# prints it), so decay has something to regularise. On the 5 x 5 rectangle AdamW's two largest
# rates pick its largest decay, so those two rows get one larger decay, 3e-2 (the extension);
# notebook 08 checks that every row's picks then lie inside the grid. Rows whose best decay is the
# smallest positive one (3e-4) get one smaller decay, 1e-4 (LOW_EXTENSION): there the true best
# could lie anywhere below 3e-4. On the GPU when there is one.
TOP_ROW_EXTENSION = tuple(("adamw", lr, 3e-2) for lr in (8e-3, 1.6e-2))
LOW_EXTENSION = (
    ("adam", 1e-3, 1e-4),
    ("adam", 8e-3, 1e-4),
    ("adamw", 1e-3, 1e-4),
    ("adamw", 2e-3, 1e-4),
)
NOTEBOOK_SPEC = GridSpec(
    lrs=(1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2),
    decays={"adam": (0.0, 3e-4, 1e-3, 3e-3, 1e-2), "adamw": (0.0, 3e-4, 1e-3, 3e-3, 1e-2)},
    device=default_device(),
    extension=TOP_ROW_EXTENSION + LOW_EXTENSION,
)

# The full-size version (command line): more data, longer training, finer grid, more seeds.
FULL_SPEC = GridSpec(
    lrs=(2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2),
    decays={
        "adam": (0.0, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
        "adamw": (0.0, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
    },
    seeds=tuple(range(8)),
    train_subset=6000,
    epochs=40,
    n_val=10000,
    device=default_device(),
    extension=TOP_ROW_EXTENSION,
)


def _config(spec: GridSpec, method: str, lr: float, lam: float, seed: int) -> RunConfig:
    # The zero-decay column is shared: AdamW with lam = 0 is exactly Adam.
    optimizer = "adam" if lam == 0 else method
    return RunConfig(
        optimizer=optimizer,
        lr=float(lr),
        seed=int(seed),
        epochs=spec.epochs,
        weight_decay=torch_weight_decay(method, lr, lam),
        train_subset=spec.train_subset,
        schedule=spec.schedule,
        batch_size=spec.batch_size,
        n_val=spec.n_val,
        device=spec.device,
    )


def grid_configs(spec: GridSpec) -> list[RunConfig]:
    """Every run of the grid (zero-decay column once), ordered so partial results cover all cells."""
    configs: dict[str, RunConfig] = {}
    for seed in spec.seeds:
        for method in METHODS:
            for lr in spec.lrs:
                for lam in spec.decays[method]:
                    cfg = _config(spec, method, lr, lam, seed)
                    configs.setdefault(cfg.name, cfg)
    for seed in spec.seeds:
        for method, lr, lam in spec.extension:
            cfg = _config(spec, method, lr, lam, seed)
            configs.setdefault(cfg.name, cfg)
    return list(configs.values())


def cell_of(config: dict | RunConfig) -> tuple[str, float, float]:
    """``(optimizer, lr, lam)`` of a run: the paper's decay recovered from torch's weight_decay."""
    c = config.to_dict() if isinstance(config, RunConfig) else config
    return c["optimizer"], c["lr"], paper_decay(c["optimizer"], c["lr"], c["weight_decay"])


# ---------------------------------------------------------------------------------------------
# Running (through the shared runner, course_utils.runs)


def run_grid(
    configs: Sequence[RunConfig],
    out_dir: str | os.PathLike,
    workers: int = 2,
    progress: bool = True,
) -> list[dict]:
    """Run ``configs`` with the resumable runner, ``workers`` processes at a time; return results.

    Each process trains with one torch thread (the runs' ``threads``): on these small matrices
    two threads per run on a busy two-core machine were measured 11 to 50 times slower.
    """
    return run_experiment(configs, out_dir, progress=progress, workers=workers)


# ---------------------------------------------------------------------------------------------
# Analysis


@dataclass
class Grid:
    """Final validation error (%) of one method's grid: ``errors[lr, decay, seed]``.

    ``ran[lr, decay]`` says which cells were trained (default: all); a cell not run is NaN in
    ``errors``, like a diverged one, and never wins. `last_ran` gives each row's largest decay.
    """

    method: str
    lrs: np.ndarray
    decays: np.ndarray
    errors: np.ndarray
    seeds: tuple[int, ...]
    ran: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.ran is None:
            self.ran = np.ones(self.errors.shape[:2], dtype=bool)
        self.ran = np.asarray(self.ran, dtype=bool)
        if self.ran.shape != self.errors.shape[:2]:
            raise ValueError(f"ran has shape {self.ran.shape}, the grid {self.errors.shape[:2]}.")

    @property
    def last_ran(self) -> np.ndarray:
        """Per row, the column of the largest decay trained in that row."""
        return np.array([np.nonzero(row)[0].max() for row in self.ran])

    @property
    def first_ran(self) -> np.ndarray:
        """Per row, the column of the smallest *positive* decay trained in that row."""
        return np.array([np.nonzero(row[1:])[0].min() + 1 for row in self.ran])

    def without(self, lams: Sequence[float]) -> Grid:
        """The grid without the decay columns ``lams`` (e.g. without an extension's columns)."""
        keep = ~np.isin(self.decays, np.asarray(lams, dtype=float))
        return Grid(
            self.method,
            self.lrs,
            self.decays[keep],
            self.errors[:, keep],
            self.seeds,
            self.ran[:, keep],
        )

    def rectangle(self, n_decays: int) -> Grid:
        """The grid cut to its first ``n_decays`` decay columns (e.g. without the extension)."""
        return Grid(
            self.method,
            self.lrs,
            self.decays[:n_decays],
            self.errors[:, :n_decays],
            self.seeds,
            self.ran[:, :n_decays],
        )

    @property
    def mean(self) -> np.ndarray:
        """Mean error over seeds per cell (NaN if any seed diverged)."""
        return self.errors.mean(axis=2)

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation over seeds per cell (ddof=1)."""
        return self.errors.std(axis=2, ddof=1)

    @property
    def torch_decays(self) -> np.ndarray:
        """torch's ``weight_decay`` of every cell, shape (n_lr, n_decay)."""
        return np.array(
            [[torch_weight_decay(self.method, lr, lam) for lam in self.decays] for lr in self.lrs]
        )

    def cell(self, i: int, j: int) -> np.ndarray:
        """The per-seed errors of cell (lr index i, decay index j)."""
        return self.errors[i, j]


def _final_error(result: dict) -> float:
    history = result["history"]
    acc = history["val_acc"]
    if history.get("diverged") or len(acc) < result["config"]["epochs"]:
        return math.nan
    return 100.0 * (1.0 - float(acc[-1]))


def grid_errors(results: Sequence[dict], spec: GridSpec) -> dict[str, Grid]:
    """Arrange runner results into one `Grid` per method (the zero-decay column shared)."""
    by_name = {}
    for r in results:
        by_name[RunConfig.from_dict(r["config"]).name] = r
    grids = {}
    missing = []
    for method in METHODS:
        decays = spec.all_decays(method)
        ran = spec.ran(method)
        errors = np.full((len(spec.lrs), len(decays), len(spec.seeds)), np.nan)
        for i, lr in enumerate(spec.lrs):
            for j, lam in enumerate(decays):
                if not ran[i, j]:
                    continue
                for k, seed in enumerate(spec.seeds):
                    name = _config(spec, method, lr, lam, seed).name
                    if name in by_name:
                        errors[i, j, k] = _final_error(by_name[name])
                    else:
                        missing.append(name)
        grids[method] = Grid(method, np.array(spec.lrs), np.array(decays), errors, spec.seeds, ran)
    if missing:
        raise ValueError(
            f"{len(missing)} runs of the grid are missing from the results (e.g. {missing[0]}): "
            "run the grid with run_grid(grid_configs(spec), ...) first."
        )
    return grids


def best_cell(grid: Grid, mean: np.ndarray | None = None) -> tuple[int, int]:
    """(lr index, decay index) of the lowest mean error (diverged cells never win)."""
    mean = grid.mean if mean is None else mean
    if np.all(np.isnan(mean)):
        raise ValueError("every cell of the grid diverged: there is no best cell.")
    i, j = np.unravel_index(np.nanargmin(mean), mean.shape)
    return int(i), int(j)


def decay_positions(decays: np.ndarray, zero_at: float | None = None) -> np.ndarray:
    """log10 of each decay; lam = 0 sits at ``zero_at`` (a log10 value), by default one grid step
    below the smallest positive decay. Where it sits is a choice, not a measurement."""
    logs = np.log10(decays[1:])
    step = float(np.mean(np.diff(logs))) if len(logs) > 1 else 1.0
    return np.concatenate([[logs[0] - step if zero_at is None else zero_at], logs])


def row_best(mean: np.ndarray) -> np.ndarray:
    """Per row, the column of the lowest value (NaN never wins)."""
    filled = np.where(np.isnan(mean), np.inf, mean)
    return filled.argmin(axis=1)


def _slope(lrs: np.ndarray, positions: np.ndarray) -> float:
    return float(np.polyfit(np.log10(lrs), positions, 1)[0])


def best_decay_trend(
    grid: Grid, n_boot: int = 2000, rng_seed: int = 0, zero_at: float | None = None
) -> dict:
    """How the best decay moves with the learning rate, with a seed bootstrap.

    For each learning rate (row) the best decay is the column with the lowest mean error. The
    slope is the least-squares fit of log10(best lam) against log10(lr), in decades of lam per
    decade of lr (lam = 0 placed at ``zero_at``, by default one grid step below the smallest
    decay: `decay_positions`). Reference lines: 0 means the best decay does not move with the
    learning rate (decoupled in the paper's parameterisation); +1 means lam / lr, torch's AdamW
    ``weight_decay``, stays fixed; -1 means lam * lr stays fixed (what a decay divided by
    sqrt(v), as Adam+L2's is, would need if its effect were to stay the same).
    ``corr`` is the Pearson correlation of the same points (NaN when the best decay is the same
    at every rate). The bootstrap resamples whole seeds (all cells of one seed together, since
    they share initialisations and batch orders) and recomputes the slope each time.

    Returns ``best_index`` (per row), ``best_decay``, ``slope``, ``corr``, ``boot_slopes``,
    ``slope_std``, ``slope_interval`` (5th and 95th percentile), ``choice_freq`` (n_lr x n_decay:
    how often each decay is the row's best over the resamples) and ``torch_slope`` (the same
    slope in torch's parameterisation: AdamW's weight_decay = lam / lr adds -1).
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot!r}.")
    positions = decay_positions(grid.decays, zero_at)
    log_lr = np.log10(grid.lrs)
    best = row_best(grid.mean)
    slope = _slope(grid.lrs, positions[best])
    corr = (
        float(np.corrcoef(log_lr, positions[best])[0, 1])
        if np.ptp(positions[best]) > 0
        else math.nan
    )
    rng = np.random.default_rng(rng_seed)
    n_seeds = grid.errors.shape[2]
    boot = np.empty(n_boot)
    freq = np.zeros(grid.mean.shape)
    rows = np.arange(len(grid.lrs))
    for b in range(n_boot):
        pick = rng.integers(0, n_seeds, n_seeds)
        idx = row_best(grid.errors[:, :, pick].mean(axis=2))
        boot[b] = _slope(grid.lrs, positions[idx])
        freq[rows, idx] += 1
    shift = -1.0 if grid.method == "adamw" else 0.0
    return {
        "best_index": best,
        "best_decay": grid.decays[best],
        "slope": slope,
        "corr": corr,
        "boot_slopes": boot,
        "slope_std": float(boot.std(ddof=1)) if n_boot > 1 else 0.0,
        "slope_interval": (float(np.percentile(boot, 5)), float(np.percentile(boot, 95))),
        "choice_freq": freq / n_boot,
        "torch_slope": slope + shift,
    }


def confirmation_configs(
    spec: GridSpec, cells: dict[str, tuple[str, float, float]], seeds: Sequence[int]
) -> dict[str, list[RunConfig]]:
    """Fresh-seed reruns of chosen cells ``{label: (method, lr, lam)}``, for the test set."""
    if set(seeds) & set(spec.seeds):
        raise ValueError(
            f"confirmation seeds {sorted(seeds)} overlap the grid's seeds {list(spec.seeds)}: "
            "use fresh seeds, or the winner's curse of choosing the best cell is not removed."
        )
    return {
        label: [_config(spec, method, lr, lam, s) for s in seeds]
        for label, (method, lr, lam) in cells.items()
    }


def run_confirmation(
    spec: GridSpec,
    cells: dict[str, tuple[str, float, float]],
    seeds: Sequence[int],
    out_dir: str | os.PathLike,
    workers: int = 2,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Rerun chosen cells with fresh ``seeds``; their *test* error (%) per label, seeds in order.

    The runs train exactly like the grid's (validation on the held-out images every epoch); the
    test set is evaluated once, after the last epoch. Labels that name the same run share it.
    """
    configs = confirmation_configs(spec, cells, seeds)
    unique = {c.name: c for group in configs.values() for c in group}
    results = run_grid(list(unique.values()), out_dir, workers=workers, progress=progress)
    by_name = {RunConfig.from_dict(r["config"]).name: r for r in results}
    return {
        label: np.array([100.0 * (1.0 - by_name[c.name]["test"]["acc"]) for c in group])
        for label, group in configs.items()
    }


def signed(x: float) -> str:
    """``+0.12`` / ``-1.30``, never ``-0.00``."""
    return f"{round(x, 2) + 0.0:+.2f}"


def fmt_value(x: float) -> str:
    """Compact label for a rate or decay: 0, 2.5e-4, 1e-3, 3, 40."""
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)) + 1e-9)
    if -1 <= exponent <= 2:
        return f"{x:.3g}"
    return f"{x / 10.0**exponent:.2g}e{exponent}"


# ---------------------------------------------------------------------------------------------
# Answers in words, and the command line


def describe_trend(method: str, trend: dict) -> str:
    """One line: how the best decay moves with the learning rate, with its bootstrap spread."""
    low, high = trend["slope_interval"]
    best = ", ".join(fmt_value(v) for v in trend["best_decay"])
    corr = "n/a (same best λ at every α)" if math.isnan(trend["corr"]) else signed(trend["corr"])
    return (
        f"{METHOD_LABELS[method]:>9}: best λ per α = [{best}]; slope {signed(trend['slope'])} "
        f"decades/decade (bootstrap std {trend['slope_std']:.2f}, 90% {signed(low)} to "
        f"{signed(high)}); correlation {corr}; in torch's parameterisation "
        f"{signed(trend['torch_slope'])}"
    )


def describe_comparison(label_a: str, label_b: str, c: dict) -> str:
    """One line: ``a - b`` in error points, its standard error, t, p and (paired) the detectable difference."""
    kind = "paired" if c["paired"] else "unpaired"
    detects = f"; detectable {c['detectable']:.2f}" if c.get("detectable") is not None else ""
    return (
        f"{label_a} {c['mean_a']:.2f} ± {c['std_a']:.2f} % vs {label_b} {c['mean_b']:.2f} ± "
        f"{c['std_b']:.2f} %: difference {c['diff']:+.2f} ± {c['se']:.2f} points ({kind} SE), "
        f"t = {c['z']:+.1f}, df = {c['df']:.0f}, p = {c['p']:.2f}{detects}"
    )


def grid_cell_label(grid: Grid, cell: tuple[int, int]) -> str:
    """``AdamW α=2e-3 λ=3e-4`` for a (lr index, decay index) cell."""
    i, j = cell
    return f"{METHOD_LABELS[grid.method]} α={fmt_value(grid.lrs[i])} λ={fmt_value(grid.decays[j])}"
