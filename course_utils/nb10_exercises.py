"""Exercises of notebook 10 (beyond AdamW): signum, the Newton-Schulz iteration and Shampoo's memory."""

from __future__ import annotations

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.nb10_norms import memory_floats
from course_utils.optimizers import MUON_COEFFICIENTS, newton_schulz

# ------------------------------------------------------------------------------ 1. signum


def signum_reference(w, g, m, lr=0.01, beta1=0.9):
    """m = beta1 m + (1 - beta1) g;  w = w - lr sign(m).  Returns (w, m)."""
    m = beta1 * m + (1 - beta1) * g
    return w - lr * np.sign(m), m


def _signum_sign_of_g(w, g, m, lr=0.01, beta1=0.9):
    m = beta1 * m + (1 - beta1) * g
    return w - lr * np.sign(g), m


def _signum_old_m(w, g, m, lr=0.01, beta1=0.9):
    return w - lr * np.sign(m), beta1 * m + (1 - beta1) * g


def _signum_sign_inside(w, g, m, lr=0.01, beta1=0.9):
    m = beta1 * m + (1 - beta1) * np.sign(g)
    return w - lr * np.sign(m), m


def _signum_heavy_ball(w, g, m, lr=0.01, beta1=0.9):
    m = beta1 * m + g
    return w - lr * np.sign(m), m


def _signum_plus(w, g, m, lr=0.01, beta1=0.9):
    m = beta1 * m + (1 - beta1) * g
    return w + lr * np.sign(m), m


def _signum_sign_zero_as_one(w, g, m, lr, beta1):
    m = beta1 * m + (1 - beta1) * g
    return w - lr * np.where(m >= 0, 1.0, -1.0), m


SIGNUM_MISTAKES = {
    "the step takes the sign of the new gradient g; signum takes the sign of the momentum m "
    "(that is what makes it differ from signSGD).": _signum_sign_of_g,
    "the step uses the old m: update m with the new gradient first, then step by sign(m).":
        _signum_old_m,
    "the EMA averages sign(g); signum averages the gradients themselves and takes the sign once, "
    "at the end.": _signum_sign_inside,
    "m = beta1 * m + g is heavy-ball momentum; signum's m is the EMA beta1 * m + (1 - beta1) * g.":
        _signum_heavy_ball,
    "the step goes uphill: w - lr * sign(m), with a minus.": _signum_plus,
    "sign(0) is 0 (np.sign): a weight whose momentum is exactly 0 does not move.":
        _signum_sign_zero_as_one,
}


def signum_cases() -> list[tuple]:
    """Cases (w, g, m, lr, beta1) where the gradient and the momentum disagree in sign."""
    rng = np.random.default_rng(10)
    w = rng.standard_normal(6)
    g = np.array([2.0, -0.5, 1e-6, -3.0, 0.2, 0.0])
    m = np.array([-1.0, 0.4, -2e-6, 0.1, 0.0, 0.3])
    return [(w.copy(), g.copy(), m.copy(), 0.01, 0.9), (w.copy(), -g.copy(), m.copy(), 0.1, 0.5),
            (w.copy(), g.copy(), np.zeros(6), 0.05, 0.95)]


SIGNUM_EXERCISE = Exercise(
    "signum_step", signum_reference, signum_cases, SIGNUM_MISTAKES, Tolerance(rtol=1e-6, atol=1e-12),
    outputs=("w", "m"),
)


def check_signum(student_fn, verbose: bool = True) -> CheckResult:
    """Check ``student_fn(w, g, m, lr, beta1) -> (w_new, m_new)``."""
    return SIGNUM_EXERCISE.check(student_fn, verbose=verbose)


# ------------------------------------------------------------------------ 2. Newton-Schulz


def newton_schulz_reference(G, steps=5):
    """The course's `optimizers.newton_schulz` with Muon's coefficients."""
    return newton_schulz(np.asarray(G, dtype=np.float64), steps, MUON_COEFFICIENTS)


def _ns_no_normalisation(G, steps=5):
    a, b, c = MUON_COEFFICIENTS
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X


def _ns_cubic(G, steps=5):
    return newton_schulz(np.asarray(G, dtype=np.float64), steps, (1.5, -0.5, 0.0))


NS_MISTAKES = {
    "X was not divided by its Frobenius norm first: the iteration only pushes singular values "
    "towards 1 when they start at or below 1.": _ns_no_normalisation,
    "these are the cubic coefficients (1.5, -0.5, 0); Muon's quintic uses (3.4445, -4.7750, 2.0315).":
        _ns_cubic,
}


def ns_cases() -> list[tuple]:
    """Cases (G, steps): a wide, a tall and a square matrix, 0 to 5 steps."""
    rng = np.random.default_rng(11)
    return [(rng.standard_normal((3, 5)), 5), (rng.standard_normal((6, 2)) * 100.0, 5),
            (rng.standard_normal((4, 4)) * 1e-3, 3), (rng.standard_normal((2, 3)), 0)]


NS_EXERCISE = Exercise(
    "newton_schulz_steps", newton_schulz_reference, ns_cases,
    NS_MISTAKES,
    Tolerance(rtol=1e-6, atol=1e-9), outputs=("X",),
)


def check_newton_schulz(student_fn, verbose: bool = True) -> CheckResult:
    """Check ``student_fn(G, steps) -> X`` (about U V^T of G)."""
    return NS_EXERCISE.check(student_fn, verbose=verbose)


# ---------------------------------------------------------------------- 3. Shampoo's memory

SHAMPOO_MEMORY_EXERCISE = Exercise(
    "shampoo_memory_ratio",
    lambda: memory_floats(256, 784)["full-matrix Adagrad"] / memory_floats(256, 784)["Shampoo"],
    mistakes={
        "you compared with diagonal Adagrad (m n floats); the question asks for full-matrix "
        "Adagrad's (m n)^2.": lambda: memory_floats(256, 784)["full-matrix Adagrad"] / (256 * 784),
        "Shampoo keeps L (m x m) AND R (n x n): m^2 + n^2 floats, not m n.":
            lambda: (256 * 784) ** 2 / (256 * 784),
    },
    tolerance=Tolerance(sig_figs=3),
)


def check_shampoo_memory(answer, verbose: bool = True) -> CheckResult:
    """Check the ratio full-matrix Adagrad state / Shampoo state for the 256 x 784 layer."""
    return SHAMPOO_MEMORY_EXERCISE.check_answer(answer, verbose=verbose, answer_name="ratio")
