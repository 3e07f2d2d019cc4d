"""Exercises of notebook 06 (convergence theory): references, known mistakes with hints, and checkers."""

from __future__ import annotations

import numpy as np

from course_utils.nb06_theory import best_adagrad_alpha, best_adam_beta2, tau_weights


def check_best_adagrad_alpha(answer: float, N, d, R, L, eps, f0_minus_fstar):
    """Check a student's alpha minimising Theorem 1 (prints the checker line)."""
    from .checkers import check_value

    return check_value(
        "best α (Adagrad)",
        answer,
        best_adagrad_alpha(N, d, R, L, eps, f0_minus_fstar),
        rtol=1e-3,
        why="Write the bound as A/α + B + Cα and set its derivative to zero: α* = sqrt(A / C).",
    )


def check_best_adam_beta2(answer: float, N, d, R, L, alpha, eps, f0_minus_fstar):
    """Check a student's beta2 minimising Theorem 2, compared on 1 - beta2 to 2 % (prints a line)."""
    from .checkers import check_value

    best = best_adam_beta2(N, d, R, L, alpha, eps, f0_minus_fstar)
    return check_value(
        "best 1 − β₂ (Adam)",
        1.0 - answer,
        1.0 - best,
        rtol=0.02,
        why=(
            f"(compared on 1 − β₂; the best β₂ is about {best:.6f}). Minimise the total of "
            "adam_bound over 1 − β₂ on a log-spaced grid: β₂ close to 1 is where the answer is."
        ),
    )


def check_tau_weights(student_fn):
    """Check a student's ``tau_weights(N, beta1)`` against the paper's distribution."""
    from .checkers import check_against_reference

    def wrong_exponent(N, beta1):
        w = 1.0 - beta1 ** (np.arange(N) + 1)
        return w / w.sum()

    def not_normalised(N, beta1):
        return 1.0 - beta1 ** (N - np.arange(N))

    def missing_one_minus(N, beta1):
        w = beta1 ** (N - np.arange(N))
        return w / w.sum()

    return check_against_reference(
        "tau_weights",
        student_fn,
        tau_weights,
        cases=[(5, 0.0), (5, 0.5), (20, 0.9), (3, 0.99)],
        wrong_variants={
            "the exponent is N − j (late iterates are likelier), not j + 1.": wrong_exponent,
            "probabilities must sum to 1: divide by the sum of the weights.": not_normalised,
            "the weight is 1 − β₁^(N−j), not β₁^(N−j).": missing_one_minus,
        },
        rtol=1e-10,
        atol=1e-12,
    )
