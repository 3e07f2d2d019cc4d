"""Exercises of notebook 09 (benchmarking optimizers): references, known mistakes, checkers.

1. ``expected_best(scores, k)``: the expected best of ``k`` trials drawn without replacement.
2. ``adam_lr(alpha, eps, beta1)``: the learning rate that makes Adam with a huge ``eps`` follow
   momentum SGD with learning rate ``alpha``.
3. ``profile(times, method, tau)``: AlgoPerf's rho(tau) for one method.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.nb09_budget import expected_best_of_k, performance_profile


def _expected_best(scores, k):
    return expected_best_of_k(scores, int(k))[0]


def _with_replacement(scores, k):
    x = np.sort(np.asarray(scores, dtype=float))
    n = len(x)
    cdf = np.arange(1, n + 1) / n
    return float(np.sum(x * (cdf**k - np.concatenate([[0.0], cdf[:-1]]) ** k)))


def _cases_best():
    rng = np.random.default_rng(9)
    return [
        ([0.81, 0.85, 0.62, 0.84], 2),
        (list(rng.uniform(0.5, 0.9, 10)), 3),
        (list(rng.uniform(0.5, 0.9, 16)), 1),
        (list(rng.uniform(0.5, 0.9, 16)), 16),
    ]


BEST_MISTAKES = {
    "that is the mean of the k best scores; the expectation weights each score by the "
    "chance that it is the best of a random k-subset.": (
        lambda s, k: float(np.mean(sorted(s)[-int(k):]))
    ),
    "that is the k-th best score, not the expected best of k.": (
        lambda s, k: float(sorted(s)[-int(k)])
    ),
    "that is the best of the first k trials in this one order; average over all orders.": (
        lambda s, k: float(max(s[: int(k)]))
    ),
    "that draws the k trials with replacement (sum of v_i (F(v_i)^k - F(v_(i-1))^k)); "
    "here the k trials are distinct, drawn without replacement.": (
        lambda s, k: _with_replacement(s, int(k))
    ),
    "the value is right but rounded (to 4 decimals): return it unrounded.": (
        lambda s, k: round(_expected_best(s, k), 4)
    ),
    "the value is right but rounded (to 3 decimals): return it unrounded.": (
        lambda s, k: round(_expected_best(s, k), 3)
    ),
}

BEST_EXERCISE = Exercise(
    "expected best of k",
    _expected_best,
    _cases_best,
    BEST_MISTAKES,
    Tolerance(rtol=1e-6, atol=1e-9),
    outputs=("expected best",),
)


def _adam_lr(alpha, eps, beta1):
    return alpha * eps / (1 - beta1)


ADAM_LR_MISTAKES = {
    "Adam's m is an average, (1 - beta1) times SGD's momentum buffer: divide by (1 - beta1).": (
        lambda a, e, b: a * e
    ),
    "the (1 - beta1) goes in the denominator: m = (1 - beta1) * buf.": (
        lambda a, e, b: a * e * (1 - b)
    ),
    "the step is lr * m / eps when eps is huge: lr must grow with eps.": (
        lambda a, e, b: a / (1 - b)
    ),
}

ADAM_LR_EXERCISE = Exercise(
    "Adam's learning rate for inclusion",
    _adam_lr,
    [(0.01, 1e4, 0.9), (0.05, 100.0, 0.5), (0.1, 1e6, 0.99)],
    ADAM_LR_MISTAKES,
    Tolerance(rtol=1e-9, atol=0.0),
    outputs=("lr",),
)


def _profile(times, method, tau):
    return float(performance_profile(times, [tau])[method][0])


def _cases_profile():
    times = {
        "a": {"sgd": 100.0, "adam": 150.0, "adagrad": np.inf},
        "b": {"sgd": 300.0, "adam": 100.0, "adagrad": 120.0},
        "c": {"sgd": 80.0, "adam": 60.0, "adagrad": 100.0},
    }
    return [(times, m, tau) for m in ("sgd", "adam", "adagrad") for tau in (1.0, 1.3, 1.6, 4.0)]


def _profile_inverted(times, method, tau):
    hits = [min(t.values()) / t[method] <= tau for t in times.values()]
    return float(np.mean(hits))


PROFILE_MISTAKES = {
    "the ratio is the method's time over the fastest time (>= 1), not the other way round.": (
        _profile_inverted
    ),
    "use <= tau: a method exactly at tau times the fastest counts (at tau = 1, the fastest "
    "itself).": lambda times, m, tau: float(
        np.mean([t[m] / min(t.values()) < tau for t in times.values()])
    ),
    "count the workloads where the ratio is <= tau and divide by the number of workloads.": (
        lambda times, m, tau: float(sum(t[m] / min(t.values()) <= tau for t in times.values()))
    ),
}

PROFILE_EXERCISE = Exercise(
    "performance profile",
    _profile,
    _cases_profile,
    PROFILE_MISTAKES,
    Tolerance(rtol=1e-9, atol=1e-12),
    outputs=("rho",),
)


def check_expected_best(student_fn: Callable, verbose: bool = True) -> CheckResult:
    """Exercise 09.1: ``student_fn(scores, k) -> expected best of k``."""
    return BEST_EXERCISE.check(student_fn, verbose=verbose)


def check_adam_lr(student_fn: Callable, verbose: bool = True) -> CheckResult:
    """Exercise 09.2: ``student_fn(alpha, eps, beta1) -> Adam's lr``."""
    return ADAM_LR_EXERCISE.check(student_fn, verbose=verbose)


def check_profile(student_fn: Callable, verbose: bool = True) -> CheckResult:
    """Exercise 09.3: ``student_fn(times, method, tau) -> rho``."""
    return PROFILE_EXERCISE.check(student_fn, verbose=verbose)
