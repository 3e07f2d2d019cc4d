"""Notebook 06's static figures: bounds against measurements, shapes, tau, momentum, Lemma 5.2.

Each function takes the results of `course_utils.nb06_problem`'s experiments and returns a
matplotlib figure (the notebook saves it with ``plotting.save_figure``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np

from course_utils.nb06_theory import tau_weights
from course_utils.plotting import OPTIMIZER_COLORS, log_axis

COLORS = {
    "adagrad": OPTIMIZER_COLORS["adagrad"],
    "adam": OPTIMIZER_COLORS["adam"],
    "tuned": "#e377c2",  # Adam with alpha ~ 1/sqrt(N), beta2 = 1 - 1/N
    "bound": OPTIMIZER_COLORS["theory"],
    "trivial": "#8c564b",
}
TITLES = {
    "adagrad": "Adagrad, α = 0.5",
    "adam": "Adam, α = 0.05, β₂ = 0.99 (fixed)",
    "tuned": "Adam, α = 0.5/√N, β₂ = 1 − 1/N",
}


EXPECTED_GRAD_SQ = r"$\mathbb{E}\Vert\nabla F(x_\tau)\Vert^2$"  # mathtext: no raw x_τ


def _loglog(ax):
    log_axis(ax, "x")
    log_axis(ax, "y")


def plot_bounds_vs_measured(exp, bounds: dict, trivial: float):
    """Three panels: measured mean and 10-90 % band, the bound and its two terms, and the
    trivial bound d (R - sqrt(eps))^2 with the region above it shaded (bounds there say nothing)."""
    Ns = exp.Ns
    fig, axes = plt.subplots(1, 3, figsize=(15, 5), sharey=True)
    for ax, name in zip(axes, TITLES):
        values, b = exp.measured[name], bounds[name]
        lo, hi = np.percentile(values, [10, 90], axis=1)
        ax.fill_between(Ns, lo, hi, color=COLORS[name], alpha=0.25, label="10–90 % of runs")
        ax.plot(Ns, values.mean(axis=1), "o-", color=COLORS[name],
                label=f"measured (mean of {values.shape[1]})")
        ax.plot(Ns, b.total, color=COLORS["bound"], lw=2.5, label="bound")
        ax.plot(Ns, b.init, "--", color="#1f77b4", lw=1.5, label="bound: init term")
        ax.plot(Ns, b.noise, ":", color="#ff7f0e", lw=2, label="bound: noise term")
        ax.axhline(trivial, color=COLORS["trivial"], ls="-.", lw=1.5,
                   label="trivial: d(R − √ε)² (always true)")
        ax.axhspan(trivial, 1e6, color=COLORS["trivial"], alpha=0.07)
        _loglog(ax)
        ax.set(title=TITLES[name], xlabel="iterations N", ylim=(1e-5, 1e5))
    axes[0].set_ylabel(EXPECTED_GRAD_SQ)
    # Below the panels: inside any of them the legend would cover a curve.
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=6, fontsize=9.5,
               frameon=False)
    fig.suptitle(f"Measured {EXPECTED_GRAD_SQ} (logistic regression, d = 10), the paper's bounds, "
                 "and the trivial bound (shaded above: a bound there says nothing)")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_ratio_and_shape(exp, bounds: dict, ratios: dict):
    """Left: bound / measured; right: each curve divided by its value at the first N."""
    fig, (ax_ratio, ax_shape) = plt.subplots(1, 2, figsize=(13, 4.8))
    for name in TITLES:
        mean = exp.measured[name].mean(axis=1)
        ax_ratio.plot(exp.Ns, ratios[name], "o-", color=COLORS[name], label=TITLES[name])
        ax_shape.plot(exp.Ns, mean / mean[0], "o-", color=COLORS[name], label=f"measured, {name}")
        if name != "tuned":  # tuned Adam's bound has exactly Adagrad's shape: one curve for both
            label = "bound, adagrad (= bound, tuned)" if name == "adagrad" else f"bound, {name}"
            total = bounds[name].total
            ax_shape.plot(exp.Ns, total / total[0], "--", color=COLORS[name], label=label)
    for ax in (ax_ratio, ax_shape):
        _loglog(ax)
        ax.set_xlabel("iterations N")
    ax_ratio.set(ylabel="bound / measured", title="How loose: bound divided by measurement")
    ax_shape.set(ylabel="value / value at N = 10", title="Shapes only: measured (—) and bound (- -)")
    ax_ratio.legend(fontsize=9)
    ax_shape.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def plot_long_run(long: dict, N_short: int):
    """Adagrad's per-iterate E||grad F(x_j)||^2 over a long run, with slope -1/2 for reference."""
    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    j, mean = long["j"][1:], long["mean"][1:]
    ax.plot(j, mean, color=COLORS["adagrad"], lw=1, label="Adagrad, per iterate (mean of runs)")
    ref = mean[np.searchsorted(j, N_short)] * (j / N_short) ** -0.5
    ax.plot(j, ref, "k--", lw=1.2, label="slope −1/2 (through N = 10⁴)")
    ax.axvline(N_short, color="0.5", lw=1, label=f"N = {N_short:,}: the end of the main experiment")
    for (lo, hi), slope in long["slopes"].items():
        ax.text(np.sqrt(lo * hi), mean.max() / 3, f"{slope:.2f}", ha="center", fontsize=10)
    _loglog(ax)
    ax.set(xlabel="iteration j", ylabel=r"$\Vert\nabla F(x_j)\Vert^2$", ylim=(mean.min() / 3, mean.max() * 1.5),
           title="Adagrad's slope per decade (printed): it drifts towards −1/2")
    ax.legend(loc="lower left", fontsize=9)
    fig.tight_layout()
    return fig


def plot_tau_weights(N: int = 30, beta1s=(0.0, 0.5, 0.9)):
    """The paper's P[tau = j] for a few beta1."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for beta1 in beta1s:
        ax.plot(np.arange(N), tau_weights(N, beta1), "o-", ms=4, label=f"β₁ = {beta1}")
    ax.set(xlabel="iterate j", ylabel="P[τ = j]", title=f"The paper's random iterate, N = {N}")
    ax.legend()
    fig.tight_layout()
    return fig


MOMENTUM_LABELS = {
    "adagrad": "Adagrad, $\\alpha_n$ = α = 0.5 (Theorem 3)",
    "adagrad, step α(1-β1)": "Adagrad, $\\alpha_n$ = 0.5 (1 − β₁): same step size",
    "adam": "Adam, α = 0.05, β₂ = 0.99 (Theorem 4's $\\alpha_n$)",
}


def plot_momentum(momentum: dict, bounds: dict, beta1s):
    """Left: measured E||grad F(x_tau)||^2 against beta1 per setting; right: Theorems 3-4."""
    styles = {"adagrad": ("o-", COLORS["adagrad"]), "adagrad, step α(1-β1)": ("^-", "#98df8a"),
              "adam": ("s-", COLORS["adam"])}
    fig, (ax_m, ax_b) = plt.subplots(1, 2, figsize=(13, 4.8))
    for name, (style, color) in styles.items():
        values = np.array([momentum[name, b] for b in beta1s])
        lo, hi = np.percentile(values, [10, 90], axis=1)
        ax_m.fill_between(beta1s, lo, hi, color=color, alpha=0.2)
        ax_m.plot(beta1s, values.mean(axis=1), style, color=color, label=MOMENTUM_LABELS[name])
    for name in ("adagrad", "adam"):
        theorem = "Theorem 3" if name == "adagrad" else "Theorem 4"
        ax_b.plot(beta1s, [bounds[name, b] for b in beta1s], "s--", color=COLORS[name],
                  label=f"{name} ({theorem})")
    for ax in (ax_m, ax_b):
        log_axis(ax, "y")
        # Each panel spans about one decade: label 2x and 5x too, so the levels can be read.
        ax.yaxis.set_minor_locator(mticker.LogLocator(base=10, subs=(2.0, 5.0)))
        ax.yaxis.set_minor_formatter(mticker.FuncFormatter(lambda v, _: f"{v:.0e}"))
        ax.tick_params(axis="y", which="minor", labelsize=9)
        ax.set_xlabel("β₁")
    ax_m.set(ylabel="measured " + EXPECTED_GRAD_SQ, title="Measured at N = 10⁴ (mean, 10–90 % band)")
    ax_b.set(ylabel="bound", title="Bound at N = 10⁴")
    ax_m.legend(fontsize=9)
    ax_b.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_lemma(lemma: dict, N: int):
    """Lemma 5.2 per coordinate, Adagrad (left) and Adam (right): the actual sum, the lemma's
    right side, the worst case the theorems use, and the genuine part (ln N, or -N ln beta2)."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    keys = [k for k in lemma if k != "rms"]
    for ax, beta2 in zip(axes, keys):
        s = lemma[beta2]
        k = np.arange(1, len(s["sum"]) + 1)
        ax.plot(k, s["worst_case"], "-", color=COLORS["bound"], lw=2,
                label="worst case in the theorem")
        ax.plot(k, s["lemma"], "s--", color="#ff7f0e", label="Lemma 5.2's right side")
        ax.plot(k, s["sum"], "o-", color=COLORS["adagrad" if beta2 == 1 else "adam"],
                label="actual Σ g²/(ε + v)")
        genuine = np.log(N) if beta2 == 1 else s["floor_part"][0]
        ax.axhline(genuine, color="k", ls=":", lw=1.2,
                   label="ln N" if beta2 == 1 else "−N ln β₂ (the floor's part)")
        name = "Adagrad (β₂ = 1)" if beta2 == 1 else f"Adam (β₂ = {beta2:g})"
        ax.set(xlabel="coordinate k (feature scale falls from 1 to 0.3)", ylim=(0, None),
               title=f"{name}, N = {N}, gradients at x*", xticks=k)
        ax.legend(fontsize=9, loc="lower left")
    axes[0].set_ylabel("per-coordinate sum")
    fig.tight_layout()
    return fig
