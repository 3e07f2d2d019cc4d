"""Notebook 07: is a difference between optimizers real? Reading the runs into paired tables.

The general statistics (paired differences, per-method noise, power, the null range, binomial
noise) live in the shared `course_utils.stats`; this module turns notebook 07's run records into
the ``values[optimizer, seed]`` tables they take, and keeps the lesson-specific summaries:

* `paired_table`: final metric per (optimizer, seed), refusing a broken pairing;
* `two_way_noise`: the pooled residual noise of the table and its degrees of freedom;
* `early_stopping`: what stopping each run at its best validation epoch would have changed;
* `cross_fitted_stopping`: the same, with the epoch chosen on one half of the seeds and scored on
  the other half (an honest estimate);
* `per_class_accuracy`: test accuracy per true class from the stored confusion matrices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils import stats
from course_utils.nb07_experiment import final_metric
from course_utils.stats import binomial_se, method_noise, null_range, t_two_sided_p

__all__ = [
    "binomial_se",
    "cross_fitted_stopping",
    "early_stopping",
    "null_range",
    "paired_difference",
    "paired_table",
    "per_class_accuracy",
    "t_two_sided_p",
    "two_way_noise",
]


def paired_table(
    results: Sequence[dict], key: str, optimizers: Sequence[str]
) -> tuple[np.ndarray, list[int]]:
    """``(values[optimizer, seed], seeds)``: final ``key`` per run, seeds shared by all rows.

    Raises if an optimizer lacks one of the seeds (the pairing would be broken).
    """
    by = {(r["config"]["optimizer"], r["config"]["seed"]): final_metric(r, key) for r in results}
    seeds = sorted({seed for name, seed in by if name in optimizers})
    missing = [(n, s) for n in optimizers for s in seeds if (n, s) not in by]
    if missing:
        raise ValueError(f"unpaired runs: no result for (optimizer, seed) {missing[:3]}.")
    return np.array([[by[(n, s)] for s in seeds] for n in optimizers]), seeds


def two_way_noise(values: np.ndarray) -> tuple[float, int]:
    """Pooled residual std of ``values[k, n]`` after row and column means, with its df."""
    out = method_noise(values)
    return out["pooled"], out["df"]


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict:
    """`course_utils.stats.paired_difference` with the mean difference also under ``diff``."""
    out = stats.paired_difference(a, b)
    return {"diff": out["mean"], **out}


def per_class_accuracy(results: Sequence[dict]) -> np.ndarray:
    """Test accuracy per true class (row of the summed confusion matrices) of ``results``."""
    total = np.sum([np.asarray(r["test"]["confusion"]) for r in results], axis=0)
    return np.diag(total) / total.sum(axis=1)


def _runs_by_seed(results: Sequence[dict], name: str) -> list[dict]:
    """The runs of optimizer ``name``, sorted by seed (the pairing order of every comparison)."""
    return sorted(
        (r for r in results if r["config"]["optimizer"] == name), key=lambda r: r["config"]["seed"]
    )


def early_stopping(results: Sequence[dict], optimizers: Sequence[str]) -> dict[str, dict]:
    """Per optimizer, stopping each run at the epoch of its lowest validation loss.

    Returns ``{name: {"epochs", "val_acc_stopped", "val_acc_last", "gain"}}``: per seed the chosen
    epoch (1-based), the validation accuracy there and after the last epoch, and the paired
    `stats.paired_difference` of the two. The same validation images choose the epoch and score
    it, so the gain is optimistic; the test set, evaluated once after the last epoch, cannot
    score the stopped model.
    """
    out = {}
    for name in optimizers:
        runs = _runs_by_seed(results, name)
        if len(runs) < 2:
            raise ValueError(f"{name}: early_stopping needs at least two seeds, got {len(runs)}.")
        best = np.array([int(np.argmin(r["history"]["val_loss"])) for r in runs])
        stopped = np.array([r["history"]["val_acc"][b] for r, b in zip(runs, best)])
        last = np.array([r["history"]["val_acc"][-1] for r in runs])
        out[name] = {
            "epochs": best + 1,
            "val_acc_stopped": stopped,
            "val_acc_last": last,
            "gain": stats.paired_difference(stopped, last),
        }
    return out


def cross_fitted_stopping(
    results: Sequence[dict], optimizers: Sequence[str], criterion: str = "val_loss"
) -> dict[str, dict]:
    """Per optimizer, early stopping with the epoch chosen and scored on different seeds.

    The runs (sorted by seed) are split into two halves. The epoch of the best *mean*
    ``criterion`` over one half (lowest ``"val_loss"`` or highest ``"val_acc"``) is applied to every run of the other half, and vice versa, so
    no run's own noise chooses the epoch that scores it. Returns ``{name: {"epochs", "gain",
    "detectable"}}``: the epoch (1-based) chosen on each half (first half's choice first), the
    paired `stats.paired_difference` of validation accuracy at the chosen epoch minus after the
    last epoch over all seeds, and the smallest true gain this design detects
    (`stats.detectable_difference` at the observed SD of the per-seed gains).
    """
    if criterion not in ("val_loss", "val_acc"):
        raise ValueError(f"criterion must be 'val_loss' or 'val_acc', got {criterion!r}.")
    sign = 1.0 if criterion == "val_loss" else -1.0
    out = {}
    for name in optimizers:
        runs = _runs_by_seed(results, name)
        if len(runs) < 4:
            raise ValueError(f"{name}: cross_fitted_stopping needs at least four seeds, got {len(runs)}.")
        loss = sign * np.array([r["history"][criterion] for r in runs], dtype=float)
        acc = np.array([r["history"]["val_acc"] for r in runs], dtype=float)
        half = len(runs) // 2
        halves = (np.arange(half), np.arange(half, len(runs)))
        chosen = [int(np.argmin(loss[h].mean(axis=0))) for h in halves]
        stopped = np.empty(len(runs))
        stopped[halves[1]] = acc[halves[1], chosen[0]]
        stopped[halves[0]] = acc[halves[0], chosen[1]]
        gain = stats.paired_difference(stopped, acc[:, -1])
        sd = float(np.std(stopped - acc[:, -1], ddof=1))
        out[name] = {
            "epochs": np.array(chosen) + 1,
            "gain": gain,
            "detectable": stats.detectable_difference(sd, len(runs)) if sd > 0 else 0.0,
        }
    return out


def holm(p_values: Sequence[float], alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down correction: which of several tests reject at family-wise level ``alpha``.

    The k-th smallest p-value (k = 0, 1, ...) is compared with ``alpha / (m - k)``; testing stops
    at the first that fails. Returns a boolean array in the order of ``p_values``.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError("p_values must be a 1-d sequence of probabilities in [0, 1].")
    reject = np.zeros(len(p), dtype=bool)
    for k, i in enumerate(np.argsort(p)):
        if p[i] > alpha / (len(p) - k):
            break
        reject[i] = True
    return reject
