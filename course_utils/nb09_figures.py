"""Notebook 09's static figures (each one a function of stored trials or a short measurement)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from course_utils.nb09_budget import best_of_k_bands, best_of_k_curve, performance_profile
from course_utils.nb09_trials import METHOD_LABELS, METHODS

COLORS = {"sgd": "#1f77b4", "adam": "#d62728", "adagrad": "#2ca02c"}
SPACE_LABELS = {"lr": "learning rate only", "full": "all hyperparameters"}


def plot_mean_crossing(steps, curves: dict, crossings, methods=("sgd", "adam")) -> plt.Figure:
    """Mean validation accuracy over fresh seeds (left) and its running maximum (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, running in zip(axes, (False, True)):
        for m in methods:
            y = np.maximum.accumulate(curves[m]) if running else curves[m]
            ax.plot(steps, 100 * y, "o-", ms=4, color=COLORS[m], label=METHOD_LABELS[m])
        if running:
            for step in crossings:
                ax.axvline(step, color="gray", ls=":", lw=1.5)
        ax.set(xlabel="training step", title="running maximum" if running else "as measured")
        ax.legend(loc="lower right", fontsize=11)
    axes[0].set_ylabel("validation accuracy (%), mean of 4 seeds")
    fig.tight_layout()
    return fig


def plot_pair_crossing(steps, pair: dict, crossings) -> plt.Figure:
    """Two configurations on the same fresh seeds: mean validation accuracy (left) and mean
    running maximum with one thin line per seed (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    styles = ["-", "--"]
    for ax, running in zip(axes, (False, True)):
        for (name, (m, curves)), ls in zip(pair.items(), styles):
            y = np.maximum.accumulate(curves, axis=1) if running else curves
            ax.plot(steps, 100 * y.mean(axis=0), "o", ls=ls, ms=4, color=COLORS[m],
                    label=f"{name}: {METHOD_LABELS[m]}")
            if running:
                for row in y:
                    ax.plot(steps, 100 * row, ls=ls, lw=0.7, alpha=0.4, color=COLORS[m])
        if running:
            for step in crossings:
                ax.axvline(step, color="gray", ls=":", lw=1.5, label="the means cross")
        ax.set(xlabel="training step",
               title="running maximum (thin: each seed)" if running else "as measured (mean)")
        ax.legend(loc="lower right", fontsize=10)
    axes[0].set_ylabel("validation accuracy (%), 4 fresh seeds")
    fig.tight_layout()
    return fig


def plot_time_to_result(steps: dict, targets, seconds_per_step: dict) -> plt.Figure:
    """Steps to each target per method (bars; 'never' above the axis), seconds beside."""
    fig, ax = plt.subplots(figsize=(10, 4.2))
    width = 0.8 / len(METHODS)
    x = np.arange(len(targets))
    top = max(v for m in METHODS for v in steps[m] if np.isfinite(v)) * 1.15
    for j, m in enumerate(METHODS):
        h = np.array([v if np.isfinite(v) else top for v in steps[m]])
        bars = ax.bar(x + (j - 1) * width, h, width, color=COLORS[m], label=METHOD_LABELS[m],
                      alpha=0.85)
        for b, v in zip(bars, steps[m]):
            text = "never" if not np.isfinite(v) else f"{v * seconds_per_step[m]:.1f} s"
            if not np.isfinite(v):
                b.set_hatch("//")
                b.set_alpha(0.3)
            ax.text(b.get_x() + b.get_width() / 2, b.get_height(), text, ha="center",
                    va="bottom", fontsize=9, rotation=90)
    ax.set(xticks=x, xticklabels=[f"{100 * t:.1f} %" for t in targets], ylim=(0, top * 1.45),
           xlabel="target validation accuracy", ylabel="steps to reach it")
    ax.set_title("steps to the target: fastest of 5 trials, median over orders (labels: seconds)")
    ax.legend(loc="upper left", fontsize=10)
    fig.tight_layout()
    return fig


def plot_inclusion(paths: dict, eps_values, gaps, gaps_plain) -> plt.Figure:
    """Left: training loss per step of three runs; right: final weight gap vs eps."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {
        "adam_default": dict(color=COLORS["adam"], lw=1.2, alpha=0.7),
        "adam_big_eps": dict(color="black", lw=3, alpha=0.35),
        "sgd": dict(color=COLORS["sgd"], lw=1.2, ls="--"),
    }
    for key, (label, run) in paths.items():
        ax.plot(np.arange(1, len(run["loss"]) + 1), run["loss"], label=label, **styles[key])
    ax.set(xlabel="step", ylabel="mini-batch training loss", yscale="log",
           title="same batches, same initial weights")
    ax.legend(loc="upper right", fontsize=10)
    ax2.loglog(eps_values, gaps, "o-", color="black",
               label="vs momentum SGD × bias correction")
    ax2.loglog(eps_values, gaps_plain, "s--", color=COLORS["sgd"], label="vs plain momentum SGD")
    ax2.set(xlabel=r"Adam's $\epsilon$ (with $\alpha_{Adam} = \alpha\,\epsilon/(1-\beta_1)$)",
            ylabel=r"$\|\theta_{Adam}-\theta_{SGD}\| / \|\theta_{SGD}-\theta_0\|$",
            title="gap after the last step")
    ax2.legend(loc="lower left", fontsize=10)
    fig.tight_layout()
    return fig


def plot_best_of_k(searches: dict, workload: str = "mlp", k_mark: int | None = None):
    """Expected best-of-K validation accuracy (band: 10-90 % of the orders), one panel per space."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, space in zip(axes, ("lr", "full")):
        for m in METHODS:
            s = searches[(workload, m, space)]
            mean, _ = best_of_k_curve(s.score())
            low, high = best_of_k_bands(s.score())
            k = np.arange(1, len(mean) + 1)
            ax.plot(k, 100 * mean, "o-", ms=3, color=COLORS[m], label=METHOD_LABELS[m])
            ax.fill_between(k, 100 * low, 100 * high, color=COLORS[m], alpha=0.15)
        if k_mark:
            ax.axvline(k_mark, color="gray", ls=":")
        ax.set(xlabel="tuning budget K (trials)", title=f"search: {SPACE_LABELS[space]}",
               xscale="log")
        ax.set_xticks([1, 2, 4, 8, 16], labels=["1", "2", "4", "8", "16"])
        ax.legend(loc="lower right", fontsize=10, title="line: mean; band: 10-90 % of orders",
                  title_fontsize=9)
    axes[0].set_ylabel("expected best validation acc. (%)")
    axes[0].set_ylim(bottom=max(axes[0].get_ylim()[0], 60))
    fig.tight_layout()
    return fig


def plot_winners_curse(winners: dict, reruns: dict) -> plt.Figure:
    """Per method: the winner's tuning score; on fresh seeds its best validation accuracy over
    the evaluations, its validation accuracy at the last step, and its test accuracy (taken at
    the last step)."""
    fig, ax = plt.subplots(figsize=(10, 4.2))
    offsets = np.array([-0.3, -0.1, 0.1, 0.3])
    for j, m in enumerate(METHODS):
        r = reruns[m]
        x = j + offsets
        last = np.asarray(r["curves"])[:, -1]
        ax.plot(x[0], 100 * winners[m]["val"], "*", ms=14, color=COLORS[m])
        ax.plot(np.full(len(r["val"]), x[1]), 100 * r["val"], "o", color=COLORS[m], alpha=0.6)
        ax.plot(np.full(len(last), x[2]), 100 * last, "^", color=COLORS[m], alpha=0.6)
        ax.plot(np.full(len(r["test"]), x[3]), 100 * r["test"], "s", color=COLORS[m], alpha=0.6)
    ax.set_xticks(
        [j + d for j in range(len(METHODS)) for d in offsets],
        labels=["tuning", "fresh val\n(best)", "fresh val\n(last)", "fresh\ntest"] * len(METHODS),
        fontsize=9,
    )
    for j, m in enumerate(METHODS):
        ax.text(j, 1.02, METHOD_LABELS[m], transform=ax.get_xaxis_transform(), ha="center",
                color=COLORS[m])
    ax.set_ylabel("accuracy (%)")
    fig.tight_layout()
    return fig


def plot_short_horizon(searches: dict, upto: int, workload="mlp", space="full"):
    """Each trial's score after ``upto`` evaluations against its score at the end."""
    fig, axes = plt.subplots(1, len(METHODS), figsize=(12, 4), sharex=True, sharey=True)
    for ax, m in zip(axes, METHODS):
        s = searches[(workload, m, space)]
        short, long = 100 * s.score(upto), 100 * s.score()
        ax.plot(short, long, "o", color=COLORS[m], alpha=0.7)
        hidden = int(np.sum((short < 50) | (long < 50)))
        i_s, i_l = int(np.argmax(short)), int(np.argmax(long))
        ax.plot(short[i_s], long[i_s], "s", mfc="none", mec="black", ms=12, label="short pick")
        ax.plot(short[i_l], long[i_l], "*", color="gold", mec="black", ms=14, label="long pick")
        ax.set(title=f"{METHOD_LABELS[m]}\n({hidden} trials below 50 % not shown)",
               xlabel=f"best val. acc. in first {upto} evals (%)")
        ax.legend(loc="lower right", fontsize=9)
    axes[0].set_ylabel("best val. acc., whole run (%)")
    axes[0].set_xlim(left=50)
    axes[0].set_ylim(bottom=50)
    fig.tight_layout()
    return fig


def plot_profiles(times_steps: dict, times_seconds: dict, taus) -> plt.Figure:
    """AlgoPerf-style performance profiles rho(tau) per method: in steps (left), in seconds."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, times, unit in zip(axes, (times_steps, times_seconds), ("steps", "seconds")):
        rho = performance_profile(times, taus)
        for j, m in enumerate(METHODS):
            ax.step(taus, rho[m], where="post", color=COLORS[m], lw=5 - 1.5 * j, alpha=0.8,
                    label=METHOD_LABELS[m])
        ax.set_xscale("log")
        ticks = [t for t in (1, 1.25, 1.5, 2, 3, 4) if taus[0] <= t <= taus[-1]]
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set(xlabel=r"$\tau$ (ratio to the fastest method)", ylim=(-0.05, 1.08),
               title=f"time in {unit}")
        ax.legend(loc="lower right", fontsize=10)
    axes[0].set_ylabel(r"$\rho(\tau)$: fraction of the 3 workloads")
    fig.tight_layout()
    return fig
