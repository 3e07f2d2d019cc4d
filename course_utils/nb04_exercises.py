"""Exercises of notebook 04 (Adam): RMSProp and AMSGrad: references, known mistakes with hints, and checkers."""

from __future__ import annotations

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance


def rmsprop_reference(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    """RMSProp (torch.optim.RMSprop, alpha=beta2): v = b2 v + (1-b2) g^2; w -= lr g/(sqrt(v)+eps)."""
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * g / (np.sqrt(v) + eps), v


def _rms_eps_inside(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * g / np.sqrt(v + eps), v


def _rms_swapped(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    v = (1 - beta2) * v + beta2 * g * g
    return w - lr * g / (np.sqrt(v) + eps), v


def _rms_sum(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    v = v + g * g
    return w - lr * g / (np.sqrt(v) + eps), v


def _rms_old_v(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    v_new = beta2 * v + (1 - beta2) * g * g
    return w - lr * g / (np.sqrt(v) + eps), v_new


def _rms_bias_corrected(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    # A plausible mix-up with Adam: dividing by 1 - beta2 as if t = 1.
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * g / (np.sqrt(v / (1 - beta2)) + eps), v


def _rms_no_sqrt(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * g / (v + eps), v


RMSPROP_MISTAKES = {
    "eps is inside the square root, sqrt(v + eps); RMSProp (like torch) adds eps after the "
    "root: sqrt(v) + eps. With tiny gradients the two differ a lot.": _rms_eps_inside,
    "the EMA weights are swapped: it is v = beta2 * v + (1 - beta2) * g**2 (beta2 weighs the "
    "past).": _rms_swapped,
    "v is a running sum (that is Adagrad): RMSProp forgets the past, "
    "v = beta2 * v + (1 - beta2) * g**2.": _rms_sum,
    "the step uses the old v: update v with the new gradient first, then divide by "
    "sqrt(v_new) + eps.": _rms_old_v,
    "v was bias-corrected: plain RMSProp (torch.optim.RMSprop) divides by sqrt(v) + eps with no "
    "correction.": _rms_bias_corrected,
    "the square root is missing: divide by sqrt(v) + eps, not v + eps.": _rms_no_sqrt,
}


def rmsprop_exercise_cases() -> list[tuple]:
    """Cases (w, g, v, lr, beta2, eps): tiny gradients and v = 0 make every mistake show."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal(6)
    g = np.array([3.0, -0.5, 1e-5, -2e-6, 0.02, 0.0])
    v = np.array([4.0, 0.1, 1e-12, 0.0, 5e-4, 1e-6])
    return [
        (w.copy(), g.copy(), v.copy(), 0.01, 0.99, 1e-8),
        (w.copy(), g.copy(), np.zeros(6), 0.1, 0.9, 1e-8),
        (w.copy(), -g.copy(), v.copy(), 0.003, 0.999, 1e-6),
    ]


TOLERANCE = Tolerance(rtol=1e-5, atol=1e-12)  # float32 answers pass; every mistake still shows

RMSPROP_EXERCISE = Exercise(
    "rmsprop_step",
    rmsprop_reference,
    rmsprop_exercise_cases,
    RMSPROP_MISTAKES,
    TOLERANCE,
    outputs=("w", "v"),
)


def check_rmsprop(student_fn, verbose: bool = True) -> CheckResult:
    """Check ``student_fn(w, g, v, lr, beta2, eps) -> (w_new, v_new)`` (numpy arrays)."""
    return RMSPROP_EXERCISE.check(student_fn, verbose=verbose)


def amsgrad_reference(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """AMSGrad as in torch.optim.Adam(amsgrad=True): the max of the uncorrected v in the root.

    Returns (w_new, m_new, v_new, v_max_new).
    """
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    m_hat = m / (1 - beta1**t)
    v_max_hat = v_max / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_max_hat) + eps), m, v, v_max


def _ams_plain_adam(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    step = lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return w - step, m, v, v_max


def _ams_no_correction(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    return w - lr * m / (np.sqrt(v_max) + eps), m, v, v_max


def _ams_no_m_correction(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    return w - lr * m / (np.sqrt(v_max / (1 - beta2**t)) + eps), m, v, v_max


def _ams_eps_inside(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    return w - lr * (m / (1 - beta1**t)) / np.sqrt(v_max / (1 - beta2**t) + eps), m, v, v_max


def _ams_max_before_update(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v_max = np.maximum(v_max, v)  # max with the *old* v
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * (m / (1 - beta1**t)) / (np.sqrt(v_max / (1 - beta2**t)) + eps), m, v, v_max


AMSGRAD_MISTAKES = {
    "this is plain Adam: the denominator must use the running maximum, "
    "sqrt(v_max / (1 - beta2**t)) + eps, not the current v.": _ams_plain_adam,
    "the bias correction is missing: divide m by (1 - beta1**t) and v_max by "
    "(1 - beta2**t).": _ams_no_correction,
    "m is not bias-corrected: m_hat = m / (1 - beta1**t).": _ams_no_m_correction,
    "eps is inside the square root: use sqrt(v_max_hat) + eps.": _ams_eps_inside,
    "the maximum is taken with the old v: update v first, then "
    "v_max = np.maximum(v_max, v).": _ams_max_before_update,
}


def amsgrad_exercise_cases() -> list[tuple]:
    """Cases (w, g, m, v, v_max, t, lr, beta1, beta2, eps), early (t = 3) and late (t = 50)."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal(6)
    g = np.array([0.3, -2.0, 1e-3, 0.05, -0.7, 1e-6])
    m = np.array([0.1, -0.4, 0.0, 0.02, 0.3, 0.0])
    v = np.array([0.05, 3.0, 1e-7, 1e-3, 0.2, 1e-14])
    v_max = np.array([0.5, 3.0, 1e-7, 2e-3, 0.1, 1e-14])
    return [
        (w.copy(), g.copy(), m.copy(), v.copy(), v_max.copy(), 3, 0.01, 0.9, 0.999, 1e-8),
        (w.copy(), g.copy(), m.copy(), v.copy(), v_max.copy(), 50, 0.001, 0.8, 0.99, 1e-8),
    ]


AMSGRAD_EXERCISE = Exercise(
    "amsgrad_step",
    amsgrad_reference,
    amsgrad_exercise_cases,
    AMSGRAD_MISTAKES,
    TOLERANCE,
    outputs=("w", "m", "v", "v_max"),
)


def check_amsgrad(student_fn, verbose: bool = True) -> CheckResult:
    """Check ``student_fn(w, g, m, v, v_max, t, lr, beta1, beta2, eps) -> (w, m, v, v_max)``."""
    return AMSGRAD_EXERCISE.check(student_fn, verbose=verbose)
