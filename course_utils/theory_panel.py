"""The live panel of notebook 06: the two terms of the Adagrad and Adam bounds, and where they cross.

``make_bounds_panel(R=..., L=..., f0_minus_fstar=..., eps=...)`` returns a SliderPanel with
sliders for alpha, 1 - beta2, d, N and beta1. Three plots:

1. Adagrad (Theorem 2, or Theorem 3 when beta1 > 0): initialization term, noise term, total,
   against the number of iterations N; a marker where the two terms cross.
2. Adam (Theorem 1, or Theorem 4 when beta1 > 0) with the slider's fixed beta2: the same, plus
   the noise floor -E ln(beta2) that no N removes.
3. At the slider's N: the Adam bound against 1 - beta2, its minimiser, and the Adagrad bound as a
   reference line (with beta2 = 1 - 1/N and alpha ~ 1/sqrt(N) Adam matches Adagrad).
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import LogLocator, NullLocator

from .plotting import OPTIMIZER_COLORS, annotate_divergence
from .theory import (
    adagrad_bound,
    adagrad_momentum_bound,
    adam_bound,
    adam_momentum_bound,
    adam_noise_floor,
    crossing_point,
)
from .widgets import SliderPanel, float_slider, log_slider

__all__ = ["make_bounds_panel", "draw_bounds"]

N_GRID = np.geomspace(1, 1e8, 161)
ONE_MINUS_BETA2_GRID = np.geomspace(1e-9, 0.5, 161)
Y_MIN, Y_MAX = 1e-4, 1e6  # ten decades: enough for the bounds, still fast ticks
INIT_STYLE = dict(color="#1f77b4", ls="--", lw=2)
NOISE_STYLE = dict(color="#ff7f0e", ls=":", lw=2.5)


def _format_log_axis(ax) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(Y_MIN, Y_MAX)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, numticks=6))
        axis.set_minor_locator(NullLocator())


def _clip(y):
    return np.clip(y, Y_MIN / 10, Y_MAX * 10)


def _terms_plot(ax, N_grid, terms, color, N_now, label):
    """Plot init, noise and total against N; mark the crossing and the slider's N."""
    # The total underneath, wide and pale, so the two terms stay visible where one dominates.
    ax.plot(N_grid, _clip(terms.total), color=color, lw=6, alpha=0.45, label=label)
    ax.plot(N_grid, _clip(terms.init), label="init term ∝ F(x₀)−F*", **INIT_STYLE)
    ax.plot(N_grid, _clip(terms.noise), label="noise term", **NOISE_STYLE)
    N_cross = crossing_point(N_grid, terms.init, terms.noise)
    if np.isfinite(N_cross):
        y_cross = np.exp(np.interp(np.log(N_cross), np.log(N_grid), np.log(terms.noise)))
        ax.plot([N_cross], [np.clip(y_cross, Y_MIN, Y_MAX)], "o", color="k", ms=8, zorder=5)
        ax.annotate(
            f"cross at N≈{N_cross:.2g}",
            (N_cross, np.clip(y_cross, Y_MIN, Y_MAX)),
            xytext=(6, 8),
            textcoords="offset points",
            fontsize=10,
        )
    ax.axvline(N_now, color="k", lw=1, alpha=0.5)
    return N_cross


def draw_bounds(
    fig,
    alpha: float,
    one_minus_beta2: float,
    d: float,
    N: float,
    beta1: float,
    R: float,
    L: float,
    f0_minus_fstar: float,
    eps: float,
) -> None:
    """Draw the three plots of the bounds panel on an empty figure (see the module docstring)."""
    d = max(1, int(round(d)))
    beta2 = 1.0 - one_minus_beta2
    common = dict(d=d, R=R, L=L, alpha=alpha, eps=eps, f0_minus_fstar=f0_minus_fstar)
    axes = fig.subplots(1, 3)
    for ax in axes:
        _format_log_axis(ax)

    # 1. Adagrad
    ax = axes[0]
    momentum_min_N = beta1 / (1 - beta1) if beta1 > 0 else 0.0
    grid = N_GRID[N_GRID > momentum_min_N]
    if beta1 > 0:
        terms = adagrad_momentum_bound(grid, beta1=beta1, **common)
        ref = adagrad_bound(grid, **common)
        ax.plot(grid, _clip(ref.total), color="0.6", lw=1.5, label="Thm 2 total (β₁ = 0)")
        title = f"Adagrad, Theorem 3 (β₁ = {beta1:.2f})"
    else:
        terms = adagrad_bound(grid, **common)
        title = "Adagrad, Theorem 2 (β₁ = 0)"
    _terms_plot(ax, grid, terms, OPTIMIZER_COLORS["adagrad"], N, "bound (total)")
    ax.set_title(title)
    ax.set_xlabel("iterations N")
    ax.set_ylabel("bound on E‖∇F(x_τ)‖²")
    ax.legend(loc="upper right", fontsize=9)

    # 2. Adam at the slider's fixed beta2
    ax = axes[1]
    if beta1 >= beta2:
        annotate_divergence(ax, f"Theorem 4 needs β₁ < β₂\n(β₁ = {beta1:.2f}, β₂ = {beta2:.3g})")
        ax.set_title("Adam, fixed β₂")
        ax.set_xlabel("iterations N")
    else:
        if beta1 > 0:
            terms = adam_momentum_bound(grid, beta1=beta1, beta2=beta2, **common)
            ref = adam_bound(grid, beta2=beta2, **common)
            ax.plot(grid, _clip(ref.total), color="0.6", lw=1.5, label="Thm 1 total (β₁ = 0)")
            title = f"Adam, Theorem 4 (β₁ = {beta1:.2f})"
        else:
            terms = adam_bound(grid, beta2=beta2, **common)
            title = "Adam, Theorem 1 (β₁ = 0)"
        floor = adam_noise_floor(d, R, L, alpha, beta2, beta1)
        ax.axhline(np.clip(floor, Y_MIN, Y_MAX), color="k", ls="-.", lw=1.2, label="floor −E ln β₂")
        _terms_plot(ax, grid, terms, OPTIMIZER_COLORS["adam"], N, "bound (total)")
        ax.set_title(title + f", β₂ = {beta2:.6g}", fontsize=11)
        ax.set_xlabel("iterations N")
        ax.legend(loc="upper right", fontsize=9)

    # 3. Adam bound at the slider's N against 1 - beta2
    ax = axes[2]
    u = ONE_MINUS_BETA2_GRID[1 - ONE_MINUS_BETA2_GRID > beta1]
    if u.size == 0 or (beta1 > 0 and N <= momentum_min_N):
        annotate_divergence(ax, "no valid β₂ for\nthese β₁ and N")
    else:
        if beta1 > 0:
            totals = adam_momentum_bound(N, beta1=beta1, beta2=1 - u, **common).total
            ada = adagrad_momentum_bound(N, beta1=beta1, **common).total
        else:
            totals = adam_bound(N, beta2=1 - u, **common).total
            ada = adagrad_bound(N, **common).total
        ax.plot(u, _clip(totals), color=OPTIMIZER_COLORS["adam"], lw=2.5, label="Adam bound at N")
        ax.axhline(
            np.clip(ada, Y_MIN, Y_MAX),
            color=OPTIMIZER_COLORS["adagrad"],
            lw=1.5,
            label="Adagrad bound at N",
        )
        k = int(np.argmin(totals))
        ax.plot(
            [u[k]],
            [np.clip(totals[k], Y_MIN, Y_MAX)],
            "v",
            color="k",
            ms=9,
            label=f"best 1−β₂ ≈ {u[k]:.2g}",
        )
        ax.axvline(1.0 / N, color="0.4", ls="--", lw=1, label="1−β₂ = 1/N")
        if beta1 < beta2:
            ax.axvline(one_minus_beta2, color="k", lw=1, alpha=0.5)
        ax.legend(loc="upper right", fontsize=9)
    ax.set_xlim(ONE_MINUS_BETA2_GRID[0], ONE_MINUS_BETA2_GRID[-1])
    ax.set_xlabel("1 − β₂")
    ax.set_title(f"Adam bound vs β₂ at N = {N:.3g}")
    fig.suptitle(
        f"α = {alpha:.3g}, d = {d}, R = {R:.3g}, L = {L:.3g}, F(x₀)−F* = {f0_minus_fstar:.3g}, "
        f"ε = {eps:.0e}",
        fontsize=12,
    )
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.84, wspace=0.28)


def make_bounds_panel(
    R: float = 1.0,
    L: float = 0.08,
    f0_minus_fstar: float = 0.13,
    eps: float = 1e-8,
    alpha: float = 0.1,
    one_minus_beta2: float = 0.01,
    d: int = 10,
    N: float = 1e4,
    beta1: float = 0.0,
) -> SliderPanel:
    """A SliderPanel over alpha, 1 - beta2, d, N and beta1; R, L, F0 - F*, eps stay fixed."""

    def draw(fig, alpha, one_minus_beta2, d, N, beta1):
        draw_bounds(fig, alpha, one_minus_beta2, d, N, beta1, R, L, f0_minus_fstar, eps)

    controls = {
        "alpha": log_slider("α (step)", alpha, 1e-3, 10.0),
        "one_minus_beta2": log_slider("1 − β₂", one_minus_beta2, 1e-8, 0.5),
        "d": log_slider("d (dimension)", d, 1, 1e4, steps_per_decade=10, readout_format=".0f"),
        "N": log_slider("N (iterations)", N, 10, 1e8, steps_per_decade=10, readout_format=".2g"),
        "beta1": float_slider("β₁ (momentum)", beta1, 0.0, 0.99, step=0.01, readout_format=".2f"),
    }
    return SliderPanel(
        draw,
        controls,
        figsize=(15, 5.2),
        title="Défossez et al. bounds: which term dominates when",
    )
