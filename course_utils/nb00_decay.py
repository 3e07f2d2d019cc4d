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


class DecayDrawer:
    """(1 - alpha)^k for k = 0..50 on a log axis, with the 1 % line and the first k below it.

    Incremental (see widgets.py): the axes are made once and keep their limits, so a redraw only
    moves the curve, the marker and the title.
    """

    def setup(self, fig) -> dict:
        ax = fig.add_subplot()
        k = np.arange(STEPS + 1)
        (curve,) = ax.plot(
            k, k * 0.0 + 1, color="#d62728", marker="o", markersize=3, label="$(1-\\alpha)^k$"
        )
        ax.axhline(TOLERANCE, color="#555555", linestyle="--", lw=1.5, label="1 %")
        (marker,) = ax.plot([0], [1], "s", color="black", markersize=8, label="first k below 1 %")
        log_axis(ax, "y")
        ax.set_ylim(Y_FLOOR, 1.5)
        ax.set_xlim(0, STEPS)
        ax.set(xlabel="step k", ylabel="error left, $(1-\\alpha)^k$")
        ax.text(STEPS, TOLERANCE * 1.3, "1 % ", ha="right", va="bottom", color="#555555")
        return dict(ax=ax, k=k, curve=curve, marker=marker)

    def update(self, state: dict, alpha: float) -> None:
        error = (1 - alpha) ** state["k"]
        state["curve"].set_ydata(error)
        needed = steps_to_tolerance(alpha)
        if needed <= STEPS:
            state["marker"].set_data([needed], [error[needed]])
            plural = "s" if needed > 1 else ""
            title = f"α = {alpha:.2f}: below 1 % after {needed} step{plural}"
        else:
            state["marker"].set_data([], [])
            title = f"α = {alpha:.2f}: still above 1 % after {STEPS} steps (needs {needed})"
        state["ax"].set_title(title)


def make_decay_panel() -> SliderPanel:
    """The panel of notebook 00: one slider, alpha from 0.01 to 0.99."""
    return SliderPanel(
        DecayDrawer(),
        {"alpha": float_slider("α", 0.1, 0.01, 0.99, step=0.01)},
        figsize=(8, 4),
        title="Error left after k steps",
    )
