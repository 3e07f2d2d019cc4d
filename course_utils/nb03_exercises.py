"""Exercises of notebook 03 (EMAs and bias correction): references, known mistakes with hints, and checkers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.nb03_ema import _check_beta, ema
from course_utils.optimizers import validate_hyperparameters


def ema_bias_corrected_reference(g, beta):
    """Bias-corrected EMA of a sequence: m_t = beta m_{t-1} + (1-beta) g_t, m_hat_t = m_t/(1-beta^t)."""
    m, out = 0.0, []
    for t, g_t in enumerate(np.asarray(g, dtype=np.float64), start=1):
        m = beta * m + (1 - beta) * g_t
        out.append(m / (1 - beta**t))
    return np.array(out)


def _no_correction(g, beta):
    return ema(g, beta)


def _one_minus_beta(g, beta):
    return ema(g, beta) / (1 - beta)


def _off_by_one(g, beta):
    m = ema(g, beta)
    return m / (1 - beta ** np.arange(2, m.size + 2))


def _swapped_weights(g, beta):
    m, out = 0.0, []
    for t, g_t in enumerate(np.asarray(g, dtype=np.float64), start=1):
        m = (1 - beta) * m + beta * g_t
        out.append(m / (1 - beta**t))
    return np.array(out)


def _corrected_fed_back(g, beta):
    m, out = 0.0, []
    for t, g_t in enumerate(np.asarray(g, dtype=np.float64), start=1):
        m = (beta * m + (1 - beta) * g_t) / (1 - beta**t)
        out.append(m)
    return np.array(out)


EMA_MISTAKES = {
    "no bias correction: divide each m_t by (1 - beta**t).": _no_correction,
    "the correction divides by (1 - beta); it must be (1 - beta**t), with t the step number.": (
        _one_minus_beta
    ),
    "the step counter is off by one: the first gradient is step t = 1, so its correction is "
    "1 - beta**1.": _off_by_one,
    "the weights are swapped: m_t = beta * m_{t-1} + (1 - beta) * g_t (beta on the OLD value).": (
        _swapped_weights
    ),
    "the corrected value is fed back into the average: keep the running m_t uncorrected and "
    "divide only the value you output.": _corrected_fed_back,
}


def ema_exercise_cases() -> list[tuple]:
    """Cases (g, beta): a constant sequence first (the bias is clearest there), then noisy ones."""
    rng = np.random.default_rng(3)
    return [
        (np.full(20, 2.0), 0.9),
        (1.0 + rng.standard_normal(50), 0.99),
        (rng.standard_normal(30) ** 2, 0.5),
    ]


EMA_EXERCISE = Exercise(
    "ema_bias_corrected",
    ema_bias_corrected_reference,
    ema_exercise_cases,
    EMA_MISTAKES,
    Tolerance(rtol=1e-5, atol=1e-8),
    outputs=("m_hat (one value per step)",),
)


def check_ema_bias_correction(student_fn: Callable, verbose: bool = True) -> CheckResult:
    """Exercise 03.1: ``student_fn(g, beta) -> m_hat`` (array, one value per step) vs reference."""
    return EMA_EXERCISE.check(student_fn, verbose=verbose)


def warmup_steps(beta: float, fraction: float = 0.9) -> int:
    """Fewest steps t with 1 - beta^t >= fraction (uncorrected EMA reaches that share of g)."""
    _check_beta(beta)
    validate_hyperparameters(betas=(beta,))
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}.")
    t = max(1, int(np.ceil(np.log(1 - fraction) / np.log(beta)))) if beta > 0 else 1
    while t > 1 and 1 - beta ** (t - 1) >= fraction:
        t -= 1
    while 1 - beta**t < fraction:
        t += 1
    return t


def warmup_exercise(beta2: float = 0.999, fraction: float = 0.9) -> Exercise:
    """Exercise 03.2: the first step at which an uncorrected EMA reaches ``fraction`` of g²."""
    t_real = float(np.log(1 - fraction) / np.log(beta2))
    t = warmup_steps(beta2, fraction)
    return Exercise(
        f"steps until v_t reaches {fraction * 100:g} % (β₂ = {beta2:g})",
        lambda: t,
        mistakes={
            f"t >= ln(0.1)/ln(β₂) = {t_real:.1f} is not a whole number of steps; the first whole "
            f"step after it is {t}: round up (not down, and not leave it unrounded).": t_real,
            f"off by one: at t = {t} already 1 - β₂^t = {1 - beta2**t:.5f} >= {fraction:g}. "
            "(ln β₂ ≈ -(1 - β₂) gives a slightly larger t: use ln β₂ itself.)": t + 1,
            f"{1 / (1 - beta2):.0f} = 1/(1 - β₂) is the EMA's memory; there v_t has reached only "
            f"1 - β₂^t = {1 - beta2 ** round(1 / (1 - beta2)):.0%} of g².": 1 / (1 - beta2),
        },
        tolerance=Tolerance(rtol=0.0, atol=0.49),
        hint="Solve 1 - β₂^t >= 0.9 for t: t >= ln(0.1) / ln(β₂), rounded up.",
    )


def check_warmup_steps(answer: float) -> CheckResult:
    """Exercise 03.2: steps until an uncorrected EMA with β₂ = 0.999 reaches 90 % of a constant."""
    return warmup_exercise(0.999, 0.9).check_answer(answer, answer_name="my_steps")
