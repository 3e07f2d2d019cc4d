"""Exercises of notebook 02 (Adagrad): references, known mistakes with hints, and checkers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.nb02_adagrad import steps_to_cover


def adagrad_torch_eps_reference(w, g, G, lr, eps):
    """One Adagrad step with torch's convention: G_new = G + g², w_new = w − lr g/(√G_new + eps)."""
    G_new = G + g * g
    return w - lr * g / (np.sqrt(G_new) + eps), G_new


def _eps_inside(w, g, G, lr, eps):
    G_new = G + g * g
    return w - lr * g / np.sqrt(G_new + eps), G_new


def _old_sum(w, g, G, lr, eps):
    return w - lr * g / (np.sqrt(G) + eps), G + g * g


def _no_accumulation(w, g, G, lr, eps):
    return w - lr * g / (np.sqrt(g * g) + eps), g * g


def _no_sqrt(w, g, G, lr, eps):
    G_new = G + g * g
    return w - lr * g / (G_new + eps), G_new


def _wrong_sign(w, g, G, lr, eps):
    G_new = G + g * g
    return w + lr * g / (np.sqrt(G_new) + eps), G_new


ADAGRAD_MISTAKES = {
    "eps is inside the square root, sqrt(G + eps) (the course's formula); torch adds it after "
    "the root: sqrt(G) + eps.": _eps_inside,
    "the step divides by the OLD sum: add g*g to G first, then take the step with the new G.": (
        _old_sum
    ),
    "G does not accumulate: G_new = G + g*g, not g*g alone (that would be a sign-like step).": (
        _no_accumulation
    ),
    "the square root is missing: divide by sqrt(G) + eps, not by G + eps.": _no_sqrt,
    "wrong sign: Adagrad moves against the gradient, w - lr * g / (...).": _wrong_sign,
}


def adagrad_exercise_cases() -> list[tuple]:
    """Test cases (w, g, G, lr, eps), float64; small gradients and G = 0 make every mistake show."""
    rng = np.random.default_rng(2)
    cases = [
        (
            np.array([1.0, -2.0, 0.5, 3.0, 0.0]),
            np.array([1e-6, 0.3, -2.0, 5e-5, -1e-7]),
            np.array([0.0, 0.04, 1.0, 1e-9, 0.0]),
            0.1,
            1e-8,
        ),
        (
            rng.standard_normal(8),
            rng.standard_normal(8),
            rng.random(8) * 3,
            0.01,
            1e-10,
        ),
    ]
    return cases


ADAGRAD_EXERCISE = Exercise(
    "adagrad_step_torch_eps",
    adagrad_torch_eps_reference,
    adagrad_exercise_cases,
    ADAGRAD_MISTAKES,
    Tolerance(rtol=1e-5, atol=1e-8),
    outputs=("w_new", "G_new"),
)


def check_adagrad_torch_eps(student_fn: Callable, verbose: bool = True) -> CheckResult:
    """Exercise 02.1: run ``student_fn(w, g, G, lr, eps) -> (w_new, G_new)`` against torch's rule."""
    return ADAGRAD_EXERCISE.check(student_fn, verbose=verbose)


def stall_exercise(distance: float = 100.0, lr: float = 0.5) -> Exercise:
    """Exercise 02.2: Adagrad steps to cover ``distance`` with |g| = 1; an estimate within 3 %."""
    return Exercise(
        f"steps to cover {distance:g} with α = {lr:g}",
        lambda: steps_to_cover(distance, lr),
        mistakes={
            "that is SGD's count D/α: Adagrad's steps shrink, α/√t, so it needs far more.": (
                distance / lr
            ),
            "the sum of 1/√t up to T is about 2√T, not √T: T ≈ (D / 2α)².": (distance / lr) ** 2,
            "that is √T, not T: from α·2√T = D, T = (D / 2α)².": distance / (2 * lr),
        },
        tolerance=Tolerance(rtol=0.03, atol=0.0),
        hint="With |g| = 1 every step is α/√t; add them up until the sum reaches 100 "
        "(Σ 1/√t ≈ 2√T).",
    )


def check_stall_steps(answer: float) -> CheckResult:
    """Exercise 02.2: Adagrad steps needed to cover distance 100 with α = 0.5 and |g| = 1."""
    return stall_exercise().check_answer(answer, answer_name="my_steps")
