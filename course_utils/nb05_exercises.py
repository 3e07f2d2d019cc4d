"""Exercises of notebook 05 (AdamW): references, known mistakes with hints, and checkers."""

from __future__ import annotations

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.nb05_adamw import paper_to_torch_weight_decay


def adamw_reference(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    """One AdamW step (torch/course convention): decay w by (1 - lr*wd) first, then Adam.

    Returns (w_new, m_new, v_new).
    """
    w = w * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_part(w, g, m, v, t, lr, beta1, beta2, eps, correct=True):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    if correct:
        step = lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    else:
        step = lr * m / (np.sqrt(v) + eps)
    return step, m, v


def _w_decay_after(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    step, m, v = _adam_part(w, g, m, v, t, lr, beta1, beta2, eps)
    return (w - step) * (1 - lr * weight_decay), m, v


def _w_folded(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    step, m, v = _adam_part(w, g + weight_decay * w, m, v, t, lr, beta1, beta2, eps)
    return w - step, m, v


def _w_paper_lambda(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    step, m, v = _adam_part(w, g, m, v, t, lr, beta1, beta2, eps)
    return w * (1 - weight_decay) - step, m, v


def _w_no_correction(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    step, m, v = _adam_part(w, g, m, v, t, lr, beta1, beta2, eps, correct=False)
    return w * (1 - lr * weight_decay) - step, m, v


def _w_eps_inside(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    step = lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps)
    return w * (1 - lr * weight_decay) - step, m, v


def _w_no_decay(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    step, m, v = _adam_part(w, g, m, v, t, lr, beta1, beta2, eps)
    return w - step, m, v


ADAMW_MISTAKES = {
    "the decay is applied after the Adam step: decay the weights you started from, "
    "w * (1 - lr * weight_decay), then subtract the Adam step.": _w_decay_after,
    "the decay is folded into the gradient (g + weight_decay * w): that is Adam+L2, the method "
    "AdamW replaces. Decay w directly and leave g, m and v alone.": _w_folded,
    "the decay is not multiplied by the learning rate: torch and the course use "
    "w * (1 - lr * weight_decay) (the paper's lambda would be lr * weight_decay here).": _w_paper_lambda,
    "the bias correction is missing: m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t).": _w_no_correction,
    "eps is inside the square root: use sqrt(v_hat) + eps.": _w_eps_inside,
    "there is no weight decay at all: multiply w by (1 - lr * weight_decay).": _w_no_decay,
}


def adamw_exercise_cases() -> list[tuple]:
    """Cases (w, g, m, v, t, lr, beta1, beta2, eps, weight_decay): a large decay, then torch's."""
    rng = np.random.default_rng(6)
    w = 3.0 * rng.standard_normal(6)
    g = np.array([0.5, -1.5, 1e-3, 2e-6, -0.2, 4.0])
    m = np.array([0.1, -0.3, 0.0, 0.0, 0.05, 0.5])
    v = np.array([0.2, 1.0, 1e-7, 1e-14, 0.01, 3.0])
    return [
        (w.copy(), g.copy(), m.copy(), v.copy(), 2, 0.05, 0.9, 0.999, 1e-8, 0.5),
        (w.copy(), g.copy(), m.copy(), v.copy(), 40, 0.001, 0.9, 0.99, 1e-8, 0.01),
    ]


ADAMW_EXERCISE = Exercise(
    "adamw_step",
    adamw_reference,
    adamw_exercise_cases,
    ADAMW_MISTAKES,
    Tolerance(rtol=1e-5, atol=1e-12),  # float32 answers pass; every mistake still shows
    outputs=("w", "m", "v"),
)


def check_adamw(student_fn, verbose: bool = True) -> CheckResult:
    """Check ``student_fn(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay) -> (w, m, v)``."""
    return ADAMW_EXERCISE.check(student_fn, verbose=verbose)


def torch_weight_decay_exercise(lambda_paper: float = 0.05, lr: float = 3e-4) -> Exercise:
    """Exercise 2: torch's ``weight_decay`` for the paper's per-step decay, to 3 significant
    figures (166.7 and 167 pass for 166.67)."""
    return Exercise(
        "torch weight_decay",
        lambda: paper_to_torch_weight_decay(lambda_paper, lr),
        mistakes={
            "that is the paper's lambda unchanged; torch multiplies weight_decay by lr, so "
            "divide by lr.": lambda_paper,
            "you multiplied by lr; torch already multiplies weight_decay by lr, so divide "
            "instead.": lambda_paper * lr,
            "that is lr / lambda, upside down: torch decays by lr * weight_decay = lambda, so "
            "weight_decay = lambda / lr.": lr / lambda_paper,
        },
        tolerance=Tolerance(rtol=0.0, atol=0.0, sig_figs=3),
        hint="torch decays by lr * weight_decay per step: solve for weight_decay.",
    )


def check_torch_weight_decay(
    value, lambda_paper: float = 0.05, lr: float = 3e-4, verbose: bool = True
) -> CheckResult:
    """Check the ``weight_decay`` a student would pass to torch.optim.AdamW for the paper's lambda."""
    return torch_weight_decay_exercise(lambda_paper, lr).check_answer(
        value, verbose=verbose, answer_name="my_weight_decay"
    )
