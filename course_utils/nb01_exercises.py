"""Exercises of notebook 01 (the ill-conditioned quadratic): records, known mistakes with hints,
and checkers.

Exercises 1 and 2 are numbers, accepted within 0.5 % (1.96 and 0.96 pass). Exercise 3 is the
alpha in [1, 2) that reaches L < 1e-8 in the fewest GD steps on kappa = 10: any alpha within
5 steps of the fewest passes (the count is flat near its minimum).
"""

from __future__ import annotations

import functools

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.quadratic import Quadratic, best_fixed_step, best_rate, stability_limit

PRECISION = Tolerance(rtol=5e-3, atol=0.0, words="3 significant figures")


def best_step_exercise(h_max: float = 1.0, h_min: float = 0.02) -> Exercise:
    """Exercise 1: the step minimising max_i |1 - alpha h_i| for curvatures h_max, h_min."""
    h = (h_max, h_min)
    return Exercise(
        "best fixed step",
        lambda: best_fixed_step(h),
        mistakes={
            "1/h_max zeroes the steep direction but leaves the flat one slow; balance both "
            "factors.": 1 / h_max,
            "2/h_max is the stability limit: there the steep factor is exactly 1 and nothing "
            "converges.": stability_limit(h),
            "1/h_min is far above the stability limit 2/h_max: GD diverges.": 1 / h_min,
            "the factor 2 is missing: |1 - alpha h_max| = |1 - alpha h_min| gives "
            "alpha = 2/(h_max + h_min).": 1 / (h_max + h_min),
            "that is (h_max + h_min)/2, a curvature, not a step: the step is its inverse.": (
                (h_max + h_min) / 2
            ),
        },
        tolerance=PRECISION,
        hint="Set |1 - alpha h_max| = |1 - alpha h_min| with opposite signs and solve for alpha.",
    )


def check_best_step(answer: float, h_max: float = 1.0, h_min: float = 0.02) -> CheckResult:
    """Exercise 1: the best fixed step, within 0.5 % (prints the checker line)."""
    exact = best_fixed_step((h_max, h_min))
    return best_step_exercise(h_max, h_min).check_answer(
        answer,
        answer_name="my_best_step",
        note=f"Right (rounded); the exact value is 2/(h_max + h_min) = {exact:.5g}.",
    )


def best_rate_exercise(kappa: float = 50.0) -> Exercise:
    """Exercise 2: the contraction factor max_i |1 - alpha* h_i| at the best step, for kappa."""
    return Exercise(
        "best rate",
        lambda: best_rate(kappa),
        mistakes={
            "1 - 1/kappa is the rate at alpha = 1/h_max, not at the best step.": 1 - 1 / kappa,
            "that is the rate of the square root of kappa, (sqrt(kappa) - 1)/(sqrt(kappa) + 1): "
            "momentum's rate, not plain GD's.": (kappa**0.5 - 1) / (kappa**0.5 + 1),
            "a rate above 1 would diverge: the ratio is (kappa - 1)/(kappa + 1), not its "
            "inverse.": (kappa + 1) / (kappa - 1),
            "that is the step alpha* = 2/(h_max + h_min), not the rate |1 - alpha* h_min|.": (
                2 / (1 + 1 / kappa)
            ),
        },
        tolerance=PRECISION,
        hint="Plug alpha = 2/(h_max + h_min) into |1 - alpha h_min| and divide through by h_min.",
    )


def check_best_rate(answer: float, kappa: float = 50.0) -> CheckResult:
    """Exercise 2: the best rate in terms of kappa, within 0.5 % (prints the checker line)."""
    return best_rate_exercise(kappa).check_answer(
        answer,
        answer_name="my_best_rate",
        note=f"Right (rounded); the exact value is (kappa - 1)/(kappa + 1) = {best_rate(kappa):.5f}.",
    )


# ------------------------------------------------------------------ exercise 3

LIMIT_PROBLEM = Quadratic((1.0, 0.1))
LIMIT_W0 = np.array([1.0, 1.0])
LIMIT_GRID = np.round(np.arange(1.0, 1.995, 0.01), 2)
LIMIT_SLACK_STEPS = 5


def steps_to_loss(alphas, q: Quadratic = LIMIT_PROBLEM, w0=LIMIT_W0, tol: float = 1e-8,
                  max_steps: int = 5000) -> np.ndarray:
    """GD steps until L(w_k) < tol, for every alpha at once (inf where it never gets there)."""
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    W = np.tile(np.asarray(w0, dtype=np.float64), (alphas.size, 1))
    steps = np.full(alphas.size, np.inf)
    steps[q.loss(W) < tol] = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, max_steps + 1):
            W = W - alphas[:, None] * q.grad(W)
            steps[np.isinf(steps) & (q.loss(W) < tol)] = k
            if np.all(np.isfinite(steps) | ~np.isfinite(q.loss(W))):
                break
    return steps


def _limit_hint(answer: float, counts: dict[float, float]) -> str:
    alpha_star = best_fixed_step(LIMIT_PROBLEM.h)
    if answer >= 1.99:
        return (
            "At 2/h_max the steep factor |1 - alpha h_max| reaches 1: the closer to the limit, "
            f"the slower the steep direction converges ({counts[1.9]:.0f} steps at 1.9, "
            f"{counts[1.95]:.0f} at 1.95)."
        )
    if answer > alpha_star:
        return (
            f"Past alpha* = 2/(h_max + h_min) = {alpha_star:.3f} the steep direction becomes the "
            "slow one and the steps grow fast."
        )
    if abs(answer - 1.0) < 0.05:
        return (
            "1/h_max zeroes the steep direction in one step but leaves the flat one at 0.9 per "
            f"step ({counts[1.0]:.0f} steps)."
        )
    return "Count again: the steps keep falling up to about 1.75-1.8."


@functools.cache
def _limit_grid() -> tuple[np.ndarray, float, dict[float, float]]:
    grid = steps_to_loss(LIMIT_GRID)
    return grid, float(grid.min()), dict(zip(LIMIT_GRID.tolist(), grid.tolist()))


def check_limit_best_alpha(answer: float) -> CheckResult:
    """Exercise 3: the alpha (units of 1/h_max) with the fewest GD steps to L < 1e-8, kappa = 10."""
    grid, fewest, counts = _limit_grid()
    try:
        alpha = float(answer)
    except (TypeError, ValueError):
        alpha = float("nan")
    converges = np.isfinite(alpha) and 0 < alpha < stability_limit(LIMIT_PROBLEM.h)
    mine = float(steps_to_loss(alpha)[0]) if converges else np.inf
    exercise = Exercise(
        "fewest steps to L < 1e-8 (κ = 10)",
        lambda: fewest,
        tolerance=Tolerance(rtol=0.0, atol=LIMIT_SLACK_STEPS + 0.5),
        hint=_limit_hint(alpha, counts) if np.isfinite(alpha) else "",
    )
    if not np.isfinite(alpha) or alpha <= 0:
        return exercise.check_answer(None, answer_name="my_alpha")
    if not np.isfinite(mine):
        result = CheckResult(exercise.name, False, False, float("inf"), hint=(
            f"Not yet: your α = {alpha:g} never reaches L < 1e-8. {exercise.hint}"))
        print(result)
        return result
    mine_words = f"needs {mine:.0f} steps"
    best_alpha = float(LIMIT_GRID[np.argmin(grid)])
    return exercise.check_answer(
        mine,
        answer_name="my_alpha",
        shown=f"your α = {alpha:g} {mine_words} (the fewest: {fewest:.0f}), so it",
        pass_note=f"Right: α = {alpha:g} {mine_words}; the fewest on the grid is {fewest:.0f}, at "
        f"α = {best_alpha:.2f}, within {LIMIT_SLACK_STEPS} steps of it passes.",
    )
