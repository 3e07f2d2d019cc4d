"""Exercises of notebook 06 (convergence theory): records, known mistakes with hints, checkers.

Exercise 1 asks for Adagrad's best alpha, accepted within 1 % (0.109 and 0.11 pass for
0.10929). Exercise 2 asks for the beta2 minimising Adam's bound, which is flat near its minimum:
an answer passes when the bound at it is within 0.1 % of the minimum (log-spaced grids of 100 or
400 points over [1e-9, 0.5] land within 1e-4; 1 - beta2 off by 10 % is 1.2e-3 above and fails).
"""

from __future__ import annotations

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.nb06_theory import adam_bound, best_adagrad_alpha, best_adam_beta2, tau_weights

BOUND_RTOL = 1e-3


def best_adagrad_alpha_exercise(N, d, R, L, eps, f0_minus_fstar) -> Exercise:
    """Exercise 1: the alpha minimising Theorem 1's bound A/alpha + B + C alpha at fixed N."""
    best = best_adagrad_alpha(N, d, R, L, eps, f0_minus_fstar)
    return Exercise(
        "best α (Adagrad)",
        lambda: best,
        mistakes={
            "that is the square of the answer: take the square root.": best**2,
            "that is the answer upside down: check which term goes on top.": 1 / best,
            "a factor 2 is lost: A = 2R(F0 - F*)/sqrt(N): keep the 2.": best / np.sqrt(2),
        },
        tolerance=Tolerance(rtol=0.01, atol=0.0),
        hint="Write the bound as A/α + B + Cα, set its derivative -A/α² + C to zero and solve for α.",
    )


def check_best_adagrad_alpha(answer: float, N, d, R, L, eps, f0_minus_fstar) -> CheckResult:
    """Check a student's alpha minimising Theorem 1, within 1 % (prints the checker line)."""
    exercise = best_adagrad_alpha_exercise(N, d, R, L, eps, f0_minus_fstar)
    return exercise.check_answer(answer, answer_name="my_alpha")


def _adam_total(beta2, N, d, R, L, alpha, eps, f0_minus_fstar) -> float:
    return float(adam_bound(N, d, R, L, alpha, beta2, eps, f0_minus_fstar).total)


def check_best_adam_beta2(answer: float, N, d, R, L, alpha, eps, f0_minus_fstar) -> CheckResult:
    """Check a student's beta2 for Theorem 2: the bound at it within 0.1 % of its minimum."""
    consts = dict(N=N, d=d, R=R, L=L, alpha=alpha, eps=eps, f0_minus_fstar=f0_minus_fstar)
    best = best_adam_beta2(**consts)
    minimum = _adam_total(best, **consts)
    name = "best β₂ (Adam): the bound at yours vs its minimum"
    try:
        beta2 = float(answer)
        bound = _adam_total(beta2, **consts)
    except (TypeError, ValueError):
        result = CheckResult(name, False, False, float("inf"),
                             hint=f"my_beta2 must be a number in (0, 1); got {answer!r}.")
        print(result)
        return result
    exercise = Exercise(
        name,
        lambda: minimum,
        mistakes={
            "β₂ = 0.999 is torch's default, not the minimiser of this bound.": _adam_total(
                0.999, **consts
            ),
            "1 − β₂ = 1/N is how the tuned theorem scales β₂, but at this α the bound's "
            "minimum lies further from 1: the log factor in the hint separates them.": (
                _adam_total(1 - 1 / N, **consts)
            ),
            "that looks like 1 − β₂: give β₂ itself (close to 1).": _adam_total(1 - best, **consts),
        },
        tolerance=Tolerance(rtol=BOUND_RTOL, atol=0.0),
        hint="Minimise the total of th.adam_bound over 1 − β₂ on a log-spaced grid (β₂ close to "
        f"1 is where the answer is); an answer passes when its bound is within {BOUND_RTOL:.1%} "
        "of the minimum.",
    )
    return exercise.check_answer(
        bound,
        answer_name="my_beta2",
        shown=f"the bound at your β₂ = {beta2:.6g} ({bound:.4g}; minimum {minimum:.4g})",
        pass_note=f"Right: the bound at your β₂ is within {abs(bound / minimum - 1):.3%} of its "
        f"minimum, reached at β₂ = {best:.6f} (1 − β₂ = {1 - best:.3g}, {(1 - best) * N:.0f} × 1/N).",
    )


def _tau_wrong_exponent(N, beta1):
    w = 1.0 - beta1 ** (np.arange(N) + 1)
    return w / w.sum()


def _tau_not_normalised(N, beta1):
    return 1.0 - beta1 ** (N - np.arange(N))


def _tau_missing_one_minus(N, beta1):
    w = beta1 ** (N - np.arange(N))
    return w / w.sum()


def _tau_off_by_one(N, beta1):
    w = 1.0 - beta1 ** (N - 1 - np.arange(N))
    return w / w.sum() if w.sum() > 0 else w


TAU_MISTAKES = {
    "the exponent is N − j, not j + 1: iterate j's weight 1 − β₁^(N−j) counts the N − j later "
    "steps its momentum feeds, so the last iterates get the least weight.": _tau_wrong_exponent,
    "probabilities must sum to 1: divide by the sum of the weights.": _tau_not_normalised,
    "the weight is 1 − β₁^(N−j), not β₁^(N−j).": _tau_missing_one_minus,
    "j runs from 0 to N − 1, so the last iterate's weight is 1 − β₁^1, not 1 − β₁^0 = 0.": (
        _tau_off_by_one
    ),
}

TAU_EXERCISE = Exercise(
    "tau_weights",
    tau_weights,
    [(5, 0.0), (5, 0.5), (20, 0.9), (3, 0.99)],
    TAU_MISTAKES,
    Tolerance(rtol=1e-6, atol=1e-12),
    outputs=("P[τ = j] (one value per j = 0..N−1)",),
)


def check_tau_weights(student_fn, verbose: bool = True) -> CheckResult:
    """Check a student's ``tau_weights(N, beta1)`` against the paper's distribution."""
    return TAU_EXERCISE.check(student_fn, verbose=verbose)
