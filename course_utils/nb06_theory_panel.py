"""The live panel of notebook 06: the two terms of the Adagrad and Adam bounds, and where they cross.

``make_bounds_panel(R=..., L=..., f0_minus_fstar=..., eps=...)`` returns a SliderPanel with
sliders for alpha, 1 - beta2, d, N, beta1 and F(x0) - F*. Three plots:

1. Adagrad (Theorem 1, or Theorem 3 when beta1 > 0): initialization term, noise term and total
   against the number of iterations N, with a marker where the two terms cross.
2. Adam (Theorem 2, or Theorem 4 when beta1 > 0) with the slider's fixed beta2: the same, plus
   the noise floor -E ln(beta2) that no number of iterations removes.
3. At the slider's N: the Adam bound against 1 - beta2, its minimiser, and the Adagrad bound as
   a reference line (with beta2 = 1 - 1/N and alpha ~ 1/sqrt(N), Adam matches Adagrad's rate).

The first two also draw the trivial bound d (R - sqrt(eps))^2: above it a bound says nothing.

The drawer builds its axes and artists once (``setup``) and only changes their data on a slider
move (``update``), with fixed axis limits, so a redraw never rebuilds ticks.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter

from .nb06_theory import (
    adagrad_bound,
    adagrad_momentum_bound,
    adam_bound,
    adam_momentum_bound,
    adam_noise_floor,
    crossing_point,
    trivial_bound,
)
from .plotting import OPTIMIZER_COLORS, annotate_divergence, log_axis
from .widgets import SliderPanel, float_slider, log_slider

N_GRID = np.geomspace(1, 1e8, 161)
ONE_MINUS_BETA2_GRID = np.geomspace(1e-9, 0.5, 161)
Y_MIN, Y_MAX = 1e-4, 1e6  # ten decades, fixed: ticks are built once
WARN_COLOR = "#b00020"
REF_LABEL = "total at β₁ = 0"


def _clip(y):
    """Keep curves inside the fixed y-range (NaN where undefined stays NaN: not drawn)."""
    return np.clip(y, Y_MIN / 10, Y_MAX * 10)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value, _pos) -> str:
    # Plain-text 10ⁿ labels: mathtext labels cost a large share of every redraw.
    return "10" + str(int(round(np.log10(value)))).translate(_SUPERSCRIPT)


def _log_axes(ax, xlim, xlabel, ylabels: bool):
    for axis in ("x", "y"):
        log_axis(ax, axis, numticks=6)
        getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(_power_of_ten))
    ax.set_xlim(*xlim)
    ax.set_ylim(Y_MIN, Y_MAX)
    ax.tick_params(axis="y", labelleft=ylabels)
    ax.set_xlabel(xlabel)


# On the wide static figure the legends go below the axes, off the curves whatever the values;
# the compact live figure has no room below them, so there they stay inside (upper right).
_BELOW = dict(loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2, fontsize=9, frameon=False)
_INSIDE = dict(loc="upper right", fontsize=10)
_STATIC_MIN_WIDTH_IN = 12.0


class BoundsDrawer:
    """``setup(fig)`` then ``update(state, **values)``: the SliderPanel's incremental protocol."""

    def __init__(self, R: float, L: float, eps: float):
        self.R, self.L, self.eps = R, L, eps

    # ---------------------------------------------------------------- artists, created once
    def _terms_artists(self, ax, color):
        st = {}
        st["total"] = ax.plot([], [], color=color, lw=7, alpha=0.4, label="bound (total)")[0]
        st["init"] = ax.plot([], [], color="#1f77b4", ls="--", lw=2, label="init term")[0]
        st["noise"] = ax.plot([], [], color="#ff7f0e", ls=":", lw=2.5, label="noise term")[0]
        st["ref"] = ax.plot([], [], color="0.55", lw=1.5, label=REF_LABEL)[0]
        st["cross"] = ax.plot([], [], "o", color="k", ms=9, zorder=5)[0]
        st["cross_text"] = ax.text(0.03, 0.04, "", transform=ax.transAxes, fontsize=11)
        st["now"] = ax.axvline(1.0, color="k", lw=1, alpha=0.5)
        st["warn"] = annotate_divergence(ax, text="", color=WARN_COLOR)
        return st

    def setup(self, fig):
        """Create the three axes and every artist; return the state ``update`` changes."""
        axes = fig.subplots(1, 3)
        wide = fig.get_size_inches()[0] >= _STATIC_MIN_WIDTH_IN
        where = _BELOW if wide else _INSIDE
        # One y-scale for all three plots, labelled once on the left.
        _log_axes(axes[0], (N_GRID[0], N_GRID[-1]), "iterations N", True)
        _log_axes(axes[1], (N_GRID[0], N_GRID[-1]), "iterations N", False)
        _log_axes(axes[2], (ONE_MINUS_BETA2_GRID[0], ONE_MINUS_BETA2_GRID[-1]), "1 − β₂", False)
        axes[0].set_ylabel(r"bound on $\mathbb{E}\Vert\nabla F(x_\tau)\Vert^2$")
        st = {"fig": fig, "axes": axes}
        st["ada"] = self._terms_artists(axes[0], OPTIMIZER_COLORS["adagrad"])
        st["adam"] = self._terms_artists(axes[1], OPTIMIZER_COLORS["adam"])
        st["floor"] = axes[1].axhline(1.0, color="k", ls="-.", lw=1.2, label="floor −E ln β₂")
        st["trivial"] = [
            ax.axhline(1.0, color="#8c564b", ls=(0, (1, 1.5)), lw=1.6, label="trivial d(R − √ε)²")
            for ax in axes[:2]
        ]
        ada = st["ada"]
        st["legend"] = axes[0].legend(  # the beta1 = 0 entry last: hidden, it leaves no gap
            handles=[ada["total"], ada["init"], ada["noise"], st["trivial"][0], ada["ref"]],
            **where,
        )
        # Line styles as on the left; only the new entries here.
        axes[1].legend(handles=[st["adam"]["total"], st["floor"], st["trivial"][1]], **where)
        ax = axes[2]
        st["b2_curve"] = ax.plot(
            [], [], color=OPTIMIZER_COLORS["adam"], lw=2.5, label="Adam bound at N"
        )[0]
        st["b2_ada"] = ax.axhline(
            1.0, color=OPTIMIZER_COLORS["adagrad"], lw=1.8, label="Adagrad bound at N"
        )
        st["b2_best"] = ax.plot([], [], "v", color="k", ms=10)[0]
        st["b2_1overN"] = ax.axvline(1.0, color="0.4", ls="--", lw=1.2, label="1 − β₂ = 1/N")
        st["b2_now"] = ax.axvline(1.0, color="k", lw=1, alpha=0.5)
        st["b2_text"] = ax.text(0.03, 0.04, "", transform=ax.transAxes, fontsize=11)
        st["b2_warn"] = annotate_divergence(ax, text="", color=WARN_COLOR)
        ax.legend(**where)
        st["suptitle"] = fig.suptitle("", fontsize=12)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.3 if wide else 0.13,
                            top=0.86 if wide else 0.83, wspace=0.13)
        return st

    # ---------------------------------------------------------------- data, on every move
    @staticmethod
    def _show_terms(st, N_grid, terms, ref, N_now):
        st["warn"].set_text("")
        st["total"].set_data(N_grid, _clip(terms.total))
        st["init"].set_data(N_grid, _clip(terms.init))
        st["noise"].set_data(N_grid, _clip(terms.noise))
        if ref is None:
            st["ref"].set_data([], [])
        else:
            st["ref"].set_data(N_grid, _clip(ref.total))
        st["now"].set_xdata([N_now, N_now])
        N_cross = crossing_point(N_grid, terms.init, terms.noise)
        if np.isfinite(N_cross):
            y = np.exp(np.interp(np.log(N_cross), np.log(N_grid), np.log(terms.noise)))
            st["cross"].set_data([N_cross], [np.clip(y, Y_MIN, Y_MAX)])
            st["cross_text"].set_text(f"terms cross at N ≈ {N_cross:.2g}")
        else:
            st["cross"].set_data([], [])
            who = "noise" if terms.noise[-1] > terms.init[-1] else "init"
            st["cross_text"].set_text(f"no crossing for N ≤ 1e8:\n{who} term dominates")

    @staticmethod
    def _hide_terms(st, message):
        for key in ("total", "init", "noise", "ref", "cross"):
            st[key].set_data([], [])
        st["cross_text"].set_text("")
        st["warn"].set_text(message)

    def update(self, st, alpha, one_minus_beta2, d, N, beta1, f0_minus_fstar):
        """Recompute the bounds for the slider values and move the artists."""
        d = max(1, int(round(d)))
        beta2 = 1.0 - one_minus_beta2
        common = dict(
            d=d, R=self.R, L=self.L, alpha=alpha, eps=self.eps, f0_minus_fstar=f0_minus_fstar
        )
        ax_ada, ax_adam, ax_b2 = st["axes"]
        momentum = beta1 > 0
        grid = N_GRID[N_GRID > beta1 / (1 - beta1)] if momentum else N_GRID
        trivial = trivial_bound(d, self.R, self.eps)
        for line in st["trivial"]:
            line.set_ydata([trivial, trivial])
        # The beta1 = 0 reference line exists only when beta1 > 0: so does its legend entry.
        ref_entry = [t.get_text() for t in st["legend"].get_texts()].index(REF_LABEL)
        st["legend"].get_texts()[ref_entry].set_visible(momentum)
        st["legend"].legend_handles[ref_entry].set_visible(momentum)

        # 1. Adagrad
        if momentum:
            terms = adagrad_momentum_bound(grid, beta1=beta1, **common)
            self._show_terms(st["ada"], grid, terms, adagrad_bound(grid, **common), N)
            ax_ada.set_title("Adagrad (Thm 3)")
        else:
            self._show_terms(st["ada"], grid, adagrad_bound(grid, **common), None, N)
            ax_ada.set_title("Adagrad (Thm 1)")

        # 2. Adam with the slider's fixed beta2
        if beta1 >= beta2:
            self._hide_terms(
                st["adam"], f"Theorem 4 needs β₁ < β₂\n(β₁ = {beta1:.2f}, β₂ = {beta2:.3g})"
            )
            st["floor"].set_visible(False)
            ax_adam.set_title("Adam, fixed β₂")
        else:
            if momentum:
                terms = adam_momentum_bound(grid, beta1=beta1, beta2=beta2, **common)
                ref = adam_bound(grid, beta2=beta2, **common)
                ax_adam.set_title(f"Adam (Thm 4), β₂ = {beta2:.6g}")
            else:
                terms, ref = adam_bound(grid, beta2=beta2, **common), None
                ax_adam.set_title(f"Adam (Thm 2), β₂ = {beta2:.6g}")
            self._show_terms(st["adam"], grid, terms, ref, N)
            floor = adam_noise_floor(d, self.R, self.L, alpha, beta2, beta1)
            st["floor"].set_ydata([np.clip(floor, Y_MIN, Y_MAX)] * 2)
            st["floor"].set_visible(True)

        # 3. Adam bound against 1 - beta2 at the slider's N
        u = ONE_MINUS_BETA2_GRID[1 - ONE_MINUS_BETA2_GRID > beta1]
        if u.size == 0 or (momentum and N <= beta1 / (1 - beta1)):
            for key in ("b2_curve", "b2_best"):
                st[key].set_data([], [])
            st["b2_ada"].set_visible(False)
            st["b2_text"].set_text("")
            st["b2_warn"].set_text("no valid β₂ for\nthese β₁ and N")
        else:
            if momentum:
                totals = adam_momentum_bound(N, beta1=beta1, beta2=1 - u, **common).total
                ada = adagrad_momentum_bound(N, beta1=beta1, **common).total
            else:
                totals = adam_bound(N, beta2=1 - u, **common).total
                ada = adagrad_bound(N, **common).total
            k = int(np.argmin(totals))
            st["b2_curve"].set_data(u, _clip(totals))
            st["b2_best"].set_data([u[k]], [np.clip(totals[k], Y_MIN, Y_MAX)])
            st["b2_ada"].set_ydata([np.clip(ada, Y_MIN, Y_MAX)] * 2)
            st["b2_ada"].set_visible(True)
            st["b2_text"].set_text(
                # three short lines: one long line runs off the figure's right edge
                f"▼ best 1−β₂ ≈ {u[k]:.2g}\nbound {totals[k]:.3g}\nAdagrad {ada:.3g}"
            )
            st["b2_warn"].set_text("")
        st["b2_1overN"].set_xdata([1.0 / N] * 2)
        st["b2_now"].set_xdata([one_minus_beta2] * 2)
        ax_b2.set_title(f"Adam vs β₂ at N = {N:.3g}")
        st["suptitle"].set_text(
            f"α = {alpha:.3g}, β₁ = {beta1:.2f}, d = {d}, F(x₀)−F* = {f0_minus_fstar:.3g}   "
            f"(fixed: R = {self.R:.3g}, L = {self.L:.3g}, ε = {self.eps:.0e})"
        )


def make_bounds_panel(
    R: float = 1.0,
    L: float = 0.08,
    f0_minus_fstar: float = 0.13,
    eps: float = 1e-8,
    alpha: float = 1e-3,
    one_minus_beta2: float = 1e-3,
    d: int = 10,
    N: float = 1e4,
    beta1: float = 0.0,
) -> SliderPanel:
    """A SliderPanel over alpha, 1 - beta2, d, N, beta1 and F(x0) - F*; R, L and eps stay fixed.

    The defaults alpha = 1e-3 and beta2 = 0.999 are torch.optim.Adam's.
    """
    controls = {
        "alpha": log_slider("α (step)", alpha, 1e-4, 10.0),
        "one_minus_beta2": log_slider("1 − β₂", one_minus_beta2, 1e-8, 0.5),
        "d": log_slider("d (dimension)", d, 1, 1e4, steps_per_decade=10, readout_format=".0f"),
        "N": log_slider("N (iterations)", N, 10, 1e8, steps_per_decade=10, readout_format=".2g"),
        "beta1": float_slider("β₁ (momentum)", beta1, 0.0, 0.99, step=0.01, readout_format=".2f"),
        "f0_minus_fstar": log_slider("F(x₀) − F*", f0_minus_fstar, 1e-2, 1e3),
    }
    return SliderPanel(
        BoundsDrawer(R, L, eps),
        controls,
        figsize=(15, 5.2),
        title="Défossez et al. bounds: which term dominates when",
    )
