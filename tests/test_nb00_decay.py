"""Notebook 00's decay lesson over the whole slider range: the formula counts what a loop counts."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from course_utils.nb00_decay import STEPS, make_decay_panel, steps_to_tolerance


def _loop(alpha: float, tol: float) -> int:
    """Multiply until at or below tol, in exact arithmetic (1 - 0.99 is 0.01, not 0.0100...09)."""
    error, factor, tol, k = Fraction(1), 1 - Fraction(str(alpha)), Fraction(str(tol)), 0
    while error > tol:
        error *= factor
        k += 1
    return k


@pytest.mark.parametrize("tol", [0.1, 0.01, 1e-6])
def test_formula_matches_the_loop_on_every_slider_position(tol):
    for alpha in np.round(np.arange(0.01, 1.0, 0.01), 2):
        assert steps_to_tolerance(alpha, tol) == _loop(alpha, tol), (alpha, tol)


def test_rule_of_thumb_within_5_percent_for_small_alpha_and_too_long_for_large():
    for alpha in np.round(np.arange(0.01, 0.105, 0.005), 3):
        exact = steps_to_tolerance(alpha)
        assert abs(math.log(100) / alpha / exact - 1) < 0.05, alpha
    for alpha in (0.3, 0.5, 0.7):  # ln(1 - alpha) < -alpha: the rule asks for too many steps
        assert math.log(100) / alpha > steps_to_tolerance(alpha)


def test_exercise_2_answer_on_the_slider_grid():
    alpha_star = 1 - 0.01 ** (1 / 10)
    assert steps_to_tolerance(0.37) == 10 < steps_to_tolerance(0.36)
    assert 0.36 < alpha_star < 0.37


def test_panel_marks_the_first_step_below_one_percent():
    panel = make_decay_panel()
    for alpha in (0.01, 0.1, 0.37, 0.99):
        panel.set(alpha=alpha)
        assert panel.last_error is None
        title = panel._fig.axes[0].get_title()
        needed = steps_to_tolerance(alpha)
        assert str(needed) in title and (("still above" in title) == (needed > STEPS))


def test_bad_arguments_are_refused():
    for alpha, tol in ((0, 0.01), (1, 0.01), (0.5, 0), (0.5, 1)):
        with pytest.raises(ValueError):
            steps_to_tolerance(alpha, tol)
