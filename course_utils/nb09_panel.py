"""Notebook 09's live panel over the stored trials: the budget K and the target as sliders.

Left: the expected best-of-K validation accuracy of each optimizer's search (band: 10-90 %
of the orders of the trials), with the chosen K marked. Right: time-to-result at that K: for each
optimizer the median, over orders, of the fastest of K trials to reach the target (steps; the
seconds beside use the measured seconds per step), ranked; "never" where the fastest of K
trials reaches the target in fewer than half of the orders. Only arrays are updated on a
redraw (`setup`/`update`), so a redraw costs a few milliseconds of arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.nb09_budget import (
    best_of_k_bands,
    best_of_k_curve,
    best_of_k_steps,
    rank_key,
    steps_to_target,
)
from course_utils.nb09_figures import COLORS
from course_utils.nb09_trials import METHOD_LABELS, METHODS
from course_utils.widgets import SliderPanel, float_slider, int_slider


class BudgetDrawer:
    """Draws best-of-K curves and the time-to-result ranking for one workload's searches."""

    def __init__(self, searches: dict, seconds: dict, workload="mlp", space="full"):
        self.s = {m: searches[(workload, m, space)] for m in METHODS}
        self.n = len(next(iter(self.s.values())).score())
        self.curves = {m: best_of_k_curve(s.score()) for m, s in self.s.items()}
        self.bands = {m: best_of_k_bands(s.score()) for m, s in self.s.items()}
        self.seconds = seconds
        self._steps_cache: dict = {}

    def steps(self, target: float) -> dict:
        key = round(target, 4)
        if key not in self._steps_cache:
            self._steps_cache[key] = {
                m: steps_to_target(s.steps, s.acc, target) for m, s in self.s.items()
            }
        return self._steps_cache[key]

    def setup(self, fig) -> dict:
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        k = np.arange(1, self.n + 1)
        lows = []
        for m in METHODS:
            mean, sd = self.curves[m]
            ax.plot(k, 100 * mean, "o-", ms=3, color=COLORS[m], label=METHOD_LABELS[m])
            low, high = self.bands[m]
            ax.fill_between(k, 100 * low, 100 * high, color=COLORS[m], alpha=0.15)
            lows.append(100 * low[0])
        vline = ax.axvline(1, color="gray", ls=":")
        hline = ax.axhline(80, color="black", lw=0.8, ls="--", label="target")
        top = max(100 * b[1].max() for b in self.bands.values())
        ax.set(xlabel="budget K (trials)", ylabel="expected best val. acc. (%)",
               xlim=(0.8, self.n + 0.2), ylim=(max(min(lows) - 1, 50), top + 0.8))
        ax.legend(loc="lower right", fontsize=12)
        y = np.arange(len(METHODS))
        bars = ax2.barh(y, [1] * len(METHODS), color=[COLORS[m] for m in METHODS])
        labels = [ax2.text(0, yi, "", va="center", fontsize=12) for yi in y]
        ax2.set(yticks=y, yticklabels=[""] * len(METHODS), xlabel="steps to target, fastest of K",
                ylim=(-0.6, len(METHODS) - 0.4))
        ax2.invert_yaxis()
        names = [ax2.text(0.02, yi - 0.32, "", fontsize=12, transform=ax2.get_yaxis_transform())
                 for yi in y]
        title = ax2.set_title("")
        max_steps = max(s.steps[-1] for s in self.s.values())
        ax2.set_xlim(0, max_steps * 1.45)
        return dict(vline=vline, hline=hline, bars=bars, labels=labels, names=names, title=title,
                    title_left=ax.set_title(""), max_steps=max_steps)

    def ranking(self, k: int, target: float) -> list[tuple[str, dict]]:
        """Methods ordered by the median fastest-of-K steps to ``target`` with `rank_key`, the
        notebook's one tie rule (never: last; equal steps: the smaller per-step cost first)."""
        steps = self.steps(target)
        rows = [(m, best_of_k_steps(steps[m], k)) for m in METHODS]
        return sorted(rows, key=lambda r: rank_key(r[1]["median"], self.seconds[r[0]]))

    def update(self, state, K=4, target=0.84) -> None:
        k = int(min(max(K, 1), self.n))
        state["vline"].set_xdata([k, k])
        state["hline"].set_ydata([100 * target] * 2)
        state["title_left"].set_text(f"best of K = {k} of {self.n} trials")
        previous = None
        for pos, (m, r) in enumerate(self.ranking(k, target)):
            bar, label, name = state["bars"][pos], state["labels"][pos], state["names"][pos]
            bar.set_color(COLORS[m])
            tied = previous is not None and r["median"] == previous
            name.set_text(("= " if tied else "") + METHOD_LABELS[m])
            previous = r["median"]
            if math.isfinite(r["median"]):
                bar.set_width(r["median"])
                bar.set_alpha(0.85)
                label.set_text(f" {r['median']:.0f} ({r['median'] * self.seconds[m]:.1f} s)")
                label.set_x(r["median"])
            else:
                bar.set_width(state["max_steps"] * 1.05)
                bar.set_alpha(0.2)
                label.set_text(f" never ({100 * r['p_reach']:.0f} %)")
                label.set_x(state["max_steps"] * 1.05)
        state["title"].set_text(f"time to {100 * target:.1f} % (ranked)")

    def __call__(self, fig, **values) -> None:
        self.update(self.setup(fig), **values)


def make_budget_panel(searches: dict, seconds: dict, workload="mlp", space="full",
                      k=4, target=0.84) -> SliderPanel:
    """Sliders: the budget K (1 to the number of trials) and the target accuracy."""
    drawer = BudgetDrawer(searches, seconds, workload, space)
    controls = {
        "K": int_slider("K (budget)", k, 1, drawer.n),
        "target": float_slider("target acc.", target, 0.70, 0.90, step=0.005,
                               readout_format=".3f"),
    }
    return SliderPanel(drawer, controls, figsize=(12, 4.6),
                       title="Tuning budget and time-to-result")
