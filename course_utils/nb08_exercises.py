"""Exercises of notebook 08 (decoupled weight decay): records, known mistakes with hints, checkers.

Exercise 1 asks for a function ``(lr, lam) -> weight_decay``: what to pass to
``torch.optim.AdamW`` so that one step decays the weights by the paper's ``lam``. Exercise 2
predicts a decay between two rows of the grid (`check_decay_prediction`) and the
``weight_decay`` to pass to torch for it (`check_torch_value`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_utils.checkers import CheckResult, Exercise, Tolerance
from course_utils.nb08_weight_decay import (
    METHOD_LABELS,
    Grid,
    decay_positions,
    fmt_value,
    torch_weight_decay,
)


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


def check_decay_prediction(grid: Grid, lr: float, lam: float, within: float = 0.5) -> bool:
    """Check a student's decay ``lam`` for a learning rate ``lr`` between two rows of the grid.

    The two rows around ``lr`` are interpolated linearly in log(lr); every decay whose
    interpolated mean error is within ``within`` points of that row's best is a good answer
    (so a flat row accepts many decays, lam = 0 included, and where lam = 0 is drawn plays no
    role). ``lam`` counts as the grid column it is nearest to on a log scale, within half a
    column step; lam = 0 is the zero column; a positive lam below that (between no decay and the
    smallest decay) passes when both of those columns are good, and a lam more than half a step
    above the largest decay fails. Prints the checker line; returns whether it passed.
    """
    if not (math.isfinite(lr) and grid.lrs[0] <= lr <= grid.lrs[-1]):
        raise ValueError(f"lr must lie between the grid's rates {grid.lrs[0]} and {grid.lrs[-1]}.")
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}.")
    logs = np.log10(grid.lrs)
    i = min(int(np.searchsorted(logs, math.log10(lr), side="right")) - 1, len(logs) - 2)
    w = (math.log10(lr) - logs[i]) / (logs[i + 1] - logs[i])
    row = (1 - w) * grid.mean[i] + w * grid.mean[i + 1]
    good = row <= np.nanmin(row) + within
    positions = decay_positions(grid.decays)
    step = float(np.mean(np.diff(positions[1:])))
    measured = np.nonzero(np.isfinite(row[1:]))[0] + 1  # positive columns trained in both rows
    if lam == 0:
        columns = [0]
    else:
        distance = np.abs(positions[measured] - math.log10(lam))
        if distance.min() <= step / 2:
            columns = [int(measured[np.argmin(distance)])]
        elif (
            math.log10(lam) < positions[measured[0]]
        ):  # between no decay and the smallest: both good
            columns = [0, int(measured[0])]
        else:  # above the grid's largest decay: nothing measured says it is good
            columns = []
    ok = bool(columns) and all(bool(good[c]) for c in columns)
    accepted = ", ".join(fmt_value(v) for v in grid.decays[good])
    print(
        f"{METHOD_LABELS[grid.method]} at α={fmt_value(lr)} | yours: λ={fmt_value(lam)} | "
        f"within {within} points of the best (rows interpolated): λ in {{{accepted}}} | {ok}"
    )
    if not ok and grid.method == "adamw" and lam > 10 * grid.decays[-1]:
        print(
            f"  λ={fmt_value(lam)} looks like torch's weight_decay = λ/α; the grid's columns are "
            "the paper's λ (multiply by α to convert)."
        )
    elif not ok:
        print(
            f"  Read the two heatmap rows around this α: which decays are within {within} points "
            "of the row's best in both? A decay near a column counts as that column; one between "
            "no decay and the smallest decay must be good at both."
        )
    return ok


def check_torch_value(method: str, lr: float, lam: float, weight_decay: float) -> bool:
    """Check the ``weight_decay`` a student would pass to torch for the paper's ``lam`` at ``lr``.

    AdamW: ``lam / lr`` (torch multiplies ``weight_decay`` by ``lr``); Adam+L2: ``lam`` itself.
    Prints the checker line with a hint; returns whether it passed (relative tolerance 1e-6).
    """
    if not (math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}.")
    expected = torch_weight_decay(method, lr, lam)
    ok = math.isclose(weight_decay, expected, rel_tol=1e-6, abs_tol=1e-12)
    print(
        f"{METHOD_LABELS[method]} at α={fmt_value(lr)}, λ={fmt_value(lam)} | yours: "
        f"weight_decay={fmt_value(weight_decay)} | {ok}"
    )
    if not ok:
        hint = (
            "torch's AdamW multiplies weight_decay by lr: pass λ/α."
            if method == "adamw"
            else "torch's Adam adds weight_decay·w to the gradient, the paper's λ itself."
        )
        print(f"  {hint}")
    return ok
