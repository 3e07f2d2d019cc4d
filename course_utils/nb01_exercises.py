"""Exercises of notebook 01 (the ill-conditioned quadratic): records, known mistakes with hints,
and checkers. Both answers are numbers, accepted to 2 decimal places (1.96, 0.96)."""

from __future__ import annotations

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.quadratic import best_fixed_step, best_rate, stability_limit

PRECISION = Tolerance(rtol=0.0, atol=0.0, decimals=2)


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
    """Exercise 1: the best fixed step, to 2 decimal places (prints the checker line)."""
    return best_step_exercise(h_max, h_min).check_answer(answer, answer_name="my_best_step")


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
    """Exercise 2: the best rate in terms of kappa, to 2 decimal places (prints the line)."""
    return best_rate_exercise(kappa).check_answer(answer, answer_name="my_best_rate")
