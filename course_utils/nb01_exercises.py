"""Exercises of notebook 01 (the ill-conditioned quadratic): references, known mistakes with hints, and checkers."""

from __future__ import annotations

import numpy as np

from course_utils.checkers import CheckResult, check_value
from course_utils.quadratic import (
    best_fixed_step,
    best_rate,
    stability_limit,
)


def check_best_step(answer: float, h_max: float = 1.0, h_min: float = 0.02) -> CheckResult:
    """Exercise: the step minimising max_i |1 - alpha h_i| for curvatures h_max, h_min."""
    expected = best_fixed_step((h_max, h_min))
    why = ""
    if np.isclose(answer, 1 / h_max):
        why = (
            "1/h_max zeroes the steep direction but leaves the flat one slow; balance both factors."
        )
    elif np.isclose(answer, stability_limit((h_max, h_min))):
        why = "2/h_max is the stability limit: there the steep factor is exactly 1 and nothing converges."
    elif np.isclose(answer, 1 / h_min):
        why = "1/h_min is far above the stability limit 2/h_max: GD diverges."
    else:
        why = "Set |1 - alpha h_max| = |1 - alpha h_min| with opposite signs and solve for alpha."
    return check_value("best fixed step", answer, expected, rtol=1e-6, why=why)


def check_best_rate(answer: float, kappa: float = 50.0) -> CheckResult:
    """Exercise: the contraction factor at the best fixed step, in terms of kappa."""
    expected = best_rate(kappa)
    why = ""
    if np.isclose(answer, 1 - 1 / kappa):
        why = "1 - 1/kappa is the rate at alpha = 1/h_max, not at the best step."
    else:
        why = "Plug alpha = 2/(h_max + h_min) into |1 - alpha h_min| and divide through by h_min."
    return check_value("best rate", answer, expected, rtol=1e-6, why=why)
