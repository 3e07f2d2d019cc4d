"""Notebook 09's measures: best-of-K over orderings, time-to-result, profiles, short horizons.

Everything here is exact arithmetic on the stored trials (no retraining), so the live panel can
redraw it in milliseconds.

* `expected_best_of_k`: the mean and standard deviation, over all orders of the ``n`` trials,
  of the best score among the first ``k`` (the same as over all ``k``-subsets): with the scores
  sorted ascending, the ``i``-th smallest (1-based) is the best of a random ``k``-subset with
  probability ``C(i-1, k-1) / C(n, k)``.
* `bootstrap_best_of_k`: its uncertainty from having drawn only ``n`` trials (resample them).
* `steps_to_target`, `best_of_k_steps`: the first evaluation at which a trial reaches a target,
  and the distribution, over orders, of the fastest of ``k`` trials.
* `performance_profile`: AlgoPerf's rho(tau), the fraction of workloads on which a method
  reaches the target within a factor ``tau`` of the fastest method.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils import stats
from course_utils.nb09_trials import METHOD_LABELS, METHODS


def order_weights(n: int, k: int) -> np.ndarray:
    """``w[i]``: the probability that the ``(i+1)``-th smallest of ``n`` values is the largest
    of a uniformly random ``k``-subset."""
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= n):
        raise ValueError(f"k must be an int in [1, {n}], got {k!r}.")
    i = np.arange(1, n + 1)
    logw = np.full(n, -np.inf)
    ok = i >= k
    lg = np.vectorize(math.lgamma)
    logw[ok] = (
        lg(i[ok]) - lg(k) - lg(i[ok] - k + 1) - (math.lgamma(n + 1) - math.lgamma(k + 1)
                                                 - math.lgamma(n - k + 1))
    )
    w = np.exp(logw)
    return w / w.sum()


def expected_best_of_k(scores, k: int) -> tuple[float, float]:
    """Mean and standard deviation over orders of the best of the first ``k`` scores."""
    x = np.sort(np.asarray(scores, dtype=float))
    w = order_weights(len(x), k)
    mean = float(w @ x)
    return mean, float(math.sqrt(max(w @ (x - mean) ** 2, 0.0)))


def best_of_k_curve(scores) -> tuple[np.ndarray, np.ndarray]:
    """``expected_best_of_k`` for ``k = 1 .. n``: (means, sds)."""
    n = len(scores)
    pairs = [expected_best_of_k(scores, k) for k in range(1, n + 1)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def best_of_k_quantiles(scores, k: int, qs=(0.1, 0.9)) -> list[float]:
    """Quantiles over orders of the best of the first ``k`` scores (exact, from the weights)."""
    x = np.sort(np.asarray(scores, dtype=float))
    cdf = np.cumsum(order_weights(len(x), k))
    return [float(x[min(int(np.searchsorted(cdf, q - 1e-12)), len(x) - 1)]) for q in qs]


def best_of_k_bands(scores, qs=(0.1, 0.9)) -> tuple[np.ndarray, np.ndarray]:
    """`best_of_k_quantiles` for ``k = 1 .. n``: (lower, upper) arrays."""
    rows = [best_of_k_quantiles(scores, k, qs) for k in range(1, len(scores) + 1)]
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


def bootstrap_best_of_k(scores, k: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """The expected best-of-``k`` of ``n_boot`` resamples (with replacement) of the trials."""
    x = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    w = order_weights(len(x), k)
    samples = np.sort(x[rng.integers(0, len(x), size=(n_boot, len(x)))], axis=1)
    return samples @ w


# z(0.975) + z(0.8): a true difference this many standard errors large is detected (5 % level,
# two-sided) with 80 % power.
DETECT_FACTOR = 1.959963984540054 + 0.8416212335729143


def compare_at_k(a, b, k: int, n_boot: int = 2000, seed: int = 0, seed_sd: float = 0.0) -> dict:
    """Expected best-of-``k`` of two searches, their difference and its bootstrap SE.

    The two searches are resampled independently (their trials are different points of
    different spaces), so ``se`` is that of the difference of two bootstrap means: it covers only
    which trials were drawn. ``se_all`` adds the seed noise of each side's best score
    (``seed_sd``, the standard deviation of one configuration's score over seeds).
    """
    ma, mb = expected_best_of_k(a, k)[0], expected_best_of_k(b, k)[0]
    ba = bootstrap_best_of_k(a, k, n_boot, seed)
    bb = bootstrap_best_of_k(b, k, n_boot, seed + 1)
    se = float(np.std(ba - bb, ddof=1))
    se_all = math.sqrt(se**2 + 2 * seed_sd**2)
    return {
        "a": ma, "b": mb, "diff": ma - mb, "se": se, "detectable": DETECT_FACTOR * se,
        "se_all": se_all, "detectable_all": DETECT_FACTOR * se_all,
    }


def ranking_by_budget(searches: dict, workload: str, space: str, ks) -> list[dict]:
    """Per budget ``k``: each method's expected best-of-k (sd over orders, bootstrap SE) and
    the order of the methods."""
    rows = []
    for k in ks:
        row = {"k": k, "methods": {}}
        for m in METHODS:
            s = searches[(workload, m, space)].score()
            mean, sd = expected_best_of_k(s, k)
            se = float(np.std(bootstrap_best_of_k(s, k, 1000, 0), ddof=1))
            row["methods"][m] = {"mean": mean, "sd": sd, "se": se}
        row["order"] = sorted(METHODS, key=lambda m: -row["methods"][m]["mean"])
        rows.append(row)
    return rows


def ranking_flips(rankings: dict) -> list[str]:
    """Where the leader changes: between consecutive budgets of one space, and between the two
    spaces at the same budget (``rankings[space]`` from `ranking_by_budget`)."""
    flips = []
    for space, rows in rankings.items():
        for prev, row in zip(rows, rows[1:]):
            if prev["order"][0] != row["order"][0]:
                flips.append(
                    f"{space}: K={prev['k']} {METHOD_LABELS[prev['order'][0]]} -> "
                    f"K={row['k']} {METHOD_LABELS[row['order'][0]]}"
                )
    spaces = list(rankings)
    if len(spaces) == 2:
        for a, b in zip(rankings[spaces[0]], rankings[spaces[1]]):
            if a["order"][0] != b["order"][0]:
                flips.append(
                    f"K={a['k']}: {spaces[0]} {METHOD_LABELS[a['order'][0]]} vs "
                    f"{spaces[1]} {METHOD_LABELS[b['order'][0]]}"
                )
    return flips


def crossings(steps, a, b) -> list[int]:
    """The steps at which ``a - b`` changes sign (ties continue the previous sign)."""
    d = np.sign(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    out, last = [], 0.0
    for step, s in zip(steps, d):
        if s != 0 and last != 0 and s != last:
            out.append(int(step))
        if s != 0:
            last = s
    return out


# ---------------------------------------------------------------------------------------------
# Time-to-result


def steps_to_target(steps, acc, target: float) -> np.ndarray:
    """First step at which each trial's validation accuracy reaches ``target`` (inf: never).

    ``acc`` is ``[trials, evals]`` (or one curve); ``steps`` the step of each evaluation.
    """
    acc = np.atleast_2d(np.asarray(acc, dtype=float))
    steps = np.asarray(steps, dtype=float)
    hit = acc >= target
    first = np.argmax(hit, axis=1)
    return np.where(hit.any(axis=1), steps[first], np.inf)


def best_of_k_steps(times, k: int) -> dict:
    """Distribution over orders of the fastest time among the first ``k`` trials.

    Returns ``median`` (the lower median; inf if the fastest of ``k`` reaches the target in
    under half of the orders), ``p_reach`` (the probability that at least one of ``k`` trials reaches it), and
    ``values``/``weights`` of the distribution.
    """
    t = np.sort(np.asarray(times, dtype=float))
    # P(min of a k-subset is the j-th smallest) = w of the (n-j+1)-th smallest for the max
    w = order_weights(len(t), k)[::-1]
    p_reach = float(w[np.isfinite(t)].sum())
    cum = np.cumsum(w)
    median = float(t[int(np.searchsorted(cum, 0.5))])
    return {"median": median, "p_reach": p_reach, "values": t, "weights": w}


def rank_key(steps: float, seconds_per_step: float) -> tuple[float, float]:
    """The one tie rule of the notebook: fewer steps first; equal steps (a tie, printed "="),
    the smaller per-step cost first."""
    return (steps, seconds_per_step)


def leaders(steps: dict) -> frozenset:
    """The set of methods tied for the fewest steps (empty when none reaches the target)."""
    best = min(steps.values())
    return frozenset(m for m, v in steps.items() if v == best and math.isfinite(v))


def describe_order(steps: dict, seconds_per_step: dict) -> str:
    """Methods by steps to a target ("=" between equal step counts), seconds in brackets."""
    order = sorted(steps, key=lambda m: rank_key(steps[m], seconds_per_step[m]))
    text = ""
    for j, m in enumerate(order):
        if j:
            text += " = " if steps[m] == steps[order[j - 1]] else " < "
        value = "never" if not math.isfinite(steps[m]) else f"{steps[m]:.0f} steps"
        extra = "" if not math.isfinite(steps[m]) else f" ({steps[m] * seconds_per_step[m]:.2f} s)"
        text += f"{METHOD_LABELS[m]} {value}{extra}"
    return text


def performance_profile(times: dict, taus) -> dict[str, np.ndarray]:
    """AlgoPerf's profile: ``times[workload][method]`` -> ``rho[method][tau]``, the fraction of
    workloads on which the method's time is within ``tau`` times the fastest method's."""
    taus = np.asarray(taus, dtype=float)
    workloads = list(times)
    methods = list(times[workloads[0]])
    rho = {m: np.zeros(len(taus)) for m in methods}
    for w in workloads:
        best = min(times[w].values())
        for m in methods:
            ratio = times[w][m] / best if math.isfinite(best) else math.inf
            rho[m] += (ratio <= taus) / len(workloads)
    return rho


def benchmark_score(rho: np.ndarray, taus: np.ndarray, r_max: float = 4.0) -> float:
    """AlgoPerf's score: the area under rho(tau) from 1 to ``r_max``, divided by ``r_max - 1``."""
    taus = np.asarray(taus, dtype=float)
    keep = (taus >= 1) & (taus <= r_max)
    t, r = taus[keep], np.asarray(rho, dtype=float)[keep]
    return float(np.sum(np.diff(t) * r[:-1]) / (r_max - 1))  # rho is a step function


def workload_target(searches: dict, workload: str, space: str = "full", slack=0.01) -> float:
    """A target every tuned method can be asked for: the lowest, over methods, of the best
    validation accuracy of the method's search, minus ``slack``, rounded down to 0.5 points."""
    best = min(searches[(workload, m, space)].score().max() for m in METHODS)
    return math.floor((best - slack) * 200) / 200


def time_to_result(searches: dict, workload: str, target: float, k: int, space="full") -> dict:
    """Per method: the median over orders of the fastest-of-``k`` steps to ``target``."""
    out = {}
    for m in METHODS:
        s = searches[(workload, m, space)]
        out[m] = best_of_k_steps(steps_to_target(s.steps, s.acc, target), k)
    return out


# ---------------------------------------------------------------------------------------------
# Short horizons and the winner's curse


def short_horizon(search, upto: int) -> dict:
    """Pick the winner on the first ``upto`` evaluations; judge both picks at the end.

    Returns the two picks' indices, the regret (end score of the long pick minus that of the
    short pick, >= 0) and the Spearman rank correlation of short and long scores.
    """
    short, long = search.score(upto), search.score()
    i_short, i_long = int(np.argmax(short)), int(np.argmax(long))

    def ranks(x):
        return np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(float)

    rho = float(np.corrcoef(ranks(short), ranks(long))[0, 1])
    return {
        "short": i_short,
        "long": i_long,
        "lr_short": search.hps[i_short]["lr"],
        "lr_long": search.hps[i_long]["lr"],
        "regret": float(long[i_long] - long[i_short]),
        "spearman": rho,
    }


def paired_lead(differences) -> dict:
    """Mean of per-seed differences with its paired SE (`course_utils.stats.paired_difference`)."""
    d = np.asarray(differences, dtype=float)
    return stats.paired_difference(d, np.zeros_like(d))


def rerun_statistics(reruns: dict, a: str, b: str) -> dict:
    """Paired comparison of two winners' test accuracies on the same fresh seeds, and the
    smallest true difference the design detects (80 % power, 5 % level)."""
    d = stats.paired_difference(reruns[a]["test"], reruns[b]["test"])
    sd_diff = d["se"] * math.sqrt(d["n"])
    d["detectable"] = stats.detectable_difference(max(sd_diff, 1e-12), d["n"])
    d["sd_diff"] = sd_diff
    return d


def describe_ranking(searches: dict, reruns: dict, spec) -> str:
    """The ranking per budget (with its noise) and the winners' fresh-seed test accuracies."""
    lines = []
    for space in ("lr", "full"):
        lines.append(f"course MLP, search space '{space}': expected best-of-K validation accuracy")
        for row in ranking_by_budget(searches, spec.lr_space_workload, space, (1, 2, 4, 8, 16)):
            if row["k"] > spec.n_trials:
                continue
            parts = [
                f"{METHOD_LABELS[m]} {100 * v['mean']:.2f} (sd {100 * v['sd']:.2f}, "
                f"se {100 * v['se']:.2f})"
                for m, v in sorted(row["methods"].items(), key=lambda kv: -kv[1]["mean"])
            ]
            lines.append(f"  K={row['k']:>2}: " + " > ".join(parts))
    for m in METHODS:
        r = reruns[m]
        lines.append(
            f"winner {METHOD_LABELS[m]}: fresh seeds val {100 * r['val'].mean():.2f}, "
            f"test {100 * r['test'].mean():.2f}"
        )
    for a, b in (("adam", "sgd"), ("adam", "adagrad"), ("sgd", "adagrad")):
        d = rerun_statistics(reruns, a, b)
        lines.append(
            f"test {a} - {b}: {100 * d['mean']:+.2f} ± {100 * d['se']:.2f} points (paired, "
            f"n={d['n']}); detectable: {100 * d['detectable']:.2f}"
        )
    return "\n".join(lines)

