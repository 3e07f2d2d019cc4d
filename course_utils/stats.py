"""Is a difference between methods real? Paired seeds, per-method noise, power, seed counts.

Shared by every lesson that compares methods over random seeds. The runs are *paired* when seed
``s`` gives every method the same initial weights and the same order of mini-batches: then a
table ``values[method, seed]`` carries a seed effect (a lucky initialisation helps every method)
that a paired comparison removes.

* `paired_difference`: ``a - b`` over shared seeds: mean, standard error, t, degrees of freedom,
  two-sided p-value and confidence interval (Student's t); `welch_difference` for unpaired runs;
* `method_noise`: each method's run-to-run noise after removing the shared seed effect (Shukla's
  stability variance), and the pooled residual noise of the two-way layout;
* `detectable_difference`, `paired_power`, `seeds_for_gap`: what a design of ``n`` paired seeds
  can detect (the smallest true difference found with probability ``power``), and how many seeds
  a target gap needs;
* `null_range`: how far apart the best and the worst of ``k`` identical methods land, the
  reference a ranking must beat; `binomial_se`: the sampling noise of an accuracy on ``n`` items;
* `mcnemar_difference`, `paired_item_se`: two models scored on the same test items, the noise of
  their difference from the items they disagree on (McNemar).

t quantiles and tail probabilities come from `scipy.stats` (the central and the noncentral t).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize
from scipy import stats as sps


def _check_level(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}.")


def _finite_1d(name: str, x: Sequence[float]) -> np.ndarray:
    v = np.asarray(x, dtype=float)
    if v.ndim != 1 or len(v) < 2:
        raise ValueError(
            f"{name} must be a 1-D sequence of at least two values, got shape {v.shape}."
        )
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} holds a NaN or an infinity: {v.tolist()}.")
    return v


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom."""
    _check_level("q", q)
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df!r}.")
    return float(sps.t.ppf(q, df))


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df!r}.")
    if math.isnan(t):
        raise ValueError("t is NaN.")
    return float(2.0 * sps.t.sf(abs(float(t)), df))


def _summary(mean: float, se: float, df: float, n: int, alpha: float) -> dict:
    if se > 0:
        t = mean / se
    else:  # every difference identical: an exact result, infinitely many SE from zero
        t = math.copysign(math.inf, mean) if mean else 0.0
    half = t_quantile(1 - alpha / 2, df) * se
    return {
        "mean": mean,
        "se": se,
        "t": t,
        "df": df,
        "p": t_two_sided_p(t, df),
        "n": n,
        "ci_low": mean - half,
        "ci_high": mean + half,
    }


def paired_difference(a: Sequence[float], b: Sequence[float], alpha: float = 0.05) -> dict:
    """``a - b`` over shared seeds (``a[i]`` and ``b[i]`` ran seed i), in the units of the inputs.

    Returns ``mean`` (of the differences), ``se`` (their std / sqrt(n)), ``t``, ``df = n - 1``,
    two-sided ``p``, ``n`` and the ``1 - alpha`` confidence interval ``ci_low``, ``ci_high``.
    """
    _check_level("alpha", alpha)
    a, b = _finite_1d("a", a), _finite_1d("b", b)
    if len(a) != len(b):
        raise ValueError(f"paired runs need as many seeds in a as in b, got {len(a)} and {len(b)}.")
    d = a - b
    n = len(d)
    return _summary(float(d.mean()), float(d.std(ddof=1) / math.sqrt(n)), n - 1, n, alpha)


def welch_difference(a: Sequence[float], b: Sequence[float], alpha: float = 0.05) -> dict:
    """``mean(a) - mean(b)`` for *unpaired* runs: Welch's standard error and degrees of freedom.

    Same keys as `paired_difference`; ``n`` is ``(len(a), len(b))`` and ``df`` is fractional.
    """
    _check_level("alpha", alpha)
    a, b = _finite_1d("a", a), _finite_1d("b", b)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se > 0:
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    else:
        df = float(len(a) + len(b) - 2)
    return _summary(float(a.mean() - b.mean()), se, float(df), (len(a), len(b)), alpha)


def method_noise(values: np.ndarray) -> dict:
    """Run-to-run noise of each method of ``values[method, seed]`` once the seed effect is removed.

    The two-way layout without interaction, ``values[i, j] = method_i + seed_j + noise``, leaves
    residuals ``r[i, j]`` (values minus row and column means plus the grand mean). Returns

    * ``per_method``: each method's noise SD, Shukla's (1972) unbiased stability variance
      ``k / ((k - 2)(n - 1)) * (sum_j r[i, j]^2 - sum r^2 / (k (k - 1)))``, clipped at 0; it needs
      ``k >= 3`` methods (with two, only the noise of their difference is identifiable, and both
      get the pooled value);
    * ``pooled`` and ``df``: the residual SD ``sqrt(sum r^2 / ((k - 1)(n - 1)))`` and its degrees
      of freedom (the noise of one run if every method were equally noisy);
    * ``sd_diff``: the matrix of SDs of the per-seed differences between methods i and l,
      the quantity `detectable_difference` and `seeds_for_gap` take.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < 2:
        raise ValueError(
            f"values must be [methods x seeds] with at least 2 of each, got {v.shape}."
        )
    if not np.all(np.isfinite(v)):
        raise ValueError("values holds a NaN or an infinity.")
    k, n = v.shape
    resid = v - v.mean(axis=1, keepdims=True) - v.mean(axis=0, keepdims=True) + v.mean()
    ss_row = (resid**2).sum(axis=1)
    df = (k - 1) * (n - 1)
    pooled = math.sqrt(ss_row.sum() / df)
    if k >= 3:
        var = k / ((k - 2) * (n - 1)) * (ss_row - ss_row.sum() / (k * (k - 1)))
        per_method = np.sqrt(np.clip(var, 0.0, None))
    else:
        per_method = np.full(k, pooled)
    diffs = v[:, None, :] - v[None, :, :]
    return {
        "per_method": per_method,
        "pooled": pooled,
        "df": df,
        "sd_diff": diffs.std(axis=2, ddof=1),
    }


def paired_power(delta: float, sd_diff: float, n: int, alpha: float = 0.05) -> float:
    """Chance that a two-sided paired t-test at level ``alpha`` on ``n`` seeds rejects "no
    difference" when the true mean difference is ``delta`` and the differences have SD ``sd_diff``
    (the noncentral t with noncentrality ``delta sqrt(n) / sd_diff``)."""
    _check_level("alpha", alpha)
    if not sd_diff > 0:
        raise ValueError(f"sd_diff must be > 0, got {sd_diff!r}.")
    if n < 2:
        raise ValueError(f"a paired t-test needs n >= 2 seeds, got {n!r}.")
    df = n - 1
    crit = t_quantile(1 - alpha / 2, df)
    nc = abs(delta) * math.sqrt(n) / sd_diff
    power = sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc)
    if math.isnan(power):  # scipy's noncentral t gives up far in the tail, where power is ~1
        power = sps.norm.sf(crit - nc) + sps.norm.cdf(-crit - nc)
    return float(power)


def detectable_difference(sd_diff: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true paired mean difference (units of ``sd_diff``) that a two-sided paired t-test
    on ``n`` seeds detects at level ``alpha`` with probability ``power``.

    Exact (noncentral t); close to ``(t_{1-alpha/2, n-1} + t_{power, n-1}) sd_diff / sqrt(n)``.
    """
    _check_level("power", power)
    if power <= alpha:
        raise ValueError(f"power must exceed alpha ({alpha}), got {power!r}.")
    paired_power(0.0, sd_diff, n, alpha)  # validates the arguments
    df = n - 1
    guess = (t_quantile(1 - alpha / 2, df) + t_quantile(power, df)) * sd_diff / math.sqrt(n)
    hi = 2.0 * guess
    while paired_power(hi, sd_diff, n, alpha) < power:
        hi *= 2.0
    return float(
        optimize.brentq(lambda d: paired_power(d, sd_diff, n, alpha) - power, 0.0, hi, xtol=1e-12)
    )


def seeds_for_gap(
    sd_diff: float, gap: float, alpha: float = 0.05, power: float = 0.8, max_seeds: int = 10_000
) -> int:
    """Fewest paired seeds ``n >= 2`` whose `detectable_difference` is at most ``gap``."""
    if not gap > 0:
        raise ValueError(f"gap must be > 0, got {gap!r}.")
    _check_level("power", power)
    lo, hi = 1, 2  # power grows with n: double until it is reached, then bisect
    while paired_power(gap, sd_diff, hi, alpha) < power:
        if hi >= max_seeds:
            raise ValueError(
                f"even {max_seeds} seeds cannot detect a gap of {gap} at SD {sd_diff}."
            )
        lo, hi = hi, min(2 * hi, max_seeds)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if paired_power(gap, sd_diff, mid, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def null_range(
    k: int, se_mean: float, observed: float | None = None, draws: int = 100_000, seed: int = 0
) -> dict:
    """Range (best minus worst) of ``k`` means of identical methods, each with noise ``se_mean``.

    Returns the expected range, its 5th-95th percentiles, and, given ``observed``, the chance
    that identical methods land at most that far apart (by simulation, ``draws`` draws).
    """
    if k < 2:
        raise ValueError(f"a range needs k >= 2 methods, got {k!r}.")
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
    """Standard error of an accuracy (or error rate) ``p`` measured on ``n`` independent items."""
    if not 0.0 <= p <= 1.0 or n < 1:
        raise ValueError(f"need 0 <= p <= 1 and n >= 1, got p={p!r}, n={n!r}.")
    return math.sqrt(p * (1 - p) / n)


def mcnemar_difference(wrong_a: Sequence[bool], wrong_b: Sequence[bool]) -> dict:
    """Two models scored on the *same* items: ``a - b`` in error rate, with the image-sampling
    noise of that difference (McNemar's paired comparison).

    ``wrong_a[i]``, ``wrong_b[i]``: whether each model gets item ``i`` wrong. Items both models get
    right or both get wrong do not change the difference; only the discordant ones do: ``b``
    items only ``a`` gets wrong, ``c`` items only ``b`` gets wrong. Then the difference is
    ``(b - c) / n`` and its standard error (the items a random sample of ``n``) is
    ``sqrt(b + c - (b - c)^2 / n) / n``, far below the unpaired ``sqrt(2 p (1 - p) / n)`` when the
    models agree on most items. ``p_exact`` is McNemar's exact two-sided test: under "no
    difference" each discordant item is ``a``'s error or ``b``'s with probability 1/2, so ``b`` is
    Binomial(``b + c``, 1/2). Returns ``n``, ``b``, ``c``, ``diff``, ``se``, ``z`` and ``p_exact``.
    """
    a = np.asarray(wrong_a)
    b_ = np.asarray(wrong_b)
    if a.ndim != 1 or a.shape != b_.shape or len(a) < 1:
        raise ValueError(
            f"wrong_a and wrong_b must be 1-D and of the same length, got {a.shape} and {b_.shape}."
        )
    if not (np.isin(a, (0, 1)).all() and np.isin(b_, (0, 1)).all()):
        raise ValueError("wrong_a and wrong_b must hold booleans (or 0/1), one per item.")
    a, b_ = a.astype(bool), b_.astype(bool)
    n = len(a)
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    diff = (b - c) / n
    se = math.sqrt(max(b + c - (b - c) ** 2 / n, 0.0)) / n
    z = diff / se if se > 0 else (math.copysign(math.inf, diff) if diff else 0.0)
    p_exact = float(sps.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0
    return {"n": n, "b": b, "c": c, "diff": diff, "se": se, "z": z, "p_exact": p_exact}


def paired_item_se(wrong_a: np.ndarray, wrong_b: np.ndarray) -> dict:
    """Seeds x items: the item-sampling standard error of the seed-averaged difference ``a - b``.

    ``wrong_a[s, i]``: whether model ``a`` trained with seed ``s`` gets item ``i`` wrong (seed
    ``s`` of ``b`` paired with it). The mean difference in error rate over seeds is the mean over
    items of ``d_i``, the per-item difference averaged over seeds; its standard error, the items
    a random sample, is ``sd(d_i) / sqrt(n)``. With one seed this is `mcnemar_difference`'s SE.
    This is the noise a new draw of test items would add, for these trained models; the seed
    standard error is the noise of retraining on the same items. Returns ``diff``, ``se``,
    ``n_items``, ``n_seeds`` and the per-seed `mcnemar_difference` results (``per_seed``).
    """
    a = np.asarray(wrong_a)
    b = np.asarray(wrong_b)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"wrong_a and wrong_b must be seeds x items of one shape, got {a.shape} and {b.shape}."
        )
    per_seed = [mcnemar_difference(x, y) for x, y in zip(a, b)]
    d = a.astype(float).mean(axis=0) - b.astype(float).mean(axis=0)
    n = d.size
    return {
        "diff": float(d.mean()),
        "se": float(d.std(ddof=0) / math.sqrt(n)),
        "n_items": n,
        "n_seeds": a.shape[0],
        "per_seed": per_seed,
    }
