"""Exercises of notebook 08 (decoupled weight decay): records, known mistakes with hints, checkers.

Exercise 1 asks for a function ``(lr, lam) -> weight_decay``: what to pass to
``torch.optim.AdamW`` so that one step decays the weights by the paper's ``lam``.
"""

from __future__ import annotations

from collections.abc import Callable

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.nb08_weight_decay import torch_weight_decay


def _adamw_weight_decay(lr, lam):
    return torch_weight_decay("adamw", lr, lam)


WEIGHT_DECAY_MISTAKES = {
    "you multiplied by lr, but torch already multiplies weight_decay by lr: divide.": (
        lambda lr, lam: lam * lr
    ),
    "that is Adam+L2's coefficient; AdamW's weight_decay is multiplied by lr in torch.": (
        lambda lr, lam: lam
    ),
    "that is lr / lam, upside down: torch decays by lr * weight_decay = lam, so "
    "weight_decay = lam / lr.": lambda lr, lam: lr / lam,
}

WEIGHT_DECAY_EXERCISE = Exercise(
    "AdamW weight_decay",
    _adamw_weight_decay,
    [(1e-3, 1e-3), (4e-3, 3e-4), (5e-4, 3e-3)],
    WEIGHT_DECAY_MISTAKES,
    Tolerance(rtol=1e-6, atol=0.0),
    outputs=("weight_decay",),
)


def check_torch_weight_decay(student_fn: Callable, verbose: bool = True) -> CheckResult:
    """Exercise 08.1: ``student_fn(lr, lam) -> weight_decay`` for ``torch.optim.AdamW``."""
    return WEIGHT_DECAY_EXERCISE.check(student_fn, verbose=verbose)
