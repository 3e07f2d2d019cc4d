"""Notebook 07: is a difference between optimizers real? Paired seeds, noise references, p-values.

The runs are paired: seed ``s`` gives every optimizer the same initial weights and the same order
of mini-batches. So a table ``values[optimizer, seed]`` has a seed effect (a lucky initialisation
helps every optimizer) that a paired comparison removes:

* `two_way_noise`: the residual standard deviation of ``values`` after removing an optimizer
  effect and a seed effect (two-way layout without interaction), with its degrees of freedom:
  the noise of one run that no optimizer and no seed explains;
* `paired_difference`: ``a - b`` over the shared seeds, with the standard error of the mean
  difference, the t statistic and its two-sided p-value (Student's t, ``n - 1`` degrees of
  freedom);
* `null_range`: how far apart the best and the worst of ``k`` means land when the optimizers are
  all *identical*, by simulation: the reference a ranking must beat;
* `binomial_se`: the sampling noise of an accuracy measured on ``n`` images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from course_utils.nb07_experiment import final_metric


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
    """Residual std (ddof = degrees of freedom) of ``values[k, n]`` after row and column means."""
    v = np.asarray(values, dtype=float)
    k, n = v.shape
    if k < 2 or n < 2:
        raise ValueError(f"need at least 2 rows and 2 seeds, got shape {v.shape}.")
    resid = v - v.mean(axis=1, keepdims=True) - v.mean(axis=0, keepdims=True) + v.mean()
    df = (k - 1) * (n - 1)
    return float(math.sqrt((resid**2).sum() / df)), df


def t_two_sided_p(t: float, df: int) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom (numerical integration)."""
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df!r}.")
    t = abs(float(t))
    if math.isinf(t):
        return 0.0
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    # P(|T| < t) = 2 * integral_0^t pdf; the pdf is smooth, so Simpson's rule on 4001 points.
    x = np.linspace(0.0, t, 4001)
    pdf = np.exp(log_c - (df + 1) / 2 * np.log1p(x**2 / df))
    h = t / 4000
    inside = h / 3 * (pdf[0] + pdf[-1] + 4 * pdf[1:-1:2].sum() + 2 * pdf[2:-1:2].sum())
    return float(min(1.0, max(0.0, 1.0 - 2.0 * inside)))


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict:
    """``mean(a - b)`` over shared seeds: ``diff``, ``se``, ``t``, ``df``, ``p`` (two-sided)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or len(d) < 2:
        raise ValueError("paired_difference needs two 1-D sequences of at least two seeds.")
    se = float(d.std(ddof=1) / math.sqrt(len(d)))
    diff = float(d.mean())
    t = diff / se if se > 0 else math.copysign(math.inf, diff) if diff else 0.0
    return {"diff": diff, "se": se, "t": t, "df": len(d) - 1, "p": t_two_sided_p(t, len(d) - 1)}


def null_range(
    k: int, se_mean: float, observed: float | None = None, draws: int = 100_000, seed: int = 0
) -> dict:
    """Range (best minus worst) of ``k`` means of identical methods, each with noise ``se_mean``.

    Returns the expected range, its 5th-95th percentiles, and, given ``observed``, the chance
    that identical methods land at most that far apart.
    """
    rng = np.random.default_rng(seed)
    ranges = np.ptp(rng.normal(0.0, se_mean, size=(draws, k)), axis=1)
    out = {
        "expected": float(ranges.mean()),
        "low": float(np.percentile(ranges, 5)),
        "high": float(np.percentile(ranges, 95)),
    }
    if observed is not None:
        out["p_at_most"] = float(np.mean(ranges <= observed))
    return out


def binomial_se(p: float, n: int) -> float:
    """Standard error of an accuracy ``p`` measured on ``n`` independent images."""
    return math.sqrt(p * (1 - p) / n)


def per_class_accuracy(results: Sequence[dict]) -> np.ndarray:
    """Test accuracy per true class (row of the summed confusion matrices) of ``results``."""
    total = np.sum([np.asarray(r["test"]["confusion"]) for r in results], axis=0)
    return np.diag(total) / total.sum(axis=1)
