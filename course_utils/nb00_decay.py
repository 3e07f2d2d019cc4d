"""Notebook 00's panel: the error (1 - alpha)^k left after k steps that each remove a fraction alpha.

The smallest panel of the course (it checks that widgets work) and the first lesson on reading
a geometric decay on a log axis, the shape of every convergence curve in notebooks 01-06.
"""

from __future__ import annotations

import math

import numpy as np

from .plotting import log_axis
from .widgets import SliderPanel, float_slider

TOLERANCE = 0.01  # the 1 % line
STEPS = 50
Y_FLOOR = 1e-4  # the log axis stops here; smaller errors run off the bottom


def steps_to_tolerance(alpha: float, tol: float = TOLERANCE) -> int:
    """The fewest steps k with (1 - alpha)^k <= tol: k = ceil(ln tol / ln(1 - alpha))."""
    if not 0 < alpha < 1 or not 0 < tol < 1:
        raise ValueError(f"need 0 < alpha < 1 and 0 < tol < 1, got alpha={alpha}, tol={tol}")
    return math.ceil(math.log(tol) / math.log1p(-alpha) - 1e-12)


def draw_decay(fig, alpha: float) -> None:
    """(1 - alpha)^k for k = 0..50 on a log axis, with the 1 % line and the first k below it."""
    ax = fig.add_subplot()
    k = np.arange(STEPS + 1)
    error = (1 - alpha) ** k
    ax.plot(k, error, color="#d62728", marker="o", markersize=3, label="$(1-\\alpha)^k$")
    ax.axhline(TOLERANCE, color="#555555", linestyle="--", lw=1.5, label="1 %")
    log_axis(ax, "y")
    ax.set_ylim(Y_FLOOR, 1.5)
    ax.set_xlim(0, STEPS)
    needed = steps_to_tolerance(alpha)
    if needed <= STEPS:
        ax.plot(
            [needed],
            [error[needed]],
            "s",
            color="black",
            markersize=8,
            label=f"first k below 1 %: {needed}",
        )
        title = f"α = {alpha:.2f}: below 1 % after {needed} step{'s' if needed > 1 else ''}"
    else:
        title = f"α = {alpha:.2f}: still above 1 % after {STEPS} steps (needs {needed})"
    ax.set(xlabel="step k", ylabel="error left, $(1-\\alpha)^k$", title=title)
    ax.legend(loc="upper right")


def make_decay_panel() -> SliderPanel:
    """The panel of notebook 00: one slider, alpha from 0.01 to 0.99."""
    return SliderPanel(
        draw_decay,
        {"alpha": float_slider("α", 0.1, 0.01, 0.99, step=0.01)},
        figsize=(8, 4),
        title="Error left after k steps",
    )
